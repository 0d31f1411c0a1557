"""Lesson 03 deployed as in production, on one machine: PostgreSQL, replicas of both servers, HAProxy in front.

    HAProxy  auth           -> as1, as2   authorization servers, round robin
             mcp            -> rs1, rs2   MCP servers, round robin, no affinity
             mcp-sticky     -> rs1, rs2   the same two, with affinity on Mcp-Session-Id
             mcp-stateless  -> rs3, rs4   MCP servers started with --stateless, round robin
    PostgreSQL  auth     <- as1, as2
                journal  <- rs1 .. rs4

Every process gets the public URLs, the balancer's: the authorization servers `--issuer`, the MCP
servers (`python -m 03-oauth-mcp.production.server`, the lesson's server with a shared `--db`)
`--issuer` and `--resource`. The processes start together, then the balancer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import load_balancer, postgres, processes, replicas

Launch, Pool = replicas.Launch, load_balancer.Pool


class Unavailable(Exception):
    """PostgreSQL or HAProxy is missing: the tests skip with this reason."""


@dataclass
class Deployment:
    balancer: Any  # load_balancer.LoadBalancer
    auth_servers: dict[str, Any]  # name -> processes.RunningServer
    mcp_servers: dict[str, Any]
    auth_database: str  # the URL the authorization servers share

    def url(self, pool: str) -> str:
        return self.balancer.pools[pool].url

    @property
    def issuer(self) -> str:
        return self.url("auth")

    def mcp_url(self, pool: str = "mcp") -> str:
        return f"{self.url(pool)}/mcp"

    def served(self, pool: str, since: int = 0) -> list[Any]:
        """What the balancer sent to the servers of `pool`, from its `since`-th logged request on."""
        return [request for request in self.balancer.requests()[since:] if request.pool == pool]


def check_available() -> None:
    try:
        postgres.binaries()
        postgres.as_cluster_owner()
        load_balancer.haproxy()
    except (postgres.Unavailable, load_balancer.Unavailable) as reason:
        raise Unavailable(str(reason)) from None


@contextmanager
def deployed() -> Iterator[Deployment]:
    check_available()
    with postgres.temporary_cluster() as cluster:
        auth_db, journal_db = cluster.create_database("auth"), cluster.create_database("journal")
        ports = {name: processes.free_port() for name in ("as1", "as2", "rs1", "rs2", "rs3", "rs4")}

        def servers(*names: str) -> dict[str, str]:
            return {name: f"http://127.0.0.1:{ports[name]}" for name in names}

        pools = [
            Pool("auth", servers("as1", "as2")),
            Pool("mcp", servers("rs1", "rs2")),
            Pool("mcp-sticky", servers("rs1", "rs2"), sticky=True),
            Pool("mcp-stateless", servers("rs3", "rs4")),
        ]
        issuer, mcp, stateless = pools[0].url, f"{pools[1].url}/mcp", f"{pools[3].url}/mcp"
        # Many test clients register from one address (the balancer's): more than the hourly default.
        auth = ("--db", auth_db, "--issuer", issuer, "--resource", mcp, "--resource", stateless)
        auth += ("--registration-limit", "1000")
        # Behind the balancer, as docs/production.md runs them: the client address is the one HAProxy sets.
        auth += ("--forwarded-allow-ips", "127.0.0.1")
        mcp_server = ("--transport", "http", "--db", journal_db, "--issuer", issuer)
        arguments = {
            "as1": auth,
            "as2": auth,
            "rs1": (*mcp_server, "--resource", mcp),
            "rs2": (*mcp_server, "--resource", mcp),
            "rs3": (*mcp_server, "--resource", stateless, "--stateless"),
            "rs4": (*mcp_server, "--resource", stateless, "--stateless"),
        }
        launches = [
            Launch("auth_server" if name.startswith("as") else "production.server", arguments[name], ports[name])
            for name in ports
        ]
        with replicas.started_together(*launches) as started, load_balancer.running(pools) as balancer:
            running = dict(zip(ports, started, strict=True))
            balancer.wait_until_every_server_answers()
            yield Deployment(
                balancer,
                auth_servers={name: running[name] for name in ("as1", "as2")},
                mcp_servers={name: running[name] for name in ("rs1", "rs2", "rs3", "rs4")},
                auth_database=auth_db,
            )
