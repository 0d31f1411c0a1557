"""Lesson 03 as replicas: two authorization servers and pairs of MCP servers on one PostgreSQL, behind HAProxy.

The balancer round-robins every request, with no affinity (support/deployment.py draws the
layout), so consecutive requests of one login land on different replicas: whatever one replica
learns (a pending consent, a code, a refresh token's rotation, a revocation, a journal entry)
the other must find in the database. Its log says which replica answered what.

MCP sessions: a 2026-07-28 client (the lesson's own) sends requests that each stand alone. A
handshake-era client opens a session that lives in one server's memory: it needs session
affinity at the balancer, or servers started with --stateless (production/server.py).

Skipped, with the reason, where Debian's postgresql or haproxy is not installed (.ci/run installs both).
"""

import json
from functools import partial
from itertools import pairwise
from pathlib import Path

import httpx2
import jwt
import pytest
from mcp.shared.exceptions import MCPError

from lesson03.auth_server import models, storage
from lesson03.auth_server.storage.clients import ClientStore
from lesson03.tests.support import oauth_driver, processes
from lesson03.tests.support.at_once import at_once
from lesson03.tests.support.client_runs import run_client
from lesson03.tests.support.mcp_sessions import tool_results


def stored_tokens(token_file: Path, resource: str) -> dict[str, str]:
    return json.loads(token_file.read_text())[resource]["tokens"]


def handed_over(requests: list, first: tuple[str, str], then: tuple[str, str]) -> bool:
    """Was a `first` request (method, path) answered by one replica, and the `then` right after it by the other?"""
    return any(
        (a.method, a.path) == first and (b.method, b.path) == then and a.server != b.server
        for a, b in pairwise(requests)
    )


def machine_token(deployed, resource: str) -> str:
    """An access token for `resource`, by client credentials (journal-bot), through the balancer."""
    answer = httpx2.post(
        f"{deployed.issuer}/token",
        data={"grant_type": "client_credentials", "resource": resource},
        auth=oauth_driver.BOT_AUTH,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_a_login_spans_both_authorization_servers_and_its_entry_is_read_at_both_mcp_servers(deployed, tmp_path):
    tokens, since = tmp_path / "tokens.json", len(deployed.balancer.requests())
    written = run_client(deployed.mcp_url(), tokens, "call", "create_entry", "title=Replicas", "content=written once")
    assert written.returncode == 0, written.stderr
    assert len(written.consents) == 2  # journal:read, then the step-up to journal:write

    flow = [r for r in deployed.served("auth", since) if r.path in ("/register", "/authorize", "/token")]
    assert {r.server for r in flow} == {"as1", "as2"}
    # A consent page shown by one replica was answered at the other, and a code one replica
    # issued was redeemed at the other: the pending request and the code live in the database.
    assert handed_over(flow, ("GET", "/authorize"), ("POST", "/authorize"))
    assert handed_over(flow, ("POST", "/authorize"), ("POST", "/token"))
    written_at = [r.server for r in deployed.served("mcp", since) if r.mcp_name == "create_entry" and r.status == 200]
    assert len(written_at) == 1  # (the 403 that asked for journal:write may have come from the other)

    # Read a few times in a row through the balancer: each MCP server answers some of them.
    since = len(deployed.balancer.requests())
    access_token = stored_tokens(tokens, deployed.mcp_url())["access_token"]
    lists = tool_results(deployed.mcp_url(), access_token, [("list_entries", {})] * 3)
    for listed in lists:
        assert [entry["content"] for entry in listed["result"]] == ["written once"]
    assert {r.server for r in deployed.served("mcp", since) if r.mcp_name == "list_entries"} == {"rs1", "rs2"}


def test_a_refresh_and_a_logout_through_the_balancer_hold_at_both_authorization_servers(deployed, tmp_path):
    tokens = tmp_path / "tokens.json"
    assert run_client(deployed.mcp_url(), tokens, "call", "whoami").returncode == 0
    logins = json.loads(tokens.read_text())
    logins[deployed.mcp_url()]["expires_at"] = 1  # the client believes its token expired
    tokens.write_text(json.dumps(logins))
    refreshed = run_client(deployed.mcp_url(), tokens, "call", "whoami")
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.consents == []
    assert "grant_type=refresh_token" in refreshed.stderr

    login = json.loads(tokens.read_text())[deployed.mcp_url()]
    current, client_id = login["tokens"], login["client_info"]["client_id"]
    assert run_client(deployed.mcp_url(), tokens, "logout").returncode == 0
    # Revoked through the balancer at one replica: revoked at both.
    for server in deployed.auth_servers.values():
        direct = oauth_driver.OAuth(server.base_url)
        assert direct.active(current["access_token"]) is False
        assert direct.refresh(client_id, current["refresh_token"]).json()["error"] == "invalid_grant"
        direct.close()


def test_one_refresh_token_at_both_authorization_servers_at_once_is_honoured_once(deployed) -> None:
    balancer = oauth_driver.OAuth(deployed.issuer)
    first, second = (oauth_driver.OAuth(server.base_url) for server in deployed.auth_servers.values())
    client_id, resource = balancer.register()["client_id"], deployed.mcp_url()
    for _ in range(4):
        consent = balancer.authorize(client_id, resource=resource)
        redeemed = balancer.redeem(client_id, consent.params["code"], consent.verifier, resource=resource)
        refresh = redeemed.json()["refresh_token"]
        answers = at_once(partial(first.refresh, client_id, refresh), partial(second.refresh, client_id, refresh))
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        won = next(answer for answer in answers if answer.status_code == 200).json()
        assert balancer.refresh(client_id, won["refresh_token"]).status_code == 400  # the family is revoked
    for driver in (balancer, first, second):
        driver.close()


def test_replicas_that_replace_a_clients_resources_at_once_leave_one_of_the_two_lists(deployed) -> None:
    # What every authorization server does as it starts (seed.py): its resource server's resources,
    # replaced. Two replicas started together did it at the same moment, and one could die of a
    # duplicate key. Here for a client of the test's own: the deployment's clients stay as they are.
    engines = [storage.open_database(deployed.auth_database) for _ in range(2)]  # as two replicas: two pools
    first, second = (ClientStore(engine) for engine in engines)
    client = models.Client(client_id="replica-race", client_name="Race", is_resource_server=True, kind="provisioned")
    first.save(client)
    lists = ["https://a.example/mcp", "https://b.example/mcp"], ["https://b.example/mcp", "https://c.example/mcp"]
    try:
        for _ in range(20):
            at_once(
                partial(first.set_resources_of, client.client_id, lists[0]),
                partial(second.set_resources_of, client.client_id, lists[1]),
            )
            assert sorted(first.resources_of(client.client_id)) in lists  # one list, whole: never the two merged
    finally:
        first.set_resources_of(client.client_id, [])
        for engine in engines:
            engine.dispose()


def test_both_authorization_servers_publish_the_same_keys_and_the_next_one_before_it_signs(deployed) -> None:
    def published() -> list[dict]:
        return [httpx2.get(f"{server.base_url}/jwks.json").json() for server in deployed.auth_servers.values()]

    before = published()
    assert before[0] == before[1]
    assert len(before[0]["keys"]) == 1  # started together on an empty database, they agreed on one key
    rotated = processes.run_cli("auth_server.optional.rotate_key", "--db", deployed.auth_database)
    assert rotated.returncode == 0, rotated.stderr
    after = published()
    assert after[0] == after[1]
    assert len(after[0]["keys"]) == len(before[0]["keys"]) + 1
    # Published now, signing later: a token issued now is still signed with a key published before.
    header = jwt.get_unverified_header(machine_token(deployed, deployed.mcp_url()))
    assert header["kid"] in {key["kid"] for key in before[0]["keys"]}


def test_a_2026_client_needs_no_affinity(deployed) -> None:
    since = len(deployed.balancer.requests())
    token = machine_token(deployed, deployed.mcp_url())
    answers = tool_results(deployed.mcp_url(), token, [("whoami", {}), ("whoami", {})])
    assert [answer["subject"] for answer in answers] == ["journal-bot", "journal-bot"]
    assert {r.server for r in deployed.served("mcp", since)} == {"rs1", "rs2"}


def test_a_handshake_era_client_loses_its_session_without_affinity(deployed) -> None:
    token = machine_token(deployed, deployed.mcp_url())
    # initialize opens the session at one server; the next request reaches the other, which never heard of it.
    with pytest.raises(ExceptionGroup) as failure:
        tool_results(deployed.mcp_url(), token, [("whoami", {}), ("whoami", {})], mode="legacy")
    assert failure.group_contains(MCPError, match="Session not found", depth=None)


def test_a_handshake_era_client_keeps_its_session_with_affinity(deployed) -> None:
    since = len(deployed.balancer.requests())
    token = machine_token(deployed, deployed.mcp_url())  # the same servers, through another door
    answers = tool_results(deployed.mcp_url("mcp-sticky"), token, [("whoami", {}), ("whoami", {})], mode="legacy")
    assert [answer["subject"] for answer in answers] == ["journal-bot", "journal-bot"]
    assert len({r.server for r in deployed.served("mcp-sticky", since)}) == 1


def test_a_handshake_era_client_needs_no_affinity_with_stateless_servers(deployed) -> None:
    since = len(deployed.balancer.requests())
    token = machine_token(deployed, deployed.mcp_url("mcp-stateless"))
    calls = [("whoami", {}), ("whoami", {}), ("whoami", {})]
    answers = tool_results(deployed.mcp_url("mcp-stateless"), token, calls, mode="legacy")
    assert [answer["subject"] for answer in answers] == ["journal-bot"] * 3
    assert {r.server for r in deployed.served("mcp-stateless", since)} == {"rs3", "rs4"}
