"""What every lesson 05 lab needs on stage: backends behind a proxy, a model, an operator, and a verdict.

The proxy is lesson 05's, started with `python -m 05-mcp-proxy.server` (or a lab's vulnerable
variant) in a folder of its own, as an operator runs it: its config there (`<name>.json`; by default
one backend named `calculator`: the attacker's server, or lesson 01's honest one), its pins file beside
it, and the operator's `pins` and `approve` commands given those files too, so every path the proxy
prints is the same on every run. No lab's point is how a backend runs, or how the operator's command
starts: the lab serves its backends from its own process (`serving`), over Streamable HTTP, and runs
the operator's commands there too (`operator_runs`): one Python process fewer for each. The lab plays
the model: it reads the tools a client lists, and does what their descriptions say. Each half of a
lab ends with one line that says how the attack went (`verdict`).

The SDK is imported only where it is used: a lab says what it does before the second that takes.
"""

import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING, Any, Literal

import anyio
import httpx2

if TYPE_CHECKING:
    from mcp import Client
    from mcp.server import MCPServer
    from mcp_types import Tool

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
    stopping: bool = False

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def loot(self) -> list[str]:
        """What the attacker's server received in `notes`, one entry per call."""
        loot = self.folder / "loot.txt"
        return loot.read_text().splitlines() if loot.exists() else []

    def operator_runs(self, *command: str) -> str:
        """`python -m 05-mcp-proxy.server --config <config> COMMAND...` on this proxy's files: what it prints.

        The command's own code (its typer `cli`), run in the lab's process: spared a Python process of its own."""
        from contextlib import redirect_stdout
        from io import StringIO

        cli = import_module(f"{LESSON}.server.__main__").cli
        with redirect_stdout(StringIO()) as printed:
            cli(["--config", str(self.folder / self.config), *command], standalone_mode=False)
        return printed.getvalue()

    def health(self) -> dict[str, Any]:
        return httpx2.get(f"{self.base_url}/healthz", timeout=10).json()

    def stop(self) -> None:
        """SIGTERM, once (a second would make uvicorn skip its graceful exit): the proxy ends its sessions and exits."""
        if not self.stopping and self.process.poll() is None:
            self.stopping = True
            self.process.terminate()

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
    attack: Literal["poisoned", "rug-pull"] | None,
    module: str = f"{LESSON}.server",
    others: Mapping[str, str] | None = None,
    servers: Mapping[str, Mapping[str, Any]] | None = None,
    **options: object,
) -> Iterator[Proxy]:
    """`python -m MODULE` (lesson 05's proxy, or a lab's vulnerable variant) with `options`, in front of the
    attacker's server doing `attack` (labs/attacker_backend.py), or of lesson 01's honest server if None, and
    of the `others` (backend name -> the module whose `create_server()` makes it), each served for this proxy
    alone (`serving`); or, given `servers`, in front of those alone (the config's `mcpServers`). Not yet ready."""
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as backends:
        folder = Path(scratch)
        if servers is None:
            if attack is None:
                calculator = import_module("01-basic-mcp.server.app").create_server()
            else:
                attacker = import_module(f"{LESSON}.labs.attacker_backend")
                calculator = attacker.create_server(attack == "rug-pull", folder / "loot.txt")
            made = {BACKEND: calculator} | {
                other: import_module(runs).create_server() for other, runs in (others or {}).items()
            }
            servers = backends.enter_context(serving(made))
        config = f"{name}.json"
        (folder / config).write_text(json.dumps({"mcpProxy": {"options": options}, "mcpServers": servers}))
        port = free_port()
        # A vulnerable variant takes no `--config`: only the lab's own, by a name no operator types (variant.py).
        config_flag = "--config" if module == f"{LESSON}.server" else "--lab-config"
        argv = [sys.executable, "-m", module, config_flag, config, "--addr", f"127.0.0.1:{port}"]
        with (folder / "proxy.log").open("a") as log:
            process = subprocess.Popen(argv, cwd=folder, env=importable(), stdout=subprocess.DEVNULL, stderr=log)
        running = Proxy(process, f"http://127.0.0.1:{port}", folder, config)
        try:
            yield running
        finally:
            running.stop()
            process.wait(timeout=15)


def stop(*proxies: Proxy) -> None:
    """Stop the lab's proxies all at once, rather than one after the other as their blocks end."""
    for each in proxies:
        each.stop()


@contextmanager
def serving(servers: Mapping[str, "MCPServer"]) -> Iterator[dict[str, dict[str, str]]]:
    """Each server over Streamable HTTP, on a free port, on a thread of the lab: the config entry of each, by name."""
    import uvicorn  # imported only now: the lab has said what it does
    from mcp.shared.exceptions import MCPDeprecationWarning

    # What goes wrong, on stderr; not the SDK's line per session and request (MCPServer sets that up).
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, force=True)
    # Log lines to a client are deprecated in the 2026-07-28 era; each proxy speaks the handshake era to them.
    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
    configs = {
        name: uvicorn.Config(
            server.streamable_http_app(), port=free_port(), log_level="warning", log_config=None, proxy_headers=False
        )
        for name, server in servers.items()
    }
    running = [uvicorn.Server(config) for config in configs.values()]

    async def serve_all() -> None:
        async with anyio.create_task_group() as group:
            for server in running:
                group.start_soon(server.serve)

    thread = Thread(target=anyio.run, args=(serve_all,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not all(server.started for server in running):
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the lab's backends did not start")
        time.sleep(0.02)
    try:
        yield {name: {"url": f"http://127.0.0.1:{config.port}/mcp"} for name, config in configs.items()}
    finally:
        for server in running:
            server.should_exit = True
        thread.join(timeout=15)


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


def wait_for(condition: Callable[[], Any], timeout: float = 10) -> Any:
    """`until`, for a lab's own thread: poll `condition` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while not (outcome := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for the proxy")
        time.sleep(0.05)
    return outcome


# -- the host, and its model ---------------------------------------------------


async def listed(client: "Client") -> list["Tool"]:
    return (await client.list_tools()).tools


def shown(tools: list["Tool"]) -> str:
    """What the model reads of the tools: each one's name and description."""
    return "; ".join(f"{tool.name}: {tool.description}" for tool in tools) or "no tool"


async def the_model_calls(client: "Client", name: str, tools: list["Tool"]) -> str:
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
    answer = text_of(result)
    call = f"{name}({', '.join(shown_as)})"
    who = f"the model calls {call}" if tool is not None else f"the host calls {call} by name"
    return f"{who}: {'refused: ' if result.is_error else ''}{answer}"


def text_of(result: Any) -> str:
    """The text blocks of a tool's result (`CallToolResult`), one per line."""
    from mcp_types import TextContent

    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def report_loot(proxy: Proxy) -> str | None:
    """What the attacker's server received; what the attack got, if anything."""
    loot = proxy.loot()
    print(f"   the attacker's server received: {', '.join(repr(notes) for notes in loot) if loot else 'nothing'}")
    return "the attacker's server received the user's ~/.ssh/id_rsa" if FILES["~/.ssh/id_rsa"] in loot else None


def the_operator_reviews(proxy: Proxy, lines: int) -> None:
    """The operator runs `pins`: print its first `lines` lines of diff, the change they are asked to approve."""
    print(f"   the operator runs `python -m {LESSON}.server --config {proxy.config} pins` and reads the diff:")
    output = proxy.operator_runs("pins")
    diff = output[output.index("  --- approved") :].splitlines()  # below the header, which says when it was seen
    for line in diff[:lines]:
        print(f"     {line.removeprefix('  ')}")
    if len(diff) > lines:
        print(f"     ... ({len(diff) - lines} more lines)")


def verdict(got: str | None, blocked_by: str | None = None, how: str | None = None) -> None:
    """The last line of each half of a lab: what the attacker got, or, if nothing, what stopped them and how.

    A vulnerable variant has nothing that stops the attack: if the attacker got nothing there, the lab is broken.
    """
    if got:
        print(f"   ATTACK SUCCEEDED: {got}")
    elif blocked_by and how:
        print(f"   ATTACK BLOCKED by {blocked_by}: {how}")
    else:
        raise RuntimeError("the attack failed against the vulnerable variant: the lab is broken")
