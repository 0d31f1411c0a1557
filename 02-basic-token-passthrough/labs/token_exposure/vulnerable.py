"""DELIBERATELY VULNERABLE: lesson 02's server writing the caller's token in its debug log and in its errors.

    python -m 02-basic-token-passthrough.labs.token_exposure.vulnerable \
        --addr HOST:PORT --upstream-url URL --log-level LEVEL

`make_authenticated_request` fails: the upstream refuses the token. A developer who wants to see why
logs the request the tool sent, headers and all, at debug level, and puts the same headers in the
tool's error, so that whoever reads the error knows what was sent (DVMCP's challenge 7 leaks its
tokens this way: "Debug information ... Authorization: Bearer ..."). The header holds the caller's
token, whole: now in a log file that anyone with access to the logs reads, that log collectors ship
and keep, and in an error that the client shows, its model reads, and the host keeps in its transcript.
Lesson 02 logs and returns the token masked (safe_output.py `mask_token`). Do not use this one for
anything but this lab.
"""

import logging
from importlib import import_module
from typing import Annotated

LESSON = "02-basic-token-passthrough"
variant = import_module(f"{LESSON}.labs.variant")

logger = logging.getLogger(f"{LESSON}.labs.token_exposure.vulnerable")


def main() -> None:
    flaw = "lesson 02's server with the caller's whole token in its debug log and in its errors"
    options = variant.vulnerable_options("token_exposure", flaw, "--addr", "--upstream-url", "--log-level")
    # Imported only now: run bare, the variant refuses at once, not after a second of importing the SDK.
    import httpx2
    import uvicorn
    from mcp.server import MCPServer
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.exceptions import ToolError
    from pydantic import Field

    app = import_module(f"{LESSON}.server.app")
    create_http_app = import_module(f"{LESSON}.server.http").create_http_app
    configure_logging = import_module(f"{LESSON}.server.logs").configure_logging
    split_addr = import_module(f"{LESSON}.addresses").split_addr

    def create_server(upstream_url: str) -> MCPServer:
        mcp = app.create_server(upstream_url)  # lesson 02's server, and its tools
        mcp.remove_tool("make_authenticated_request")

        @mcp.tool()
        async def make_authenticated_request(
            message: Annotated[str, Field(description="The message to send as the 'message' query parameter.")],
            ctx: Context,
        ) -> app.UpstreamEcho:
            """Call the upstream echo API with the caller's token and return what it saw."""
            headers = {"Authorization": f"Bearer {app.require_token()}"}
            logger.debug("calling %s with headers %s", upstream_url, headers)  # the whole token, in the log
            http: httpx2.AsyncClient = ctx.request_context.lifespan_context
            response = await http.get(upstream_url, params={"message": message}, headers=headers)
            if response.is_error:  # ... and in the error: "so that the caller sees what was sent"
                problem = f"answered {response.status_code} {response.reason_phrase}"
                raise ToolError(f"Upstream {upstream_url} {problem} (debug: sent headers {headers})")
            return app.UpstreamEcho.model_validate(response.json())

        return mcp

    configure_logging(options.log_level)
    host, port = split_addr(options.addr)
    http_app = create_http_app(create_server(options.upstream_url), host=host)
    # No X-Forwarded-For believed from loopback either, as the lesson's server (server/__main__.py).
    uvicorn.run(http_app, host=host, port=port, log_level=options.log_level, log_config=None, proxy_headers=False)


if __name__ == "__main__":
    main()
