"""Lesson 05's two command lines, run as an attendee runs them: `python -m 05-mcp-proxy...` from the root.

A command that fails runs as its own process, for its exit code and its message (`run_cli`); one that
succeeds runs its typer `cli` in the test's process (`client`, support/in_process.py), against the real
proxy all the same.
"""

import json
import re
import subprocess

import pytest
import typer

from lesson05.addresses import parse_addr
from lesson05.client.__main__ import cli
from lesson05.tests.support import in_process, processes, tokens

run_cli = processes.run_cli


def client(*args: str, env: dict[str, str] | None = None) -> "subprocess.CompletedProcess[str]":
    """`python -m 05-mcp-proxy.client ARGS`, a command that succeeds, run in this process: what it printed."""
    return in_process.invoke(cli, *args, env=env)


def test_client_lists_tools_grouped_by_backend(aggregate) -> None:
    result = client("--url", aggregate.mcp_url, "tools")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^basic: 2 tools\n  basic__add_numbers +Calculate the sum of two numbers\.$", result.stdout, re.M)
    assert re.search(r"^faulty: 10 tools$", result.stdout, re.M)  # every page, and the filtered one left out
    assert re.search(r"^passthrough: 4 tools$", result.stdout, re.M)
    assert re.search(
        r"^  passthrough__show_auth_token +Show the token this request carries, masked\.$", result.stdout, re.M
    )
    assert "input schema" not in result.stdout


def test_client_calls_any_backends_tool_with_typed_arguments(aggregate) -> None:
    result = client("--url", aggregate.mcp_url, "call", "basic__add_numbers", "num1=2", "num2=3.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["5.5", 'structured: {"result": 5.5}']
    over_http = client("--url", aggregate.mcp_url, "call", "passthrough__echo_message", "message=hi")
    assert over_http.stdout.splitlines()[0] == "Echo: hi"


def test_client_prints_progress_to_stderr(aggregate) -> None:
    result = client("--url", aggregate.mcp_url, "call", "faulty__slow", "steps=2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "slow done"
    assert "progress 1/2: step 1\nprogress 2/2: step 2" in result.stderr


def test_client_shows_the_proxys_error_for_an_unknown_tool(aggregate) -> None:
    result = run_cli("client", "--url", aggregate.mcp_url, "call", "basic__subtract")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: Unknown tool: basic__subtract"


def test_client_health_shows_each_backend(aggregate) -> None:
    result = client("--url", aggregate.mcp_url, "health")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mcp-proxy: ok\n")
    assert re.search(r"^  faulty +ready +11 tools  since ", result.stdout, re.M)


def test_client_without_a_token_says_how_to_send_one(guarded) -> None:
    refused = run_cli("client", "--url", guarded.mcp_url, "tools")
    allowed = client("--url", guarded.mcp_url, "tools", env={"MCP_PROXY_TOKEN": tokens.PROXY_WIDE})
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: the proxy answered with JSON-RPC error -32600: Unauthorized: missing or unknown bearer token; "
        "send 'Authorization: Bearer <token>' (give --token, or set MCP_PROXY_TOKEN)"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "basic__echo_message" in allowed.stdout


def test_client_reports_an_unreachable_proxy_on_one_line() -> None:
    result = run_cli("client", "--url", "http://127.0.0.1:9/mcp", "tools")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot talk to http://127.0.0.1:9/mcp:")
    assert "Traceback" not in result.stderr


def test_a_bad_config_is_a_usage_error_naming_the_field(tmp_path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"mcpServers": {"a": {"command": "x", "timeout": "soon"}, "b": {"urll": "x"}}}))
    result = run_cli("server", "--config", str(config))
    assert result.returncode == 2
    assert "mcpServers.a.timeout: Input should be a valid number" in result.stderr
    assert "mcpServers.b.urll: Extra inputs are not permitted" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_broken_or_writable_by_anyone_config_file_is_a_usage_error(tmp_path) -> None:
    missing = run_cli("server", "--config", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "No such file or directory" in missing.stderr
    (tmp_path / "broken.json").write_text("{")
    broken = run_cli("server", "--config", str(tmp_path / "broken.json"))
    assert broken.returncode == 2
    assert "not JSON" in broken.stderr
    writable = tmp_path / "writable.json"
    writable.write_text('{"mcpServers": {}}')
    writable.chmod(0o666)  # anyone could name a command for the proxy to run (server/permissions.py)
    refused = run_cli("server", "--config", str(writable))
    assert refused.returncode == 2
    assert f"anyone can write {writable} (mode 0666): a config names the commands this proxy runs" in refused.stderr


def test_invalid_address_is_a_usage_error() -> None:
    result = run_cli("server", "--addr", "example.com:80")
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("Error: Invalid value for '--addr'")]


@pytest.mark.parametrize("addr", ["9090", "127.0.0.1:http", "127.0.0.1:70000", "example.com:80", "[::1]"])
def test_each_malformed_address_is_refused(addr: str) -> None:
    # The same check as above, without a process per case: the server's own parser, in-process.
    with pytest.raises(typer.BadParameter):
        parse_addr(addr)


@pytest.mark.parametrize("addr", ["127.0.0.1:9090", "localhost:1", "[::1]:65535"])
def test_well_formed_addresses_are_accepted(addr: str) -> None:
    assert parse_addr(addr) == addr


@pytest.mark.parametrize(
    ("module", "announces"),
    [
        ("labs.session_hijack.vulnerable", "DELIBERATELY VULNERABLE (lab: session_hijack): "),
        ("labs.stdio_escalation.vulnerable", "DELIBERATELY VULNERABLE (lab: stdio_escalation): "),
        ("labs.tool_shadowing.vulnerable", "DELIBERATELY VULNERABLE (lab: tool_shadowing): "),
        ("labs.indirect_injection.vulnerable", "DELIBERATELY VULNERABLE (lab: indirect_injection): "),
        ("labs.rug_pull.vulnerable", "DELIBERATELY VULNERABLE (lab: rug_pull): "),
        ("labs.tool_poisoning.vulnerable", "DELIBERATELY VULNERABLE (lab: tool_poisoning): "),
        ("labs.attacker_backend", "DELIBERATELY MALICIOUS (labs: tool_poisoning, rug_pull): "),
    ],
)
def test_a_labs_vulnerable_variant_run_bare_says_what_it_is_and_refuses_to_start(module: str, announces: str) -> None:
    # Started by mistake in the real proxy's place, it would take the real proxy's address, config and pins.
    result = run_cli(module)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(announces), result.stderr
    assert "error: the following arguments are required: " in result.stderr


def test_a_vulnerable_variant_refuses_lesson_05s_own_config_and_any_address_but_loopback() -> None:
    variant = "labs.session_hijack.vulnerable"
    on_the_lessons_config = run_cli(variant, "--lab-config", "05-mcp-proxy/config.json", "--addr", "127.0.0.1:9090")
    on_every_interface = run_cli(variant, "--lab-config", "lab.json", "--addr", "0.0.0.0:9090")
    assert on_the_lessons_config.returncode == on_every_interface.returncode == 2
    assert (
        "--lab-config 05-mcp-proxy/config.json: that is lesson 05's own config, not a lab's"
        in on_the_lessons_config.stderr
    )
    assert "--addr 0.0.0.0:9090: a vulnerable variant listens on a loopback address only" in on_every_interface.stderr
