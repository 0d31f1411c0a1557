"""DELIBERATELY VULNERABLE: lesson 05's proxy passing every tool definition through as its backend wrote it.

    python -m 05-mcp-proxy.labs.tool_poisoning.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

A proxy that lists its backends' tools for a client decides what the client's model reads. This
variant decides nothing: no pins (`pinTools` off, whatever its config says) and, in its lab, no tool
filter, so a description with instructions for the model in it reaches the model word for word, as
through most proxies today (the README's comparison). It starts only as its lab starts it
(labs/variant.py). Do not use it for anything but this lab.
"""

from importlib import import_module

variant = import_module("05-mcp-proxy.labs.variant")


def main() -> None:
    # Every tool, every description, as the backend wrote them.
    variant.run("tool_poisoning", "it passes every tool definition on, unread (no pins)", variant.without_pins)


if __name__ == "__main__":
    main()
