"""Lesson 05's proxy, started for a test, with a config written for it: as a process, or on a thread of the test.

`start_proxy` runs `python -m 05-mcp-proxy.server --config <written for the test>`: for a test
about the process (its signals, its shutdown, its log) and for the proxies that tests share as
users reach them. `proxy_in_thread` serves the same app (`create_http_app`, on uvicorn) from a
thread of the test process, on a real port, for a test about what the proxy does; its backends
are real processes all the same.

Each proxy gets its own folder for its config and pins file, a free port, and options that make
recovery fast enough to test: a lost backend is noticed within a third of a second and retried
within half a second. A test can override any option, e.g. `start_proxy(servers, pinTools=False)`,
and add command-line flags, e.g. `start_proxy(servers, flags=("--max-streams", "2"))`.
"""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...server.__main__ import operator_command
from ...server.config import load_config
from ...server.http import create_http_app
from ...server.pinning import PinStore
from ...server.proxy import Proxy
from ...server.settings import ProxySettings
from ...server.streams import DEFAULT_LIMITS, StreamEndingServer, StreamLimits
from . import in_process, processes

FAST = {"healthInterval": 0.3, "timeout": 5, "reconnect": {"initialDelay": 0.1, "maxDelay": 0.5}}
# For proxies a whole module shares: a failing backend retried every few seconds, not twice a second.
PATIENT = {"reconnect": {"initialDelay": 2, "maxDelay": 5}}


@dataclass
class RunningProxy(processes.RunningServer):
    config_path: Path | None = None
    pins_path: Path | None = None

    @property
    def operator_options(self) -> tuple[str, ...]:
        """`--config ... --pins ...`: what `pins` and `approve` need to find this proxy's files."""
        return ("--config", str(self.config_path), "--pins", str(self.pins_path))

    def states(self) -> dict[str, str]:
        return {name: backend["state"] for name, backend in self.health()["backends"].items()}


@dataclass
class ProxyInThread(RunningProxy):
    """A proxy served from a thread of the test process: no process of its own to signal or stop."""

    def stop(self) -> str:
        raise NotImplementedError("a proxy on a thread stops as its `with` block ends")


@contextmanager
def written_config(servers: dict[str, Any], base_url: str | None, options: dict[str, Any]) -> Iterator[Path]:
    """A folder of the proxy's own, holding its `config.json` (FAST, and `options` over it)."""
    with tempfile.TemporaryDirectory() as scratch:
        proxy = {"options": {**FAST, **options}} | ({"baseURL": base_url} if base_url else {})
        (Path(scratch) / "config.json").write_text(json.dumps({"mcpProxy": proxy, "mcpServers": servers}))
        yield Path(scratch)


@contextmanager
def start_proxy(
    servers: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    base_url: str | None = None,
    log_level: str = "info",
    flags: tuple[str, ...] = (),
    **options: Any,
) -> Iterator[RunningProxy]:
    """The proxy's process with `servers` as its backends, healthy: every backend has had its first try."""
    with written_config(servers, base_url, options) as folder:
        config_path, pins_path = folder / "config.json", folder / "pins.json"
        extra = ("--config", str(config_path), "--pins", str(pins_path), "--log-level", log_level, *flags)
        with processes.start_process(f"{processes.LESSON}.server", *extra, env=env) as server:
            yield RunningProxy(server.process, server.base_url, server.log_path, config_path, pins_path)


@contextmanager
def environment(variables: dict[str, str] | None) -> Iterator[None]:
    """`variables` in this process's environment while the proxy runs: where its config's ${VAR} are read."""
    saved = {name: os.environ.get(name) for name in variables or {}}
    os.environ.update(variables or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def proxy_in_thread(
    servers: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    base_url: str | None = None,
    log_level: str = "info",
    limits: StreamLimits = DEFAULT_LIMITS,
    **options: Any,
) -> Iterator[ProxyInThread]:
    """`start_proxy`'s proxy, built as `python -m 05-mcp-proxy.server` builds it and served from a thread here.

    `limits` stand for `--max-streams` and `--stream-timeout`. Its log (`logged()`) holds what the
    proxy's own code logs, at `log_level`: not what the SDK, uvicorn or its backends write.
    """
    with written_config(servers, base_url, options) as folder, environment(env):
        config_path, pins_path, log_path = folder / "config.json", folder / "pins.json", folder / "proxy.log"
        settings = ProxySettings.from_config(load_config(config_path))
        proxy = Proxy(settings, config_path, PinStore(pins_path), operator_command(config_path, pins_path))
        app = create_http_app(proxy, host="127.0.0.1", limits=limits)
        port = processes.free_port()
        with in_process.logging_to(log_path, log_level, f"{processes.LESSON}.server") as tag, ExitStack() as serving:
            try:
                serving.enter_context(
                    in_process.serve(
                        app, port, server_class=in_process.ending_streams(StreamEndingServer, app), tag=tag
                    )
                )
            except RuntimeError as error:
                raise RuntimeError(f"{error}:\n{log_path.read_text()}") from None
            running = ProxyInThread(None, f"http://127.0.0.1:{port}", log_path, config_path, pins_path)
            try:
                yield running
            finally:
                if "http" in running.__dict__:
                    running.http.close()
