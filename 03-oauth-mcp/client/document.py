"""The client's own Client ID Metadata Document, served over https on this machine, for development.

    python -m 03-oauth-mcp.client.document [--addr 127.0.0.1:8443] [--callback-port 8096] [--state DIR]

With a metadata document, the client needs no registration at all: its `client_id` *is* an
https URL, and the authorization server fetches the document there to learn the client's name
and redirect URIs (the MCP specification's preferred way, draft-ietf-oauth-client-id-metadata-document).
The URL must be https, even on loopback, so this command makes a throwaway certificate
authority (with `cryptography`, kept in `--state`), a certificate for 127.0.0.1 signed by it,
and serves the document with them. Tell the authorization server to trust that CA, and only
for development:

    python -m 03-oauth-mcp.auth_server --cimd-allow-host 127.0.0.1 --cimd-ca-file STATE/ca.pem
    python -m 03-oauth-mcp.client --client-metadata-url https://127.0.0.1:8443/client.json call whoami

In production the document lives on the application's real https site, with a real certificate.
"""

import datetime
import ipaddress
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import FastAPI

from ..addresses import parse_addr, split_addr

DEFAULT_STATE = Path.home() / ".local" / "state" / "mcp-workshop" / "client-document"
cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None, signer, days: int):
    """A certificate for `key`: a CA's own (issuer None), or a server's for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer.subject if issuer else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(data)


def make_certificates(state: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server-key.pem) in `state`: a new CA and server certificate on every start."""
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("MCP workshop throwaway CA", ca_key, None, ca_key, days=7)
    server = certificate("127.0.0.1", server_key, ca, ca_key, days=7)
    pem = serialization.Encoding.PEM
    (state / "ca.pem").write_bytes(ca.public_bytes(pem))  # the CA key is never written: nothing else gets signed
    (state / "server.pem").write_bytes(server.public_bytes(pem))
    key_format = (serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(state / "server-key.pem", server_key.private_bytes(pem, *key_format))
    return state / "ca.pem", state / "server.pem", state / "server-key.pem"


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
    addr: Annotated[str, typer.Option(callback=parse_addr, help="HOST:PORT to serve https on.")] = "127.0.0.1:8443",
    callback_port: Annotated[int, typer.Option(help="The client's --callback-port, for its redirect URI.")] = 8096,
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
    cli(prog_name="python -m 03-oauth-mcp.client.document")
