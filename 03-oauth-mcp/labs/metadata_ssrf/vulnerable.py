"""DELIBERATELY VULNERABLE: an authorization server that fetches any client_id URL it is given.

    python -m 03-oauth-mcp.labs.metadata_ssrf.vulnerable --addr HOST:PORT --ca-file PEM

With Client ID Metadata Documents, a `client_id` is a URL, and the authorization server fetches it
to learn who the client is. Anyone can type a `client_id`. This server fetches whatever it names,
wherever it points (loopback, the private network, a cloud metadata address), follows redirects,
and, when the document is not a valid one, shows what it got back in its error page. It trusts
the lab's certificate authority (`--ca-file`), as lesson 03's server in the lab is told to
(`--cimd-ca-file`): the two differ only in the fence. Do not use it for anything but this lab.
"""

import html
import ssl
from importlib import import_module

LESSON = "03-oauth-mcp"
variant = import_module(f"{LESSON}.labs.variant")


def main() -> None:
    flaw = "an authorization server that fetches any client_id URL, follows redirects and shows what came back"
    options = variant.vulnerable_options("metadata_ssrf", flaw, "--addr", "--ca-file")
    # Imported only now: run bare, the variant refuses at once, not after the time these imports take.
    import httpx2
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    split_addr = import_module(f"{LESSON}.addresses").split_addr
    tls = ssl.create_default_context(cafile=options.ca_file)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/authorize")
    async def authorize(client_id: str) -> HTMLResponse:
        async with httpx2.AsyncClient(follow_redirects=True, timeout=5, verify=tls) as http:
            fetched = await http.get(client_id)  # no check of scheme, host or address
        try:
            name = fetched.json()["client_name"]
        except (ValueError, KeyError, TypeError):
            return HTMLResponse(f"<p>Invalid client metadata: {html.escape(fetched.text[:200])}</p>", status_code=400)
        return HTMLResponse(f"<p>Log in to approve {html.escape(name)}</p>")

    host, port = split_addr(options.addr)
    # No X-Forwarded-For believed from loopback either, as the lesson's servers (auth_server/optional/command_line.py).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
