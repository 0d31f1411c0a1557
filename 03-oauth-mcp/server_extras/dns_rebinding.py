"""The Host and Origin headers a request to the MCP server may carry: DNS-rebinding protection, for every bind.

Skip on a first read. A web page can make a browser send requests to 127.0.0.1 through a hostname
of its own that resolves there (DNS rebinding); its requests still name that hostname in `Host` and
`Origin`. The SDK checks both, and refuses another with 421/403, but turns the check on only for a
loopback bind: told `0.0.0.0`, it checks nothing. Here it is on always, and admits loopback and the
public name clients use (`--resource`, e.g. behind a reverse proxy).
"""

from urllib.parse import urlsplit

from mcp.server.transport_security import TransportSecuritySettings


def dns_rebinding_protection(resource_url: str) -> TransportSecuritySettings:
    """The SDK's transport security: Host and Origin checked; loopback and `resource_url`'s host admitted."""
    public = urlsplit(resource_url)
    return TransportSecuritySettings(
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", public.netloc],
        allowed_origins=[
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
            f"{public.scheme}://{public.netloc}",
        ],
    )
