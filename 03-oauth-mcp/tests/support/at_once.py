"""Requests sent at the same moment, from threads released together: how a race is run for real.

A replayed credential is most dangerous when both copies arrive together, at two replicas or at
two worker threads of one: each request may read the row before the other has changed it.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Run every call in its own thread, all released by one barrier; their results in order."""
    start = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        start.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(released, call) for call in calls]]
