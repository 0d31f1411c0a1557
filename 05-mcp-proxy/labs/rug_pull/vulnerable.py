"""DELIBERATELY VULNERABLE: lesson 05's proxy serving whatever definition a backend gives a tool, now.

    python -m 05-mcp-proxy.labs.rug_pull.vulnerable --lab-config CONFIG --addr 127.0.0.1:PORT

A backend may change its tools whenever it likes, and say so (`notifications/tools/list_changed`);
a proxy re-lists them and shows its clients the new ones. This variant does that with no pins
(`pinTools` off, whatever its config says): a tool that was reviewed, approved and used yesterday
comes back today with new instructions for the model in its description, and nobody but the model
reads them. It starts only as its lab starts it (labs/variant.py). Do not use it for anything but
this lab.
"""

from importlib import import_module

variant = import_module("05-mcp-proxy.labs.variant")


def main() -> None:
    # Every change a backend makes reaches the model, unreviewed.
    variant.run("rug_pull", "it serves every tool definition as its backend changes it (no pins)", variant.without_pins)


if __name__ == "__main__":
    main()
