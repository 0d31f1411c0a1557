"""The authorization code grant with PKCE, as an MCP client runs it: /authorize, consent, /token."""

import time


def test_full_code_flow_issues_an_rfc9068_jwt_for_the_resource(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    token, authorization = oauth.code_flow(client_id, scope="journal:read journal:write")

    # RFC 9207: the authorization response names its issuer; state comes back unchanged.
    assert authorization.params["iss"] == oauth.base_url
    assert authorization.params["state"] == authorization.state
    assert authorization.location.startswith(oauth.REDIRECT_URI + "?")

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300
    assert token["scope"] == "journal:read journal:write"
    assert token["refresh_token"]

    header, claims = oauth.verify(token["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"] == oauth.http.get(f"{oauth.base_url}/jwks.json").json()["keys"][0]["kid"]
    assert claims["iss"] == oauth.base_url
    assert claims["sub"] == "alice"
    assert claims["aud"] == oauth.RESOURCE
    assert claims["scope"] == "journal:read journal:write"
    assert claims["client_id"] == client_id
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 30
    assert len(claims["jti"]) >= 16


def test_token_response_is_not_cacheable(oauth, public_client) -> None:
    authorization = oauth.authorize(public_client["client_id"])
    response = oauth.redeem(public_client["client_id"], authorization.params["code"], authorization.verifier)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_no_scope_gets_the_default_read_scope_and_no_resource_the_default_resource(oauth, public_client) -> None:
    authorization = oauth.authorize(public_client["client_id"], scope=None, resource=None)
    response = oauth.redeem(public_client["client_id"], authorization.params["code"], authorization.verifier)
    assert response.status_code == 200, response.text
    _, claims = oauth.verify(response.json()["access_token"])
    assert claims["scope"] == "journal:read"
    assert claims["aud"] == oauth.RESOURCE


def test_bob_gets_his_own_subject(oauth, public_client) -> None:
    token, _ = oauth.code_flow(public_client["client_id"], username="bob", password="builder")
    assert oauth.verify(token["access_token"])[1]["sub"] == "bob"


def test_a_step_up_may_ask_for_more_than_the_client_registered(oauth) -> None:
    # Registered with journal:read only; a 403 insufficient_scope later asks for journal:write.
    client = oauth.register(scope="journal:read")
    token, _ = oauth.code_flow(client["client_id"], scope="journal:read journal:write")
    assert token["scope"] == "journal:read journal:write"


def test_missing_pkce_is_refused_back_to_the_client(oauth, public_client) -> None:
    url, _, state = oauth.authorize_url(public_client["client_id"], code_challenge=None, code_challenge_method=None)
    response = oauth.http.get(url)
    assert response.status_code == 302
    params = oauth.query_of(response.headers["location"])
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]
    assert params["state"] == state
    assert params["iss"] == oauth.base_url


def test_plain_pkce_is_refused(oauth, public_client) -> None:
    verifier, _ = oauth.pkce_pair()
    for method in ("plain", None):  # a missing method means plain (RFC 7636 §4.3)
        url, _, _ = oauth.authorize_url(
            public_client["client_id"], code_challenge=verifier, code_challenge_method=method
        )
        response = oauth.http.get(url)
        assert response.status_code == 302, method
        params = oauth.query_of(response.headers["location"])
        assert params["error"] == "invalid_request"
        assert params["error_description"] == "code_challenge_method must be S256"
        assert params["iss"] == oauth.base_url


def test_wrong_verifier_is_invalid_grant_and_burns_the_code(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    authorization = oauth.authorize(client_id)
    wrong, _ = oauth.pkce_pair()
    response = oauth.redeem(client_id, authorization.params["code"], wrong)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # One attempt per code: the right verifier no longer helps.
    retry = oauth.redeem(client_id, authorization.params["code"], authorization.verifier)
    assert retry.json()["error"] == "invalid_grant"


def test_missing_verifier_is_refused(oauth, public_client) -> None:
    authorization = oauth.authorize(public_client["client_id"])
    response = oauth.redeem(public_client["client_id"], authorization.params["code"], None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(oauth, public_client) -> None:
    for redirect_uri in ("http://127.0.0.1:53682/other", "https://evil.example/callback", oauth.REDIRECT_URI + "/"):
        url, _, _ = oauth.authorize_url(public_client["client_id"], redirect_uri=redirect_uri)
        response = oauth.http.get(url)
        assert response.status_code == 400, redirect_uri
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert "invalid_request" in response.text


def test_unknown_client_gets_an_error_page(oauth) -> None:
    url, _, _ = oauth.authorize_url("no-such-client")
    response = oauth.http.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_client" in response.text


def test_unknown_resource_is_invalid_target(oauth, public_client) -> None:
    url, _, state = oauth.authorize_url(public_client["client_id"], resource="http://127.0.0.1:9999/other")
    response = oauth.http.get(url)
    assert response.status_code == 302
    params = oauth.query_of(response.headers["location"])
    assert params["error"] == "invalid_target"
    assert params["state"] == state
    assert params["iss"] == oauth.base_url


def test_token_request_for_another_resource_than_authorized_is_invalid_target(oauth, public_client) -> None:
    authorization = oauth.authorize(public_client["client_id"])
    response = oauth.redeem(
        public_client["client_id"],
        authorization.params["code"],
        authorization.verifier,
        resource="http://127.0.0.1:9999/other",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_unsupported_scope_is_invalid_scope(oauth, public_client) -> None:
    url, _, _ = oauth.authorize_url(public_client["client_id"], scope="journal:read admin")
    response = oauth.http.get(url)
    assert response.status_code == 302
    assert oauth.query_of(response.headers["location"])["error"] == "invalid_scope"


def test_deny_redirects_access_denied_with_iss_and_state(oauth, public_client) -> None:
    authorization = oauth.authorize(public_client["client_id"], decision="deny", password="")
    assert authorization.response.status_code == 302
    params = authorization.params
    assert params["error"] == "access_denied"
    assert params["state"] == authorization.state
    assert params["iss"] == oauth.base_url
    assert "code" not in params


def test_replayed_code_is_refused_and_revokes_what_it_issued(oauth, public_client) -> None:
    client_id = public_client["client_id"]
    token, authorization = oauth.code_flow(client_id)
    assert oauth.active(token["access_token"])

    replay = oauth.redeem(client_id, authorization.params["code"], authorization.verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"

    # RFC 6749 §4.1.2: tokens issued from a code used twice are revoked.
    assert not oauth.active(token["access_token"])
    refreshed = oauth.refresh(client_id, token["refresh_token"])
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_code_of_another_client_is_invalid_grant(oauth, public_client) -> None:
    other = oauth.register()
    authorization = oauth.authorize(public_client["client_id"])
    response = oauth.redeem(other["client_id"], authorization.params["code"], authorization.verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_malformed_parameters_get_an_error_page_and_the_server_keeps_serving(oauth, public_client) -> None:
    malformed = ({"redirect_uri": 'http://127.0.0.1:53682/"\\'}, {"response_type": 'code"'}, {"client_id": ""})
    for overrides in malformed:
        url, _, _ = oauth.authorize_url(**{"client_id": public_client["client_id"], **overrides})
        response = oauth.http.get(url)
        assert response.status_code == 400, overrides
        assert "location" not in response.headers
    assert oauth.http.get(f"{oauth.base_url}/healthz").status_code == 200


def test_repeated_parameters_are_refused(oauth, public_client) -> None:
    url, _, _ = oauth.authorize_url(public_client["client_id"])
    response = oauth.http.get(f"{url}&scope=journal:write")
    assert response.status_code == 400
    assert "Multiple" in response.text
    resource = oauth.http.get(f"{url}&resource=http://127.0.0.1:8095/mcp")
    assert oauth.query_of(resource.headers["location"])["error"] == "invalid_target"
