"""An MCP backend over Streamable HTTP that, like many web services, sets a session cookie on every answer.

    python -m 05-mcp-proxy.tests.support.cookie_backend --addr 127.0.0.1:PORT

or, from a test, `app()` served on a thread (support/in_process.py). The cookie is the session of
whoever called (the proxy, here) with this backend: a secret no log of the proxy may keep, at any
level. One tool, `echo_message`, and `/healthz` for a test to wait on.
"""

import argparse

import uvicorn
from mcp.server import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "backend-session-5e1d0c"

server = MCPServer("cookie-backend")


@server.tool()
def echo_message(message: str) -> str:
    """Echo the message back."""
    return message


@server.custom_route("/healthz", methods=["GET"])
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def setting_the_cookie(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"session={SESSION_COOKIE}; Path=/; HttpOnly".encode()
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await app(scope, receive, send_with_cookie if scope["type"] == "http" else send)

    return wrapped


def app() -> ASGIApp:
    """The backend's ASGI app: the SDK's Streamable HTTP app, each answer with the cookie."""
    return setting_the_cookie(server.streamable_http_app())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", required=True, help="HOST:PORT to listen on")
    host, port = parser.parse_args().addr.rsplit(":", 1)
    uvicorn.run(app(), host=host, port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
