"""A server's malformed reply is refused on one line, `error: ...` and exit code 1, never with a traceback.

The server (`support/malicious_server.py --malformed`, a real process) answers `tools/list` with a
result that leaves out what the protocol requires of it (`cacheScope`, `ttlMs`). The SDK refuses to
read it; the client reports that as it reports any failure it has no words of its own for: one line
naming the error's type (the traceback only with --log-level debug).
"""

from collections.abc import Iterator

import pytest

from lesson04.tests.support import processes


@pytest.fixture(scope="module")
def malformed() -> Iterator["processes.RunningServer"]:
    with processes.start_process("tests.support.malicious_server", "--malformed") as server:
        yield server


def test_a_malformed_tools_list_is_one_error_line_and_no_traceback(malformed) -> None:
    result = processes.run_cli("client", "--url", malformed.mcp_url, "tools")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: unexpected ValidationError: ")
    assert "ListToolsResult" in errors[0] and "cacheScope" in errors[0]
