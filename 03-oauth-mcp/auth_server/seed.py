"""The workshop's users and pre-registered clients, written into the db at every start.

Client secrets are hashed again on every start, so a changed environment variable takes effect.

DEVELOPMENT ONLY: the passwords are in this file and the default secrets are public. Set
JOURNAL_MCP_SERVER_SECRET and JOURNAL_BOT_SECRET for anything that is reachable by others.
"""

import os

from .exchange import TOKEN_EXCHANGE
from .models import CONFIDENTIAL, Client
from .passwords import hash_password
from .storage import Storage

USERS = {"alice": "wonderland", "bob": "builder"}

RESOURCE_SERVER_ID = "journal-mcp-server"
RESOURCE_SERVER_SECRET_ENV, RESOURCE_SERVER_SECRET_DEFAULT = "JOURNAL_MCP_SERVER_SECRET", "dev-resource-server-secret"
BOT_ID = "journal-bot"
BOT_SECRET_ENV, BOT_SECRET_DEFAULT = "JOURNAL_BOT_SECRET", "dev-journal-bot-secret"


def seed(storage: Storage, default_resource: str) -> None:
    for username, password in USERS.items():
        if storage.get_password_hash(username) is None:  # users keep their password across restarts
            storage.add_user(username, hash_password(password))
    # The MCP server, as a client of this server: it may introspect tokens, and exchange the tokens
    # issued for it, the default (first) --resource, for tokens to its upstream API (exchange.py); it
    # obtains no token of its own. The MCP server of another --resource gets a client of its own
    # (add_resource_server.py): one resource's server must not exchange another's tokens.
    storage.save_client(
        Client(
            client_id=RESOURCE_SERVER_ID,
            client_name="Journal MCP server",
            grant_types=(TOKEN_EXCHANGE,),
            auth_methods=CONFIDENTIAL,
            secret_hash=hash_password(os.environ.get(RESOURCE_SERVER_SECRET_ENV, RESOURCE_SERVER_SECRET_DEFAULT)),
            is_resource_server=True,
            application_type="web",
            kind="seeded",
        )
    )
    storage.set_resources_of(RESOURCE_SERVER_ID, [default_resource])
    # A machine client: client_credentials, no user, so no consent; limited to its provisioned scopes.
    storage.save_client(
        Client(
            client_id=BOT_ID,
            client_name="Journal bot",
            grant_types=("client_credentials",),
            auth_methods=CONFIDENTIAL,
            secret_hash=hash_password(os.environ.get(BOT_SECRET_ENV, BOT_SECRET_DEFAULT)),
            allowed_scope="journal:read journal:write",
            application_type="web",
            kind="seeded",
        )
    )
