"""Every console example of the README, run for real: each command prints what the README shows.

The README's outputs were pasted from real runs. Here each command runs again, in the README's order as a
reader runs them, and what it prints is compared with the README, line by line (a `…` line stands for
lines the README leaves out). An edited output fails, and so does a command that starts printing something
else. Only what changes from run to run is set aside, in both (the README's "Run it" says so): dates and
times, process ids, ports, session ids, httpx2's version, the checkout's folder, the order in which the
backends get ready, and whether a backend being retried reads `failed` or `connecting`.

One proxy serves the whole module: `python -m 05-mcp-proxy.server`, a process of its own as the reader's
is, with a copy of the shipped `config.json` (lesson 02 on a free port, and a 1 s health interval and a
2 s longest backoff, so that a backend's loss and return take seconds, not the defaults' tens of seconds).
It stands in for the README's `WORKSHOP_TOKEN=... python -m 05-mcp-proxy.server`: what that command prints
is the proxy's log. Lesson 02, its HTTP backend, is served from threads here; the README's commands that
start it, and the second proxy of "A rug pull, refused" (from a thread here too: what it answers is the
subject, not its process), are the test's to do, as is the `SIGHUP` a reader sends with `pgrep`, which
here goes to this proxy alone. What the README says in words (stop lesson 02's server) the test does
before the next command, and it waits as a reader waits: for the retry the README's output was taken in.

A command that succeeds, and of which the README shows only the output, runs in the test process: the
lesson's own typer `cli` (the client's, or the server's `pins` and `approve`) with typer's `CliRunner`,
against the proxy the README's command talks to, with no Python process to start. A command that fails
(an `error:` line, an exit code) runs for real, in the shell, as does every command that is not the
lesson's. A command that needs what the suite does not have, or runs these very tests, is in `NOT_RUN`
with its reason.
"""

import json
import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from lesson05.client.__main__ import cli as client_cli
from lesson05.server.__main__ import cli as server_cli
from lesson05.server.__main__ import default_pins, operator_command
from lesson05.server.config import load_config
from lesson05.server.http import create_http_app
from lesson05.server.pinning import PinStore
from lesson05.server.proxy import Proxy
from lesson05.server.settings import ProxySettings
from lesson05.server.streams import StreamEndingServer
from lesson05.tests.support import console, in_process, processes
from lesson05.tests.support.waiting import eventually

README = processes.LESSON_DIR / "README.md"
TEXT = README.read_text()
ALL = console.commands(TEXT)
README_TMP = "/tmp/"  # noqa: S108 -- the README's folder for its example files; the tests write in one of their own
CHECKOUT = "/root/mcp-workshop"  # the folder the README's outputs were taken in
PROXY = "WORKSHOP_TOKEN=workshop-demo-token-1234 python -m 05-mcp-proxy.server"
UPSTREAM = "python -m 02-basic-token-passthrough.upstream &"
LESSON_02 = "python -m 02-basic-token-passthrough.server --transport http &"
RUG_PROXY = "python -m 05-mcp-proxy.server --config /tmp/rug.json --addr 127.0.0.1:9091 &"
RELOAD = "kill -HUP $(pgrep -f 05-mcp-proxy.server)"
SHOWS_BAD_CONFIG = "cat /tmp/bad.json"  # the README shows the file; a reader writes it first, and so does this test
BACKEND_AWAY = "A backend goes away, and comes back"
RUG_PULL = "A rug pull, refused"
CLIENT, SERVER = f"{processes.LESSON}.client", f"{processes.LESSON}.server"
SILENT = ("sed -i", "mv ", "kill ")  # what prints nothing when it works, besides a process started with `&`
NOT_RUN = {  # the start of a command -> why this test does not run it
    "npx -y @modelcontextprotocol/inspector": "the Inspector needs Node 22 and the npm registry (offline by default)",
    "python3 -m venv /work/cache/mcp-proxy-venv": "a virtual environment for PyPI mcp-proxy, outside the repository",
    "/work/cache/mcp-proxy-venv/bin/pip install": "it downloads PyPI mcp-proxy: the suite runs offline",
    "python -m 05-mcp-proxy.benchmark": "it runs for minutes, and measures the machine: no two runs agree",
    "python -m pytest 05-mcp-proxy/tests": "it runs these very tests",
    "make test LESSON=05": "it runs these very tests",
}
COMMANDS = [c for c in ALL if not c.text.startswith(tuple(NOT_RUN))]
VOLATILE = [
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "), "<date> "),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\b"), "<time>"),
    (re.compile(r"^date: .*$", re.I), "date: <date>"),
    (re.compile(r"Started server process \[\d+\]"), "Started server process [<pid>]"),
    (re.compile(r"(session[ -]id:? )[0-9a-f]{32}$", re.I), r"\1<session id>"),
    (re.compile(r"python-httpx2/[\d.]+"), "python-httpx2/<version>"),
    # A backend being retried: `failed` between two attempts, `connecting` for the milliseconds of one.
    (re.compile(r"\b(?:failed|connecting) +(\d+ tools)"), r"<failed or connecting> \1"),
    (re.compile(r"is unavailable \((?:failed|connecting):"), "is unavailable (<failed or connecting>:"),
]
# The backends start together: between these two lines of the proxy's startup, their lines come in any order.
STARTING, STARTED = "StreamableHTTP session manager started", "Application startup complete."
RELOADED = "05-mcp-proxy.server.proxy: reloaded "  # the proxy's log line once a SIGHUP's config applies
LONGEST_PAUSE = "backend passthrough: reconnecting in 2s"  # the copy's longest backoff (`maxDelay`)


def why_not_run(command: console.Command) -> str | None:
    return next((reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None)


SKIPPED = [(command, reason) for command in ALL if (reason := why_not_run(command))]


def set_aside_volatile(lines, as_the_readmes: dict[str, str] | None = None) -> list[str]:
    """`lines` with what changes between runs replaced; first, with `as_the_readmes`, each of the test's folders
    and ports (`old -> new`) written as the README's."""
    for old, new in (as_the_readmes or {}).items():
        pattern = re.escape(old) + (r"(?!\d)" if old[-1].isdigit() else "")  # port 8081 is not in port 80810
        lines = [re.sub(pattern, new, line) for line in lines]
    for pattern, stand_in in VOLATILE:
        lines = [pattern.sub(stand_in, line) for line in lines]
    return in_start_order(list(lines))


def in_start_order(lines: list[str]) -> list[str]:
    """The proxy's startup with its backends' lines sorted, as they come in any order."""
    starting = [at for at, line in enumerate(lines) if line.endswith(STARTING)]
    started = [at for at, line in enumerate(lines) if line.endswith(STARTED)]
    if not starting or not started:
        return lines
    first, last = starting[0] + 1, started[0]
    return [*lines[:first], *sorted(lines[first:last]), *lines[last:]]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


class Lesson02:
    """Lesson 02's echo upstream and MCP server on free ports, each served from a thread here: the proxy's HTTP
    backend. The server stops and starts again on its port, as a reader stops and starts it in a terminal."""

    def __init__(self) -> None:
        self.port, self.upstream_port = processes.free_port(), processes.free_port()
        self.server: ExitStack | None = None

    @contextmanager
    def upstream(self) -> Iterator[None]:
        from lesson02.upstream.app import app

        with in_process.serve(app, self.upstream_port):
            yield

    def start(self) -> list[str]:
        """Started, unless it runs: what `python -m 02-basic-token-passthrough.server ... &` prints (nothing)."""
        from lesson02.server.app import create_server
        from lesson02.server.http import create_http_app as lesson_02_app
        from lesson02.server.streams import StreamEndingServer as Lesson02Server

        if self.server is None:
            app = lesson_02_app(create_server(f"http://127.0.0.1:{self.upstream_port}/anything"))
            ending = in_process.ending_streams(Lesson02Server, app)
            self.server = ExitStack()
            self.server.enter_context(in_process.serve(app, self.port, server_class=ending))
        return []

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


@pytest.fixture(scope="module")
def lesson_02() -> Iterator[Lesson02]:
    backend = Lesson02()
    with backend.upstream():
        backend.start()
        try:
            yield backend
        finally:
            backend.stop()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's `05-mcp-proxy/` folder, as far as its commands write in it: its config's copy, its pins."""
    return tmp_path_factory.mktemp("checkout")


@pytest.fixture(scope="module")
def proxy(lesson_02: Lesson02, checkout: Path) -> Iterator[processes.RunningServer]:
    """The README's proxy, as a process: the shipped config, copied (where `sed` edits it, and the pins file
    goes beside it), with lesson 02 where it listens and shorter waits."""
    config = json.loads((processes.LESSON_DIR / "config.json").read_text())
    config["mcpServers"]["passthrough"]["url"] = f"http://127.0.0.1:{lesson_02.port}/mcp"
    config["mcpProxy"]["options"] |= {"healthInterval": 1, "reconnect": {"maxDelay": 2}}
    (checkout / "config.json").write_text(json.dumps(config, indent=2))
    token = {"WORKSHOP_TOKEN": "workshop-demo-token-1234"}
    with processes.start_process(SERVER, "--config", str(checkout / "config.json"), env=token) as running:
        yield running


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's `/tmp`: `rug.json` and its pins go there, and `bad.json`, written as a reader writes it."""
    folder = tmp_path_factory.mktemp("tmp")
    shows = next(c for c in ALL if c.text == SHOWS_BAD_CONFIG)
    (folder / "bad.json").write_text("\n".join(shows.shown) + "\n")
    return folder


@pytest.fixture(scope="module")
def as_the_readmes(lesson_02: Lesson02, proxy: processes.RunningServer, checkout: Path, scratch: Path) -> dict:
    """Where the tests' processes are -> where the README's were: folders, then ports."""
    return {
        f"{scratch}/": README_TMP,
        f"{checkout}/": f"{CHECKOUT}/05-mcp-proxy/",
        f"127.0.0.1:{port_of(proxy.base_url)}": "127.0.0.1:9090",
        f"127.0.0.1:{lesson_02.port}": "127.0.0.1:8081",
        f"127.0.0.1:{lesson_02.upstream_port}": "127.0.0.1:8082",
    }


@contextmanager
def proxy_in_thread(config_path: Path, port: int) -> Iterator[processes.RunningServer]:
    """`python -m 05-mcp-proxy.server --config CONFIG`'s proxy, built as its command builds it (the pins file
    beside the config), served from a thread here on `port`."""
    settings = ProxySettings.from_config(load_config(config_path))
    pins = default_pins(config_path)
    app = create_http_app(Proxy(settings, config_path, PinStore(pins), operator_command(config_path, pins)))
    with in_process.serve(app, port, server_class=in_process.ending_streams(StreamEndingServer, app)):
        running = processes.RunningServer(None, f"http://127.0.0.1:{port}", Path(os.devnull))  # no log of its own
        try:
            yield running
        finally:
            running.http.close()


class ReadersWorld:
    """What the README's reader has, and does, around the commands: where each command goes in the tests'
    world, which ones this process runs or stands in for, and the steps the README gives in words."""

    def __init__(self, proxy: processes.RunningServer, lesson_02: Lesson02, checkout: Path, scratch: Path) -> None:
        self.proxy, self.lesson_02, self.checkout, self.scratch = proxy, lesson_02, checkout, scratch
        self.rug_port = processes.free_port()  # the second proxy's, known before it starts
        self.rug: processes.RunningServer | None = None
        self.later = ExitStack()  # what ends with the module: the second proxy
        self.stand_ins = {
            PROXY: lambda: console.as_a_terminal_shows(proxy.logged()),
            UPSTREAM: lambda: [],  # the `lesson_02` fixture started it
            LESSON_02: lesson_02.start,
            RUG_PROXY: self.start_rug_proxy,
            RELOAD: self.reload,
        }

    def rewrite(self, command: console.Command) -> str:
        """The text the shell runs: the tests' folders and ports for the README's."""
        text = command.text.replace(README_TMP, f"{self.scratch}/")
        text = text.replace("05-mcp-proxy/config.json", f"{self.checkout}/config.json")
        # The faulty backend by its full path: the second proxy, on a thread here, runs where pytest does.
        text = text.replace('["05-mcp-proxy/', f'["{processes.LESSON_DIR}/')
        text = text.replace("localhost:9090", f"localhost:{port_of(self.proxy.base_url)}")
        text = text.replace("http://127.0.0.1:9091/mcp", f"http://127.0.0.1:{self.rug_port}/mcp")
        called = console.python_module(command.text)
        if called and called[0] == CLIENT and "--url" not in called[1]:
            text = text.replace(f"-m {CLIENT}", f"-m {CLIENT} --url {self.proxy.mcp_url}", 1)
        if called and called[0] == SERVER and "--config" not in called[1]:
            text = text.replace(f"-m {SERVER}", f"-m {SERVER} --config {self.checkout}/config.json", 1)
        return text

    def in_process(self, command: console.Command, text: str) -> list[str] | None:
        """A command that succeeds, run in this process: the client's, or the server's `pins` and `approve`."""
        called = console.python_module(text)
        if called is None or any(line.startswith("error:") for line in command.shown):
            return None
        module, args = called
        if module == CLIENT or (module == SERVER and {"pins", "approve"} & set(args)):
            result = in_process.invoke(client_cli if module == CLIENT else server_cli, *args)
            return console.as_a_terminal_shows(result.stdout + result.stderr)
        return None

    def start_rug_proxy(self) -> list[str]:
        """`python -m 05-mcp-proxy.server --config /tmp/rug.json --addr 127.0.0.1:9091 &`: it prints nothing here."""
        self.rug = self.later.enter_context(proxy_in_thread(self.scratch / "rug.json", self.rug_port))
        return []

    def reload(self) -> list[str]:
        """`kill -HUP $(pgrep -f 05-mcp-proxy.server)`, to this module's proxy: done once its log says so."""
        reloads = self.proxy.logged().count(RELOADED)
        os.kill(self.proxy.process.pid, signal.SIGHUP)
        eventually(lambda: self.proxy.logged().count(RELOADED) > reloads, 10, "the config reloaded")
        return []

    def before(self, at: int) -> None:
        """What the reader does, or waits for, before command `at`, that the README says in words."""
        command = COMMANDS[at]
        if command.heading == BACKEND_AWAY:
            if at == next(i for i, c in enumerate(COMMANDS) if c.heading == BACKEND_AWAY):
                self.lesson_02.stop()  # "Stop lesson 02's server."
                eventually(lambda: self.passthrough() != "ready", 15, "the proxy noticing lesson 02 gone", 0.1)
            elif command.text == LESSON_02:  # started again while the proxy waits out its longest pause
                pauses = self.proxy.logged().count(LONGEST_PAUSE)
                eventually(lambda: self.proxy.logged().count(LONGEST_PAUSE) > pauses, 15, "the longest pause", 0.1)
            elif "mcp-workshop-proxy: ok" in command.shown:  # the proxy's next attempt finds it
                eventually(lambda: self.passthrough() == "ready", 15, "lesson 02 found again", 0.1)
        if command.heading == RUG_PULL and "call faulty__calc" in command.text:
            # The proxy re-lists the tools once told they changed, and reads the pins file every second.
            refused = any(line.startswith("error: Tool faulty__calc is refused") for line in command.shown)
            eventually(lambda: ("faulty__calc" in self.held()) == refused, 15, f"faulty__calc held: {refused}", 0.1)

    def passthrough(self) -> str:
        return self.proxy.health()["backends"]["passthrough"]["state"]

    def held(self) -> list[str]:
        return self.rug.health()["backends"]["faulty"]["held"]


@pytest.fixture(scope="module")
def printed(lesson_02, proxy, checkout, scratch) -> Iterator[console.Examples]:
    """What each command prints: each run when its test comes, in the README's order."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None or shutil.which("sed") is None:
        pytest.skip("the README's examples need bash, curl and sed")
    world = ReadersWorld(proxy, lesson_02, checkout, scratch)
    with world.later:
        yield console.Examples(
            COMMANDS,
            bash,
            processes.REPOSITORY_ROOT,
            world.rewrite,
            world.stand_ins,
            world.in_process,
            world.before,
        )


def name(at: int, command: console.Command) -> str:
    return f"{at:02d} {' '.join(command.text.split()[:5])}"


@pytest.mark.parametrize("at", range(len(COMMANDS)), ids=[name(at, c) for at, c in enumerate(COMMANDS)])
def test_each_command_prints_what_the_readme_shows(at: int, printed: console.Examples, as_the_readmes: dict) -> None:
    command = COMMANDS[at]
    shown = set_aside_volatile(command.shown)
    output = set_aside_volatile(printed[at], as_the_readmes)
    if command.text == PROXY:  # it goes on printing as it serves
        shown = [*shown, console.ELIDED]
    assert console.as_shown(shown, output) == shown, command.text


@pytest.mark.parametrize("at", range(len(SKIPPED)), ids=[name(at, c) for at, (c, _) in enumerate(SKIPPED)])
def test_a_command_not_run_here_says_why(at: int) -> None:
    """Listed, so that a run's summary shows each command of the README that no test runs, and why."""
    command, reason = SKIPPED[at]
    pytest.skip(f"{command.text.splitlines()[0]}: {reason}")


def test_every_example_is_run_or_says_why_not() -> None:
    """Nothing slips through: each console command is run here or has a reason not to be, no reason outlives
    the command it is for, and the learner path's every step that runs something shows what it prints."""
    for start in NOT_RUN:
        assert any(c.text.startswith(start) for c in ALL), start
    texts = {c.text for c in COMMANDS}
    assert {PROXY, UPSTREAM, LESSON_02, RUG_PROXY, RELOAD, SHOWS_BAD_CONFIG} <= texts
    assert [c.text for c in COMMANDS if c.heading == BACKEND_AWAY].count(LESSON_02) == 1
    assert any(c.text.startswith("SID=$(curl") for c in COMMANDS)
    learner_path = console.commands(console.section(TEXT, "Learner path"))
    assert len(learner_path) >= 12
    silent = [c for c in learner_path if c.text.endswith("&") or c.text.startswith(SILENT)]
    assert all(c.shown for c in learner_path if c not in silent)
    assert not any(c.shown for c in silent)
