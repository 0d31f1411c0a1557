"""Discovery (RFC 8414 metadata) and Dynamic Client Registration (RFC 7591): what the MCP SDK sends and reads."""

import json
import socket
from urllib.parse import urlsplit

import pytest


def test_metadata_documents_at_both_well_known_paths(oauth) -> None:
    base = oauth.base_url
    documents = [
        oauth.http.get(f"{base}{path}")
        for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
    ]
    assert [response.status_code for response in documents] == [200, 200]
    metadata = documents[0].json()
    assert documents[1].json() == metadata
    assert metadata["issuer"] == base
    assert not metadata["issuer"].endswith("/")
    assert metadata["authorization_endpoint"] == f"{base}/authorize"
    assert metadata["token_endpoint"] == f"{base}/token"
    assert metadata["registration_endpoint"] == f"{base}/register"
    assert metadata["introspection_endpoint"] == f"{base}/introspect"
    assert metadata["revocation_endpoint"] == f"{base}/revoke"
    assert metadata["jwks_uri"] == f"{base}/jwks.json"
    assert metadata["scopes_supported"] == ["journal:read", "journal:write"]
    assert metadata["response_types_supported"] == ["code"]
    assert sorted(metadata["grant_types_supported"]) == [  # in the order each was registered
        "authorization_code",
        "client_credentials",  # machine clients (optional/machine_clients.py)
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",  # RFC 8693, for MCP servers (exchange.py)
    ]
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "none",
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",  # clients with keys, for the JWT bearer grant (optional/client_keys.py)
    ]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["client_id_metadata_document_supported"] is True
    assert metadata["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert oauth.http.get(f"{base}/healthz").json() == {"status": "ok"}


def test_the_sdk_parses_the_metadata_with_the_exact_issuer(oauth) -> None:
    from mcp.client.auth.utils import validate_metadata_issuer
    from mcp.shared.auth import OAuthMetadata

    metadata = OAuthMetadata.model_validate(oauth.metadata())
    validate_metadata_issuer(metadata, oauth.base_url)  # raises on any difference, a slash included
    assert str(metadata.issuer) == oauth.base_url


def test_dcr_public_native_client_as_the_sdk_registers_it(oauth) -> None:
    from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata

    # Exactly what OAuthClientProvider sends, serialized the way it serializes it.
    request = OAuthClientMetadata(
        redirect_uris=["http://localhost:3030/callback"],
        client_name="SDK client",
        token_endpoint_auth_method="none",
    ).model_dump(by_alias=True, mode="json", exclude_none=True)
    response = oauth.http.post(f"{oauth.base_url}/register", json=request)
    assert response.status_code == 201, response.text
    body = response.json()
    assert "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert body["application_type"] == "native"
    assert body["redirect_uris"] == ["http://localhost:3030/callback"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["client_name"] == "SDK client"
    info = OAuthClientInformationFull.model_validate(body)
    assert info.client_id and info.client_secret is None


def test_dcr_confidential_client_gets_a_secret_it_can_use(oauth) -> None:
    client = oauth.register(token_endpoint_auth_method="client_secret_basic")
    assert client["client_secret"]
    assert client["client_secret_expires_at"] == 0
    authorization = oauth.authorize(client["client_id"])
    data = {
        "grant_type": "authorization_code",
        "code": authorization.params["code"],
        "redirect_uri": oauth.REDIRECT_URI,
        "code_verifier": authorization.verifier,
    }
    response = oauth.http.post(
        f"{oauth.base_url}/token", data=data, auth=(client["client_id"], client["client_secret"])
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://example.com/callback"]}, "invalid_redirect_uri"),  # http, not loopback
        ({"redirect_uris": ["com.example.app:/callback"]}, "invalid_redirect_uri"),  # custom scheme
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"application_type": "web", "redirect_uris": ["http://127.0.0.1:3000/cb"]}, "invalid_redirect_uri"),
        ({"application_type": "desktop"}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"scope": "journal:read admin"}, "invalid_client_metadata"),
    ],
)
def test_dcr_refuses_unsafe_metadata(oauth, metadata, error) -> None:
    body = {
        "redirect_uris": [oauth.REDIRECT_URI],
        "client_name": "x",
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = oauth.http.post(f"{oauth.base_url}/register", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error


def test_dcr_web_client_with_https_redirect(oauth) -> None:
    client = oauth.register(redirect_uri="https://app.example/callback", application_type="web")
    assert client["application_type"] == "web"


def test_dcr_refuses_a_body_that_is_not_a_json_object(oauth) -> None:
    for content in (b"not json", b"[]"):
        response = oauth.http.post(
            f"{oauth.base_url}/register", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("character", ["\x00", "\r\n", "\n", "\t", " "])
def test_dcr_refuses_control_characters_in_redirect_uris(oauth, character) -> None:
    # A NUL or CR LF would end up in the Location header that carries the authorization code.
    response = oauth.register_response(redirect_uri=f"http://127.0.0.1:53682/cb{character}x")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "metadata",
    [
        {"client_name": "x" * 101},
        {"client_name": "Safe app\u202egpj.exe"},  # right-to-left override: displays as "Safe appexe.jpg"
        {"client_name": "two\nlines"},
        {"redirect_uris": [f"http://127.0.0.1:{port}/cb" for port in range(3000, 3011)]},  # 11 of them
        {"redirect_uris": ["http://127.0.0.1:3000/" + "a" * 2000]},
        {"contacts": ["someone@example.com" * 30] * 20},  # within the body limit, over the registration's
    ],
    ids=["long-name", "bidi-name", "newline-name", "eleven-uris", "long-uri", "big-metadata"],
)
def test_dcr_bounds_what_a_registration_may_hold(oauth, metadata) -> None:
    response = oauth.register_response(**metadata)
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


def test_a_body_over_64_kib_is_refused_with_413(oauth) -> None:
    body = json.dumps({"redirect_uris": [oauth.REDIRECT_URI], "client_name": "x" * 5_000_000})
    response = oauth.http.post(f"{oauth.base_url}/register", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    # A chunked body declares no length: refused once what has arrived is over the limit.
    chunks = iter([b"grant_type=x&pad=", *[b"a" * 8192] * 10])
    form = {"content-type": "application/x-www-form-urlencoded"}
    chunked = oauth.http.post(f"{oauth.base_url}/token", content=chunks, headers=form)
    assert chunked.status_code == 413
    assert oauth.http.get(f"{oauth.base_url}/healthz").status_code == 200


def test_a_30_mb_body_is_refused_from_its_content_length_alone(oauth) -> None:
    # Nothing of the body is sent: the server answers from the headers, without waiting for 30 MB.
    address = urlsplit(oauth.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /register HTTP/1.1\r\nHost: " + address.netloc.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 31457280\r\n\r\n"
        )
        status_line = connection.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 413")
