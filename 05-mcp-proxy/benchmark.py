"""What a hop through a proxy costs: per-call latency, direct and through proxies, in one run.

    python -m 05-mcp-proxy.benchmark [--calls 300] [--mcp-proxy PATH]

It starts lesson 01's server (over Streamable HTTP, and over stdio), this
lesson's proxy in front of both, and - if its `mcp-proxy` command is found -
the PyPI `mcp-proxy` package (sparfenyuk/mcp-proxy) serving the same stdio
server over Streamable HTTP. Then it calls `add_numbers` sequentially through
each, from one client session each, and prints the median and tail latencies
and each route's ratio to the direct call. Everything runs on 127.0.0.1 and
stops when the run ends. Not a test: numbers depend on the machine.

The PyPI package pins mcp 1.x, so install it in a virtual environment of its own:

    python3 -m venv /tmp/mcp-proxy-venv && /tmp/mcp-proxy-venv/bin/pip install mcp-proxy
    python -m 05-mcp-proxy.benchmark --mcp-proxy /tmp/mcp-proxy-venv/bin/mcp-proxy
"""

import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import anyio
import httpx2
import typer
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
LESSON = Path(__file__).resolve().parent.name
LESSON_01 = ["-m", "01-basic-mcp.server", "--log-level", "error"]
DEADLINE = 30.0

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(argv: list[str], ready_url: str) -> Iterator[None]:
    """Start a server, wait until `ready_url` answers at all, stop it afterwards."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)
        try:
            deadline = time.monotonic() + DEADLINE
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{argv[0]} exited with {process.returncode}:\n{log.read()}")
                try:
                    httpx2.get(ready_url, timeout=1)
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{' '.join(argv)} did not answer {ready_url}") from None
                    time.sleep(0.05)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def measure(target: str | StdioServerParameters, tool: str, calls: int, warmup: int) -> list[float]:
    """Seconds per call, one session, sequential calls. The handshake era on every route, for fairness."""
    latencies: list[float] = []
    async with Client(target, mode="legacy", cache=None) as client:
        for i in range(warmup + calls):
            started = time.perf_counter()
            result = await client.call_tool(tool, {"num1": i, "num2": 1})
            elapsed = time.perf_counter() - started
            if result.is_error:
                raise RuntimeError(f"{tool}: {result.content}")
            if i >= warmup:
                latencies.append(elapsed)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@cli.command()
def main(
    calls: Annotated[int, typer.Option(min=10, max=5000, help="Timed calls per route.")] = 300,
    warmup: Annotated[int, typer.Option(min=0, max=500, help="Untimed calls first, per route.")] = 30,
    mcp_proxy: Annotated[
        str | None, typer.Option(help="The PyPI mcp-proxy command. Default: `mcp-proxy` on PATH, if any.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Compare per-call latency: direct, through this proxy, through the PyPI mcp-proxy."""
    mcp_proxy = mcp_proxy or shutil.which("mcp-proxy")
    direct_port, proxy_port, pypi_port = free_port(), free_port(), free_port()
    direct_url = f"http://127.0.0.1:{direct_port}/mcp"
    routes: dict[str, tuple[str | StdioServerParameters, str]] = {
        "direct, stdio": (StdioServerParameters(command=sys.executable, args=LESSON_01, cwd=ROOT), "add_numbers"),
        "direct, Streamable HTTP": (direct_url, "add_numbers"),
        "this proxy -> stdio backend": (f"http://127.0.0.1:{proxy_port}/mcp", "stdio__add_numbers"),
        "this proxy -> HTTP backend": (f"http://127.0.0.1:{proxy_port}/mcp", "http__add_numbers"),
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.json"
        config.write_text(
            json.dumps(
                {
                    "mcpServers": {
                        "stdio": {"command": "python", "args": LESSON_01},
                        "http": {"url": direct_url},
                    }
                }
            )
        )
        stack.enter_context(
            running(
                [sys.executable, *LESSON_01, "--transport", "http", "--addr", f"127.0.0.1:{direct_port}"],
                f"http://127.0.0.1:{direct_port}/healthz",
            )
        )
        proxy = [sys.executable, "-m", f"{LESSON}.server", "--config", str(config), "--log-level", "warning"]
        proxy += ["--addr", f"127.0.0.1:{proxy_port}", "--pins", str(Path(scratch) / "pins.json")]
        stack.enter_context(running(proxy, f"http://127.0.0.1:{proxy_port}/healthz"))
        if mcp_proxy:
            pypi = [mcp_proxy, "--port", str(pypi_port), "--host", "127.0.0.1", "--log-level", "WARNING"]
            pypi += ["--cwd", str(ROOT), "--", sys.executable, *LESSON_01]
            stack.enter_context(running(pypi, f"http://127.0.0.1:{pypi_port}/mcp"))
            routes["PyPI mcp-proxy -> stdio backend"] = (f"http://127.0.0.1:{pypi_port}/mcp", "add_numbers")

        results = {name: anyio.run(measure, target, tool, calls, warmup) for name, (target, tool) in routes.items()}

    summary = {
        name: {
            "median_ms": statistics.median(values) * 1000,
            "p90_ms": percentile(values, 0.9) * 1000,
            "p99_ms": percentile(values, 0.99) * 1000,
            "calls_per_second": len(values) / sum(values),
        }
        for name, values in results.items()
    }
    if json_output:
        print(json.dumps(summary, indent=2))
        return
    floor = {"stdio": summary["direct, stdio"]["median_ms"], "http": summary["direct, Streamable HTTP"]["median_ms"]}
    print(f"{calls} sequential calls of add_numbers per route, after {warmup} warm-up calls; one session each.\n")
    print("| route | median | p90 | p99 | calls/s | median vs direct stdio | median vs direct HTTP |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in summary.items():
        print(
            f"| {name} | {row['median_ms']:.2f} ms | {row['p90_ms']:.2f} ms | {row['p99_ms']:.2f} ms "
            f"| {row['calls_per_second']:.0f} | {row['median_ms'] / floor['stdio']:.1f}x "
            f"| {row['median_ms'] / floor['http']:.2f}x |"
        )
    if not mcp_proxy:
        print("\n(the PyPI mcp-proxy was not found: give --mcp-proxy PATH to include it)")


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.benchmark")
