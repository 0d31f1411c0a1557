"""Command line: `python -m 03-oauth-mcp.cimd [--addr 127.0.0.1:8443] [--callback-port 8096] [--state DIR]`.

Serves the lesson 03 client's own Client ID Metadata Document over https on this machine, with a
throwaway certificate authority (certificates.py), for development. Tell the authorization server to
trust that CA, and only for development:

    python -m 03-oauth-mcp.auth_server --cimd-allow-host 127.0.0.1 --cimd-ca-file STATE/ca.pem
    python -m 03-oauth-mcp.client --client-metadata-url https://127.0.0.1:8443/client.json call whoami
"""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from ..addresses import CALLBACK_ADDR, DOCUMENT_ADDR, parse_addr, split_addr
from .certificates import make_certificates

DEFAULT_STATE = Path.home() / ".local" / "state" / "mcp-workshop" / "client-document"
cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def client_document(client_id: str, callback_port: int) -> dict:
    """What the authorization server learns about this client: the same as it would register."""
    return {
        "client_id": client_id,  # the document names itself, exactly
        "client_name": "MCP workshop client (lesson 03)",
        "client_uri": "https://github.com/go-training/mcp-workshop",
        "redirect_uris": [f"http://127.0.0.1:{callback_port}/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    }


@cli.command()
def main(
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to serve https on.")] = DOCUMENT_ADDR,
    callback_port: Annotated[
        int, typer.Option(help="The client's --callback-port, for its redirect URI.")
    ] = split_addr(CALLBACK_ADDR)[1],
    state: Annotated[Path, typer.Option(help="Where the CA and certificate are written.")] = DEFAULT_STATE,
) -> None:
    """Serve the lesson 03 client's metadata document over https, with a throwaway CA."""
    host, port = split_addr(addr)
    client_id = f"https://{addr}/client.json"
    ca, server, key = make_certificates(state)
    document = client_document(client_id, callback_port)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.get("/client.json")(lambda: document)
    app.get("/healthz")(lambda: {"status": "ok"})
    print(f"client_id (the client's --client-metadata-url): {client_id}", file=sys.stderr)
    print(f"the authorization server must trust: {ca} (--cimd-ca-file)", file=sys.stderr, flush=True)
    print(json.dumps(document, indent=2), file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(server),
        ssl_keyfile=str(key),
        log_level="warning",
        proxy_headers=False,  # uvicorn's default believes X-Forwarded-For from 127.0.0.1; no proxy is trusted here
    )


if __name__ == "__main__":
    cli(prog_name="python -m 03-oauth-mcp.cimd")
