"""Lesson 05's config file: both shapes load, every mistake names its field, ${VAR} comes from the environment,
and no one but the proxy's user can change it."""

import json
import os
import stat
from pathlib import Path

import pytest

from lesson05.server import backends, config, permissions, settings

FIXTURES = Path(__file__).parent / "fixtures"
LESSON_DIR = Path(__file__).resolve().parents[1]


def problems(data: object) -> str:
    with pytest.raises(config.ConfigError) as caught:
        config.parse_config(data)
    return str(caught.value)


def test_the_go_workshops_config_loads_unchanged() -> None:
    loaded = config.load_config(FIXTURES / "go-workshop-config.json")
    assert loaded.mcp_proxy.name == "MCP Proxy"
    assert loaded.mcp_proxy.addr == ":9090"
    assert loaded.mcp_proxy.base_url == "http://localhost:9090"
    assert loaded.mcp_proxy.options.auth_tokens == ()
    assert loaded.mcp_proxy.options.panic_if_invalid is False
    assert {name: s.url for name, s in loaded.mcp_servers.items()} == {
        "server01": "http://localhost:8081/mcp",
        "server02": "http://localhost:8082/mcp",
        "server03": "http://localhost:8083/mcp",
    }
    assert {s.transport for s in loaded.mcp_servers.values()} == {"streamable-http"}


def test_the_shipped_config_aggregates_lessons_01_02_and_04() -> None:
    loaded = config.load_config(LESSON_DIR / "config.json")
    servers = loaded.mcp_servers
    assert servers["basic"].transport == "stdio"
    assert "01-basic-mcp.server" in servers["basic"].args
    assert servers["passthrough"].transport == "streamable-http"
    assert servers["passthrough"].headers["Authorization"] == "Bearer ${WORKSHOP_TOKEN}"  # expanded at connect
    assert servers["observability"].transport == "stdio"
    assert "04-observability.server" in servers["observability"].args


def test_a_claude_style_config_loads() -> None:
    loaded = config.parse_config(
        {
            "mcpServers": {
                "files": {"command": "npx", "args": ["-y", "server-files"], "env": {"ROOT": "/srv"}},
                "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"X-Key": "k"}},
            }
        }
    )
    assert loaded.mcp_proxy.addr == "127.0.0.1:9090"
    assert loaded.mcp_servers["files"].transport == "stdio"
    assert loaded.mcp_servers["remote"].transport == "streamable-http"
    assert settings.ProxySettings.from_config(loaded).backends["files"].connection.timeout == 60


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"mcpServers": {"a": {"comand": "x"}}}, "mcpServers.a.comand: Extra inputs are not permitted"),
        ({"mcpServers": {"a": {}}}, "mcpServers.a: needs 'command' (stdio) or 'url' (Streamable HTTP)"),
        ({"mcpServers": {"a": {"command": "x", "url": "http://y"}}}, "mcpServers.a: give either 'command'"),
        ({"mcpServers": {"a": {"command": "x", "timeout": 30_000_000_000}}}, "it looks like Go nanoseconds"),
        ({"mcpServers": {"a": {"command": "x", "timeout": -1}}}, "mcpServers.a.timeout: must be between"),
        ({"mcpServers": {"a": {"type": "sse", "url": "http://y"}}}, "the SSE transport is not supported"),
        ({"mcpServers": {"a": {"type": "stdio", "url": "http://y"}}}, "type stdio needs 'command'"),
        ({"mcpServers": {"a": {"command": "x", "options": {"toolFilter": {"mode": "deny"}}}}}, "toolFilter.mode"),
        ({"mcpServers": {"a b": {"command": "x"}}}, "mcpServers.a b: a server name must be"),
        ({"mcpServers": {"a_": {"command": "x"}}}, "mcpServers.a_: the name clashes with the tool name separator"),
        ({"mcpProxy": {"options": {"toolNameSeparator": "::"}}}, "mcpProxy.options.toolNameSeparator"),
        ({"mcpProxy": {"type": "sse"}}, "mcpProxy.type"),
        ({"mcpProxy": {"options": {"authTokens": [""]}}}, "an empty token would let anyone in"),
        ({"mcpServers": []}, "mcpServers: Input should be a valid dictionary"),
        ({"mcpProxy": {"baseURL": "localhost:9090"}}, "mcpProxy.baseURL: must be an http(s) URL"),
        ({"mcpProxy": {"baseURL": "http://localhost:9090/mcp"}}, "mcpProxy.baseURL: must be the proxy's origin"),
        (
            {"mcpProxy": {"options": {"pinTools": False, "approveNewTools": True}}},
            "mcpProxy.options: approveNewTools needs pinTools",
        ),
        ({"mcpProxy": {"options": {"jsonResponse": "sometimes"}}}, "mcpProxy.options.jsonResponse: Input should be"),
    ],
)
def test_a_mistake_is_an_error_naming_the_field(data: object, expected: str) -> None:
    assert expected in problems(data)


def test_tokens_are_expanded_from_the_environment_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXY_TOKEN", "s3cret-front")
    loaded = config.parse_config({"mcpProxy": {"options": {"authTokens": ["${PROXY_TOKEN}", "${NONE:-fallback}"]}}})
    assert loaded.mcp_proxy.options.auth_tokens == ("s3cret-front", "fallback")
    assert "environment variable NOT_SET_ANYWHERE is not set" in problems(
        {"mcpProxy": {"options": {"authTokens": ["${NOT_SET_ANYWHERE}"]}}}
    )


@pytest.mark.parametrize("token", ["two words", "s3cret!", "ünïcode", "=leading"])
def test_a_token_no_client_can_send_as_bearer_credentials_is_refused(monkeypatch, token: str) -> None:
    # The gate reads `Authorization: Bearer <token>` as RFC 6750 spells it: a token it could never read
    # would lock out every caller with no word why.
    monkeypatch.setenv("ODD_TOKEN", token)
    data = {"mcpProxy": {"options": {"authTokens": ["${ODD_TOKEN}"]}}}
    assert "a token must be one a client can send as 'Bearer <token>'" in problems(data)


def test_backend_values_are_expanded_when_it_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", "k-123")
    spec = config.parse_config(
        {"mcpServers": {"a": {"command": "python", "args": ["--key=${API_KEY}"], "env": {"K": "${API_KEY}"}}}}
    ).mcp_servers["a"]
    params = backends.client_for(spec)
    assert params.args == ["--key=k-123"]
    assert params.env == {"K": "k-123"}
    monkeypatch.delenv("API_KEY")
    with pytest.raises(config.ConfigError, match=r"args\[0\]: environment variable API_KEY is not set"):
        backends.client_for(spec)


def test_per_server_options_fall_back_to_the_proxys() -> None:
    loaded = settings.ProxySettings.from_config(
        config.parse_config(
            {
                "mcpProxy": {"options": {"authTokens": ["global"], "timeout": 20, "panicIfInvalid": True}},
                "mcpServers": {
                    "own": {
                        "command": "x",
                        "timeout": 2.5,
                        "options": {"authTokens": ["mine"], "panicIfInvalid": False},
                    },
                    "inherits": {"command": "x"},
                },
            }
        )
    )
    own, inherits = loaded.backends["own"], loaded.backends["inherits"]
    assert (own.tokens, inherits.tokens) == (("mine",), ("global",))
    assert (own.connection.timeout, inherits.connection.timeout) == (2.5, 20)
    assert (own.required, inherits.required) == (False, True)


def test_the_proxys_own_options_default_to_pins_trusted_on_first_use_and_sse_answers() -> None:
    shipped = settings.ProxySettings.from_config(config.load_config(LESSON_DIR / "config.json"))
    assert (shipped.pin_tools, shipped.approve_new_tools, shipped.json_response) == (True, False, False)
    options = {"approveNewTools": True, "jsonResponse": True}
    chosen = settings.ProxySettings.from_config(config.parse_config({"mcpProxy": {"options": options}}))
    assert (chosen.approve_new_tools, chosen.json_response) == (True, True)


def test_a_reload_reconnects_a_backend_only_when_its_connection_changed() -> None:
    def backend(**changes: object) -> "settings.BackendSettings":
        server = {"command": "x", **changes}
        return settings.ProxySettings.from_config(config.parse_config({"mcpServers": {"a": server}})).backends["a"]

    before = backend()
    assert backend(timeout=5).connection != before.connection
    assert backend(args=["--verbose"]).connection != before.connection
    # Tokens and filters change what callers see, not the connection.
    filtered = backend(options={"authTokens": ["t"], "toolFilter": {"mode": "block", "list": ["x"]}})
    assert filtered.connection == before.connection
    assert filtered != before


def refusal(path: Path) -> str | None:
    """Why `load_config` refuses `path`, or None if it loads it."""
    try:
        config.load_config(path)
    except config.ConfigError as error:
        return str(error)
    return None


def test_a_config_anyone_can_change_is_refused_as_ssh_refuses_its_own(tmp_path) -> None:
    # A config names the commands the proxy runs: who can write it can run anything as the proxy's user.
    folder = tmp_path / "proxy"
    folder.mkdir(mode=0o700)
    path = folder / "config.json"
    path.write_text(json.dumps({"mcpServers": {"a": {"command": "sh", "args": ["-c", "touch pwned"]}}}))
    path.chmod(0o644)
    assert refusal(path) is None
    path.chmod(0o666)
    assert refusal(path) == (
        f"anyone can write {path} (mode 0666): a config names the commands this proxy runs, so only the user it "
        "runs as (or root) may be able to change it, as ssh requires of ~/.ssh/config"
    )
    path.chmod(0o600)
    folder.chmod(0o777)  # anyone could put a config of their own in its place
    assert f"anyone can write {folder}, the folder of {path}, (mode 0777)" in (refusal(path) or "")
    folder.chmod(0o1777)  # as /tmp: only the config's owner can replace it
    assert refusal(path) is None
    folder.chmod(0o700)


def status(mode: int, uid: int, gid: int) -> os.stat_result:
    """A file's status as os.stat gives it: mode, inode, device, links, owner, group, size, times."""
    return os.stat_result((mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


def test_a_config_another_user_owns_or_a_shared_group_can_write_is_refused() -> None:
    # Owners and groups other than the test's own cannot be made without root: these run the rule on a status.
    me = os.geteuid()
    someone_else = me + 4242
    owned = status(stat.S_IFREG | 0o644, someone_else, os.getegid())
    assert permissions.problem(owned, "config.json", me).startswith("config.json is owned by ")
    assert permissions.problem(status(stat.S_IFREG | 0o644, 0, 0), "config.json", me) is None  # root's
    nobodys = 4_000_000  # a group no one is in
    shared = status(stat.S_IFREG | 0o664, me, nobodys)
    assert permissions.problem(shared, "config.json", me) == f"group gid {nobodys} can write config.json (mode 0664)"
