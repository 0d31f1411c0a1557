"""The workshop's users and pre-registered clients, written into the database at every start.

Client secrets are hashed again on every start, so a changed environment variable takes effect.
DEVELOPMENT ONLY: the passwords are in this file and the default secret is public: set
JOURNAL_MCP_SERVER_SECRET for anything that is reachable by others.
"""

import os

from .exchange import TOKEN_EXCHANGE
from .models import CONFIDENTIAL, Client
from .passwords import hash_password
from .storage.clients import ClientStore
from .storage.users import Users

USERS = {"alice": "wonderland", "bob": "builder"}

RESOURCE_SERVER_ID = "journal-mcp-server"
RESOURCE_SERVER_SECRET_ENV, RESOURCE_SERVER_SECRET_DEFAULT = "JOURNAL_MCP_SERVER_SECRET", "dev-resource-server-secret"


def seed(users: Users, clients: ClientStore, default_resource: str) -> None:
    for username, password in USERS.items():
        if users.password_hash(username) is None:  # users keep their password across restarts
            users.add(username, hash_password(password))
    # The MCP server, as a client of this server: it may exchange the tokens issued for its resource,
    # the default (first) --resource, for tokens to its upstream API (exchange.py), and introspect
    # those tokens, and only those (optional/introspection.py); it obtains no token of its own. The
    # MCP server of another --resource gets a client of its own (optional/add_resource_server.py):
    # one resource's server must neither exchange nor learn about another's tokens.
    resource_server_secret = os.environ.get(RESOURCE_SERVER_SECRET_ENV, RESOURCE_SERVER_SECRET_DEFAULT)
    clients.save(
        Client(
            client_id=RESOURCE_SERVER_ID,
            client_name="Journal MCP server",
            grant_types=(TOKEN_EXCHANGE,),
            auth_methods=CONFIDENTIAL,
            secret_hash=hash_password(resource_server_secret),
            is_resource_server=True,
            application_type="web",
            kind="seeded",
        )
    )
    clients.set_resources_of(RESOURCE_SERVER_ID, [default_resource])
