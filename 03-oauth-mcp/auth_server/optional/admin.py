"""What the administration commands (add_client, add_resource_server, rotate_key) share: which database they change."""

from typing import Annotated

import typer

from ..config import default_db_path

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        metavar="PATH|URL",
        help="The authorization server's --db. [default: its default SQLite file]",
        show_default=False,
    ),
]


def database(db: str | None) -> str:
    """The --db given, or the authorization server's own default: the database the command changes."""
    return db or str(default_db_path())
