"""An upstream API, like lesson 02's echo, that now asks whom a token was issued for.

Lesson 02's upstream accepted any token, because the MCP server forwarded its caller's: token
passthrough, which the MCP specification forbids. Here the upstream is a resource server in its
own right. It accepts a bearer token only if the authorization server issued it *for this API*
(`aud` = its own URL): the MCP server must exchange its caller's token for one (RFC 8693), and
the caller's token itself, issued for the MCP server, is refused.

It verifies tokens with the MCP server's own verifier (server/verifier.py): one implementation
of "is this token for me?" in the lesson.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mcp.server.auth.provider import TokenVerifier

from ..safe_output import mask_token


def create_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI(title="upstream API (lesson 03)", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/anything", methods=["GET", "POST"])
    async def anything(request: Request) -> Any:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        access = await verifier.verify_token(token) if scheme.lower() == "bearer" and token else None
        if access is None:
            challenge = 'Bearer error="invalid_token", error_description="not a token issued for this API"'
            return JSONResponse({"error": "invalid_token"}, status_code=401, headers={"WWW-Authenticate": challenge})
        claims = access.claims or {}
        return {
            "args": dict(request.query_params),
            "headers": {"Authorization": f"Bearer {mask_token(token)}"},
            # Who the token says is calling, and who acts for them (RFC 8693 §4.1).
            "token": {name: claims[name] for name in ("sub", "act", "aud", "client_id", "scope") if name in claims},
        }

    return app
