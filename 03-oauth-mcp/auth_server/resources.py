"""RFC 8707 resource indicators: which resource a token is for, checked for every grant, written into `aud`.

A token belongs to the resource it was issued for: the MCP server (or the upstream API of a token
exchange) named in the request's `resource` parameter, which must be one this server issues tokens
for. A code or a refresh token stays bound to the resource the user approved.
"""

from typing import Any

from authlib.oauth2 import OAuth2Error

from .adapter import StarletteOAuth2Request
from .tokens import token_audience


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is unknown, or not the one this grant was for."""

    error = "invalid_target"


class ResourceIndicators:
    """RFC 8707 for every grant: which resource the token is for, and `aud` set to it."""

    request: StarletteOAuth2Request

    def check_resource(self, resources: tuple[str, ...], bound: str | None) -> str:
        """The audience for this request: the `resource` sent, else the one the grant is bound to, else the
        default (the first of `resources`, those this server issues tokens for)."""
        values = self.request.payload.datalist.get("resource", [])
        if len(values) > 1:
            raise InvalidTargetError("Request one resource at a time")
        requested = values[0] if values else None
        if requested is None:
            return bound or resources[0]
        if requested not in resources:
            raise InvalidTargetError("This server issues no tokens for that resource")
        if bound is not None and requested != bound:
            raise InvalidTargetError("The resource differs from the one the user authorized")
        return requested

    def generate_token(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        reset = token_audience.set(self.request.resource)
        try:
            return super().generate_token(*args, **kwargs)  # type: ignore[misc]
        finally:
            token_audience.reset(reset)
