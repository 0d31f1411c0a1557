"""Waiting for something to become true, with a deadline, instead of sleeping for a guessed time."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout: float = 10.0, message: str = "", interval: float = 0.05) -> T:
    """Poll `condition()` until it returns a truthy value, and return that value.

    On timeout, fail with `message` and the last value seen, so a failing test says what it was
    waiting for, not only that it waited too long. An exception from `condition` fails at once:
    a condition that may fail before it holds (a refused connection) catches that itself.
    """
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{message or 'condition'} not met within {timeout:g} s; last: {value!r}")
        time.sleep(interval)
    return value


async def eventually_async(
    condition: Callable[[], Awaitable[T]], timeout: float = 10.0, message: str = "", interval: float = 0.05
) -> T:
    """`eventually` for a condition that must be awaited."""
    deadline = time.monotonic() + timeout
    while not (value := await condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{message or 'condition'} not met within {timeout:g} s; last: {value!r}")
        await anyio.sleep(interval)
    return value
