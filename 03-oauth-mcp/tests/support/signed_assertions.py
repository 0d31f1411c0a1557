"""Signed assertions, made by hand, for the tests of `private_key_jwt` and of the enterprise flow.

A test plays every party an attacker can play: a client that signs what it likes (a client assertion
for another audience, one that lives for a day, one sent twice), an identity provider that mints
whatever ID-JAG a test needs (expired, for another resource, for a user nobody knows, an ID token
where an ID-JAG belongs), and the user at the bundled IdP (signed in over plain HTTP, for an ID
token, then an ID-JAG). Each then goes to the real authorization server's /token, which must refuse
all but the honest ones.
"""

import time
import uuid
from typing import Any

import httpx2
import jwt

from .issuer import OMIT, TestIssuer
from .oauth_driver import hidden_inputs, pkce_pair, query_of

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"


def client_assertion(client_id: str, audience: str, key: Any, alg: str = "ES256", **overrides: Any) -> str:
    """What `private_key_jwt` sends: iss = sub = the client, aud = the authorization server; any claim overridden."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    claims = {name: value for name, value in {**claims, **overrides}.items() if value is not OMIT}
    return jwt.encode(claims, key, algorithm=alg)


def client_credentials(token_endpoint: str, assertion: str, **form: str) -> httpx2.Response:
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    return httpx2.post(token_endpoint, data={**data, **form}, timeout=10)


def id_jag(
    idp: TestIssuer, audience: str, resource: str, client_id: str, /, *, subject: str = "alice", **overrides: Any
) -> str:
    """An ID-JAG from the stand-in IdP for `subject`: typ oauth-id-jag+jwt, signed with its key. Any claim may be
    overridden (OMIT drops it), and `key` and `header` too."""
    key, header = overrides.pop("key", idp.key), overrides.pop("header", {})
    claims = {**idp.claims(audience, subject, "journal:read"), "resource": resource, "client_id": client_id}
    claims = {name: value for name, value in {**claims, **overrides}.items() if value is not OMIT}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": idp.kid, "typ": "oauth-id-jag+jwt", **header})


def redeem(token_endpoint: str, assertion: str, auth: tuple[str, str] | None, **form: str) -> httpx2.Response:
    """The JWT bearer grant at the authorization server, the client authenticating with HTTP Basic (or in `form`)."""
    data = {"grant_type": JWT_BEARER, "assertion": assertion, **form}
    return httpx2.post(token_endpoint, data=data, auth=auth, timeout=10)


def sign_in_at_idp(idp_url: str, client: tuple[str, str], user: tuple[str, str] = ("alice", "wonderland")) -> str:
    """Be the application and its user at the bundled IdP, over plain HTTP: the user's ID token."""
    verifier, challenge = pkce_pair()
    redirect_uri = "http://127.0.0.1:53683/callback"  # nothing listens: the code is read from the redirect
    query = {
        "response_type": "code",
        "client_id": client[0],
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with httpx2.Client(timeout=10) as browser:  # keeps the IdP's cookie between the page and the form
        page = browser.get(f"{idp_url}/authorize", params=query)
        answer = {**hidden_inputs(page.text), "username": user[0], "password": user[1], "decision": "approve"}
        location = browser.post(f"{idp_url}/authorize", data=answer).headers["location"]
    form = {"grant_type": "authorization_code", "code": query_of(location)["code"], "redirect_uri": redirect_uri}
    answer = httpx2.post(f"{idp_url}/token", data={**form, "code_verifier": verifier}, auth=client, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"]


def exchange_at_idp(
    idp_url: str, id_token: str, audience: str, resource: str, auth: Any, **form: str
) -> httpx2.Response:
    """RFC 8693 at the bundled IdP: the ID token for an ID-JAG."""
    data = {
        "grant_type": TOKEN_EXCHANGE,
        "requested_token_type": ID_JAG,
        "subject_token": id_token,
        "subject_token_type": ID_TOKEN,
        "audience": audience,
        "resource": resource,
        **form,
    }
    return httpx2.post(f"{idp_url}/token", data=data, auth=auth, timeout=10)
