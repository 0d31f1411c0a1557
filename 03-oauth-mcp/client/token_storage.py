"""Where a user's login is kept between runs: one JSON file, owner-only, one entry per resource.

The SDK's `OAuthClientProvider` asks a `TokenStorage` for the tokens and the client
registration of the MCP server it talks to. This one keeps them on disk, keyed by the
*resource*: the canonical URL of that MCP server, the RFC 8707 audience its tokens are issued
for. A token belongs to the resource it was issued for, so it is only ever offered to that
URL; another MCP server, even one trusting the same authorization server, finds nothing here.

Each entry records the issuer too: inside the client registration, where the SDK binds it
(SEP-2352). Only what the SDK accepted is written: it calls `set_client_info` after it
validated the authorization server's metadata, and `set_tokens` after a successful token
response. Discovery documents are never stored: the next run discovers and validates again.

The file is a credential store, so it is written the way such files must be (`_save`):
a fresh temporary file with a random name, created exclusively and owner-only, then renamed
over the old one. A file someone else planted, or a symlink, is refused on reading (`_load`).
"""

import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp.client.auth import TokenStorage
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.shared.auth_utils import resource_url_from_server_url

DEFAULT_TOKEN_FILE = Path.home() / ".local" / "state" / "mcp-workshop" / "oauth-tokens.json"


class UnsafeTokenFile(Exception):
    """The token file is a symlink, or someone else's, or readable by others: not ours to trust."""


class MemoryTokenStorage(TokenStorage):
    """A machine client's tokens (client credentials), for this run only: it holds its secret and
    asks for a fresh token next time, so nothing it obtains needs to rest on disk."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class FileTokenStorage(TokenStorage):
    """The login for one resource, in a file shared with the logins for other resources."""

    def __init__(self, path: Path, server_url: str) -> None:
        self.path = path
        self.resource = resource_url_from_server_url(server_url)  # the key: lowercase host, no fragment

    # -- the SDK's TokenStorage protocol ---------------------------------------------------

    async def get_tokens(self) -> OAuthToken | None:
        tokens = self.entry().get("tokens")
        return OAuthToken.model_validate(tokens) if tokens else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = time.time() + tokens.expires_in if tokens.expires_in else None
        self._update(tokens=tokens.model_dump(mode="json", exclude_none=True), expires_at=expires_at)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        info = self.entry().get("client_info")
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        if client_info.issuer is None:
            return  # not bound to a validated authorization server: usable for this run, never kept
        entry = self.entry()
        stored = entry.get("client_info", {}).get("issuer")
        if stored != client_info.issuer:
            # Registered with another issuer: the old tokens came from the old one, and must
            # never be refreshed at, or shown to, the new one.
            entry = {}
        entry["client_info"] = client_info.model_dump(mode="json", exclude_none=True)
        self._write_entry(entry)

    # -- what the application adds ---------------------------------------------------------

    def entry(self) -> dict[str, Any]:
        """This resource's login: client_info (with its issuer), tokens, expires_at; {} if none."""
        return self._load().get(self.resource, {})

    def issuer(self) -> str | None:
        """The authorization server this login belongs to, as the SDK bound it to the registration."""
        return self.entry().get("client_info", {}).get("issuer")

    def expires_at(self) -> float | None:
        return self.entry().get("expires_at")

    def forget_tokens(self) -> None:
        """Drop this resource's tokens and keep its registration: the next run logs in again."""
        entry = self.entry()
        if entry.pop("tokens", None) is not None:
            entry.pop("expires_at", None)
            self._write_entry(entry)

    def forget(self) -> None:
        data = self._load()
        if data.pop(self.resource, None) is not None:
            self._save(data)

    # -- the file --------------------------------------------------------------------------

    def _update(self, **fields: Any) -> None:
        self._write_entry({**self.entry(), **fields})

    def _write_entry(self, entry: dict[str, Any]) -> None:
        data = self._load()
        data[self.resource] = entry
        self._save(data)

    def _load(self) -> dict[str, Any]:
        try:
            # O_NOFOLLOW: a symlink planted where the file should be is an error, not a redirection.
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise UnsafeTokenFile(f"{self.path}: not a regular file of ours ({error.strerror})") from None
        with os.fdopen(descriptor) as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                raise UnsafeTokenFile(f"{self.path}: must be a file owned by you with mode 0600")
            return json.load(file)

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp: a random name, O_CREAT|O_EXCL (never an existing file or symlink), mode 0600.
        descriptor, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w") as file:
                json.dump(data, file, indent=2)
            # rename() replaces whatever is at the path, a symlink included, without following it.
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
