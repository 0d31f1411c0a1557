"""RFC 8414 authorization server metadata: how clients and resource servers discover this server.

The MCP client reads it to find every endpoint, and refuses to go on unless `issuer` is exactly
the issuer it looked up (a trailing slash counts), `code_challenge_methods_supported` lists S256,
and, since this server advertises it, every authorization response carries `iss`.
"""

from typing import Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssuerParameterMetadata

from .config import SCOPES, Settings


def server_metadata(settings: Settings, grant_types: list[str], more: dict[str, Any]) -> dict[str, Any]:
    """The document: the grants registered, and `more` members (the optional parts': optional/wiring.py)."""
    metadata = {
        "issuer": settings.issuer,
        "authorization_endpoint": settings.endpoint("/authorize"),
        "token_endpoint": settings.endpoint("/token"),
        "revocation_endpoint": settings.endpoint("/revoke"),
        "jwks_uri": settings.endpoint("/jwks.json"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],  # no "plain": MCP clients MUST refuse a server without S256
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        **more,
    }
    # Authlib checks the document against RFC 8414 (and RFC 9207): https issuer (or loopback
    # http), no query or fragment, endpoints that are URLs. A mistake fails at startup.
    AuthorizationServerMetadata(metadata).validate(metadata_classes=[IssuerParameterMetadata])
    return metadata
