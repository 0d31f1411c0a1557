"""An echo API with the response shape of httpbin's `/anything`.

It answers every request with what it received: method, URL, query arguments,
headers, body. That makes the token forwarded by the MCP server visible, and
lets the lesson run with no internet. `/status/{code}` answers with that status,
as httpbin does, to try a failing upstream.

It stands for a third-party API, so it exports no telemetry of its own; it only
logs the trace id of the `traceparent` header it receives, which is enough to
find its log lines from the MCP server's trace.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import pydantic_core
from fastapi import FastAPI, Path, Request, Response
from opentelemetry import propagate, trace

app = FastAPI(title="echo upstream (httpbin /anything)")
logger = logging.getLogger(__name__)


@app.middleware("http")
async def log_trace_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    # The W3C propagator reads `traceparent` (and `tracestate`); no SDK needed for that.
    received = trace.get_current_span(propagate.extract(request.headers)).get_span_context()
    if request.url.path != "/healthz":
        if received.is_valid:
            logger.info(
                "%s %s trace_id=%032x parent_span_id=%016x",
                request.method,
                request.url.path,
                received.trace_id,
                received.span_id,
            )
        else:
            logger.info("%s %s without trace context", request.method, request.url.path)
    return await call_next(request)


def query_args(request: Request) -> dict[str, str | list[str]]:
    """httpbin's shape: a repeated parameter becomes a list, a single one a string."""
    args: dict[str, str | list[str]] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        args[key] = values if len(values) > 1 else values[0]
    return args


def parsed_json(body: bytes) -> Any:
    """httpbin's `json` field: the body parsed as JSON, or None when it is not JSON that can be echoed back.

    pydantic's parser, not `json.loads`: it refuses, as a ValueError, what the standard library would
    parse and then fail on (a lone surrogate, a 5,000-digit number) or overflow on (deep nesting).
    """
    try:
        return pydantic_core.from_json(body) if body else None
    except ValueError:
        return None


@app.api_route("/anything", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@app.api_route("/anything/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def anything(request: Request) -> dict[str, Any]:
    body = await request.body()
    return {
        "args": query_args(request),
        "data": body.decode("utf-8", errors="replace"),
        "files": {},
        "form": {},
        # httpbin spells header names in Title-Case.
        "headers": {name.title(): value for name, value in request.headers.items()},
        "json": parsed_json(body),
        "method": request.method,
        "origin": request.client.host if request.client else "",
        "url": str(request.url),
    }


@app.api_route("/status/{code}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def status(code: Annotated[int, Path(ge=200, le=599)]) -> Response:
    # Only a status HTTP allows as a final answer: on any other, uvicorn drops the connection.
    return Response(status_code=code)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
