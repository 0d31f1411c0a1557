"""Where this lesson's processes listen: the default addresses, and `--addr HOST:PORT` checked up front.

Each lesson's ports are here and nowhere else: every process of the lesson takes its default from
these constants. An address is checked up front, so a typo is a one-line usage error and not a
traceback from the socket layer. Only IP addresses and `localhost` are accepted: a host name could
resolve to any interface. So is the MCP server's public URL, `--resource` (`parse_resource`).
"""

import ipaddress
from urllib.parse import urlsplit

import typer

SERVER_ADDR = "127.0.0.1:8095"  # the MCP server, on Streamable HTTP
UPSTREAM_ADDR = "127.0.0.1:8097"  # the echo API the server calls for its caller (upstream/)
AUTH_SERVER_ADDR = "127.0.0.1:9000"  # the authorization server; its issuer is http://AUTH_SERVER_ADDR
CALLBACK_ADDR = "127.0.0.1:8096"  # the client's loopback redirect URI, http://CALLBACK_ADDR/callback
IDP_ADDR = "127.0.0.1:9100"  # the enterprise identity provider (enterprise/); its issuer is http://IDP_ADDR
DOCUMENT_ADDR = "127.0.0.1:8443"  # the client's metadata document, served over local https


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


def parse_resource(resource: str | None) -> str | None:
    """A typer callback: `resource` unchanged if it is a canonical resource URL (RFC 8707 §2), absolute
    http(s) with a lowercase host, no query, fragment or trailing slash; else a usage error."""
    if resource is None:
        return None
    parts = urlsplit(resource)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.query:
        raise typer.BadParameter(f"{resource!r} is not an absolute http(s) URL without query or fragment")
    if parts.netloc != parts.netloc.lower() or resource.endswith("/"):
        raise typer.BadParameter(f"{resource!r} is not canonical: lowercase the host and drop the trailing slash")
    return resource


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
