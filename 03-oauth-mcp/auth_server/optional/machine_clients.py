"""Optional: machine clients, which act for themselves with no user: the client credentials grant (RFC 6749 §4.4).

An MCP extension (OAuth client credentials): a service calling an MCP server on its own behalf,
with no user to consent, so limited to the scopes it was provisioned with (the seeded
`journal-bot`), as `python -m 03-oauth-mcp.machine_client` runs it. A machine proves who it is with
its secret, or with an assertion signed by its own key (`private_key_jwt`, private_key_jwt.py: the
extension's RECOMMENDED way), registered by an administrator with add_client.py.
"""

import os
from typing import ClassVar

from authlib.oauth2.rfc6749 import grants

from ..models import CONFIDENTIAL, Client
from ..passwords import hash_password
from ..resources import ResourceIndicators
from ..storage.clients import ClientStore

BOT_ID = "journal-bot"
BOT_SECRET_ENV, BOT_SECRET_DEFAULT = "JOURNAL_BOT_SECRET", "dev-journal-bot-secret"  # DEVELOPMENT ONLY


class ClientCredentialsGrant(ResourceIndicators, grants.ClientCredentialsGrant):
    # Confidential clients only (RFC 6749 §4.4): a secret, or a signed assertion (private_key_jwt.py).
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        self.request.resource = self.check_resource(self.server.settings.resources, None)


def seed_bot(clients: ClientStore) -> None:
    """The workshop's machine client, written at every start (its secret hashed again: a changed variable counts)."""
    clients.save(
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
