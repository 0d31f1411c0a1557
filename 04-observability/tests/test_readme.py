"""Every console example of the README, run for real: each command prints what the README shows.

The README's outputs were pasted from real runs. Here each command runs again, in order and in one
shell as a reader runs them, and what it prints is compared with the README, line by line (a `…` line
stands for lines the README leaves out). An edited output fails, and so does a command that starts
printing something else. Only what changes from run to run is set aside, in both (the README says
so): dates, process ids, ports, trace and span ids, durations and the histograms' sums, and httpx2's
version. Where the README shows a whole output, ids are not merely set aside but numbered in order of
appearance, so the shape of the trace must be the same: which span is whose parent, one trace id.

The shared `echo_upstream` and `server` stand in for the commands a reader leaves running in their
own terminals: what such a command prints is that process's log, and 8085 and 8084 are their ports.
The Prometheus example restarts the server with `OTEL_METRICS_EXPORTER=console,prometheus`: this
module starts that one, and the commands of that section talk to it. A command that needs what the
suite does not have, or runs for minutes, or runs these very tests, is in `NOT_RUN` with its reason.

A client command over HTTP of which the README shows only the output (none of the lines the client
writes on stderr: its trace id, spans, metrics, an error) runs in the test process, the client's own
`cli` against the server the README's command talks to (`in_process_output`), with no Python process
to start. Every other command runs for real, in the shell: one whose stderr, exit code or spawned
stdio server the README shows, and every command that is not the lesson's client.
"""

import re
import shutil
from collections.abc import Iterator

import pytest

from lesson04.tests.support import console, in_process_client, processes

README = processes.LESSON_DIR / "README.md"
ALL = console.commands(README.read_text())
UPSTREAM = "python -m 04-observability.upstream"
SERVER = "python -m 04-observability.server --transport http"
PROMETHEUS_SERVER = f"OTEL_METRICS_EXPORTER=console,prometheus {SERVER}"
PROMETHEUS = "Prometheus: scraping `/metrics`"  # the section whose commands talk to PROMETHEUS_SERVER
PHOENIX = "Arize Phoenix: a trace viewer from pip"
CLIENT = f"{processes.LESSON}.client"
ON_STDERR = ("error: ", "trace_id: ", "span ", "metric ")  # how each line the client writes on stderr starts
NOT_RUN = {  # the start of a command -> why this test does not run it
    "python -m 04-observability.benchmark": "it runs for a minute or more, and measures the machine: no two runs agree",
    "prometheus ": "it needs a Prometheus server (Debian's package), and runs until stopped",
    "make test LESSON=04": "it runs these very tests",
}
NOT_RUN_IN = {PHOENIX: "the Phoenix example needs Phoenix (an ~850 MB install from pip) running; its firewall, root"}
COMMANDS = [c for c in ALL if c.heading not in NOT_RUN_IN and not c.text.startswith(tuple(NOT_RUN))]
VOLATILE = [
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "), "<date> "),
    (re.compile(r"Started server process \[\d+\]"), "Started server process [<pid>]"),
    (re.compile(r"python-httpx2/[\d.]+"), "python-httpx2/<version>"),
    (re.compile(r"\b\d+\.\d+ms\b"), "<duration>"),
    (re.compile(r"\bsum=\d+\.\d+s\b"), "sum=<seconds>"),
    (re.compile(r"^(\w+_sum\{.*\}) [\d.e+-]+$"), r"\1 <seconds>"),
]
TRACE_ID, SPAN_ID = re.compile(r"\b[0-9a-f]{32}\b"), re.compile(r"\b[0-9a-f]{16}\b")


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture(scope="module")
def prometheus_server() -> Iterator[processes.RunningServer]:
    """The server as the Prometheus example starts it: its metrics also on `/metrics`."""
    with processes.start_http_server(env={"OTEL_METRICS_EXPORTER": "console,prometheus"}) as running:
        yield running


@pytest.fixture(scope="module")
def ports(echo_upstream, server, prometheus_server) -> dict[int, str]:
    """Each port the tests' processes listen on -> the README's."""
    return {
        port_of(echo_upstream.base_url): "8085",
        port_of(server.base_url): "8084",
        port_of(prometheus_server.base_url): "8084",
    }


def why_not_run(command: console.Command) -> str | None:
    if command.heading in NOT_RUN_IN:
        return NOT_RUN_IN[command.heading]
    return next((reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None)


SKIPPED = [(command, reason) for command in ALL if (reason := why_not_run(command))]


def set_aside_volatile(lines, ports: dict[int, str] | None = None, number_ids: bool = False) -> list[str]:
    """`lines` with what changes between runs replaced; with `ports`, each written as the README's.

    Ids are numbered in order of first appearance with `number_ids`, else all written alike.
    """
    for port, readme_port in (ports or {}).items():
        lines = [re.sub(rf"(?<![\d.]){port}(?!\d)", readme_port, line) for line in lines]
    for pattern, stand_in in VOLATILE:
        lines = [pattern.sub(stand_in, line) for line in lines]
    for pattern, kind in ((TRACE_ID, "trace"), (SPAN_ID, "span")):
        numbers: dict[str, int] = {}

        def stand_in(match: re.Match, kind=kind, numbers=numbers) -> str:
            if not number_ids:
                return f"<{kind} id>"
            return f"<{kind} {numbers.setdefault(match[0], len(numbers) + 1)}>"

        lines = [pattern.sub(stand_in, line) for line in lines]
    return list(lines)


def in_process_output(command: console.Command, text: str) -> list[str] | None:
    """What a client command over HTTP prints, run in this process, if the README shows only its output
    (none of its stderr lines, `ON_STDERR`); None for a command to run in the shell."""
    called = console.python_module(text)
    if called is None or called[0] != CLIENT or "--url" not in called[1]:
        return None
    if any(line.startswith(ON_STDERR) for line in command.shown):
        return None
    result = in_process_client.run_client(*called[1])
    return console.as_a_terminal_shows(result.stdout + result.stderr)  # stderr last: where the README elides it


@pytest.fixture(scope="module")
def printed(echo_upstream, server, prometheus_server) -> console.Examples:
    """What each command prints: each run when its test comes, once however often the README shows it."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None or shutil.which("grep") is None:
        pytest.skip("the README's examples need bash, curl and grep")

    def rewrite(command: console.Command) -> str:
        target = prometheus_server if command.heading == PROMETHEUS else server
        return command.text.replace("http://127.0.0.1:8084", target.base_url)

    def log_of(process: processes.RunningServer):
        return lambda: console.as_a_terminal_shows(process.logged())

    stand_ins = {UPSTREAM: log_of(echo_upstream), SERVER: log_of(server), PROMETHEUS_SERVER: log_of(prometheus_server)}
    return console.Examples(COMMANDS, bash, processes.REPOSITORY_ROOT, rewrite, stand_ins, in_process_output)


def name(at: int, command: console.Command) -> str:
    return f"{at:02d} {' '.join(command.text.split()[:5])}"


@pytest.mark.parametrize("at", range(len(COMMANDS)), ids=[name(at, c) for at, c in enumerate(COMMANDS)])
def test_each_command_prints_what_the_readme_shows(at: int, printed: console.Examples, ports: dict[int, str]) -> None:
    command = COMMANDS[at]
    whole = console.ELIDED not in command.shown
    shown = set_aside_volatile(command.shown, number_ids=whole)
    output = set_aside_volatile(printed[at], ports, number_ids=whole)
    if command.text in (UPSTREAM, SERVER, PROMETHEUS_SERVER):  # it goes on printing as it serves
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
    for heading in NOT_RUN_IN:
        assert any(c.heading == heading for c in ALL), heading
    texts = {c.text for c in COMMANDS}
    assert {UPSTREAM, SERVER, PROMETHEUS_SERVER} <= texts
    assert any(c.heading == PROMETHEUS and "/metrics" in c.text for c in COMMANDS)
    learner_path = console.commands(console.section(README.read_text(), "Learner path"))
    assert len(learner_path) >= 5 and all(c.shown for c in learner_path)  # every step's checkpoint is output
