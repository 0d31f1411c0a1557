"""The two command lines, run as an attendee runs them: `python -m ...` from the repository root.

What a good command prints over HTTP is read from the client's own `cli` run in the test process
(`in_process_client`, typer's CliRunner), against the shared real server. An exit code and its
stderr, a spawned stdio server and the server's own process are the subject where they are tested:
those run for real.
"""

import re
import signal

import pytest
import typer

from lesson01.addresses import parse_addr
from lesson01.tests.support import in_process_client, processes

run_cli = processes.run_cli
run_client = in_process_client.run_client  # `run_cli("client", ...)`, in this process


def test_client_lists_tools_over_http(server) -> None:
    result = run_client("--url", server.mcp_url, "tools")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^echo_message\n    Return the message prefixed with 'Echo: '", result.stdout, re.M)
    assert re.search(r"^add_numbers\n    Calculate the sum of two numbers\.", result.stdout, re.M)
    assert '"num1": {' in result.stdout


def test_client_calls_a_tool_over_http_with_typed_arguments(server) -> None:
    result = run_client("--url", server.mcp_url, "call", "add_numbers", "num1=2", "num2=3.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["5.5", 'structured: {"result": 5.5}']


def test_client_spawns_the_server_over_stdio_by_default() -> None:
    result = run_cli("client", "call", "echo_message", "message=hello workshop")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Echo: hello workshop", 'structured: {"result": "Echo: hello workshop"}']


def test_client_shows_the_servers_error_for_an_unknown_tool(server) -> None:
    result = run_cli("client", "--url", server.mcp_url, "call", "no_such_tool")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "error: Unknown tool: no_such_tool"


def test_client_shows_the_servers_error_for_a_bad_argument(server) -> None:
    result = run_cli("client", "--url", server.mcp_url, "call", "add_numbers", "num1=two", "num2=3")
    assert result.returncode == 1
    assert result.stderr.startswith("error: Error executing tool add_numbers:")
    assert "num1" in result.stderr
    assert "valid number" in result.stderr


def test_client_reports_an_unreachable_server_on_one_line() -> None:
    result = run_cli("client", "--url", "http://127.0.0.1:9/mcp", "tools")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot talk to http://127.0.0.1:9/mcp:")
    assert "Traceback" not in result.stderr


def test_invalid_transport_is_a_usage_error() -> None:
    result = run_cli("server", "--transport", "carrier-pigeon")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "'carrier-pigeon' is not one of 'stdio', 'http'" in errors[0]
    assert "Traceback" not in result.stderr


def test_invalid_address_is_a_usage_error() -> None:
    result = run_cli("server", "--transport", "http", "--addr", "example.com:80")
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("Error: Invalid value for '--addr'")]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("addr", ["8080", "127.0.0.1:http", "127.0.0.1:70000", "example.com:80", "[::1]"])
def test_each_malformed_address_is_refused(addr: str) -> None:
    # The same check as above, without a process per case: the server's own parser, in-process.
    with pytest.raises(typer.BadParameter):
        parse_addr(addr)


@pytest.mark.parametrize("addr", ["127.0.0.1:8080", "localhost:1", "[::1]:65535"])
def test_well_formed_addresses_are_accepted(addr: str) -> None:
    assert parse_addr(addr) == addr


def test_a_port_already_in_use_is_refused_with_uvicorns_exit_code(server) -> None:
    taken = server.base_url.removeprefix("http://")  # the shared server listens there
    result = run_cli("server", "--transport", "http", "--addr", taken)
    assert result.returncode == 3, result.stderr  # what uvicorn.run() exits with when it cannot start
    assert "address already in use" in result.stderr


def test_sigterm_shuts_the_http_server_down_gracefully() -> None:
    with processes.start_process("server", "--transport", "http") as server:
        log = server.stop()
    # uvicorn finishes its shutdown, then re-raises the signal so a supervisor sees why it stopped.
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log
    assert "StreamableHTTP session manager shutting down" in log


def test_stdio_server_logs_to_stderr_and_exits_cleanly_on_eof() -> None:
    # A client closing stdin is how a stdio session ends; stdout must stay empty of logs.
    result = run_cli("server", "--log-level", "debug")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "DEBUG" in result.stderr
