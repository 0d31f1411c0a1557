"""What the MCP server learned from its issuer (the metadata, the keys), kept and fetched again at a bounded rate.

Skip on a first read. Asked on every request, a failing authorization server would be hammered,
and a token that names a made-up key would make the server fetch the key set again, once per
token. So a `Kept` value is fetched when first needed, again once it is `max_age` old, and, when it
is missing or lacks what is wanted (a key of a new `kid`), again at most every `retry_after`
seconds: after a failure too, since the attempt's time counts, not its success. One fetch at a
time: requests that arrive meanwhile wait for its result.
"""

import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

Value = TypeVar("Value")

RETRY_AFTER_SECONDS = 30.0


class Kept(Generic[Value]):
    def __init__(self, fetch: Callable[[], Awaitable[Value | None]], max_age: float) -> None:
        self.fetch = fetch  # the value, or None if it cannot be had now
        self.max_age = max_age
        self.retry_after = RETRY_AFTER_SECONDS
        self.value: Value | None = None
        self.fetched_at = -math.inf  # the last attempt, successful or not
        self._lock = anyio.Lock()

    async def get(self, wanted: Callable[[Value], bool] = lambda value: True) -> Value | None:
        """The value kept, fetched first if it is too old, or if it is missing or not `wanted` and a retry is due."""
        async with self._lock:
            age = time.monotonic() - self.fetched_at
            missing = self.value is None or not wanted(self.value)
            if age >= self.max_age or (missing and age >= self.retry_after):
                self.fetched_at = time.monotonic()
                if (fetched := await self.fetch()) is not None:
                    self.value = fetched
        return self.value

    def forget(self) -> None:
        """As if nothing had been fetched yet (the tests' first contact, again and again)."""
        self.value, self.fetched_at = None, -math.inf
