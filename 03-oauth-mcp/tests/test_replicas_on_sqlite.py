"""Two authorization servers on one SQLite file: replicas on one machine, and the two races they once lost.

Before the storage went through one transaction per state change, taken with the file's write
lock at its start (database.py): two servers started together on an empty file crashed seeding
the users (`UNIQUE constraint failed: users.username`), and a refresh token sent to both at once
was answered 200 by both in 6 of 8 rounds. Now the first start creates everything exactly once,
and of two refreshes with one token exactly one succeeds: the other is reuse, and revokes the
whole family, including the token the winner just received.
"""

from functools import partial

import httpx2
import jwt

from lesson03.tests.support import processes
from lesson03.tests.support.at_once import at_once
from lesson03.tests.support.oauth_driver import BOT_AUTH, OAuth

ROUNDS = 8


def test_two_servers_started_together_on_a_new_file_share_one_key_and_the_users(sqlite_replicas) -> None:
    first, second = sqlite_replicas
    published = [httpx2.get(f"{server.base_url}/jwks.json").json() for server in (first, second)]
    assert published[0] == published[1]
    assert len(published[0]["keys"]) == 1  # not one key per server (this test runs before the rotation below)
    for server in (first, second):
        oauth = OAuth(server.base_url)
        tokens, _ = oauth.code_flow(oauth.register()["client_id"])  # alice signs in at either
        assert tokens["refresh_token"]
        oauth.close()
    for server in (first, second):
        assert "Traceback" not in server.logged()


def test_one_refresh_token_sent_to_both_at_once_is_honoured_once_and_revokes_its_family(sqlite_replicas) -> None:
    first, second = sqlite_replicas
    oauth, other = OAuth(first.base_url), OAuth(second.base_url)
    client_id = oauth.register()["client_id"]
    for _ in range(ROUNDS):
        tokens, _ = oauth.code_flow(client_id)
        refresh_token = tokens["refresh_token"]
        answers = at_once(
            partial(oauth.refresh, client_id, refresh_token), partial(other.refresh, client_id, refresh_token)
        )
        assert sorted(answer.status_code for answer in answers) == [200, 400]
        won, lost = sorted(answers, key=lambda answer: answer.status_code)
        assert lost.json()["error"] == "invalid_grant"
        # The reuse revoked the family: the new refresh token the winner got is dead as well.
        assert oauth.refresh(client_id, won.json()["refresh_token"]).status_code == 400
    oauth.close()
    other.close()


def test_a_rotated_key_is_published_at_once_signs_when_due_and_the_old_one_stays_published(sqlite_replicas) -> None:
    def signing_kid(server) -> str:
        answer = httpx2.post(f"{server.base_url}/token", data={"grant_type": "client_credentials"}, auth=BOT_AUTH)
        return jwt.get_unverified_header(answer.json()["access_token"])["kid"]

    first, second = sqlite_replicas
    old_kid = signing_kid(first)
    db = first.process.args[first.process.args.index("--db") + 1]
    rotated = processes.run_cli("auth_server.optional.rotate_key", "--db", db, "--signs-in", "0")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = signing_kid(first)
    assert new_kid != old_kid
    for server in (first, second):
        assert signing_kid(server) == new_kid
        published = httpx2.get(f"{server.base_url}/jwks.json").json()["keys"]
        assert {key["kid"] for key in published} == {old_kid, new_kid}  # tokens of the old key still verify
