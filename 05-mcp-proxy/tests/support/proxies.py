"""Lesson 05's proxy, started for a test: `python -m 05-mcp-proxy.server --config <written for the test>`.

Each proxy gets its own folder for its config and pins file, a free port, and options that make
recovery fast enough to test: a lost backend is noticed within a third of a second and retried
within half a second. A test can override any option, e.g. `start_proxy(servers, pinTools=False)`,
and add command-line flags, e.g. `start_proxy(servers, flags=("--max-streams", "2"))`.
"""

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import processes

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
    """The proxy with `servers` as its backends, healthy: every backend has had its first try."""
    with tempfile.TemporaryDirectory() as scratch:
        config_path, pins_path = Path(scratch) / "config.json", Path(scratch) / "pins.json"
        proxy = {"options": {**FAST, **options}} | ({"baseURL": base_url} if base_url else {})
        config_path.write_text(json.dumps({"mcpProxy": proxy, "mcpServers": servers}))
        extra = ("--config", str(config_path), "--pins", str(pins_path), "--log-level", log_level, *flags)
        with processes.start_process(f"{processes.LESSON}.server", *extra, env=env) as server:
            yield RunningProxy(server.process, server.base_url, server.log_path, config_path, pins_path)
