"""docs/production.md, run for real: each of its console commands prints what the page shows.

The page runs lesson 03 as replicas: a throwaway PostgreSQL (initdb and pg_ctl), two authorization
servers and two of production's MCP servers sharing it, HAProxy in front with the page's haproxy.cfg,
the lesson's client through the balancer, a draft that outlives the replica it was started at, a
refresh forced by editing the token file, a --stateless server, and a key rotation. Here its commands
run again, in the page's order, in one bash that stays up (support/console.py, as tests/test_readme.py
runs the README), and what each prints is compared with the page line by line, a `…` line standing for
lines the page leaves out. Only what the page says changes from run to run is set aside, in both:
dates and times, key ids (and the key material beside them), and how long pg_ctl waited (its dots).

Where: on free loopback ports, written back as the page's (5432, 9000-9002, 8091-8093, 8095), so that
this runs beside other tests; the cluster in a temporary directory, written back as /tmp/pgdemo; a home
directory of its own (the handle key, the client's logins). createdb is told the cluster's port in
PGPORT (5432 is its default), the authorization servers the balancer's resource URL (`--resource`: their
default is port 8095's), the client the balancer's URL and a free callback port.

What stands in for what:
- A server the page starts with `&`, or in a terminal of its own (the --stateless one), is started from
  this process with the words the terminal expands its command to, its log in a file; the next command
  runs once it answers /healthz, as a reader waits for it. What the servers of one block print shows
  under the block's last command: each server's log, whole, in the order they started.
- HAProxy runs with the page's haproxy.cfg, as the page says, before the client's first command.
- The client's commands run in this process (support/in_process_client.py), the same typer `cli`
  against the real balancer, alice consenting where the page has the user play her in the browser:
  what one prints is its stderr, then its stdout (the client prints its result last). Where its
  stdout goes into a pipe (`HANDLE=$(...)`), the rest of the pipeline runs in the terminal and reads
  that stdout from a file. rotate_key runs in this process too; `python -c` and curl in the terminal.
- Between the draft's calls the replica that served them stops (SIGTERM, as a deploy stops it), and it
  starts again before the token file is edited, as the page tells; each time the test waits until
  HAProxy's health check has seen it.
The `python -m pytest` command runs these very tests: it is listed as skipped, with that reason.

Skipped, with the reason, where Debian's postgresql or haproxy is not installed (.ci/run installs both).
tests/test_replicas.py starts the same deployment its own way, and runs the races.
"""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lesson03.tests.support import console, deployment, in_process_client, load_balancer, postgres, processes
from lesson03.tests.support.client_runs import ClientRun
from lesson03.tests.support.waiting import eventually

DOC = processes.REPOSITORY_ROOT / "docs" / "production.md"
README = processes.LESSON_DIR / "README.md"
ALL = console.commands(DOC.read_text())
BLOCKS = [console.commands(block[0]) for block in console.FENCE.finditer(DOC.read_text())]
LAST_OF_A_BLOCK = {sum(len(block) for block in BLOCKS[: at + 1]) - 1 for at in range(len(BLOCKS))}
HAPROXY_CFG = re.search(r"^```text\n(global\n.*?)^```$", DOC.read_text(), re.M | re.S)

DOC_PORTS = {  # the page's names -> its ports; each gets a free one here
    "postgres": 5432,
    "issuer": 9000,  # the balancer, in front of the authorization servers
    "as1": 9001,
    "as2": 9002,
    "rs1": 8091,
    "rs2": 8092,
    "stateless": 8093,
    "resource": 8095,  # the balancer, in front of the MCP servers
    "callback": 8096,  # the client's default redirect URI
}
DOC_DIRECTORY = "/tmp/pgdemo"  # noqa: S108 -- the page's cluster directory; the tests make one of their own
SERVERS = ("python -m 03-oauth-mcp.auth_server ", "python -m 03-oauth-mcp.production.server ")
CLIENT = "python -m 03-oauth-mcp.client "
PIPED_CLIENT = re.compile(r"python -m 03-oauth-mcp\.client (?P<words>[^|]*) \|")  # its stdout into a pipe
ROTATE_KEY = "python -m 03-oauth-mcp.auth_server.optional.rotate_key "
ROOT_ONLY = "runuser -u postgres -- "  # the page runs PostgreSQL as `postgres`, since it runs as root
DRAFT_STARTED = "HANDLE=$(python -m 03-oauth-mcp.client call start_draft"
DRAFT_GOES_ON = "text=finished at rs2."  # the call after the draft's replica stopped
TOKEN_EDITED = "['expires_at'] = 1"  # after its replica started again
NOT_RUN = {  # the start of a command -> why this test does not run it
    "python -m pytest 03-oauth-mcp": "it runs these very tests",
}
REQUESTS_PER_RUN = 4  # the page: the resource's metadata, then three MCP requests, the tool call last
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(,\d{3}|\+00:00)"), "<date>"),
    (re.compile(r"(?<![\w-])[\w-]{43}(?![\w-])"), "<key id>"),  # a kid; an EC key's x and y are as long
    (re.compile(r"start\.+ done"), "start… done"),  # pg_ctl: a dot for each second it waited
]
# The doc's HAProxy log-format: "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %HM %HP".
LOGGED = re.compile(r"^\S+ \[\S+\] (?P<frontend>\S+) \S+/(?P<server>\S+) \S+ (?P<status>\d+) \S+ \S+ (?P<method>\S+) ")


def why_not_run(command: console.Command) -> str | None:
    return next((reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None)


SKIPPED = [at for at, command in enumerate(ALL) if why_not_run(command)]
RUN = [at for at, command in enumerate(ALL) if not why_not_run(command)]


def index_of(start: str) -> int:
    return next(at for at, command in enumerate(ALL) if start in command.text)


def set_aside_volatile(lines: list[str] | tuple[str, ...]) -> list[str]:
    return console.set_aside(lines, VOLATILE)


@dataclass
class Site:
    """The reader's machine: the ports, a home, the cluster's directory, and what runs in other terminals."""

    home: Path
    cluster: Path  # /tmp/pgdemo, as the page calls it
    ports: dict[str, int]  # the page's names -> the ports the tests chose
    env: dict[str, str]  # the reader's shell's
    started: ExitStack
    servers: dict[int, processes.RunningServer] = field(default_factory=dict)  # by port
    commands: dict[int, list[str]] = field(default_factory=dict)  # the command each server was started with
    not_yet_shown: list[processes.RunningServer] = field(default_factory=list)  # started in this block
    balancer_log: Path | None = None
    marks: dict[int, int] = field(default_factory=dict)  # command -> how many requests HAProxy had logged before
    stopped: str = ""  # the replica stopped under the draft, as HAProxy names it

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def as_the_tests_run(self, text: str) -> str:
        for name, doc_port in DOC_PORTS.items():
            text = re.sub(rf"(?<![\w.]){doc_port}(?!\d)", str(self.ports[name]), text)
        return text.replace(DOC_DIRECTORY, str(self.cluster))

    def as_the_doc_shows(self, lines: list[str]) -> list[str]:
        """`lines`, what changes set aside, with the tests' ports and directory written as the page's."""
        lines = set_aside_volatile(lines)
        for name, port in self.ports.items():
            lines = [re.sub(rf"(?<![\d.]){port}(?!\d)", str(DOC_PORTS[name]), line) for line in lines]
        return [line.replace(str(self.cluster), DOC_DIRECTORY) for line in lines]

    def start_server(self, command: list[str]) -> processes.RunningServer:
        """`command`, as the reader's shell would run it in the background, healthy; its output in a file."""
        port = int(command[command.index("--addr") + 1].rpartition(":")[2])
        # Append: see processes.start_process. Closed with the others, by `started`.
        log = self.started.enter_context(tempfile.TemporaryFile("a+"))  # noqa: SIM115
        process = subprocess.Popen(
            command, cwd=processes.REPOSITORY_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        server = processes.RunningServer(process, f"http://127.0.0.1:{port}", log)
        self.started.callback(server.stop)
        processes.wait_until_healthy(server)
        self.servers[port], self.commands[port] = server, command
        return server

    def start_balancer(self) -> None:
        """`haproxy -db -f haproxy.cfg`, the page's configuration, until it sends requests to every server."""
        assert HAPROXY_CFG, "docs/production.md has no haproxy.cfg"
        configuration, self.balancer_log = self.home.parent / "haproxy.cfg", self.home.parent / "haproxy.log"
        configuration.write_text(self.as_the_tests_run(HAPROXY_CFG[1]))
        log = self.started.enter_context(self.balancer_log.open("w"))
        haproxy = subprocess.Popen([load_balancer.haproxy(), "-db", "-f", str(configuration)], stdout=log, stderr=log)

        def stop() -> None:
            haproxy.terminate()
            haproxy.wait(timeout=10)

        self.started.callback(stop)
        pools = [
            load_balancer.Pool("auth", {name: self.url(name) for name in ("as1", "as2")}, port=self.ports["issuer"]),
            load_balancer.Pool("mcp", {name: self.url(name) for name in ("rs1", "rs2")}, port=self.ports["resource"]),
        ]
        balancer = load_balancer.LoadBalancer({pool.name: pool for pool in pools}, self.balancer_log)
        balancer.wait_until_every_server_answers()

    def balancer_said(self) -> str:
        return self.balancer_log.read_text() if self.balancer_log else ""

    def requests(self) -> list[re.Match[str]]:
        """What HAProxy sent to the MCP servers, oldest first (its own health checks are not logged)."""
        logged = (LOGGED.match(line) for line in self.balancer_said().splitlines())
        return [request for request in logged if request and request["frontend"] == "mcp"]

    def logged_so_far(self) -> int:
        """How many requests HAProxy has logged, once its log has stopped growing: it writes a request's line
        as the response ends, which may be a moment after the client has read it."""
        if self.balancer_log is None:
            return 0
        sizes = [-1]

        def settled() -> bool:
            sizes.append(self.balancer_log.stat().st_size)
            return sizes[-1] == sizes[-2]

        eventually(settled, 10, "HAProxy's log settling")
        return len(self.requests())

    def requests_of(self, at: int) -> list[re.Match[str]]:
        return self.requests()[self.marks[at] : self.marks.get(at + 1)]

    def stop_the_drafts_replica(self) -> None:
        """Stop the replica that served the draft's tool calls so far, once HAProxy has logged them."""
        draft = index_of(DRAFT_STARTED)
        eventually(lambda: len(self.requests()[self.marks[draft] :]) >= 2 * REQUESTS_PER_RUN, 10, "the draft's calls")
        self.stopped = self.requests()[self.marks[draft] + REQUESTS_PER_RUN - 1]["server"]
        self.servers[self.ports[self.stopped]].stop()
        eventually(lambda: f"mcp_servers/{self.stopped} is DOWN" in self.balancer_said(), 30, "HAProxy seeing it go")

    def start_the_drafts_replica_again(self) -> None:
        self.start_server(self.commands[self.ports[self.stopped]])

        def back() -> bool:
            said = self.balancer_said()
            return f"mcp_servers/{self.stopped} is UP" in said[said.index(f"mcp_servers/{self.stopped} is DOWN") :]

        eventually(back, 30, "HAProxy seeing it back")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    try:
        deployment.check_available()
    except deployment.Unavailable as reason:
        pytest.skip(f"{reason}: docs/production.md's walk-through needs it")
    if shutil.which("bash") is None or shutil.which("curl") is None:
        pytest.skip("docs/production.md's examples need bash and curl")
    home = tmp_path_factory.mktemp("production-doc") / "home"
    home.mkdir()
    prefix, owner = postgres.as_cluster_owner()
    base = Path(tempfile.mkdtemp(prefix="mcp-workshop-pgdemo-"))  # short: the socket's path must fit in 107 bytes
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)  # initdb makes the cluster's directory as `postgres`
    cluster = base / "pgdemo"
    ports = {name: processes.free_port() for name in DOC_PORTS}
    state = home / ".local" / "state"
    env = console.environment(HOME=str(home), XDG_STATE_HOME=str(state), PGPORT=str(ports["postgres"]))
    try:
        with ExitStack() as started:
            yield Site(home, cluster, ports, env, started)
    finally:
        if (cluster / "data" / "postmaster.pid").exists():
            stop = [str(postgres.binaries() / "pg_ctl"), "-D", str(cluster / "data"), "-m", "immediate", "-w", "stop"]
            subprocess.run([*prefix, *stop], capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def printed(site: Site) -> Iterator[console.Walkthrough]:
    """What each command prints: each run in the page's order when its test comes."""
    terminal = console.Terminal(shutil.which("bash"), processes.REPOSITORY_ROOT, site.env)
    as_root = os.geteuid() == 0

    def expanded(words: str) -> list[str]:
        """A command's `words`, as the terminal's bash expands them ($DB, $HANDLE, ~, quotes)."""
        return terminal.run(f"printf '%s\\n' {site.as_the_tests_run(words)}")

    def server(at: int) -> list[str]:
        program = ALL[at].text.split()[:3]  # python -m 03-oauth-mcp.<module>
        command = [*program, *expanded(ALL[at].text.removeprefix(" ".join(program)).removesuffix("&"))]
        if command[2].endswith(".auth_server"):  # their default resource is the page's port, not the balancer's
            command += ["--resource", f"{site.url('resource')}/mcp"]
        site.not_yet_shown.append(site.start_server(command))
        if at not in LAST_OF_A_BLOCK:
            return []
        shown = [line for started in site.not_yet_shown for line in console.as_a_terminal_shows(started.logged())]
        site.not_yet_shown.clear()
        return shown

    def client(words: str) -> ClientRun:
        if site.balancer_log is None:  # the page's haproxy.cfg, run as it says, before the client's first run
            site.start_balancer()
        tokens = site.home / ".local" / "state" / "mcp-workshop" / "oauth-tokens.json"
        where = ["--url", f"{site.url('resource')}/mcp", "--callback-port", str(site.ports["callback"])]
        where += ["--token-file", str(tokens), "--no-browser"]  # the browser: alice, played over HTTP
        return in_process_client.run_with_user("client", [*where, *expanded(words)])

    def rotate_key(at: int) -> list[str]:
        done = in_process_client.run_cli("auth_server.optional.rotate_key", *expanded(ALL[at].text[len(ROTATE_KEY) :]))
        return console.as_a_terminal_shows(done.stderr + done.stdout)

    def in_the_terminal(at: int) -> list[str]:
        text, printed = ALL[at].text, []
        if piped := PIPED_CLIENT.search(text):  # the client runs here, the rest of the pipeline reads its stdout
            run = client(piped["words"])
            stdout = site.home.parent / f"stdout-{at}"
            stdout.write_text(run.stdout)
            text, printed = text.replace(piped[0], f"cat {stdout} |"), console.as_a_terminal_shows(run.stderr)
        text = site.as_the_tests_run(text)
        if not as_root:  # a reader who is not root runs PostgreSQL as themselves
            text = text.replace(ROOT_ONLY, "")
        return printed + terminal.run(text)

    def run(at: int) -> list[str]:
        text = ALL[at].text
        if DRAFT_GOES_ON in text:
            site.stop_the_drafts_replica()
        if TOKEN_EDITED in text:
            site.start_the_drafts_replica_again()
        site.marks[at] = site.logged_so_far()
        if text.startswith(SERVERS):
            return server(at)
        if text.startswith(CLIENT):
            run = client(text[len(CLIENT) :])
            return console.as_a_terminal_shows(run.stderr + run.stdout)
        if text.startswith(ROTATE_KEY):
            return rotate_key(at)
        return in_the_terminal(at)

    walkthrough = console.Walkthrough(
        ALL,
        terminal,
        lambda at: ALL[at].text,
        lambda at: lambda: run(at),  # every command goes through `run`, which runs it where it belongs
        lambda at: None,
        lambda at: why_not_run(ALL[at]) is not None,
    )
    try:
        yield walkthrough
    finally:
        terminal.close()


def name(at: int) -> str:
    return f"{at:02d} {' '.join(ALL[at].text.split()[:5])}"


@pytest.mark.parametrize("at", RUN, ids=[name(at) for at in RUN])
def test_each_command_prints_what_the_doc_shows(at: int, printed: console.Walkthrough, site: Site) -> None:
    shown = set_aside_volatile(ALL[at].shown)
    output = site.as_the_doc_shows(printed[at])
    assert console.as_shown(shown, output) == shown, ALL[at].text


@pytest.mark.parametrize("at", SKIPPED, ids=[name(at) for at in SKIPPED])
def test_a_command_not_run_here_says_why(at: int) -> None:
    """Listed, so that a run's summary shows each command of the page that no test runs, and why."""
    pytest.skip(f"{ALL[at].text.splitlines()[0]}: {why_not_run(ALL[at])}")


def test_the_draft_outlives_the_replica_it_was_started_at(printed: console.Walkthrough, site: Site) -> None:
    """As the page says: each run of the client sends four requests, so round robin sent the draft's first
    two tool calls to one replica; it stopped, and the other finished the draft."""
    printed[index_of("call publish_draft")]
    site.logged_so_far()
    runs = [index_of(DRAFT_STARTED), index_of("text=Begun while"), index_of(DRAFT_GOES_ON), index_of("publish_draft")]
    served = [[request["server"] for request in site.requests_of(at)] for at in runs]
    assert [len(servers) for servers in served] == [REQUESTS_PER_RUN] * 4, served
    assert served[0][-1] == served[1][-1] == site.stopped, served
    assert site.stopped not in served[2] + served[3], served


def test_every_command_is_run_or_says_why_not() -> None:
    """Each stand-in is for a command the page has, in the order the page tells."""
    assert sum(len(block) for block in BLOCKS) == len(ALL)
    assert index_of(DRAFT_STARTED) < index_of(DRAFT_GOES_ON) < index_of(TOKEN_EDITED)
    assert any(command.text.startswith(ROTATE_KEY) for command in ALL)
    assert sum(command.text.startswith(SERVERS) for command in ALL) == 5
    for start in NOT_RUN:
        assert any(command.text.startswith(start) for command in ALL), start
    assert "run `haproxy -db -f haproxy.cfg`" in DOC.read_text() and HAPROXY_CFG


def test_the_readmes_replica_commands_are_the_docs() -> None:
    """Lesson 03's README runs the replicas in short, with the page's commands and outputs: its test skips
    them, since this one runs them. Its one command more starts HAProxy, as the page says in words."""
    replicas = [command for command in console.commands(README.read_text()) if command.heading == "Run it as replicas"]
    assert len(replicas) >= 6
    for command in replicas:
        if command.text.startswith("haproxy -db -f haproxy.cfg"):
            continue
        same = [ours for ours in ALL if ours.text == command.text]
        assert same, command.text
        assert not command.shown or command.shown == same[0].shown, command.text
