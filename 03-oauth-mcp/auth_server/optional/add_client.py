"""Optional: register a client that proves who it is with its own key (`private_key_jwt`), as an administrator does:

    python -m 03-oauth-mcp.auth_server.optional.add_client --db DB --client-id ID \
        (--jwks PUBLIC_JWKS_FILE | --jwks-uri URL) [--grant client_credentials|jwt-bearer] [--scope S]

A machine (`--grant client_credentials`, the default) gets tokens for itself, within `--scope`;
`python -m 03-oauth-mcp.machine_client --client-id ID --client-key PRIVATE_KEY` is one. An enterprise
client (`--grant jwt-bearer`) redeems the ID-JAGs a trusted identity provider issues for it
(enterprise.py). Neither has a secret: this server keeps only the public key (`--jwks`: a JWK Set
file, checked by client_keys.py), or where to fetch it (`--jwks-uri`, fetched behind the SSRF fence
at each use, so the client can rotate its keys there). Neither kind can be made through /register,
which anyone may call: client credentials would let anyone mint tokens. Running this again for the
same id replaces the registration.
"""

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from ...database import describe
from ..config import SCOPES
from ..models import Client
from ..seed import RESOURCE_SERVER_ID
from ..storage import open_database
from ..storage.clients import ClientStore
from .admin import DatabaseOption, database
from .client_keys import KeySetProblem, public_key_set
from .enterprise import ENTERPRISE_CLIENT_ID, JWT_BEARER
from .logs import configure_logging
from .machine_clients import BOT_ID
from .registration import jwks_uri_problem

GRANTS = {"client_credentials": "client_credentials", "jwt-bearer": JWT_BEARER}
SEEDED = {RESOURCE_SERVER_ID, BOT_ID, ENTERPRISE_CLIENT_ID}  # written again at every start: not for this

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_client_id(client_id: str) -> str:
    if client_id in SEEDED:
        raise typer.BadParameter(f"{client_id} is seeded at every start")
    if "://" in client_id or not client_id.isprintable() or not 0 < len(client_id) <= 100:
        raise typer.BadParameter("a client id is up to 100 printable characters, and not a URL")
    return client_id


def parse_scope(scope: str) -> str:
    if not scope.split() or not set(scope.split()) <= set(SCOPES):
        raise typer.BadParameter(f"scopes are among {' '.join(SCOPES)}")
    return scope


@cli.command()
def main(
    client_id: Annotated[str, typer.Option(callback=parse_client_id, help="The client's id.")],
    jwks: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="A file holding its public keys (a JWK Set).")
    ] = None,
    jwks_uri: Annotated[str | None, typer.Option(help="Or where this server fetches them (https).")] = None,
    grant: Annotated[
        Literal["client_credentials", "jwt-bearer"], typer.Option(help="What it may do at /token.")
    ] = "client_credentials",
    scope: Annotated[
        str, typer.Option(callback=parse_scope, help="The scopes it may be granted, at most.")
    ] = "journal:read journal:write",
    db: DatabaseOption = None,
) -> None:
    """Add (or replace) a client that authenticates with private_key_jwt."""
    if (jwks is None) == (jwks_uri is None):
        raise typer.BadParameter("give its public keys: --jwks FILE or --jwks-uri URL, one of them")
    if jwks is not None:
        try:
            key_set = json.loads(jwks.read_text())
            public_key_set(key_set)
        except (ValueError, KeySetProblem) as problem:
            raise typer.BadParameter(f"{jwks}: {problem}", param_hint="--jwks") from None
        keys = {"jwks": key_set}
    else:
        if problem := jwks_uri_problem(jwks_uri):
            raise typer.BadParameter(f"{jwks_uri} {problem}", param_hint="--jwks-uri")
        keys = {"jwks_uri": jwks_uri}
    configure_logging("info")
    engine = open_database(database(db))
    try:
        ClientStore(engine).save(
            Client(
                client_id=client_id,
                client_name=client_id,
                grant_types=(GRANTS[grant],),
                auth_methods=frozenset({"private_key_jwt"}),
                allowed_scope=scope,
                application_type="web",
                kind="provisioned",
                metadata={"token_endpoint_auth_method": "private_key_jwt", **keys},
            )
        )
    finally:
        engine.dispose()
    typer.echo(f"{describe(database(db))}: client {client_id}, {grant} with private_key_jwt")


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}.add_client")
