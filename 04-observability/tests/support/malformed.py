"""Hypothesis strategies for what a broken or hostile client sends: malformed HTTP and JSON-RPC.

Bodies that are not JSON, invalid UTF-8, JSON that is not an object, JSON-RPC with each field of the
wrong type, huge strings, deep nesting; odd values of the headers MCP reads; odd methods. Sizes are
picked from a short list and built by repetition: generating a megabyte byte by byte would take
longer than sending it.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from hypothesis import strategies as st

TOOLS = ["echo_message", "add_numbers", "show_auth_token", "make_authenticated_request", "no_such_tool"]
METHODS = ["initialize", "server/discover", "ping", "tools/list", "tools/call", "notifications/initialized"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, bytes] = field(default_factory=dict)
    body: bytes = b""


def json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


# Any JSON value, small: what a field of the wrong type holds.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)

# Header values h11 lets through: visible ASCII and bytes >= 0x80 (invalid UTF-8 included), inner spaces.
# Drawn as raw bytes and mapped onto those (one draw per value, not one per byte: much faster to generate).
HEADER_BYTES = bytes([*range(0x21, 0x7F), *range(0x80, 0x100)])
header_bytes = st.binary(max_size=40).map(lambda raw: bytes(HEADER_BYTES[byte % len(HEADER_BYTES)] for byte in raw))
header_values = st.one_of(
    header_bytes, header_bytes.filter(lambda value: len(value) >= 2).map(lambda value: value[:1] + b" " + value[1:])
)


def odd_header(*typical: str) -> st.SearchStrategy[bytes | None]:
    """Absent, a typical value, or garbage."""
    return st.one_of(st.none(), st.sampled_from([value.encode() for value in typical]), header_values)


@st.composite
def jsonrpc_with_wrong_types(draw: st.DrawFn) -> bytes:
    """A JSON-RPC message whose fields each may have the right type or a wrong one."""
    params = draw(
        st.one_of(
            st.none(),
            st.text(max_size=10),
            st.integers(),
            st.lists(json_values, max_size=3),
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.one_of(st.sampled_from(TOOLS), st.text(max_size=10), json_values),
                    "arguments": st.one_of(
                        st.dictionaries(st.sampled_from(["message", "num1", "num2", "x"]), json_values, max_size=3),
                        json_values,
                    ),
                    "_meta": st.one_of(
                        st.dictionaries(st.sampled_from(["traceparent", "tracestate", "progressToken"]), json_values),
                        json_values,
                    ),
                    "protocolVersion": json_values,
                },
            ),
        )
    )
    message = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "jsonrpc": st.one_of(st.just("2.0"), json_values),
                "id": st.one_of(st.integers(), st.text(max_size=10), json_values),
                "method": st.one_of(st.sampled_from(METHODS), st.text(max_size=20), json_values),
                "result": json_values,
                "error": json_values,
            },
        )
    )
    if params is not None:
        message["params"] = params
    return json_bytes(message)


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


nesting_depths = st.sampled_from([64, 1_000, 10_000, 100_000])
huge_sizes = st.sampled_from([10_000, 200_000])

bodies = st.one_of(
    st.binary(max_size=64),  # not JSON, and mostly not UTF-8
    st.text(max_size=64).map(str.encode),
    json_values.map(json_bytes),  # JSON, but rarely an object
    jsonrpc_with_wrong_types(),
    jsonrpc_with_wrong_types().map(lambda body: body[:-1] + b"\xff\xfe}"),  # invalid UTF-8 inside JSON
    nesting_depths.map(deeply_nested),
    nesting_depths.map(
        lambda depth: (
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo_message", '
            b'"arguments": {"message": ' + deeply_nested(depth) + b"}}}"
        )
    ),
    huge_sizes.map(
        lambda size: json_bytes(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x" * size, "arguments": {}}}
        )
    ),
)


@st.composite
def mcp_requests(draw: st.DrawFn, session_ids: list[str]) -> Request:
    """A request to an MCP server's `/mcp`; `session_ids` are real sessions to send now and then."""
    real_session = st.sampled_from(session_ids).map(str.encode)
    headers = {
        "Content-Type": draw(odd_header("application/json", "text/plain", "application/json; charset=utf-8")),
        "Accept": draw(odd_header("application/json, text/event-stream", "*/*", "text/html")),
        "Mcp-Session-Id": draw(st.one_of(odd_header("forged", "x" * 300), real_session)),
        "MCP-Protocol-Version": draw(odd_header("2026-07-28", "2025-11-25", "2024-11-05", "junk")),
        "Authorization": draw(odd_header("Bearer", "Bearer alice-secret-token-0042", "Basic YTpi")),
    }
    return Request(
        method=draw(st.sampled_from(["POST", "POST", "POST", "GET", "DELETE", "PUT"])),
        path="/mcp",
        headers={name: value for name, value in headers.items() if value is not None},
        body=draw(bodies),
    )


def asks_for_a_server_error(path: str) -> bool:
    """The echo upstream's `/status/5xx` answers 5xx by design: that is what it is for."""
    code = path.removeprefix("/status/")
    return path.startswith("/status/") and code.isdigit() and 500 <= int(code) <= 599


@st.composite
def upstream_requests(draw: st.DrawFn) -> Request:
    """A request to the echo upstream: odd paths, query strings, methods, headers and bodies."""
    path = draw(
        st.one_of(
            st.sampled_from(["/anything", "/anything/a/b", "/healthz", "/status/abc", "/nowhere"]),
            st.integers(-(10**12), 10**12).map(lambda code: f"/status/{code}"),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#%"), max_size=20).map(
                lambda tail: f"/anything/{tail}"
            ),
        ).filter(lambda path: not asks_for_a_server_error(path))
    )
    query = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
    headers = {
        "Content-Type": draw(odd_header("application/json", "text/plain")),
        "Authorization": draw(odd_header("Bearer alice-secret-token-0042")),
        "Traceparent": draw(odd_header("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-zz")),
    }
    return Request(
        method=draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])),
        path=f"{path}?{urlencode(query)}" if query else path,
        headers={name: value for name, value in headers.items() if value is not None},
        body=draw(bodies),
    )
