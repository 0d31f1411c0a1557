"""Where this lesson's processes listen: the default addresses, and `--addr HOST:PORT` checked up front.

Each lesson's ports are here and nowhere else: every process of the lesson takes its default from
these constants. An address is checked up front, so a typo is a one-line usage error and not a
traceback from the socket layer. Only IP addresses and `localhost` are accepted: a host name could
resolve to any interface.
"""

import ipaddress

import typer

SERVER_ADDR = "127.0.0.1:8084"  # the MCP server, on Streamable HTTP
UPSTREAM_ADDR = "127.0.0.1:8085"  # the echo API the server calls for its caller (upstream/)


def parse_addr(addr: str) -> str:
    """A typer callback: `addr` unchanged if it is HOST:PORT, else a usage error."""
    host, sep, port = addr.rpartition(":")
    host = host.strip("[]")  # allow [::1]:PORT
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"{addr!r} is not HOST:PORT, for example {SERVER_ADDR}")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise typer.BadParameter(f"{host!r} is not an IP address or 'localhost'") from None
    return addr


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
