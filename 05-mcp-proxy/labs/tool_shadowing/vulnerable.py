"""DELIBERATELY VULNERABLE: lesson 05's proxy, namespacing and pinning, reading no description for others' names.

    python -m 05-mcp-proxy.labs.tool_shadowing.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

This is lesson 05 as it was before it looked for tool shadowing (server/shadowing.py): every tool
is namespaced, so no server can take another's tool name, and pinned on first use, so no
description can change unseen. Neither reads what a description says about another server's tools:
one that tells the model to copy every e-mail sent with `mail__send_email` to the attacker is
pinned and served like any other. It starts only as its lab starts it (labs/variant.py). Do not
use it for anything but this lab.
"""

from importlib import import_module

variant = import_module("05-mcp-proxy.labs.variant")


def weaken() -> None:
    proxy = import_module("05-mcp-proxy.server.proxy")
    proxy.names_of_other_servers = lambda definition, backend, others, separator: []  # reads nothing


def main() -> None:
    weakness = "it serves a tool whose description tells the model how to use another server's tools"
    variant.run("tool_shadowing", weakness, weaken)


if __name__ == "__main__":
    main()
