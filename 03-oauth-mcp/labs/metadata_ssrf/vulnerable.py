"""DELIBERATELY VULNERABLE: an authorization server that fetches any client_id URL it is given.

    python -m 03-oauth-mcp.labs.metadata_ssrf.vulnerable --addr HOST:PORT

With Client ID Metadata Documents, a `client_id` is a URL, and the authorization server fetches it
to learn who the client is. Anyone can type a `client_id`. This server fetches whatever it names,
wherever it points (loopback, the private network, a cloud metadata address), follows redirects,
and, when the document is not a valid one, shows what it got back in its error page. Do not use it
for anything but this lab.
"""

import html

import httpx2
import typer
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def main(addr: str = typer.Option(...)) -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/authorize")
    async def authorize(client_id: str) -> HTMLResponse:
        async with httpx2.AsyncClient(follow_redirects=True, timeout=5) as http:
            fetched = await http.get(client_id)  # no check of scheme, host or address
        try:
            name = fetched.json()["client_name"]
        except (ValueError, KeyError, TypeError):
            return HTMLResponse(f"<p>Invalid client metadata: {html.escape(fetched.text[:200])}</p>", status_code=400)
        return HTMLResponse(f"<p>Log in to approve {html.escape(name)}</p>")

    host, _, port = addr.rpartition(":")
    uvicorn.run(app, host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    typer.run(main)
