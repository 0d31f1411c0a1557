"""What the MCP server learned from its issuer (the metadata, the keys), kept and fetched again at a bounded rate.

Skip on a first read. Asked on every request, a failing authorization server would be hammered,
and a token that names a made-up key would make the server fetch the key set again, once per
token. So a `Kept` value is fetched when first needed, and again once it is `max_age` old. One that
could not be had is tried again at most every `retry_after` seconds: the attempt's time counts, not
its success. One that lacks what is wanted (a key of a new `kid`) is looked for again at once, since
what is kept may simply be older than that key (an authorization server restarted on a new database
signs with a new one), but at most once every `retry_after` seconds, whatever the tokens say: that
is all a made-up kid can cost. One fetch at a time: requests that arrive meanwhile wait for its result.
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
        self.looked_again_at = -math.inf  # the last attempt because the value lacked what was wanted
        self._lock = anyio.Lock()

    async def get(self, wanted: Callable[[Value], bool] = lambda value: True) -> Value | None:
        """The value kept, fetched first if it is too old, missing and due a retry, or not `wanted` and
        not looked for again in the last `retry_after` seconds."""
        async with self._lock:
            now = time.monotonic()
            age = now - self.fetched_at
            lacking = self.value is not None and not wanted(self.value)
            look_again = lacking and now - self.looked_again_at >= self.retry_after
            if age >= self.max_age or (self.value is None and age >= self.retry_after) or look_again:
                self.fetched_at = now
                if lacking:
                    self.looked_again_at = now
                if (fetched := await self.fetch()) is not None:
                    self.value = fetched
        return self.value

    def forget(self) -> None:
        """As if nothing had been fetched yet (the tests' first contact, again and again)."""
        self.value, self.fetched_at, self.looked_again_at = None, -math.inf, -math.inf
