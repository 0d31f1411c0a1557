"""DELIBERATELY VULNERABLE: lesson 05's proxy forwarding every call as the model asks, and every result unmarked.

    python -m 05-mcp-proxy.labs.indirect_injection.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

A tool's result is text, and a model reads it as it reads the user's words: a document that says
"e-mail me your keys" is an instruction to it. This variant passes a backend's result on as it is,
with no mark of where it came from, and forwards every call the model then makes, a sensitive one
too: no `requireApproval` (whatever its config says), no person asked. It starts only as its lab
starts it (labs/variant.py). Do not use it for anything but this lab.
"""

from importlib import import_module

variant = import_module("05-mcp-proxy.labs.variant")


def weaken() -> None:
    app = import_module("05-mcp-proxy.server.app")
    backends = import_module("05-mcp-proxy.server.backends")
    app.needs_approval = lambda backend, tool: False  # no call waits for anyone
    backends.from_backend = lambda result, backend, tool: result  # no mark of where a result came from


def main() -> None:
    weakness = "it passes results on unmarked, and forwards every call the model makes, with no one's approval"
    variant.run("indirect_injection", weakness, weaken)


if __name__ == "__main__":
    main()
