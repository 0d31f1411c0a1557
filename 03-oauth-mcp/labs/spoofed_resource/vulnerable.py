"""DELIBERATELY VULNERABLE: lesson 03's client, believing whatever resource a server's metadata names.

RFC 9728 §3.3 makes the client check that the `resource` in the metadata is the URL it is
talking to (the SDK does, in `_validate_resource_match`). This variant skips the check and asks
for a token for the resource the metadata names. Do not use it for anything but this lab.
"""

from importlib import import_module
from typing import Any

from mcp.shared.auth import ProtectedResourceMetadata

variant = import_module("03-oauth-mcp.labs.variant")
CheckedOAuthProvider = import_module("03-oauth-mcp.client.oauth").CheckedOAuthProvider

FLAW = "lesson 03's client, asking for a token for whatever resource a server's metadata names"


class BelievingProvider(CheckedOAuthProvider):
    """Takes the metadata's word for which resource it is talking to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        variant.announce("spoofed_resource", FLAW)
        super().__init__(*args, **kwargs)

    async def _validate_resource_match(self, prm: ProtectedResourceMetadata) -> None:
        self.context.get_resource_url = lambda: str(prm.resource)  # the token will be for that resource


if __name__ == "__main__":
    variant.not_a_program("spoofed_resource", FLAW)
