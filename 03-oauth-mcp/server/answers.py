"""Another server's JSON answer, read as one reads a stranger's: within bounds, then in a known shape.

The MCP server reads JSON from its issuer (the metadata, the keys, introspection and token-exchange
answers) and from the upstream API. A hostile or broken server must not crash it, stall it, or
fill its memory: `response.json()` reads any size, recurses until RecursionError (a 500 at the
gate), and hands back whatever type the server chose, where `.get` on a list raises again.
So every answer goes through `read_answer`: at most MAX_ANSWER_BYTES read (../bounded_json.py,
which the authorization server uses too), then a pydantic model of the members this server reads.
Anything else is one exception, `UnreadableAnswer`, which each caller turns into its refusal: an
invalid token (401), or a tool error.
"""

from typing import TypeVar

import httpx2
from pydantic import BaseModel, ValidationError

from ..bounded_json import JsonOutOfBounds, read_json

# The largest answer read: a metadata document is a few KB, a key set with certificate chains some
# tens, an introspection or token answer one or two.
MAX_ANSWER_BYTES = 256 * 1024

Shape = TypeVar("Shape", bound=BaseModel)


class UnreadableAnswer(Exception):
    """Not JSON, beyond a bound, or not of the shape expected; `str(error)` names which, never the answer."""


async def read_answer(response: httpx2.Response, shape: type[Shape]) -> Shape:
    """The JSON answer of a streamed `response` as `shape`; UnreadableAnswer if it is not one."""
    try:
        return shape.model_validate(await read_json(response, MAX_ANSWER_BYTES))
    except JsonOutOfBounds as problem:
        raise UnreadableAnswer(f"not JSON within bounds: {problem}") from None
    except ValidationError as error:
        # Where and what, not the value: it is the other server's text.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise UnreadableAnswer(f"not the JSON expected: {where}: {first['msg']}") from None
