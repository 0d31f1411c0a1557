"""A malformed reply from where the proxy should be is refused on one line, `error: ...` and exit code 1,
never with a traceback.

The server (`support/malicious_server.py --malformed`, a real process where the client expects the
proxy) answers with JSON the client cannot read: a tool whose `_meta` entry for the proxy is a string
rather than an object, and a `/healthz` whose backends are a list. The client reports each as it
reports any failure it has no words of its own for: one line naming the error's type (the traceback
only with --log-level debug).
"""

from collections.abc import Iterator

import pytest

from lesson05.tests.support import processes


@pytest.fixture(scope="module")
def malformed() -> Iterator["processes.RunningServer"]:
    with processes.start_process(f"{processes.LESSON}.tests.support.malicious_server", "--malformed") as server:
        yield server


def the_one_error_line(result) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_tool_whose_proxy_meta_is_not_an_object_is_one_error_line_and_no_traceback(malformed) -> None:
    error = the_one_error_line(processes.run_cli("client", "--url", malformed.mcp_url, "tools"))
    assert error == "error: unexpected AttributeError: 'str' object has no attribute 'get'"


def test_a_malformed_healthz_is_one_error_line_and_no_traceback(malformed) -> None:
    error = the_one_error_line(processes.run_cli("client", "--url", malformed.mcp_url, "health"))
    assert error == (
        f"error: unexpected AttributeError in the answer of {malformed.base_url}/healthz: "
        "'list' object has no attribute 'items'"
    )
