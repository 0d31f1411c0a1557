"""JSON from another party, parsed within bounds: how this lesson's servers turn outside bytes into JSON.

Shared by the authorization server and the MCP server, so one rule holds in both (the MCP server's
JSON-RPC requests are the SDK's to parse, within its own size limit). The authorization
server reads a /register body, a client's metadata document and GitHub's answers (auth_server/optional/:
registration.py, cimd.py, github.py); the MCP server reads its issuer's metadata, keys, introspection and
token-exchange answers, and the upstream API's (server_extras/json_answers.py). Anyone can send or
publish some of them, and any server can break; `json.loads` has no limits of its own:

- nesting: thirty thousand `[` make it recurse until Python raises RecursionError, which is not a
  ValueError, so code that catches "not JSON" lets it through as a 500;
- size: it reads whatever it is given, however large;
- NaN and Infinity (also 1e999, a float too large), and strings with an unpaired surrogate
  ("\\ud800"): Python reads them, but they are no JSON value or text a response can carry, and
  PostgreSQL refuses them when they are stored.

What comes back is JSON of no known shape yet: each caller checks that with a pydantic model.
(JWTs are parsed by joserfc in the authorization server, which refuses a header over 512 bytes, and by
PyJWT in the MCP server, which turns whatever json.loads raises into its own error; both read the
claims only once the signature is checked.)
"""

import json
import math
from typing import Any

import httpx2

# No OAuth document nests more than a few levels (a JWK set four, an exchanged token's `act` a level
# per actor): sixteen leave room, and stop a value long before Python's recursion limit.
MAX_JSON_DEPTH = 16


class JsonOutOfBounds(ValueError):
    """Not JSON, or JSON beyond a bound; `str(error)` says which, and is safe to show."""


def parse_json(data: bytes, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value in `data`, if it is standard JSON of at most `max_bytes` nested at most `max_depth` deep."""
    if len(data) > max_bytes:
        raise JsonOutOfBounds(f"larger than {max_bytes} bytes")
    try:
        value = json.loads(data, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:  # deeper than Python recurses: far beyond max_depth
        raise JsonOutOfBounds(f"nested deeper than {max_depth} levels") from None
    except ValueError:  # also UnicodeDecodeError, and the constants _not_json refuses
        raise JsonOutOfBounds("not JSON") from None
    if problem := _problem(value, max_depth):
        raise JsonOutOfBounds(problem)
    return value


async def read_json(response: httpx2.Response, max_bytes: int) -> Any:
    """parse_json of a streamed response's body, read no further than `max_bytes`."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise JsonOutOfBounds(f"larger than {max_bytes} bytes")
    return parse_json(body, max_bytes)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(number: str) -> float:
    """A JSON number as a float, unless it is too large for one: 1e999 would be Infinity, which is not JSON."""
    value = float(number)
    if math.isinf(value):
        raise ValueError("a number too large for a float")
    return value


def _problem(value: Any, max_depth: int) -> str | None:
    """What is out of bounds in a parsed value, or None. Iterative: a deep value cannot recurse here either."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str) and not _is_unicode(item):
            return "a string that is not Unicode text"
        children = [*item, *item.values()] if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth == max_depth:
            return f"nested deeper than {max_depth} levels"
        pending.extend((child, depth + 1) for child in children)
    return None


def _is_unicode(text: str) -> bool:
    """False for a string with an unpaired surrogate ("\\ud800" is valid JSON syntax, but no character): it
    cannot be encoded as UTF-8, and the response that echoes it would fail as it is sent (a 500)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
