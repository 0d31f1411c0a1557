"""Reading what a running server logged, once the line a test expects has been written.

A server writes some lines just after its response (uvicorn's access log), so a test that reads
the log right after a request waits for its marker first, with a deadline.
"""

from typing import Any

from .waiting import eventually


def log_showing(server: Any, marker: str, timeout: float = 5.0) -> str:
    """The whole log of `server` (a processes.RunningServer), once it contains `marker`."""

    def log() -> str:
        text = server.logged()
        return text if marker in text else ""

    return eventually(log, timeout, f"{marker!r} in the log")
