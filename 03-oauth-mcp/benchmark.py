"""What authorization costs per call: lesson 03's verified calls beside lesson 01's unauthenticated ones.

    python -m 03-oauth-mcp.benchmark [--calls 1000] [--warmup 100] [--tokens 300]

It starts lesson 01's server, lesson 03's authorization server and three MCP servers: the lesson's
(`python -m 03-oauth-mcp.server`, checking every JWT's signature), and production's
(`python -m 03-oauth-mcp.production.server`) twice, once keeping each JWT decision until shortly
before the token expires, once introspecting every token it has not seen for a few seconds. It
gets a client-credentials token for each, and calls `add_numbers` through every route from one
session each, the routes interleaved call by call so that noise on the machine hits them alike.
It prints the median and tail latencies, each route's ratio to lesson 01's median, and the JWT
routes' ratios against the workshop's target (at most 1.10x). Then it sends made-up bearer tokens
to each lesson 03 server, as an attacker would, and prints what each costs that server and the
authorization server in CPU time (Linux: read from /proc; "n/a" elsewhere).
Everything runs on 127.0.0.1 and stops when the run ends. Not a test: numbers depend on the machine.
"""

import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
import httpx2
import typer
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
LESSON = Path(__file__).resolve().parent.name
BOT = ("journal-bot", "dev-journal-bot-secret")  # the development machine client the authorization server seeds
# The introspecting server asks about the tokens of its own --resource only, as a client of its own (RFC 7662 §2.1).
INTROSPECTING = ("benchmark-mcp-server", secrets.token_urlsafe(24))
JWT_ROUTES = ("lesson 03, JWT verified", "production, JWT kept")
cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


def free_addr() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@dataclass
class Running:
    url: str  # the base URL
    pid: int


@contextmanager
def running(module: str, addr: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    """`python -m MODULE --addr ADDR ...`, healthy; yields its base URL and process id."""
    base = f"http://{addr}"
    with tempfile.TemporaryFile("w+") as log:
        argv = [sys.executable, "-m", module, "--addr", addr, *args]
        environment = {**os.environ, **(env or {})}
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True, env=environment)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{module} did not start:\n{log.read()}")
                time.sleep(0.05)
            yield Running(base, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)


async def measure(routes: dict[str, tuple[str, str | None]], calls: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per call on each route (url, token), the routes taking turns call by call."""
    seconds: dict[str, list[float]] = {name: [] for name in routes}
    async with AsyncExitStack() as stack:
        clients = {}
        for name, (url, token) in routes.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=30))
            clients[name] = await stack.enter_async_context(Client(streamable_http_client(url, http_client=http)))
        for round_number in range(warmup + calls):
            for name, client in clients.items():
                started = time.perf_counter()
                result = await client.call_tool("add_numbers", {"num1": round_number, "num2": 1})
                elapsed = time.perf_counter() - started
                if result.is_error:
                    raise RuntimeError(f"{name}: {result.content}")
                if round_number >= warmup:
                    seconds[name].append(elapsed)
    return seconds


def cpu_seconds(pid: int) -> float | None:
    """The user and system CPU time a process has used, from /proc (Linux only: None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def made_up_tokens(mcp_url: str, count: int, pids: tuple[int, int]) -> list[str]:
    """Send `count` random bearer tokens, one after another; each process's CPU milliseconds per token."""
    before = [cpu_seconds(pid) for pid in pids]
    with httpx2.Client(timeout=30) as http:
        for _ in range(count):
            headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}", "Accept": "application/json"}
            response = http.post(mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
            if response.status_code != 401:
                raise RuntimeError(f"a made-up token got {response.status_code}")
    after = [cpu_seconds(pid) for pid in pids]
    return [
        "n/a" if start is None or end is None else f"{1000 * (end - start) / count:.1f}ms"
        for start, end in zip(before, after, strict=True)
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@cli.command()
def main(
    calls: Annotated[int, typer.Option(min=10, help="Measured calls per route.")] = 1000,
    warmup: Annotated[int, typer.Option(min=0, help="Calls per route before measuring.")] = 100,
    tokens: Annotated[int, typer.Option(min=0, help="Made-up tokens sent to each lesson 03 server; 0: none.")] = 300,
) -> None:
    """Benchmark lesson 03's token verification against lesson 01's unauthenticated calls."""
    with tempfile.TemporaryDirectory() as state, ExitStack() as stack:
        issuer_addr, jwt_addr, kept_addr, introspecting_addr, plain_addr = (free_addr() for _ in range(5))
        urls = {addr: f"http://{addr}/mcp" for addr in (jwt_addr, kept_addr, introspecting_addr)}
        auth_db = ("--db", f"{state}/auth.db")
        add_resource_server = [sys.executable, "-m", f"{LESSON}.auth_server.optional.add_resource_server", *auth_db]
        add_resource_server += ["--client-id", INTROSPECTING[0], "--resource", urls[introspecting_addr]]
        secret = {**os.environ, "RESOURCE_SERVER_SECRET": INTROSPECTING[1]}
        subprocess.run(add_resource_server, cwd=ROOT, check=True, env=secret, stdout=subprocess.DEVNULL)
        resources = [argument for url in urls.values() for argument in ("--resource", url)]
        quiet = ["--log-level", "warning"]
        auth_server = stack.enter_context(running(f"{LESSON}.auth_server", issuer_addr, *auth_db, *resources, *quiet))
        issuer = auth_server.url
        mcp = ["--transport", "http", "--issuer", issuer, *quiet]
        production = f"{LESSON}.production.server"
        servers = {
            "lesson 03, JWT verified": stack.enter_context(running(f"{LESSON}.server", jwt_addr, *mcp)),
            "production, JWT kept": stack.enter_context(running(production, kept_addr, *mcp, "--db", f"{state}/a.db")),
            "production, introspected": stack.enter_context(
                running(
                    production,
                    introspecting_addr,
                    *mcp,
                    *("--db", f"{state}/b.db", "--verifier", "introspection", "--client-id", INTROSPECTING[0]),
                    env={"JOURNAL_MCP_SERVER_SECRET": INTROSPECTING[1]},
                )
            ),
        }
        stack.enter_context(running("01-basic-mcp.server", plain_addr, "--transport", "http", "--log-level", "error"))

        def token(resource: str) -> str:
            data = {"grant_type": "client_credentials", "resource": resource, "scope": "journal:read"}
            return httpx2.post(f"{issuer}/token", data=data, auth=BOT, timeout=10).json()["access_token"]

        routes: dict[str, tuple[str, str | None]] = {"lesson 01, no token": (f"http://{plain_addr}/mcp", None)}
        routes |= {name: (f"{server.url}/mcp", token(f"{server.url}/mcp")) for name, server in servers.items()}
        seconds = anyio.run(measure, routes, calls, warmup)
        attacked = servers
        flood = {
            name: made_up_tokens(f"{server.url}/mcp", tokens, (server.pid, auth_server.pid))
            for name, server in attacked.items()
            if tokens
        }

    floor = statistics.median(seconds["lesson 01, no token"])
    cpu = platform.processor() or platform.machine()
    print(f"{calls} calls per route, interleaved, one session each; {cpu}, {platform.python_version()}")
    print(f"{'route':<26} {'median':>9} {'p90':>9} {'p99':>9} {'vs lesson 01':>13}")
    for name, values in seconds.items():
        median = statistics.median(values)
        ms = [f"{1000 * value:7.2f}ms" for value in (median, percentile(values, 0.9), percentile(values, 0.99))]
        print(f"{name:<26} {ms[0]:>9} {ms[1]:>9} {ms[2]:>9} {median / floor:>12.2f}x")
    for name in JWT_ROUTES:
        jwt = statistics.median(seconds[name]) / floor
        verdict = "met" if jwt <= 1.10 else "NOT met"
        print(f"target: a JWT-verified call at most 1.10x lesson 01's, {name}: {jwt:.2f}x, {verdict}")
    if flood:
        print(f"\n{tokens} made-up bearer tokens per server, one after another: CPU time per token")
        print(f"{'route':<26} {'MCP server':>11} {'authorization server':>21}")
        for name, (server_cpu, auth_server_cpu) in flood.items():
            print(f"{name:<26} {server_cpu:>11} {auth_server_cpu:>21}")


if __name__ == "__main__":
    cli(prog_name=f"python -m {LESSON}.benchmark")
