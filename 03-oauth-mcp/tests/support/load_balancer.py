"""A real load balancer, HAProxy (Debian's `haproxy`, which `.ci/run` installs), in front of replicas.

Each `Pool` becomes a frontend on its own free loopback port and a backend that round-robins
every request across its servers: no stickiness, unless `sticky` asks for session affinity on
`Mcp-Session-Id` (the header a handshake-era MCP server names its session with: the first
response that carries it pins the session to the server that created it). Servers are health
checked on /healthz.

Every request is logged, one line each, with the pool, the server that answered, method, path
(never the query: it carries codes and state), status, and the few headers or form fields that
say what the request was, none of them secret: `Mcp-Method`, `Mcp-Name`, `Mcp-Session-Id` is
left out, and at /token only `grant_type`. Each response says which server answered it in
`X-Replica`.

The balancer tells its servers who the client is in `X-Forwarded-For`, set to the address it saw
(`%[src]`), never appended to: a header the client wrote itself never reaches a server. A server
believes it only from the balancer (the authorization server's `--forwarded-allow-ips 127.0.0.1`).
"""

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from . import processes
from .waiting import eventually

LOG_LINE = re.compile(r"^(?P<pool>\S+) (?P<server>\S+) (?P<method>\S+) (?P<path>\S+) (?P<status>\d+) \{(?P<what>.*)\}$")


class Unavailable(Exception):
    """Why HAProxy cannot run here: the tests skip with this reason."""


@dataclass(frozen=True)
class Pool:
    name: str
    servers: dict[str, str]  # server name -> its base URL, http://127.0.0.1:PORT
    sticky: bool = False
    port: int = field(default_factory=processes.free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Request:
    """One line of the balancer's log."""

    pool: str
    server: str
    method: str
    path: str
    status: int
    mcp_method: str  # the Mcp-Method header of a 2026-07-28 request, e.g. "tools/call"; "" where absent
    mcp_name: str  # its Mcp-Name, e.g. the tool called
    grant_type: str  # at /token


def config(pools: list[Pool]) -> str:
    lines = [
        "global",
        "  log stdout format raw local0 info",
        "defaults",
        "  mode http",
        "  log global",
        "  timeout connect 2s",
        "  timeout client 60s",
        "  timeout server 60s",
        "  option httpchk GET /healthz",
        "  default-server check inter 300ms fall 2 rise 1",
    ]
    for pool in pools:
        lines += [
            f"frontend {pool.name}",
            f"  bind 127.0.0.1:{pool.port}",
            f"  default_backend {pool.name}",
            # Set, not appended (`option forwardfor` would keep the client's own header in front).
            "  http-request set-header X-Forwarded-For %[src]",
            # What the request was, for the log: `%hr` lists these captures.
            "  option http-buffer-request",
            "  http-request capture req.hdr(mcp-method) len 40",
            "  http-request capture req.hdr(mcp-name) len 40",
            "  http-request capture req.body_param(grant_type) len 40 if { path /token }",
            '  log-format "%b %s %HM %HP %ST %hr"',
            f"backend {pool.name}",
            "  balance roundrobin",
            "  http-response set-header X-Replica %s",
        ]
        if pool.sticky:
            lines += [
                "  stick-table type string len 128 size 10k expire 30m",
                "  stick on req.hdr(mcp-session-id)",
                "  stick store-response res.hdr(mcp-session-id)",
            ]
        lines += [f"  server {name} {url.removeprefix('http://')}" for name, url in pool.servers.items()]
    return "\n".join(lines) + "\n"


@dataclass
class LoadBalancer:
    pools: dict[str, Pool]
    log_path: Path

    def requests(self) -> list[Request]:
        """Every request the balancer has logged so far, oldest first."""
        found = []
        for line in self.log_path.read_text().splitlines():
            if match := LOG_LINE.match(line):
                mcp_method, mcp_name, grant_type = match["what"].split("|")  # the captures, in order
                fields = {name: match[name] for name in ("pool", "server", "method", "path")}
                found.append(
                    Request(
                        **fields,
                        status=int(match["status"]),
                        mcp_method=mcp_method,
                        mcp_name=mcp_name,
                        grant_type=grant_type,
                    )
                )
        return found

    def wait_until_every_server_answers(self) -> None:
        """Until each pool has sent a request to each of its servers (health checks passed)."""
        for pool in self.pools.values():

            def all_seen(pool: Pool = pool) -> bool:
                seen = set()
                for _ in range(2 * len(pool.servers)):
                    try:
                        response = httpx2.get(f"{pool.url}/healthz", timeout=2)
                    except httpx2.TransportError:
                        return False
                    seen.add(response.headers.get("x-replica"))
                return seen == set(pool.servers)

            eventually(all_seen, processes.STARTUP_DEADLINE, f"{pool.name} balancing across {sorted(pool.servers)}")


def haproxy() -> str:
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise Unavailable("HAProxy is not installed (Debian: apt install haproxy; .ci/run installs it)")
    return found


@contextmanager
def running(pools: list[Pool]) -> Iterator[LoadBalancer]:
    """HAProxy in the foreground with these pools, stopped on exit."""
    binary = haproxy()
    with tempfile.TemporaryDirectory(prefix="mcp-workshop-haproxy-") as home:
        configuration, log_path = Path(home) / "haproxy.cfg", Path(home) / "requests.log"
        configuration.write_text(config(pools))
        with log_path.open("w") as log:
            process = subprocess.Popen([binary, "-db", "-f", str(configuration)], stdout=log, stderr=log)
            try:
                yield LoadBalancer({pool.name: pool for pool in pools}, log_path)
            finally:
                process.terminate()
                process.wait(timeout=10)
