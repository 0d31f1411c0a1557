"""Optional: give the MCP server of another resource a client of its own:

    RESOURCE_SERVER_SECRET=... python -m 03-oauth-mcp.auth_server.optional.add_resource_server \
        --db DB --client-id ID --resource URL

The seeded `journal-mcp-server` is the first `--resource` (seed.py). An MCP server at a second
`--resource` that introspects or exchanges tokens needs credentials of its own: a token exchange
(exchange.py) trades only tokens issued for the resource the asking client is, and introspection
(introspection.py) answers about those only, so one resource's server can neither turn another's
tokens into upstream access nor learn whose they are. Start that MCP server with
`--client-id ID` and the same secret. Running this again for the same id replaces its secret and
resources. The secret comes from the environment (or a prompt), never the command line, where
other users of the machine could read it in the process list.
"""

from typing import Annotated

import typer

from ...database import describe
from ..exchange import TOKEN_EXCHANGE
from ..models import CONFIDENTIAL, Client
from ..passwords import hash_password
from ..seed import RESOURCE_SERVER_ID
from ..storage import open_database
from ..storage.clients import ClientStore
from .admin import DatabaseOption, database
from .logs import configure_logging

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def parse_client_id(client_id: str) -> str:
    if client_id == RESOURCE_SERVER_ID:
        raise typer.BadParameter(f"{RESOURCE_SERVER_ID} is seeded at every start, for the first --resource")
    if "://" in client_id or not client_id.isprintable() or not 0 < len(client_id) <= 100:
        raise typer.BadParameter("a client id is up to 100 printable characters, and not a URL")
    return client_id


@cli.command()
def main(
    client_id: Annotated[str, typer.Option(callback=parse_client_id, help="The MCP server's client id.")],
    resource: Annotated[
        list[str], typer.Option(help="A resource (MCP server URL) this client is, as given to --resource; repeatable.")
    ],
    secret: Annotated[
        str,
        typer.Option(
            envvar="RESOURCE_SERVER_SECRET", prompt=True, hide_input=True, show_default=False, help="Its secret."
        ),
    ],
    db: DatabaseOption = None,
) -> None:
    """Add (or replace) the client an MCP server of another --resource introspects and exchanges tokens with."""
    configure_logging("info")
    engine = open_database(database(db))
    clients = ClientStore(engine)
    try:
        clients.save(
            Client(
                client_id=client_id,
                client_name=client_id,
                grant_types=(TOKEN_EXCHANGE,),
                auth_methods=CONFIDENTIAL,
                secret_hash=hash_password(secret),
                is_resource_server=True,
                application_type="web",
                kind="provisioned",
            )
        )
        clients.set_resources_of(client_id, resource)
    finally:
        engine.dispose()
    typer.echo(f"{describe(database(db))}: resource server {client_id} for {' '.join(resource)}")


if __name__ == "__main__":
    cli(prog_name=f"python -m {__package__}.add_resource_server")
