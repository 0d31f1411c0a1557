"""The README's "The protocol on the wire", run for real: each command prints what the README shows.

That section is the lesson's one look at the raw protocol: 2026-07-28 requests over HTTP with curl, a
handshake-era session, and JSON lines typed into the stdio server. Its outputs were pasted from a real
run. Here every command runs again, in order and in one shell as a reader runs them, against the shared
`server` (its port for 8080), and what it prints is compared with the README, line by line. An edited
output fails, and so does a server that starts answering differently. Only the two values that change on
every run are set aside, in both: the `date` header and the session id (the README says so).
"""

import re
import shutil

import pytest

from lesson01.tests.support import console, processes

README = processes.LESSON_DIR / "README.md"
SECTION = "The protocol on the wire"
COMMANDS = console.commands(console.section(README.read_text(), SECTION))
VOLATILE = [
    (re.compile(r"^date: .*$", re.I), "date: <a date>"),
    (re.compile(r"^mcp-session-id: \S+$", re.I), "mcp-session-id: <a session id>"),
]


def set_aside_volatile(lines: list[str] | tuple[str, ...]) -> list[str]:
    for pattern, stand_in in VOLATILE:
        lines = [pattern.sub(stand_in, line) for line in lines]
    return list(lines)


def name(command: console.Command) -> str:
    """A test id: the JSON-RPC methods the command sends, or its first word."""
    methods = re.findall(r'"method": "([^"]+)"', command.text + "\n".join(command.typed))
    if "-X DELETE" in command.text:
        methods.append("DELETE")
    what = " ".join(methods) or re.match(r"[\w=]+", command.text)[0]
    return f"{'stdio' if command.typed else 'shell'}: {what}"


@pytest.fixture(scope="module")
def printed(server: processes.RunningServer) -> list[list[str]]:
    """Every command of the section, run once, in order: what each printed."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None:
        pytest.skip("the README's examples need bash and curl")
    return console.run(COMMANDS, bash, processes.REPOSITORY_ROOT, {"http://127.0.0.1:8080": server.base_url})


@pytest.mark.parametrize("at", range(len(COMMANDS)), ids=[f"{at:02d} {name(c)}" for at, c in enumerate(COMMANDS)])
def test_each_command_prints_what_the_readme_shows(at: int, printed: list[list[str]]) -> None:
    command = COMMANDS[at]
    assert set_aside_volatile(printed[at]) == set_aside_volatile(command.shown), command.text


def test_the_section_shows_both_eras_over_http_and_over_stdio() -> None:
    """The examples the section exists for are all there: a test that checks nothing passes too easily."""
    sent = [command.text for command in COMMANDS if not command.typed]
    shown = "\n".join(line for command in COMMANDS for line in command.shown)
    modern = [text for text in sent if "MCP-Protocol-Version: 2026-07-28" in text]
    assert any('"method": "server/discover"' in text for text in modern)
    assert any("Mcp-Name: add_numbers" in text and '"name": "add_numbers"' in text for text in modern)
    assert all("Accept: application/json, text/event-stream" in text for text in modern)
    assert all('"io.modelcontextprotocol/protocolVersion": "2026-07-28"' in text for text in modern)
    handshake = "\n".join(text for text in sent if "2026-07-28" not in text)
    for step in ('"method": "initialize"', "SID=$(", '"method": "notifications/initialized"', "-X DELETE"):
        assert step in handshake
    assert re.search(r"^mcp-session-id: ", shown, re.M)
    typed = [line for command in COMMANDS for line in command.typed]
    assert any('"io.modelcontextprotocol/protocolVersion": "2026-07-28"' in line for line in typed)
    assert any('"method": "initialize"' in line for line in typed)
    assert '"structuredContent":{"result":5.0}' in shown and '"code":-32020' in shown
