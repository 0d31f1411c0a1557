"""`--addr HOST:PORT`, shared by this lesson's two servers (the MCP server and the authorization server).

Checked up front, so a typo is a one-line usage error and not a traceback from the socket layer.
Only IP addresses and `localhost` are accepted: a host name could resolve to any interface.
"""

import ipaddress

import typer


def parse_addr(addr: str) -> str:
    """A typer callback: `addr` unchanged if it is HOST:PORT, else a usage error."""
    host, sep, port = addr.rpartition(":")
    host = host.strip("[]")  # allow [::1]:8095
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"{addr!r} is not HOST:PORT, for example 127.0.0.1:8095")
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
