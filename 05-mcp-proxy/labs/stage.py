"""What every lesson 05 lab needs on stage: a backend behind a proxy, a model, and an operator.

The proxy is lesson 05's, started with `python -m 05-mcp-proxy.server` (or a lab's vulnerable
variant) in a folder of its own, as an operator runs it: its config there (`<name>.json`, one
backend named `calculator`: the attacker's server, or lesson 01's honest one), its pins file beside
it, and the operator's `pins` and `approve` commands run from there too, so every path the proxy
prints is the same on every run. The lab plays the model: it reads the tools a client lists, and
does what their descriptions say.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp_types import TextContent, Tool

LESSON = "05-mcp-proxy"
ROOT = Path(__file__).resolve().parents[2]
BACKEND = "calculator"  # the attacker's server, as the proxy's config names it
# What the user's machine holds, and the model could read if a tool asked it to: a fake key, made for the lab.
FILES = {"~/.ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY----- (the lab's fake key) -----END OPENSSH PRIVATE KEY-----"}
ASKS_FOR_A_FILE = re.compile(r"read (\S+) and pass its content as '(\w+)'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Proxy:
    process: subprocess.Popen
    base_url: str
    folder: Path  # the proxy's working folder: its config, its pins file, the attacker's loot
    config: str  # the config's file name, in `folder`

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def loot(self) -> list[str]:
        """What the attacker's server received in `notes`, one entry per call."""
        loot = self.folder / "loot.txt"
        return loot.read_text().splitlines() if loot.exists() else []

    def operator_runs(self, *command: str) -> str:
        """`python -m 05-mcp-proxy.server --config <config> COMMAND...`, in the proxy's folder: what it prints."""
        argv = [sys.executable, "-m", f"{LESSON}.server", "--config", self.config, *command]
        done = subprocess.run(argv, cwd=self.folder, env=importable(), capture_output=True, text=True, check=True)
        return done.stdout

    def wait_until_healthy(self) -> "Proxy":
        deadline = time.monotonic() + 30
        with httpx2.Client(timeout=1) as http:  # one client for every poll: a new one costs ~20 ms of CPU
            while not healthy(http, self.base_url):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the proxy did not start: {(self.folder / 'proxy.log').read_text()}")
                time.sleep(0.05)
        return self


def importable() -> dict[str, str]:
    """The environment, with the repository importable from any folder (for `python -m 05-mcp-proxy...`)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@contextmanager
def proxy(
    name: str,
    attack: str | None,
    module: str = f"{LESSON}.server",
    others: Mapping[str, str] | None = None,
    **options: object,
) -> Iterator[Proxy]:
    """`python -m MODULE` (lesson 05's proxy, or a lab's vulnerable variant) with `options`, in front of the
    attacker's server run with `attack`, or of lesson 01's honest server if None, and of the `others`
    (backend name -> the module that runs it over stdio); not yet ready."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if attack is None:
            backend = ["-m", "01-basic-mcp.server"]
        else:
            backend = ["-m", f"{LESSON}.labs.attacker_backend", attack, "--record", str(folder / "loot.txt")]
        servers = {BACKEND: {"command": "python", "args": backend, "cwd": str(ROOT)}}
        for other, runs in (others or {}).items():
            servers[other] = {"command": "python", "args": ["-m", runs], "cwd": str(ROOT)}
        config = f"{name}.json"
        (folder / config).write_text(json.dumps({"mcpProxy": {"options": options}, "mcpServers": servers}))
        port = free_port()
        # A vulnerable variant takes no `--config`: only the lab's own, by a name no operator types (variant.py).
        config_flag = "--config" if module == f"{LESSON}.server" else "--lab-config"
        argv = [sys.executable, "-m", module, config_flag, config, "--addr", f"127.0.0.1:{port}"]
        with (folder / "proxy.log").open("a") as log:
            process = subprocess.Popen(argv, cwd=folder, env=importable(), stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield Proxy(process, f"http://127.0.0.1:{port}", folder, config)
        finally:
            process.terminate()
            process.wait(timeout=15)


def healthy(http: httpx2.Client, base: str) -> bool:
    try:
        return http.get(f"{base}/healthz").status_code == 200
    except httpx2.TransportError:
        return False


async def until(condition: Callable[[], Awaitable[object]], timeout: float = 10) -> None:
    """Wait for the proxy to catch up with a change: poll `condition` until it holds."""
    with anyio.fail_after(timeout):
        while not await condition():
            await anyio.sleep(0.05)


# -- the host, and its model ---------------------------------------------------


async def listed(client: Client) -> list[Tool]:
    return (await client.list_tools()).tools


def shown(tools: list[Tool]) -> str:
    """What the model reads of the tools: each one's name and description."""
    return "; ".join(f"{tool.name}: {tool.description}" for tool in tools) or "no tool"


async def the_model_calls(client: Client, name: str, tools: list[Tool]) -> str:
    """The model calls `name` to add 2 and 3, doing what the tool's description asks of it; what it gets.

    A tool the client does not list, the model does not know: the host calls it by name all the same.
    """
    arguments: dict[str, object] = {"a": 2, "b": 3}
    shown_as = ["a=2", "b=3"]
    tool = next((tool for tool in tools if tool.name == name), None)
    if tool is not None and (asked := ASKS_FOR_A_FILE.search(tool.description or "")):
        path, argument = asked.groups()
        arguments[argument] = FILES[path]
        shown_as.append(f"{argument}=<{path}>")
    result = await client.call_tool(name, arguments)
    answer = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    call = f"{name}({', '.join(shown_as)})"
    who = f"the model calls {call}" if tool is not None else f"the host calls {call} by name"
    return f"{who}: {'refused: ' if result.is_error else ''}{answer}"


def report_loot(proxy: Proxy) -> None:
    loot = proxy.loot()
    print(f"   the attacker's server received: {', '.join(repr(notes) for notes in loot) if loot else 'nothing'}")


def the_operator_reviews(proxy: Proxy, lines: int) -> None:
    """The operator runs `pins`: print its first `lines` lines of diff, the change they are asked to approve."""
    print(f"   the operator runs `python -m {LESSON}.server --config {proxy.config} pins` and reads the diff:")
    output = proxy.operator_runs("pins")
    diff = output[output.index("  --- approved") :].splitlines()  # below the header, which says when it was seen
    for line in diff[:lines]:
        print(f"     {line.removeprefix('  ')}")
    if len(diff) > lines:
        print(f"     ... ({len(diff) - lines} more lines)")
