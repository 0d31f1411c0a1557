"""Optional: rotate the signing key, `python -m 03-oauth-mcp.auth_server.optional.rotate_key --db DB [--signs-in S]`.

Adds the next key to the database now; every replica publishes it in /jwks.json at once, and
signs with it only from `--signs-in` seconds on. Resource servers cache the JWKS (Cache-Control
max-age, and their own refetch on an unknown kid), so the default waits twice that long: by the
time the first token signed with the new key arrives, every resource server knows the key. The
old key stays published until its last token has expired (the core's keys.py), then drops out by
itself:

    published:  old ─────────────────────────────┐ (until its last token has expired)
                next ──────────────────────────────────────────────
    signing:    old ──────────────┐ next ──────────────────────────
                        ↑ rotate_key   ↑ signs_from
"""

import time
from typing import Annotated

import typer

from ...database import describe
from ..config import JWKS_MAX_AGE
from ..keys import new_key
from ..storage import open_database
from ..storage.keys import KeyStore
from .admin import DatabaseOption, database
from .logs import configure_logging

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@cli.command()
def main(
    db: DatabaseOption = None,
    signs_in: Annotated[
        int, typer.Option(min=0, help="Seconds from now until the new key signs; published at once.")
    ] = 2 * JWKS_MAX_AGE,
) -> None:
    """Publish the next signing key now; sign with it from --signs-in seconds on."""
    configure_logging("info")
    engine = open_database(database(db))
    try:
        kid, private_jwk = new_key()
        KeyStore(engine).add(kid, private_jwk, signs_from=int(time.time()) + signs_in)
    finally:
        engine.dispose()
    typer.echo(f"{describe(database(db))}: key {kid} published now, signing in {signs_in} s")


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}.rotate_key")
