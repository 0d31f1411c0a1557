"""DELIBERATELY VULNERABLE: lesson 01's HTTP server with the SDK's DNS-rebinding protection off.

    python -m 01-basic-mcp.labs.dns_rebinding.vulnerable --addr HOST:PORT

A server on 127.0.0.1 is out of reach of other machines, but not of the web pages your browser
opens: a page whose own hostname the attacker makes resolve to 127.0.0.1 sends its requests to
your server, and the browser takes them for the page's own, so it lets the page read the answers.
Only the server can tell: their Host (and Origin) header names the attacker's domain, not
127.0.0.1. This variant never looks. The SDK looks only when it is told the server listens on
127.0.0.1, localhost or ::1, or is given `TransportSecuritySettings`; turned off, as here, or told
another address (0.0.0.0, so that a container can publish the port), it does not. Do not use this
one for anything but this lab.
"""

from importlib import import_module

variant = import_module("01-basic-mcp.labs.variant")


def main() -> None:
    flaw = "lesson 01's server with the SDK's DNS-rebinding protection off: any Host, any Origin"
    options = variant.vulnerable_options("dns_rebinding", flaw, "--addr")
    # Imported only now: run bare, the variant refuses at once, not after a second of importing the SDK.
    from mcp.server.transport_security import TransportSecuritySettings

    stage = import_module("01-basic-mcp.labs.stage")
    create_server = import_module("01-basic-mcp.server.app").create_server
    unchecked = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    stage.serve(create_server().streamable_http_app(transport_security=unchecked), options.addr)


if __name__ == "__main__":
    main()
