"""Command line: `python -m 03-oauth-mcp.production.server [the lesson server's options] [--verifier ...] [--db ...]`.

The lesson's MCP server (../server/), with the parts a deployment adds plugged in. It takes every
option of `python -m 03-oauth-mcp.server`, declared there once, and five of its own, placed before
the limits as in every server command of the workshop:

- `--verifier introspection` asks the issuer about each token (introspection.py), where `jwt`
  checks it here as the lesson does;
- `--introspection-cache SECONDS`: how long an introspection answer is kept. Each verifier's
  decisions are kept (decisions.py): a JWT's acceptance until shortly before the token expires;
- `--db PATH|URL`: the journal in a SQLite file, or in the PostgreSQL replicas share (journal.py);
- `--stateless`: no MCP sessions, so a handshake-era client needs no affinity to one replica, at
  the price of server-to-client requests and streams (docs/production.md);
- `--handle-key-file PATH`: the key that seals the handles of the draft tools (drafts.py, handles.py),
  one file every replica reads.
"""

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from sqlalchemy.exc import OperationalError

from ..database import check_db, describe
from ..server import __main__ as lesson
from ..server.app import create_server
from ..server.exchange import TokenExchanger
from ..server.http import create_http_app
from ..server.issuer import Issuer
from ..server.logs import configure_logging
from ..server.streams import StreamLimits
from ..server.verifier import JWTVerifier
from .decisions import INTROSPECTION_CACHE_SECONDS, RememberedDecisions
from .drafts import DRAFT_SECONDS, DatabaseDrafts, add_draft_tools
from .handles import SealedHandles, handle_key
from .introspection import IntrospectionVerifier
from .journal import DatabaseJournal

DEFAULT_DB = Path.home() / ".local" / "state" / "mcp-workshop" / "journal.db"

logger = logging.getLogger(__package__)

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_db(db: str) -> str:
    try:
        return check_db(db)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def main(
    verifier: Annotated[
        Literal["jwt", "introspection"],
        typer.Option(help="jwt: check signatures here with the issuer's keys; introspection: ask the issuer."),
    ] = "jwt",
    introspection_cache: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="Seconds an introspection answer is reused: how late a revocation may count (0: ask every time).",
        ),
    ] = INTROSPECTION_CACHE_SECONDS,
    db: Annotated[
        str,
        typer.Option(
            callback=parse_db,
            metavar="PATH|URL",
            help="The journal: a SQLite file, or a database URL that replicas share, postgresql+psycopg://USER@HOST/DB.",
        ),
    ] = str(DEFAULT_DB),
    stateless: Annotated[
        bool,
        typer.Option(
            help="No MCP sessions (http): every request stands alone, so replicas need no session affinity, "
            "at the price of server-to-client requests and streams (docs/production.md).",
        ),
    ] = False,
    handle_key_file: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="The key that seals state handles (the draft tools'): one owner-only file every replica reads, "
            "created if missing. [default: a key of this process, its handles good only there]",
            show_default=False,
        ),
    ] = None,
    **options,  # the lesson server's, as `python -m 03-oauth-mcp.server` declares them
) -> None:
    """Run the lesson 03 MCP server as a deployment runs it: introspection, decisions kept, a database, replicas."""
    configure_logging(options["log_level"])
    addr, issuer, transport = options["addr"], options["issuer"], options["transport"]
    resource = options["resource"] or f"http://{addr}/mcp"  # the audience our tokens must carry
    logger.info("accepting tokens from %s with audience %s", issuer, resource)
    authorization_server = Issuer(issuer)
    credentials = options["client_id"], options["client_secret"]
    token_verifier = RememberedDecisions(
        JWTVerifier(authorization_server, resource)
        if verifier == "jwt"
        else IntrospectionVerifier(authorization_server, resource, *credentials),
        at_most=None if verifier == "jwt" else introspection_cache,
    )
    try:
        journal = DatabaseJournal(db)
    except PermissionError as error:
        raise typer.BadParameter(str(error), param_hint="--db") from None
    except OperationalError as error:  # no database server there, or it refused us
        raise typer.BadParameter(f"cannot open {describe(db)}: {error.orig}", param_hint="--db") from None
    mcp = create_server(journal, TokenExchanger(authorization_server, *credentials), options["upstream_url"])
    try:
        handles = SealedHandles(handle_key(handle_key_file), resource, DRAFT_SECONDS)
    except OSError as error:  # PermissionError too: a key file others could read, or not ours
        raise typer.BadParameter(str(error), param_hint="--handle-key-file") from None
    add_draft_tools(mcp, journal, DatabaseDrafts(db, handles))
    if transport == "stdio":
        lesson.run_stdio(mcp, token_verifier)
        return
    limits = StreamLimits(max_open=options["max_streams"], max_seconds=options["stream_timeout"])
    if stateless:
        logger.info("stateless: no MCP sessions, any replica answers any request")
    app = create_http_app(mcp, token_verifier, resource, issuer, limits, stateless=stateless)
    lesson.run_http(app, addr, options["log_level"])


def with_lesson_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command`, taking the lesson server's options too: its own four go before the limits, as the
    workshop orders every server's options (the lesson's, then the limits, then --log-level)."""
    ours = [p for p in inspect.signature(command).parameters.values() if p.kind is not p.VAR_KEYWORD]
    theirs = list(inspect.signature(lesson.main).parameters.values())
    at = [p.name for p in theirs].index("max_streams")
    command.__signature__ = inspect.Signature([*theirs[:at], *ours, *theirs[at:]], return_annotation=None)
    return command


cli.command()(with_lesson_options(main))

if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}.server")
