"""DELIBERATELY VULNERABLE: lesson 03's client, believing whatever resource a server's metadata names.

RFC 9728 §3.3 makes the client check that the `resource` in the metadata is the URL it is
talking to (the SDK does, in `_validate_resource_match`). This variant skips the check and asks
for a token for the resource the metadata names. Do not use it for anything but this lab.
"""

from importlib import import_module

from mcp.shared.auth import ProtectedResourceMetadata

CheckedOAuthProvider = import_module("03-oauth-mcp.client.oauth").CheckedOAuthProvider


class BelievingProvider(CheckedOAuthProvider):
    """Takes the metadata's word for which resource it is talking to."""

    async def _validate_resource_match(self, prm: ProtectedResourceMetadata) -> None:
        self.context.get_resource_url = lambda: str(prm.resource)  # the token will be for that resource
