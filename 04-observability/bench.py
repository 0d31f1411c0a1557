"""What telemetry costs: tools/call throughput and latency with the server's telemetry on, then off, in one run.

    python -m 04-observability.bench [--calls 1000] [--concurrency 4]

Starts the lesson's HTTP server twice on a free loopback port: once exporting
traces, metrics and logs over OTLP (batch processors, as in production) to a
sink process that accepts and discards them, once with `OTEL_SDK_DISABLED=true`.
Each time, `--concurrency` sessions call `echo_message`, the cheapest tool, so
the difference is the telemetry and not the tool. The driver itself has no SDK
installed: only the server's overhead is measured. Not a test: numbers vary
with the machine, so nothing here passes or fails.
"""

import os
import socket
import statistics
import subprocess
import sys
import time
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


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"{LESSON}.server", "--transport", "http", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}/mcp"
        except httpx2.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


async def measure(url: str, calls: int, concurrency: int) -> tuple[float, list[float]]:
    """Wall time for `calls` tools/call over `concurrency` sessions, and each call's latency."""
    latencies: list[float] = []

    async def session(count: int) -> None:
        async with httpx2.AsyncClient() as http, Client(streamable_http_client(url, http_client=http)) as client:
            await client.call_tool("echo_message", {"message": "warm-up"})  # schema fetch and caches
            for _ in range(count):
                start = time.perf_counter()
                await client.call_tool("echo_message", {"message": "benchmark"})
                latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for index in range(concurrency):
            group.start_soon(session, calls // concurrency + (index < calls % concurrency))
    return time.perf_counter() - start, latencies


def run(env: dict[str, str], calls: int, concurrency: int) -> dict[str, float]:
    process, url = start_server(env)
    try:
        anyio.run(measure, url, min(calls, 50), concurrency)  # warm the server up
        elapsed, latencies = anyio.run(measure, url, calls, concurrency)
    finally:
        process.terminate()
        process.wait(timeout=10)
    cuts = statistics.quantiles(latencies, n=100)
    return {"throughput": len(latencies) / elapsed, "p50": cuts[49] * 1000, "p95": cuts[94] * 1000}


@cli.command()
def main(
    calls: Annotated[int, typer.Option(min=20, max=20000, help="tools/call per mode.")] = 1000,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Concurrent client sessions.")] = 4,
) -> None:
    """Measure tools/call throughput and p50/p95 latency with the server's telemetry on and off."""
    sink_port = free_port()
    sink = Process(target=otlp_sink, args=(sink_port,), daemon=True)
    sink.start()
    try:
        on = run({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}"}, calls, concurrency)
        off = run({"OTEL_SDK_DISABLED": "true"}, calls, concurrency)
    finally:
        sink.terminate()
        sink.join()
    print(f"{calls} tools/call echo_message over {concurrency} Streamable HTTP sessions, per mode\n")
    print(f"{'telemetry':<26} {'calls/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, result in (("off (OTEL_SDK_DISABLED)", off), ("on (OTLP, batch export)", on)):
        print(f"{name:<26} {result['throughput']:>8.0f} {result['p50']:>8.2f} {result['p95']:>8.2f}")
    print(
        f"\non/off: throughput x{on['throughput'] / off['throughput']:.2f}, "
        f"p50 x{on['p50'] / off['p50']:.2f}, p95 x{on['p95'] / off['p95']:.2f}"
    )


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.bench")
