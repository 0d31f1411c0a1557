"""Where a user's login is kept between runs: one file, one entry per resource.

The SDK asks a `TokenStorage` for the tokens and registration of the MCP server it talks to. This one
files them under that server's URL, their audience (RFC 8707), so a token is only ever offered there.
"""

import time
from pathlib import Path
from typing import Any

from mcp.client.auth import TokenStorage
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.shared.auth_utils import resource_url_from_server_url

from ..client_extras.private_file import read_private_json, write_private_json

DEFAULT_TOKEN_FILE = Path.home() / ".local" / "state" / "mcp-workshop" / "oauth-tokens.json"


class FileTokenStorage(TokenStorage):
    """The login for one resource, in a file shared with the logins for other resources."""

    def __init__(self, path: Path, server_url: str) -> None:
        self.path = path
        self.resource = resource_url_from_server_url(server_url)  # the key: lowercase host, no fragment

    async def get_tokens(self) -> OAuthToken | None:
        tokens = self.entry().get("tokens")
        return OAuthToken.model_validate(tokens) if tokens else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = time.time() + tokens.expires_in if tokens.expires_in else None
        self.save(
            {**self.entry(), "tokens": tokens.model_dump(mode="json", exclude_none=True), "expires_at": expires_at}
        )

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        info = self.entry().get("client_info")
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        if client_info.issuer is None:
            return  # not bound to a validated authorization server: usable for this run, never kept
        entry = self.entry()
        if entry.get("client_info", {}).get("issuer") != client_info.issuer:
            entry = {}  # another issuer's tokens: never to be refreshed at, or shown to, this one
        self.save({**entry, "client_info": client_info.model_dump(mode="json", exclude_none=True)})

    def entry(self) -> dict[str, Any]:
        """This resource's login: client_info (with its issuer), tokens, expires_at; {} if none."""
        return read_private_json(self.path).get(self.resource, {})

    def forget(self) -> None:
        """Drop this resource's login, registration included."""
        self.save(None)

    def save(self, entry: dict[str, Any] | None) -> None:
        """Replace this resource's login (None: remove it), keeping the other resources' as they are."""
        logins = read_private_json(self.path)
        logins.pop(self.resource, None)
        write_private_json(self.path, logins if entry is None else {**logins, self.resource: entry})
