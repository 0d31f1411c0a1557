"""A stand-in authorization server for the resource-server tests: it publishes metadata and a
JWKS, and mints exactly the access token a test needs.

The real authorization server (auth_server/) only ever issues good tokens; to prove that the
MCP server refuses bad ones, this minter forges them on request: expired, for another
audience, signed by another key, `alg: none`, a header `typ` that is a number. And it can look
like the authorization servers found in the wild: an issuer with a path (`/tenant1`), metadata
only at the OpenID Connect location, keys under any `jwks_uri`, RSA-PSS and EdDSA keys, or
metadata that lies about its issuer. It counts what is fetched from it, and answers every
introspection "not active", noting the client port each one came from (one port: one connection).

And it can be a hostile or broken issuer: `script(path, body)` makes it answer any path with exactly
those bytes (thirty thousand `[`, a list where an object belongs, a document padded past any bound),
and `introspection[token]` the introspection of one token.
"""

import base64
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from . import loopback_http

# Drop a claim by overriding it with this, e.g. mint(resource, aud=OMIT).
OMIT = object()


@dataclass
class TestIssuer:
    url: str = ""
    kid: str = "test-key-1"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    discovery: str = "oauth-authorization-server"  # or "openid-configuration", where the metadata lives
    claimed_issuer: str | None = None  # a lying metadata document names another issuer
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    extra_keys: list[dict[str, Any]] = field(default_factory=list)  # public JWKs of further signing keys
    fetched: Counter = field(default_factory=Counter)  # path (no query) -> how often it was requested
    introspected_from: list[int] = field(default_factory=list)  # the client port of each introspection
    scripted: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # path (no query) -> (status, body)
    introspection: dict[str, bytes] = field(default_factory=dict)  # token -> the body its introspection answers

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.claimed_issuer or self.url,
            "jwks_uri": f"{self.url}/keys",  # anything but the {issuer}/jwks.json a resource server might guess
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "introspection_endpoint": f"{self.url}/introspect",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            **self.extra_metadata,
        }

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "ES256"}, *self.extra_keys]}

    def publish(self, kid: str, private_key: Any, alg: str) -> None:
        """Add the public half of another signing key to the JWKS, named `kid`, for `alg`."""
        public = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(private_key.public_key()))
        self.extra_keys.append({**public, "kid": kid, "use": "sig", "alg": alg})

    @property
    def origin(self) -> str:
        """Scheme, host and port: the issuer's URL without its path."""
        return "/".join(self.url.split("/", 3)[:3])

    def script(self, path: str, body: bytes, status: int = 200) -> str:
        """Answer `path` (GET or POST) with exactly `body` from now on; its URL."""
        self.scripted[path] = (status, body)
        return f"{self.origin}{path}"

    def documents(self) -> dict[str, Any]:
        """Request path -> the document served there (RFC 8414 §3.1: the well-known part before the issuer's path)."""
        path = self.url.split("/", 3)[3] if self.url.count("/") > 2 else ""
        path = f"/{path}" if path else ""
        if self.discovery == "openid-configuration" and path:
            metadata_path = f"{path}/.well-known/openid-configuration"  # OpenID Connect Discovery's form
        else:
            metadata_path = f"/.well-known/{self.discovery}{path}"
        return {metadata_path: self.metadata, f"{path}/keys": self.jwks}

    def claims(self, resource: str, subject: str = "alice", scope: str = "journal:read") -> dict[str, Any]:
        """Claims the resource server accepts: every forged token starts here and breaks one thing."""
        now = int(time.time())
        return {
            "iss": self.url,
            "sub": subject,
            "aud": resource,
            "scope": scope,
            "client_id": "test-client",
            "iat": now,
            "exp": now + 300,
            "jti": f"jti-{time.monotonic_ns()}",
        }

    def mint(
        self,
        resource: str,
        subject: str = "alice",
        scope: str = "journal:read",
        *,
        key: Any = None,
        alg: str = "ES256",
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed access token for `resource`; `key`, `alg`, `header` and any claim may be overridden."""
        payload = {**self.claims(resource, subject, scope), **claims}
        payload = {name: value for name, value in payload.items() if value is not OMIT}
        headers = {"kid": self.kid, "typ": "at+jwt", **(header or {})}
        signing_key = None if alg == "none" else (key or self.key)
        return jwt.encode(payload, signing_key, algorithm=alg, headers=headers)

    def with_header(self, token: str, **fields: Any) -> str:
        """`token` with its header fields replaced by any JSON at all, as an attacker can always do
        (the signature no longer matches; a careful server never gets that far)."""
        header, payload, signature = token.split(".")
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        forged = base64.urlsafe_b64encode(json.dumps({**decoded, **fields}).encode()).decode().rstrip("=")
        return f"{forged}.{payload}.{signature}"


@contextmanager
def serve_test_issuer(path: str = "", **options: Any) -> Iterator[TestIssuer]:
    """The stand-in on a free loopback port, its issuer URL ending in `path` (e.g. "/tenant1")."""
    issuer = TestIssuer(**options)

    class Handler(loopback_http.JsonHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open between requests, as real servers do
        # The headers and the body go out in two writes: with Nagle's algorithm, the second waited for
        # the client's delayed ACK, 40 ms per answer on a kept-open connection.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            issuer.fetched[path] += 1
            documents = issuer.documents()
            if path in issuer.scripted:
                self.reply_bytes(*issuer.scripted[path])
            elif self.path in documents:
                self.reply(documents[self.path]())
            else:
                self.reply({}, 404)

        def do_POST(self) -> None:
            issuer.fetched[self.path] += 1
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            if self.path.endswith("/introspect"):
                issuer.introspected_from.append(self.client_address[1])
                token = form.get("token", [""])[0]
                if token in issuer.introspection:
                    self.reply_bytes(200, issuer.introspection[token])
                else:
                    self.reply({"active": False})
            elif self.path in issuer.scripted:
                self.reply_bytes(*issuer.scripted[self.path])
            else:
                self.reply({}, 404)

        def reply_bytes(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http = loopback_http.loopback_server(Handler)
    issuer.url = f"http://127.0.0.1:{http.server_address[1]}{path}"
    with loopback_http.serving(http):
        yield issuer
