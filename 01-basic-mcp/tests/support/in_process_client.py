"""The lesson's client command, run inside the test process with typer's `CliRunner`: the same `cli` object
`python -m 01-basic-mcp.client` runs, without a Python process to start for it (a second of CPU each).

For a test that reads what a good command prints over HTTP. A test of an exit code and its stderr
message runs the real process (`processes.run_cli`): there the process is the subject. So does a
command that spawns the stdio server: the transport is the subject.

The command sets up the process as its `main` would, and this process is shared by every test, so
`run_client` puts back what the command changes: the root logger, whose handlers `configure_logging`
replaces (pytest's own among them).
"""

import logging
import subprocess

from typer.testing import CliRunner

from ...client.__main__ import cli
from . import processes


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m 01-basic-mcp.client ...` to completion, in this process: exit code, stdout, stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for handler in handlers:  # taken off, not closed: the command's basicConfig(force=True) would close them
        root.removeHandler(handler)
    try:
        result = CliRunner().invoke(
            cli,
            list(args),
            prog_name=f"python -m {processes.LESSON}.client",
            env={"COLUMNS": "200"},
            catch_exceptions=False,  # one the command did not turn into an exit code: the test's failure
        )
    finally:
        for handler in list(root.handlers):  # the command's own, writing to the runner's stderr
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    # Bytes as written, decoded as a terminal would: CliRunner's `.stdout` would turn "\r\n" into "\n".
    stdout, stderr = result.stdout_bytes.decode(), result.stderr_bytes.decode()
    return subprocess.CompletedProcess(["client", *args], result.exit_code, stdout, stderr)
