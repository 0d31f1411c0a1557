"""What a hop through the proxy costs, and how it holds up under load: every ratio, in one run.

    python -m 05-mcp-proxy.benchmark [--calls 300] [--repeats 3] [--seconds 20] [--mcp-proxy PATH]

Latency. Lesson 01's server runs over Streamable HTTP and over stdio, this proxy
in front of it (twice: as shipped, where a call's answer is a stream only if
something comes before the result, and with `jsonResponse`, which never
streams), and, if its command is found, PyPI
`mcp-proxy` in front of the same stdio server. One client session per route, all in the handshake era (the
only one `mcp-proxy` speaks), calling `add_numbers` one call at a time with a
short untimed pause between calls; the routes take turns call by call, so a
burst of load from elsewhere on a shared machine hits them alike. Then more
routes split a proxied call in parts: the proxy's HTTP backend, and a tool name
refused at once, by the proxy and by lesson 01 (the front hop alone). The whole
is repeated with fresh processes: where the scheduler puts them on two cores
moves a route's median by several percent from one run to the next.

Load. `--sessions` client sessions call `add_numbers` on three lesson 01
servers for `--seconds`: directly (three HTTP servers), then through this proxy
(three stdio backends), taking turns in slices. Then the proxied run again, and
a quarter of the way in one backend's process is killed: the other backends'
calls must not notice, and no call may be refused as a "rug pull".

The PyPI package pins mcp 1.x, so it lives in a virtual environment of its own:

    python3 -m venv /work/cache/mcp-proxy-venv
    /work/cache/mcp-proxy-venv/bin/pip install 'mcp-proxy==0.13.*'
    python -m 05-mcp-proxy.benchmark --mcp-proxy /work/cache/mcp-proxy-venv/bin/mcp-proxy

Not a test: the numbers depend on the machine, so nothing here passes or fails.
"""

import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import anyio
import httpx2
import typer
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]
LESSON = Path(__file__).resolve().parent.name
LESSON_01 = ["-m", "01-basic-mcp.server", "--log-level", "error"]
BACKENDS = ("b1", "b2", "b3")  # the load test's three backends
MARKER = "BENCHMARK_BACKEND"  # in each stdio backend's environment: how the benchmark finds the one to kill
DEADLINE = 30.0
PAUSE = 0.003  # seconds between two timed calls
PYPI = "PyPI mcp-proxy -> stdio backend"
PROXIED = "this proxy -> stdio backend"
PROXIED_JSON = "this proxy, jsonResponse -> stdio backend"
MODES = {"as shipped (a stream only when needed)": PROXIED, "jsonResponse (never a stream)": PROXIED_JSON}
COMPARED = ("direct, stdio", "direct, Streamable HTTP", PROXIED, PROXIED_JSON, PYPI)

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


# -- processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(argv: list[str], ready_url: str) -> Iterator[subprocess.Popen[str]]:
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
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def lesson_01_over_http(stack: ExitStack) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    argv = [sys.executable, *LESSON_01, "--transport", "http", "--addr", f"127.0.0.1:{port}"]
    process = stack.enter_context(running(argv, f"http://127.0.0.1:{port}/healthz"))
    return f"http://127.0.0.1:{port}/mcp", process


def this_proxy(
    stack: ExitStack, scratch: Path, servers: dict[str, object], **options: object
) -> tuple[str, subprocess.Popen[str]]:
    """The lesson's proxy with `servers` as its backends, logging warnings only (as a busy proxy would)."""
    port = free_port()
    config = scratch / f"proxy-{port}.json"
    config.write_text(json.dumps({"mcpProxy": {"options": options}, "mcpServers": servers}))
    argv = [sys.executable, "-m", f"{LESSON}.server", "--config", str(config), "--log-level", "warning"]
    argv += ["--addr", f"127.0.0.1:{port}", "--pins", str(scratch / f"pins-{port}.json")]
    process = stack.enter_context(running(argv, f"http://127.0.0.1:{port}/healthz"))
    return f"http://127.0.0.1:{port}/mcp", process


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes together; one that has exited meanwhile counts for nothing."""
    total = 0.0
    for pid in pids:
        with suppress(FileNotFoundError):
            total += cpu_seconds(pid)
    return total


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            pass  # it exited while we looked
    return found


def backend_process(proxy_pid: int, backend: str) -> int:
    """The pid of the proxy's stdio child for `backend`, found by the marker in its environment."""
    for pid in children(proxy_pid):
        if f"{MARKER}={backend}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            return pid
    raise RuntimeError(f"no process for backend {backend}")


# -- latency -----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    target: str | StdioServerParameters
    tool: str
    refused: bool = False  # the answer is a tool error, on purpose


async def interleaved(routes: dict[str, Route], calls: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per call on each route: one session each, one call at a time, the routes taking turns."""
    latencies: dict[str, list[float]] = {name: [] for name in routes}
    names = list(routes)
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(Client(route.target, mode="legacy", cache=None))
            for name, route in routes.items()
        }
        for i in range(warmup + calls):
            # A new order each round, the same in every run: no route always follows the same one
            # (and whatever work that one leaves behind).
            for name in sorted(names, key=lambda route: hashlib.sha256(f"{i} {route}".encode()).digest()):
                started = time.perf_counter()
                result = await clients[name].call_tool(routes[name].tool, {"num1": i, "num2": 1})
                elapsed = time.perf_counter() - started
                if result.is_error != routes[name].refused:
                    raise RuntimeError(f"{name}: {result.content}")
                if i >= warmup:
                    latencies[name].append(elapsed)
                # Untimed: what a call leaves behind (closing its event stream) is not charged to the next one.
                await anyio.sleep(PAUSE)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def table(results: dict[str, list[float]], versus: dict[str, float]) -> dict[str, float]:
    """Print one row per route; return each route's median, in milliseconds."""
    median = {name: statistics.median(values) * 1000 for name, values in results.items()}
    print(f"| route | median | p90 | p99 | {' | '.join(f'vs {name}' for name in versus)} |")
    print(f"|---|---:|---:|---:|{'---:|' * len(versus)}")
    for name, values in results.items():
        ratios = " | ".join(f"{median[name] / base:.2f}x" for base in versus.values())
        print(
            f"| {name} | {median[name]:.2f} ms | {percentile(values, 0.9) * 1000:.2f} ms "
            f"| {percentile(values, 0.99) * 1000:.2f} ms | {ratios} |"
        )
    return median


def pooled(runs: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    return {name: [value for run in runs for value in run[name]] for name in runs[0]}


def report_latency(runs: list[tuple[dict[str, list[float]], dict[str, list[float]]]], calls: int, warmup: int) -> None:
    compared, split = pooled([run[0] for run in runs]), pooled([run[1] for run in runs])
    print(f"## Latency: {len(runs)} runs with fresh processes; in each, {calls} calls per route after {warmup}")
    print("warm-up calls, the routes taking turns call by call; one session per route\n")
    http = statistics.median(compared["direct, Streamable HTTP"]) * 1000
    versus = {"direct HTTP": http} | (
        {"PyPI mcp-proxy": statistics.median(compared[PYPI]) * 1000} if PYPI in compared else {}
    )
    median_of = table(compared, versus)

    def ratio(run: dict[str, list[float]], proxied: str, route: str) -> str:
        return f"{statistics.median(run[proxied]) / statistics.median(run[route]):.2f}x"

    for proxied in MODES.values():
        print(f"\n{proxied}, run by run (the spread is the machine's noise):\n")
        for name, route in {"direct HTTP": "direct, Streamable HTTP", "PyPI mcp-proxy": PYPI}.items():
            if route in compared:
                print(f"- vs {name}: {', '.join(ratio(run[0], proxied, route) for run in runs)}")

    print("\nThe same, with routes that split a call in parts (measured on their own: each added route costs every")
    print("other a little, PyPI mcp-proxy's most, so the comparison above leaves them out):\n")
    median = table(split, {"direct HTTP": statistics.median(split["direct, Streamable HTTP"]) * 1000})
    http, proxied_here, stdio = median["direct, Streamable HTTP"], median[PROXIED], median["direct, stdio"]
    answered_at_once = median["direct, Streamable HTTP, a name lesson 01 refuses"]
    proxy_front = median["this proxy, a name it refuses itself"]
    tool = http - answered_at_once  # lesson 01 running add_numbers, and a real result on its way back
    hop = proxied_here - proxy_front - tool
    floor = http + stdio
    # proxied_here = answered_at_once + (proxy_front - answered_at_once) + tool + hop, exactly.
    print("\nWhere a call through this proxy to a stdio backend spends its time (medians; each line one route less")
    print("another, so a line can be off by the noise in two medians):\n")
    print(f"- front hop, client to server and back, lesson 01 refusing a name at once: {answered_at_once:.2f} ms")
    print(
        f"- proxy work, its front door, view and routing, less what its one JSON body saves over lesson 01's "
        f"stream (refusing a name itself, less the above): {proxy_front - answered_at_once:+.2f} ms"
    )
    print(f"- the tool and a real result back (lesson 01 direct: add_numbers, less a refused name): {tool:.2f} ms")
    print(
        f"- backend hop, proxy to lesson 01 over stdio and back (the rest): {hop:.2f} ms; "
        f"a whole direct stdio call, for comparison: {stdio:.2f} ms"
    )
    print(
        f"- floor, a direct HTTP call plus one stdio round trip: {floor:.2f} ms ({floor / http:.2f}x direct HTTP); "
        f"this proxy: {proxied_here:.2f} ms ({proxied_here / http:.2f}x), {proxied_here - floor:+.2f} ms from the floor"
    )
    print("\nTargets (from the comparison), in each mode:\n")
    for mode, proxied in MODES.items():
        against_http = median_of[proxied] / versus["direct HTTP"]
        print(f"- {mode}: this proxy -> stdio <= 1.40x direct HTTP: {against_http:.2f}x, {mark(against_http <= 1.40)}")
        if "PyPI mcp-proxy" in versus:
            against_pypi = median_of[proxied] / versus["PyPI mcp-proxy"]
            print(
                f"- {mode}: this proxy -> stdio <= 0.95x PyPI mcp-proxy: {against_pypi:.2f}x, "
                f"{mark(against_pypi <= 0.95)}"
            )
        else:
            print(f"- {mode}: vs PyPI mcp-proxy: not measured (give --mcp-proxy PATH)")


# -- load --------------------------------------------------------------------


@dataclass
class Tally:
    """What a load run saw, per backend."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rug_pulls: int = 0
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds of the server processes measured
    helpers_cpu: float = 0.0  # CPU seconds of their children: the proxy's stdio backends
    client_cpu: float = 0.0  # CPU seconds of this process, the client sessions

    @property
    def calls(self) -> int:
        return sum(len(values) for values in self.latencies.values()) + sum(self.errors.values())

    def p99(self, backends: tuple[str, ...]) -> float:
        return percentile([v for b in backends for v in self.latencies[b]], 0.99) * 1000

    def add(self, other: "Tally") -> None:
        for backend, values in other.latencies.items():
            self.latencies[backend] += values
        for backend, count in other.errors.items():
            self.errors[backend] += count
        self.rug_pulls += other.rug_pulls
        self.first_errors += other.first_errors[: 5 - len(self.first_errors)]
        self.seconds += other.seconds
        self.cpu += other.cpu
        self.helpers_cpu += other.helpers_cpu
        self.client_cpu += other.client_cpu


async def drive(sessions: list[tuple[Client, str, str]], seconds: float, cpu_of: list[int]) -> Tally:
    """Every session calls its tool back to back for `seconds`; the CPU `cpu_of` processes used meanwhile."""
    tally = Tally(seconds=seconds)
    end = anyio.current_time() + seconds

    async def worker(client: Client, backend: str, tool: str) -> None:
        i = 0
        while anyio.current_time() < end:
            i += 1
            started = time.perf_counter()
            try:
                result = await client.call_tool(tool, {"num1": i, "num2": 1})
                error = "\n".join(getattr(block, "text", "") for block in result.content) if result.is_error else None
            except Exception as failure:  # any failure is a failed call, to count
                error = f"{type(failure).__name__}: {failure}"
            if error is None:
                tally.latencies[backend].append(time.perf_counter() - started)
                continue
            tally.errors[backend] += 1
            tally.rug_pulls += "rug pull" in error
            if len(tally.first_errors) < 5:
                tally.first_errors.append(f"{backend}: {error}")

    def used() -> tuple[float, float, float]:
        return total_cpu(cpu_of), total_cpu([c for pid in cpu_of for c in children(pid)]), sum(os.times()[:2])

    before = used()
    async with anyio.create_task_group() as group:
        for session in sessions:
            group.start_soon(worker, *session)
    tally.cpu, tally.helpers_cpu, tally.client_cpu = (
        after - start for after, start in zip(used(), before, strict=True)
    )
    return tally


async def load(
    direct: list[str], direct_pids: list[int], proxy: str, proxy_pid: int, sessions: int, seconds: float, slices: int
) -> tuple[Tally, Tally, Tally, str]:
    async with AsyncExitStack() as stack:

        async def open_sessions(url_and_tool: list[tuple[str, str]]) -> list[tuple[Client, str, str]]:
            opened = []
            for i in range(sessions):
                url, tool = url_and_tool[i % len(BACKENDS)]
                client = await stack.enter_async_context(Client(url, mode="legacy", cache=None))
                opened.append((client, BACKENDS[i % len(BACKENDS)], tool))
            return opened

        to_direct = await open_sessions([(url, "add_numbers") for url in direct])
        to_proxy = await open_sessions([(proxy, f"{b}__add_numbers") for b in BACKENDS])
        calm_direct, calm_proxy = Tally(), Tally()
        for _ in range(slices):  # taking turns, so noise from elsewhere hits both alike
            calm_direct.add(await drive(to_direct, seconds / slices, direct_pids))
            calm_proxy.add(await drive(to_proxy, seconds / slices, [proxy_pid]))

        victim = BACKENDS[-1]
        victim_pid = backend_process(proxy_pid, victim)

        async def kill_later() -> None:
            await anyio.sleep(seconds / 4)
            os.kill(victim_pid, signal.SIGKILL)

        async with anyio.create_task_group() as group:
            group.start_soon(kill_later)
            killed = await drive(to_proxy, seconds, [proxy_pid])
        return calm_direct, calm_proxy, killed, victim


def report_load(direct: Tally, proxied: Tally, killed: Tally, victim: str, sessions: int, slices: int) -> None:
    print(f"\n## Load: {sessions} sessions on {len(BACKENDS)} backends, {direct.seconds:g} s per route ", end="")
    print(f"({slices} slices each, taking turns)\n")
    print("| route | calls | calls/s | errors | median | p99 | server CPU per call |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = {
        "direct, 3 lesson 01 HTTP servers": (direct, "the 3 servers"),
        "this proxy -> 3 stdio backends": (proxied, "the proxy process"),
    }
    for name, (tally, whose) in rows.items():
        values = [v for b in BACKENDS for v in tally.latencies[b]]
        print(
            f"| {name} | {tally.calls} | {tally.calls / tally.seconds:.0f} | {sum(tally.errors.values())} "
            f"| {statistics.median(values) * 1000:.2f} ms | {percentile(values, 0.99) * 1000:.2f} ms "
            f"| {tally.cpu / tally.calls * 1000:.3f} ms ({whose}) |"
        )
    per_call = {name: tally for name, (tally, _) in rows.items()}
    print("\nCPU per call, every process (the machine's 2 cores are shared by all of them):\n")
    for name, tally in per_call.items():
        parts = [
            f"client {tally.client_cpu / tally.calls * 1000:.3f} ms",
            f"server {tally.cpu / tally.calls * 1000:.3f} ms",
        ]
        if tally.helpers_cpu:
            parts.append(f"its stdio backends {tally.helpers_cpu / tally.calls * 1000:.3f} ms")
        print(f"- {name}: {', '.join(parts)}")
    throughput = (proxied.calls / proxied.seconds) / (direct.calls / direct.seconds)
    cpu = (proxied.cpu / proxied.calls) / (direct.cpu / direct.calls)
    others = tuple(b for b in BACKENDS if b != victim)
    other_errors = sum(killed.errors[b] for b in others)
    p99_ratio = killed.p99(others) / proxied.p99(others)
    print(f"\nOne backend ({victim}) killed {killed.seconds / 4:g} s into a {killed.seconds:g} s proxied run:\n")
    print(f"- {victim}: {killed.errors[victim]} failed calls while it was down and respawned")
    print(
        f"- {', '.join(others)}: {other_errors} errors, p99 {killed.p99(others):.2f} ms "
        f"(calm run: {proxied.p99(others):.2f} ms)"
    )
    for line in killed.first_errors:
        print(f"  e.g. {line}")
    print("\nTargets:\n")
    print(f"- zero errors in the calm run: {sum(proxied.errors.values())}, {mark(not sum(proxied.errors.values()))}")
    print(f"- throughput vs the same load sent directly: {throughput:.2f}x (reported)")
    print(f"- proxy CPU per call <= 1.2x a lesson 01 server's: {cpu:.2f}x, {mark(cpu <= 1.2)}")
    print(f"- backend killed, other backends' errors: {other_errors}, {mark(other_errors == 0)}")
    print(f"- backend killed, other backends' p99 <= 1.5x calm: {p99_ratio:.2f}x, {mark(p99_ratio <= 1.5)}")
    rug_pulls = killed.rug_pulls + proxied.rug_pulls
    print(f"- calls refused as a rug pull: {rug_pulls}, {mark(rug_pulls == 0)}")


def latency_run(
    calls: int, warmup: int, mcp_proxy: str | None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Start every route's processes afresh; time the routes compared, then the routes that split a call."""
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        direct_url, _ = lesson_01_over_http(stack)
        stdio = {"command": "python", "args": LESSON_01}
        proxy_url, _ = this_proxy(stack, Path(scratch), {"stdio": stdio, "http": {"url": direct_url}})
        json_url, _ = this_proxy(stack, Path(scratch), {"stdio": stdio}, jsonResponse=True)
        routes = {
            "direct, stdio": Route(StdioServerParameters(command=sys.executable, args=LESSON_01), "add_numbers"),
            "direct, Streamable HTTP": Route(direct_url, "add_numbers"),
            PROXIED: Route(proxy_url, "stdio__add_numbers"),
            PROXIED_JSON: Route(json_url, "stdio__add_numbers"),
            "this proxy -> HTTP backend": Route(proxy_url, "http__add_numbers"),
            "this proxy, a name it refuses itself": Route(proxy_url, "nobody__add_numbers", refused=True),
            "direct, Streamable HTTP, a name lesson 01 refuses": Route(direct_url, "no_such_tool", refused=True),
        }
        if mcp_proxy:
            port = free_port()
            pypi = [mcp_proxy, "--port", str(port), "--host", "127.0.0.1", "--log-level", "WARNING"]
            pypi += ["--cwd", str(ROOT), "--", sys.executable, *LESSON_01]
            stack.enter_context(running(pypi, f"http://127.0.0.1:{port}/mcp"))
            routes["PyPI mcp-proxy -> stdio backend"] = Route(f"http://127.0.0.1:{port}/mcp", "add_numbers")
        compared = {name: route for name, route in routes.items() if name in COMPARED}
        split = {name: route for name, route in routes.items() if name not in (PYPI, PROXIED_JSON)}
        return anyio.run(interleaved, compared, calls, warmup), anyio.run(interleaved, split, calls, warmup)


# -- the command -------------------------------------------------------------


@cli.command()
def main(
    calls: Annotated[int, typer.Option(min=10, max=5000, help="Timed calls per route and run (latency).")] = 300,
    repeats: Annotated[int, typer.Option(min=1, max=10, help="Latency runs, each with fresh processes.")] = 3,
    warmup: Annotated[int, typer.Option(min=0, max=500, help="Untimed calls first, per route.")] = 50,
    sessions: Annotated[int, typer.Option(min=3, max=100, help="Concurrent client sessions (load).")] = 20,
    seconds: Annotated[float, typer.Option(min=0, help="Seconds of load per route; 0 skips the load test.")] = 20,
    slices: Annotated[int, typer.Option(min=1, max=20, help="Turns the two load routes take.")] = 4,
    mcp_proxy: Annotated[
        str | None,
        typer.Option(envvar="PYPI_MCP_PROXY", help="PyPI mcp-proxy's command. Default: `mcp-proxy` on PATH, if any."),
    ] = None,
) -> None:
    """Per-call latency direct, through this proxy and through PyPI mcp-proxy; then throughput under load."""
    mcp_proxy = mcp_proxy or shutil.which("mcp-proxy")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; ", end="")
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the start\n")

    runs = [latency_run(calls, warmup, mcp_proxy) for _ in range(repeats)]
    report_latency(runs, calls, warmup)

    if not seconds:
        return
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        direct = [lesson_01_over_http(stack) for _ in BACKENDS]
        servers = {b: {"command": "python", "args": LESSON_01, "env": {MARKER: b}} for b in BACKENDS}
        proxy_url, proxy = this_proxy(stack, Path(scratch), servers)
        urls, pids = [url for url, _ in direct], [process.pid for _, process in direct]
        results = anyio.run(load, urls, pids, proxy_url, proxy.pid, sessions, seconds, slices)
        report_load(*results, sessions, slices)


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.benchmark")
