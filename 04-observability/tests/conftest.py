"""Fixtures for lesson 04's tests: real processes on real transports, and the telemetry they emit.

Servers are started with `python -m`, as an attendee would, and export over OTLP to a receiver in
the test process when a test needs their spans. For the finest checks the server and the echo
upstream also run inside the test process, whose own telemetry is kept in memory. The machinery
lives in `support/`; see its `__init__.py` for how it is imported.
"""

import logging
from collections.abc import Iterator

import pytest

from .support import in_memory_telemetry, in_process, processes
from .support import otlp_receiver as otlp
from .support import recording_upstream as recording


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, as the servers do."""
    return "asyncio"


@pytest.fixture(scope="session")
def echo_upstream() -> Iterator[processes.RunningServer]:
    """The lesson's own echo upstream (httpbin's /anything shape), one process for the session."""
    with processes.start_process("upstream") as running:
        yield running


@pytest.fixture(scope="session")
def server(echo_upstream: processes.RunningServer) -> Iterator[processes.RunningServer]:
    """The MCP server on Streamable HTTP, calling the echo upstream, one process for the session.

    Tests call it and read its log, so they can share it; a test that stops a server starts its own.
    """
    upstream_url = f"{echo_upstream.base_url}/anything"
    # Its spans go to its log (the console exporter, the default), within 0.1 s rather than the SDK's 5 s.
    quick_spans = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
    with processes.start_http_server("--upstream-url", upstream_url, env=quick_spans) as running:
        yield running


@pytest.fixture(scope="module")
def recording_upstream() -> Iterator[recording.RecordingUpstream]:
    """An upstream in the test process that records the Authorization header of each request."""
    with recording.recording_upstream() as recorder:
        yield recorder


@pytest.fixture(scope="module")
def otlp_receiver() -> Iterator[otlp.OtlpReceiver]:
    """A stand-in collector: start a process with OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint."""
    with otlp.otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def process_telemetry() -> in_memory_telemetry.InMemoryTelemetry:
    """This process's OpenTelemetry SDK, exporting to memory (installed once, on first use)."""
    return in_memory_telemetry.install()


@pytest.fixture
def telemetry(process_telemetry: in_memory_telemetry.InMemoryTelemetry) -> Iterator:
    """The spans and log records this process records during the test (metrics are cumulative)."""
    process_telemetry.clear()
    yield process_telemetry
    process_telemetry.clear()


@pytest.fixture(scope="module")
def servers_in_process(process_telemetry: in_memory_telemetry.InMemoryTelemetry) -> Iterator:
    """The echo upstream and the MCP server on Streamable HTTP, running in this process."""
    lesson_logger = logging.getLogger(processes.LESSON)
    level = lesson_logger.level
    lesson_logger.setLevel(logging.INFO)  # the root logger stops at WARNING; the tools log at INFO
    try:
        with in_process.in_process_servers() as running:
            yield running
    finally:
        lesson_logger.setLevel(level)
