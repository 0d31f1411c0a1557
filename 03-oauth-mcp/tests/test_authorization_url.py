"""Lesson 03's client never sends its user to an authorization page a malicious server names.

The authorization page comes from the authorization server's metadata, and a malicious MCP server
names an authorization server of its own (support/attacker.py, a real process): whatever it writes
as `authorization_endpoint` is where the client would send the user. MCP's security best practices
("OAuth Authorization URL Validation") allow https only, or http to this machine, and no address a
shell could read as a command. The client runs as a user runs it, with a browser: the `BROWSER`
variable, which Python's `webbrowser` honours, names a script that records every URL it is handed.
Each page below is refused before anything is printed or opened, in one line.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lesson03.tests.support import processes

RECORDING_BROWSER = """#!{python}
import sys
with open({record!r}, "a") as record:
    record.write(" ".join(sys.argv[1:]) + "\\n")
"""


def recording_browser(directory: Path) -> tuple[Path, Path]:
    """An executable that plays the browser: it writes down what it was asked to open, and opens nothing."""
    browser, record = directory / "browser", directory / "opened.txt"
    browser.write_text(RECORDING_BROWSER.format(python=sys.executable, record=str(record)))
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return browser, record


# The SDK's metadata model refuses a `javascript:` or `file:` endpoint, and its flow then goes on as if
# there were no metadata at all: the client says which document it refused, and why.
REFUSED_AS_INVALID = "was refused as invalid: authorization_endpoint: URL scheme should be 'http' or 'https'"


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        pytest.param(
            "http://evil.example/authorize", "plain http to another machine", id="plain-http-to-another-machine"
        ),
        pytest.param("javascript:alert(1)", REFUSED_AS_INVALID, id="javascript"),
        pytest.param("file:///etc/passwd", REFUSED_AS_INVALID, id="file"),
        pytest.param("https://x/$(touch PWNED)", "characters no authorization URL needs", id="shell-command"),
    ],
)
def test_an_authorization_page_the_user_must_not_visit_is_refused_before_anything_opens(
    tmp_path: Path, endpoint: str, reason: str
) -> None:
    pwned = tmp_path / "pwned"  # what `touch` would create, had a shell run the URL
    endpoint = endpoint.replace("PWNED", str(pwned))
    browser, opened = recording_browser(tmp_path)
    record = tmp_path / "attacker.jsonl"
    with processes.start_process(
        "tests.support.attacker", "--record", str(record), "--authorization-endpoint", endpoint
    ) as attacker:
        command = ["--url", attacker.mcp_url, "--token-file", str(tmp_path / "tokens.json")]
        command += ["--callback-port", str(processes.free_port()), "--login-timeout", "2", "call", "whoami"]
        run = subprocess.run(
            [sys.executable, "-m", f"{processes.LESSON}.client", *command],
            cwd=processes.REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "BROWSER": str(browser)},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    assert run.returncode == 1, run.stderr
    assert not opened.exists(), f"the browser was sent to {opened.read_text()}"
    assert not pwned.exists()
    assert "Open this URL" not in run.stderr  # not even shown, for the user to copy
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: authorization failed: "), lines[0]
    assert "refusing" in lines[0], lines[0]
    assert reason in lines[0], lines[0]
