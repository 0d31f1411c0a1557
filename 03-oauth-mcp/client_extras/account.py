"""`login` and `logout`: the user managing a stored login by hand, beside the flow that makes one.

Skip on a first read: `client/` logs in by itself, on the server's 401. These two commands start a
login over with new consent (`login`), or end one (`logout`: its tokens revoked at the issuer's
validated revocation endpoint, RFC 7009, with revocation.py, then deleted). `client/__main__.py`
registers them with `add_account_commands`; `preregistered_client/` reuses them.
"""

from collections.abc import Callable
from typing import Any

import anyio
import httpx2
import typer
from mcp.client.auth.oauth2 import OAuthContext
from mcp.shared.auth import OAuthClientInformationFull

from ..safe_output import printable
from .private_file import UnsafeFile
from .revocation import revoke


class WithLogout:
    """`logout` for lesson 03's providers (client/oauth.py), which keep `storage` and the SDK's `context`."""

    storage: Any  # client/token_storage.py FileTokenStorage
    context: OAuthContext

    async def logout(self, client: OAuthClientInformationFull | None = None) -> str:
        """Revoke this login's tokens at its issuer (RFC 7009), as `client` (by default the registration
        they were issued to), then forget them."""
        stored, tokens = await self.storage.get_client_info(), await self.storage.get_tokens()
        if stored is None or stored.issuer is None or tokens is None:
            self.storage.forget()
            return "Not logged in."
        self.context.client_info = client or stored
        revoked = await revoke(self.context, stored.issuer, tokens)
        self.storage.forget()
        done = "revoked and deleted" if revoked else "deleted (not revoked)"
        return f"Logged out of {stored.issuer}: tokens {done} from {self.storage.path}."


def add_account_commands(
    cli: typer.Typer, run: Callable[..., None], fail: Callable[[str], None], reason: Callable[[BaseException], str]
) -> None:
    """`login` and `logout` on the client's command line, which lends them how it runs a request (`run`)
    and reports a failure (`fail`, `reason`)."""

    @cli.command("login")
    def login_command(ctx: typer.Context) -> None:
        """Log in to this server again, with new consent, replacing the tokens stored for it."""
        if not (auth := ctx.obj["auth"]):
            fail("login is for a user at an HTTP server: stdio and --token keep no login")
        # Its tokens go, its registration stays (client/token_storage.py `entry`).
        login = auth.storage.entry()
        auth.storage.save({key: value for key, value in login.items() if key not in ("tokens", "expires_at")})
        run(lambda client: client.list_tools(), ctx.obj)  # any request: its 401 starts the login
        print(f"Logged in to {ctx.obj['url']}, scope {auth.context.current_tokens.scope!r}.")

    @cli.command("logout")
    def logout_command(ctx: typer.Context) -> None:
        """Revoke this server's tokens at the authorization server and delete them."""
        if not (auth := ctx.obj["auth"]):
            fail("logout is for a user at an HTTP server: stdio and --token keep no login")
        try:
            print(printable(anyio.run(auth.logout)))
        except (httpx2.HTTPError, UnsafeFile) as error:
            fail(f"logout failed: {reason(error)}")
