"""What telemetry costs: tools/call throughput and latency with the server's telemetry on versus off.

    python -m 04-observability.benchmark [--calls 3000] [--concurrency 4] [--rounds 30] [--on-env NAME=VALUE ...]

Starts the lesson's HTTP server twice, side by side on free loopback ports: one
exporting traces, metrics and logs over OTLP/HTTP with the default batch
processors (as in production) to a sink process that accepts and discards them,
one with `OTEL_SDK_DISABLED=true`; neither inherits the shell's OTEL_* settings.
`--concurrency` sessions per server call `echo_message`, the cheapest tool, so
the difference is the telemetry and not the tool. The two servers take turns in
short rounds (off, on, on, off, ...), so a burst of load from elsewhere on the
machine hits both alike. The driver itself has no SDK installed: only the
server's overhead is measured. On Linux it also reports each server's CPU time
per call, which other load disturbs far less than latency.

`--on-env` gives the "on" server one more OTEL_* setting, to measure a what-if:
`--on-env OTEL_TRACES_EXPORTER=none` (spans recorded, never exported), or
`--on-env OTEL_TRACES_SAMPLER=parentbased_traceidratio --on-env OTEL_TRACES_SAMPLER_ARG=0.1`.

Not a test: numbers vary with the machine, so nothing here passes or fails. The
last lines compare the ratios with the workshop's targets (p50 within x1.10,
throughput at least x0.90), for the reader to judge.
"""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process
from pathlib import Path
from typing import Annotated

import anyio
import httpx2
import typer
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LESSON = __package__
ROOT = Path(__file__).resolve().parents[1]

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def otlp_sink(port: int) -> None:
    """A collector that answers 200 to every export and keeps nothing."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


@contextmanager
def running_server(env: dict[str, str]):
    """`python -m 04-observability.server --transport http` on a free port; yields its process and MCP URL."""
    port = free_port()
    # Only the settings given here: an OTEL_METRICS_EXPORTER=console left in the
    # shell (as the Phoenix example sets it) would change what is measured.
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", f"{LESSON}.server", "--transport", "http", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**inherited, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server ({env}) did not start")
            time.sleep(0.05)
        yield process, f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def cpu_seconds(pid: int) -> float | None:
    """The user and system CPU time a process has used, from /proc (Linux only: None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def healthy(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


@dataclass
class Mode:
    """One server under test, its open sessions, and what was measured against it."""

    name: str
    url: str
    pid: int
    clients: list[Client] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    busy_seconds: float = 0.0
    cpu_seconds: float | None = None  # the server's, over all the timed rounds

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.busy_seconds

    def percentile(self, n: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[n - 1] * 1000

    @property
    def cpu_per_call(self) -> str:
        """The server's CPU milliseconds per call, or "n/a" where it cannot be read."""
        return "n/a" if self.cpu_seconds is None else f"{self.cpu_seconds / len(self.latencies) * 1000:.2f}"


async def open_sessions(mode: Mode, concurrency: int, stack: AsyncExitStack) -> None:
    for _ in range(concurrency):
        http = await stack.enter_async_context(httpx2.AsyncClient())
        client = await stack.enter_async_context(Client(streamable_http_client(mode.url, http_client=http)))
        await client.call_tool("echo_message", {"message": "warm-up"})  # the tool listing, caches
        mode.clients.append(client)


async def run_round(mode: Mode, calls: int, record: bool) -> None:
    """`calls` tools/call spread over the mode's sessions, all at once; timed only if `record`."""

    async def session(client: Client, count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            await client.call_tool("echo_message", {"message": "benchmark"})
            if record:
                latencies.append(time.perf_counter() - start)

    latencies: list[float] = []
    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for index, client in enumerate(mode.clients):
            group.start_soon(session, client, calls // len(mode.clients) + (index < calls % len(mode.clients)))
    if record:
        mode.busy_seconds += time.perf_counter() - start
        mode.latencies += latencies


async def compare(off: Mode, on: Mode, calls: int, concurrency: int, rounds: int) -> None:
    async with AsyncExitStack() as stack:
        for mode in (off, on):
            await open_sessions(mode, concurrency, stack)
            await run_round(mode, min(calls, 200), record=False)  # warm the server up
        cpu_before = {mode.name: cpu_seconds(mode.pid) for mode in (off, on)}
        for index in range(rounds):
            # Alternate who goes first, so neither mode always follows the other.
            for mode in (off, on) if index % 2 == 0 else (on, off):
                await run_round(mode, calls // rounds, record=True)
        # Over the whole run, not per round: the span export thread works when it likes.
        for mode in (off, on):
            before, after = cpu_before[mode.name], cpu_seconds(mode.pid)
            mode.cpu_seconds = after - before if before is not None and after is not None else None


def otel_settings(values: list[str] | None) -> list[str]:
    """`--on-env NAME=VALUE`, checked: only the SDK's own OTEL_* settings, each given a value."""
    for value in values or []:
        name, equals, setting = value.partition("=")
        if not equals or not name.startswith("OTEL_") or not setting:
            raise typer.BadParameter(f"expected OTEL_NAME=VALUE, got {value!r}")
    return values or []


def machine() -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load average {load} at the start"
    )


@cli.command()
def main(
    calls: Annotated[int, typer.Option(min=20, max=50000, help="Timed tools/call per mode.")] = 3000,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Concurrent client sessions per mode.")] = 4,
    rounds: Annotated[int, typer.Option(min=1, max=100, help="Turns each mode takes.")] = 30,
    on_env: Annotated[
        list[str] | None,
        typer.Option(
            help="One more OTEL_NAME=VALUE for the 'on' server; repeatable.",
            metavar="NAME=VALUE",
            callback=otel_settings,
        ),
    ] = None,
) -> None:
    """Measure tools/call throughput and p50/p95 latency with the server's telemetry on and off."""
    what_if = dict(value.split("=", 1) for value in on_env or [])
    print(f"machine: {machine()}")
    sink_port = free_port()
    sink = Process(target=otlp_sink, args=(sink_port,), daemon=True)
    sink.start()
    try:
        with (
            running_server({"OTEL_SDK_DISABLED": "true"}) as (off_process, off_url),
            running_server({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}", **what_if}) as (
                on_process,
                on_url,
            ),
        ):
            off = Mode("off (OTEL_SDK_DISABLED)", off_url, off_process.pid)
            on = Mode("on (OTLP, batch export)", on_url, on_process.pid)
            anyio.run(compare, off, on, calls, concurrency, rounds)
    finally:
        sink.terminate()
        sink.join()
    print(
        f"{len(on.latencies)} tools/call echo_message per mode over {concurrency} Streamable HTTP sessions, "
        f"in {rounds} alternating rounds"
    )
    print("".join(f"and for 'on': {name}={value}\n" for name, value in what_if.items()))
    print(f"{'telemetry':<26} {'calls/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'server CPU ms/call':>19}")
    for mode in (off, on):
        print(
            f"{mode.name:<26} {mode.throughput:>8.0f} {mode.percentile(50):>8.2f} {mode.percentile(95):>8.2f} "
            f"{mode.cpu_per_call:>19}"
        )
    throughput, p50 = on.throughput / off.throughput, on.percentile(50) / off.percentile(50)
    print(f"\non/off: throughput x{throughput:.2f}, p50 x{p50:.2f}, p95 x{on.percentile(95) / off.percentile(95):.2f}")
    # Three decimals: rounded to two, x0.897 would print as x0.90 beside "NOT met".
    print(f"targets: p50 x{p50:.3f}, at most x1.10: {'met' if p50 <= 1.10 else 'NOT met'}; ", end="")
    print(f"throughput x{throughput:.3f}, at least x0.90: {'met' if throughput >= 0.90 else 'NOT met'}")


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.benchmark")
