"""DELIBERATELY VULNERABLE: lesson 03's client as it would be without RFC 9207.

Before RFC 9207, an authorization response said nothing about who sent it: a client could only
assume that the answer came from the server it had sent the user to. This variant makes that
assumption instead of reading `iss`. Do not use it for anything but this lab.
"""

from importlib import import_module
from typing import Any

from mcp.shared.auth import AuthorizationCodeResult

variant = import_module("03-oauth-mcp.labs.variant")
CheckedOAuthProvider = import_module("03-oauth-mcp.client.oauth").CheckedOAuthProvider

FLAW = "lesson 03's client, taking every code to be from the server it sent the user to (no `iss` check)"


class AssumingProvider(CheckedOAuthProvider):
    """Takes every code to be from the authorization server it sent the user to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        variant.announce("mix_up", FLAW)
        super().__init__(*args, **kwargs)

    async def _await_user(self) -> AuthorizationCodeResult:
        answer = await super()._await_user()
        assumed = str(self.context.oauth_metadata.issuer)  # instead of the `iss` the answer carries
        return AuthorizationCodeResult(code=answer.code, state=answer.state, iss=assumed)


if __name__ == "__main__":
    variant.not_a_program("mix_up", FLAW)
