"""Every console example of the README, run for real: each command prints what the README shows.

The README's outputs were pasted from real runs. Here each command runs again, in order and in one
shell as a reader runs them, and what it prints is compared with the README, line by line (a `…` line
stands for lines the README leaves out). An edited output fails, and so does a command that starts
printing something else. Only what changes from run to run is set aside, in both: dates, process ids,
ports, and httpx2's version in the `User-Agent` the upstream echoes (the README says so).

The shared `echo_upstream` and `server` stand in for the two commands a reader leaves running in their
own terminals: what such a command prints is that process's log, and 8082 and 8081 are their ports.
"With the upstream stopped" needs a server whose upstream is down: this module serves that one in the
test process (its own process is not what the command shows), with an upstream URL where nothing
listens. A command that needs what the suite does not have, or that runs these very tests, is in
`NOT_RUN` with its reason.

A client command over HTTP that the README shows succeed prints only its output, the subject here:
it runs in the test process (`in_process_output`), the client's own `cli` against the shared server,
with no Python process to start. A command whose exit code, stderr or spawned stdio server the
README shows runs for real, in the shell, as does every command that is not the lesson's client.
"""

import re
import shutil
from collections.abc import Iterator

import pytest

from lesson02.tests.support import console, in_process, in_process_client, processes

README = processes.LESSON_DIR / "README.md"
ALL = console.commands(README.read_text())
UPSTREAM = "python -m 02-basic-token-passthrough.upstream"
SERVER = "python -m 02-basic-token-passthrough.server --transport http"
CLIENT = f"{processes.LESSON}.client"
UPSTREAM_STOPPED = (  # the one command the README runs after Ctrl-C in the upstream's terminal
    "python -m 02-basic-token-passthrough.client --url http://127.0.0.1:8081/mcp --token my-secret-token-42"
    " call make_authenticated_request message=hi"
)
NOT_RUN = {  # the start of a command -> why this test does not run it
    "npx -y @modelcontextprotocol/inspector": "the Inspector needs Node 22 and the npm registry (offline by default)",
    "make test LESSON=02": "it runs these very tests",
}
COMMANDS = [c for c in ALL if not c.text.startswith(tuple(NOT_RUN))]
VOLATILE = [
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "), "<date> "),
    (re.compile(r"Started server process \[\d+\]"), "Started server process [<pid>]"),
    (re.compile(r"python-httpx2/[\d.]+"), "python-httpx2/<version>"),
]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture(scope="module")
def server_without_upstream() -> Iterator[tuple[in_process.ServerInThread, str]]:
    """The HTTP server with its upstream down, and that upstream's URL: a free port where nothing listens."""
    upstream_url = f"http://127.0.0.1:{processes.free_port()}/anything"
    with in_process.mcp_server_in_thread(upstream_url) as running:
        yield running, upstream_url


@pytest.fixture(scope="module")
def ports(echo_upstream, server, server_without_upstream) -> dict[int, str]:
    """Each port the tests' processes listen on (or, for the upstream that is down, do not) -> the README's."""
    lonely_server, missing_upstream_url = server_without_upstream
    return {
        port_of(echo_upstream.base_url): "8082",
        port_of(server.base_url): "8081",
        port_of(lonely_server.base_url): "8081",
        port_of(missing_upstream_url): "8082",
    }


def why_not_run(command: console.Command) -> str | None:
    return next((reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None)


SKIPPED = [(command, reason) for command in ALL if (reason := why_not_run(command))]


def set_aside_volatile(lines: list[str] | tuple[str, ...], ports: dict[int, str] | None = None) -> list[str]:
    """`lines` with what changes between runs replaced; with `ports`, each written as the README's."""
    for port, readme_port in (ports or {}).items():
        lines = [re.sub(rf"(?<![\d.]){port}(?!\d)", readme_port, line) for line in lines]
    for pattern, stand_in in VOLATILE:
        lines = [pattern.sub(stand_in, line) for line in lines]
    return list(lines)


def in_process_output(command: console.Command, text: str) -> list[str] | None:
    """What a client command over HTTP prints, run in this process, if the README shows only its output (no
    `error:` line, which the client writes on stderr); None for a command to run in the shell."""
    called = console.python_module(text)
    if called is None or called[0] != CLIENT or "--url" not in called[1]:
        return None
    if any(line.startswith("error: ") for line in command.shown):
        return None
    result = in_process_client.run_client(*called[1])
    return console.as_a_terminal_shows(result.stdout + result.stderr)  # stderr: none, or to fail the comparison


@pytest.fixture(scope="module")
def printed(echo_upstream, server, server_without_upstream) -> console.Examples:
    """What each command prints: each run when its test comes, once however often the README shows it."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("the README's examples need bash")

    def rewrite(command: console.Command) -> str:
        target = server_without_upstream[0] if command.text == UPSTREAM_STOPPED else server
        return command.text.replace("http://127.0.0.1:8081", target.base_url)

    def log_of(process: processes.RunningServer):
        return lambda: console.as_a_terminal_shows(process.log_path.read_text())

    stand_ins = {UPSTREAM: log_of(echo_upstream), SERVER: log_of(server)}
    return console.Examples(COMMANDS, bash, processes.REPOSITORY_ROOT, rewrite, stand_ins, in_process_output)


def name(at: int, command: console.Command) -> str:
    return f"{at:02d} {' '.join(command.text.split()[:5])}"


@pytest.mark.parametrize("at", range(len(COMMANDS)), ids=[name(at, c) for at, c in enumerate(COMMANDS)])
def test_each_command_prints_what_the_readme_shows(at: int, printed: console.Examples, ports: dict[int, str]) -> None:
    command = COMMANDS[at]
    shown = set_aside_volatile(command.shown)
    output = set_aside_volatile(printed[at], ports)
    if command.text in (UPSTREAM, SERVER):  # a server goes on printing as it serves: the README shows how it starts
        shown = [*shown, console.ELIDED]
    assert console.as_shown(shown, output) == shown, command.text


@pytest.mark.parametrize("at", range(len(SKIPPED)), ids=[name(at, c) for at, (c, _) in enumerate(SKIPPED)])
def test_a_command_not_run_here_says_why(at: int) -> None:
    """Listed, so that a run's summary shows each command of the README that no test runs, and why."""
    command, reason = SKIPPED[at]
    pytest.skip(f"{command.text.splitlines()[0]}: {reason}")


def test_every_example_is_run_or_says_why_not() -> None:
    """Nothing slips through: each console command is run here or has a reason not to be, and no reason
    outlives the command it is for."""
    for start in NOT_RUN:
        assert any(c.text.startswith(start) for c in ALL), start
    texts = {c.text for c in COMMANDS}
    assert {UPSTREAM, SERVER, UPSTREAM_STOPPED} <= texts
    learner_path = console.commands(console.section(README.read_text(), "Learner path"))
    assert len(learner_path) >= 5 and all(c.shown for c in learner_path)  # every step's checkpoint is output
