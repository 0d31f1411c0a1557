"""How a deliberately vulnerable variant of lesson 05's proxy starts: only as its lab starts it, saying what it is.

    python -m 05-mcp-proxy.labs.<lab>.vulnerable --lab-config FILE --addr 127.0.0.1:PORT

A variant is lesson 05's proxy with one defence taken out. Started by mistake in the real proxy's
place (its address, its config, its pins file), it would serve real users with that hole, and look
like the real proxy while doing it. So a variant takes no defaults: it starts only with the config
its lab wrote in a folder of its own (`--lab-config`, never lesson 05's `config.json`) and a
loopback address (`--addr`, the free port the lab chose), and it says on stderr, before anything
else, that it is deliberately vulnerable (stderr is the proxy's log).
"""

import argparse
import dataclasses
import ipaddress
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

LESSON = "05-mcp-proxy"
LESSON_CONFIG = Path(__file__).resolve().parents[1] / "config.json"


def is_loopback(addr: str) -> bool:
    host, _, port = addr.rpartition(":")
    try:
        return port.isdigit() and ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(lab: str, weakness: str, weaken: Callable[[], None]) -> None:
    """Announce the variant, check its lab's arguments, `weaken` lesson 05's proxy, and run it on them."""
    print(
        f"DELIBERATELY VULNERABLE (lab: {lab}): {weakness}. Do not use it for anything but the lab, "
        f"which starts it: python -m {LESSON}.labs.{lab}",
        file=sys.stderr,
        flush=True,
    )
    parser = argparse.ArgumentParser(prog=f"python -m {LESSON}.labs.{lab}.vulnerable")
    parser.add_argument("--lab-config", type=Path, required=True, help="the config the lab wrote, in its own folder")
    parser.add_argument("--addr", required=True, help="127.0.0.1:PORT, the free port the lab chose")
    options = parser.parse_args()
    if not is_loopback(options.addr):
        parser.error(f"--addr {options.addr}: a vulnerable variant listens on a loopback address only")
    if options.lab_config.resolve() == LESSON_CONFIG:
        parser.error(f"--lab-config {options.lab_config}: that is lesson 05's own config, not a lab's")
    weaken()
    proxy_command = import_module(f"{LESSON}.server.__main__")
    arguments = ["--config", str(options.lab_config), "--addr", options.addr]
    proxy_command.cli(arguments, prog_name=f"python -m {LESSON}.labs.{lab}.vulnerable")


def without_pins() -> None:
    """The proxy with no pins (`pinTools` off, whatever its config says): the tool-poisoning and rug-pull variants."""
    settings = import_module(f"{LESSON}.server.settings")
    resolve = settings.ProxySettings.from_config
    settings.ProxySettings.from_config = lambda config: dataclasses.replace(resolve(config), pin_tools=False)
