"""Authorization URL injection, run twice: against a client that opens any page through a shell, then lesson 03's.

    python -m 03-oauth-mcp.labs.authorization_url

A malicious MCP server names its own authorization server, and that server's metadata names the
page the user is sent to log in. The attacker makes it a trap: a `javascript:` URL, a `file:` URL,
a plain-http page on another machine, or an https URL holding `$(touch pwned)` for a client that
opens pages through a shell. The browser is a stand-in (`BROWSER`, which Python's `webbrowser`
honours, for lesson 03's client): a script that writes down what it was handed, and opens nothing.
Everything runs on this machine, in a temporary folder, and stops at the end.
"""

import os
import stat
import tempfile
from importlib import import_module
from pathlib import Path

LESSON = "03-oauth-mcp"
stage = import_module(f"{LESSON}.labs.stage")

TRAPS = [
    "javascript:alert(document.domain)//",  # `//` comments out the query the client appends
    "file:///etc/passwd",
    "http://evil.example/authorize",
    "https://evil.example/authorize$(touch pwned)",
]
RECORDING_BROWSER = """#!/bin/sh
{{ printf '%s' "$#"; for argument in "$@"; do printf '\\t%s' "$argument"; done; printf '\\n'; }} >> {record}
"""


class Browser:
    """The stand-in browser: a script that appends what it was handed to a file, and opens nothing."""

    def __init__(self, folder: Path) -> None:
        self.path, self.record = folder / "browser", folder / "opened.txt"
        self.path.write_text(RECORDING_BROWSER.format(record=self.record))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)

    def handed(self) -> list[list[str]]:
        """The arguments of each run since the last call, and forget them."""
        lines = self.record.read_text().splitlines() if self.record.exists() else []
        self.record.unlink(missing_ok=True)
        return [line.split("\t")[1:] for line in lines]


class Opened(Exception):
    """The lesson's client opened the page: the lab, playing the user, goes no further."""


def shown(url: str) -> str:
    return url.split("?")[0] + "?response_type=code&…" if "?" in url else url


def main() -> None:
    print(
        "Authorization URL injection: a malicious MCP server names an authorization server whose login page is a trap.",
        flush=True,  # at once: the SDK takes a second to import
    )
    import anyio
    from mcp.client.auth import OAuthFlowError

    callback = import_module(f"{LESSON}.client.callback")
    oauth = import_module(f"{LESSON}.client.oauth")
    FileTokenStorage = import_module(f"{LESSON}.client.token_storage").FileTokenStorage
    ShellOpener = import_module(f"{LESSON}.labs.authorization_url.vulnerable").ShellOpener
    MaliciousServer = import_module(f"{LESSON}.labs.authorization_url.malicious").MaliciousServer

    with tempfile.TemporaryDirectory() as folder:
        browser, attacker = Browser(Path(folder)), MaliciousServer()
        os.environ["BROWSER"] = str(browser.path)  # for webbrowser, in lesson 03's client
        pwned = Path(folder) / "pwned"

        print(
            "1. A client that opens whatever page the metadata names, through a shell"
            " (labs/authorization_url/vulnerable.py):"
        )
        opener, got = ShellOpener(browser.path, Path(folder), stage.http()), []
        for trap in TRAPS:
            attacker.endpoint = trap
            opener.log_in(attacker.mcp_url)
            handed = [shown(arguments[0]) for arguments in browser.handed()]
            ran = f"the shell ran `touch pwned` ({pwned.name} now exists); " if pwned.exists() else ""
            print(f"   authorization_endpoint {trap}: {ran}the browser was handed {', '.join(handed) or 'nothing'}")
            got += ["ran the attacker's command"] * pwned.exists() + [trap.partition(":")[0]] * bool(handed)
            pwned.unlink(missing_ok=True)
        stage.verdict(
            "the shell ran the attacker's command, and the browser was handed a script, a local file and a page on "
            "plain http"
            if "ran the attacker's command" in got
            else None
        )

        print("2. Lesson 03's client (client/callback.py open_browser, client_extras/authorization_url.py):")
        pages: list[str] = []

        async def open_page(url: str) -> None:
            await callback.open_browser(url, use_browser=True)
            pages.append(url)
            raise Opened  # the user is on the page: the lab stops there

        async def connect(token_file: Path) -> str:
            storage, loopback = (
                FileTokenStorage(token_file, attacker.mcp_url),
                callback.LoopbackCallback(stage.free_port()),
            )
            provider = oauth.CheckedOAuthProvider(attacker.mcp_url, storage, loopback, open_page=open_page)
            outcome = "connected"
            try:
                async with stage.signed_in(attacker.mcp_url, provider):
                    pass
            except* OAuthFlowError as refusal:
                outcome = f"refused: {refusal.exceptions[0]}".replace(attacker.url, "the attacker's server")
            except* Opened:
                outcome = "opened"
            return outcome

        refused = []
        for number, trap in enumerate([*TRAPS, f"{attacker.url}/authorize"]):
            attacker.endpoint = trap
            outcome = anyio.run(connect, Path(folder) / f"tokens-{number}.json")
            handed = browser.handed()
            if trap in TRAPS:
                print(f"   authorization_endpoint {trap}: {outcome}")
                refused += [trap] if outcome.startswith("refused: ") and not handed and not pwned.exists() else []
            else:
                whole = handed == [[pages[-1]]]
                print(
                    "   an authorization page it may open (http, on this machine): "
                    + ("the browser received it whole, as one argument, from no shell" if whole else f"{handed}")
                )
        stage.verdict(
            None if len(refused) == len(TRAPS) else "a trap got through",
            "the client's check of the page (client_extras/authorization_url.py) and the SDK's metadata model",
            "no trap reached the browser and no shell ran; the page it may open went to the browser as one argument",
        )
        attacker.stop()


if __name__ == "__main__":
    main()
