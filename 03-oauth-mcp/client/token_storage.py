"""Where a login is kept between runs: one JSON file, mode 0600, one entry per authorization server.

The SDK's `OAuthClientProvider` asks a `TokenStorage` for the tokens and the
client registration of the MCP server it talks to; this one keeps them on disk
so that the next run needs no login. Keyed by issuer: credentials from one
authorization server are never offered to another.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

from mcp.client.auth import TokenStorage
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

DEFAULT_TOKEN_FILE = Path.home() / ".local" / "state" / "mcp-workshop" / "oauth-tokens.json"


class FileTokenStorage(TokenStorage):
    """Client registrations and tokens in one JSON file, one entry per authorization server (issuer).

    The SDK asks for "the" tokens of the MCP server it talks to; the file
    remembers which issuer serves that resource, so a second MCP server trusting
    the same issuer reuses the registration, and credentials never cross issuers.
    """

    def __init__(self, path: Path, resource: str) -> None:
        self.path = path
        self.resource = resource

    def _load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".tmp")
        # Created 0600 from the start: there is no moment when others can read the tokens.
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            json.dump(data, file, indent=2)
        temporary.replace(self.path)

    def entry(self) -> tuple[str | None, dict[str, Any]]:
        """The issuer serving our resource, and its entry."""
        for issuer, entry in self._load().items():
            if self.resource in entry.get("resources", []):
                return issuer, entry
        return None, {}

    def _update(self, issuer: str | None, **fields: Any) -> None:
        data = self._load()
        issuer = issuer or self.entry()[0] or "unknown-issuer"
        entry = data.setdefault(issuer, {"resources": []})
        if self.resource not in entry["resources"]:
            entry["resources"].append(self.resource)
        entry.update(fields)
        self._save(data)

    async def get_tokens(self) -> OAuthToken | None:
        tokens = self.entry()[1].get("tokens")
        return OAuthToken.model_validate(tokens) if tokens else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        expires_at = time.time() + tokens.expires_in if tokens.expires_in else None
        self._update(None, tokens=tokens.model_dump(mode="json", exclude_none=True), expires_at=expires_at)

    def expires_at(self) -> float | None:
        return self.entry()[1].get("expires_at")

    def remember_metadata(self, issuer: str, **documents: dict[str, Any]) -> None:
        self._update(issuer, **documents)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        info = self.entry()[1].get("client_info")
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        info = client_info.model_dump(mode="json", exclude_none=True)
        self._update(client_info.issuer, client_info=info)

    def forget(self) -> None:
        data = self._load()
        issuer, _ = self.entry()
        if issuer:
            del data[issuer]
            self._save(data)
