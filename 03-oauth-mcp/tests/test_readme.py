"""Every console example of the README, run for real: each command prints what the README shows.

The README's outputs were pasted from real runs. Here each command runs again, in the README's order and
in one shell that stays up, as in a reader's terminal (a login, `$DEMO` and `field()` carry over), and
what it prints is compared with the README, line by line (a `…` line stands for lines the README leaves
out). An edited output fails, and so does a command that starts printing something else. Only what
changes from run to run is set aside, in both: dates, times, process ids, ports, the home directory,
client ids, key ids, token ids, `state`, codes and PKCE challenges (the README says so).

The reader's other terminals have stand-ins. The authorization server, the upstream API and the MCP
server are this module's processes, on free ports, in a home directory of their own; what such a
command prints is that process's log. The document host and the authorization server restarted to
trust it start when the README gets to them. Where the README has the user approve in a browser,
`browser_user.consent` plays alice; where it approves with curl in a second terminal, that terminal
runs the README's curl commands, with the URL the client printed pasted in. A command that needs what
the suite does not have, or that runs these very tests, is listed as skipped with its reason.
"""

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from lesson03.tests.support import console, processes
from lesson03.tests.support.browser_user import consent
from lesson03.tests.support.client_runs import AUTHORIZATION_URL

README = processes.LESSON_DIR / "README.md"
ALL = console.commands(README.read_text())

# The commands a reader leaves running, each in a terminal of its own: this module's processes stand in.
AUTH_SERVER = "python -m 03-oauth-mcp.auth_server --upstream http://127.0.0.1:8097"
UPSTREAM = "python -m 03-oauth-mcp.upstream"
SERVER = "python -m 03-oauth-mcp.server --transport http"
DOCUMENT_HOST = "python -m 03-oauth-mcp.cimd"
TRUSTING_DOCUMENTS = (
    f"{AUTH_SERVER} --cimd-allow-host 127.0.0.1 --cimd-ca-file ~/.local/state/mcp-workshop/client-document/ca.pem"
)
# The consent approved with curl: the client waits in the first terminal, curl runs in a second.
HEADLESS = "Approve the consent without a browser"
HEADLESS_LOGIN = "python -m 03-oauth-mcp.client --no-browser login"
PASTED_URL = "URL='"  # how the second terminal starts: the URL the client printed, pasted

NOT_RUN_UNDER = {  # a heading -> why none of the commands under it runs here
    "Run it as replicas": (
        "needs PostgreSQL and HAProxy; tests/test_production_doc.py runs these commands, as docs/production.md has them"
    ),
    "Enterprise-Managed Authorization: sign in once, at the company's identity provider": (
        "a sign-in at the company's IdP, with an authorization server started with --trusted-idp;"
        " tests/test_enterprise.py runs this flow"
    ),
}
NOT_RUN = {  # the start of a command -> why this test does not run it
    "make test LESSON=03": "it runs these very tests",
    "python -m pytest 03-oauth-mcp": "it runs these very tests",
}
README_PORTS = {"auth": 9000, "mcp": 8095, "upstream": 8097, "callback": 8096, "document": 8443}
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(,\d{3}|\+00:00)"), "<date>"),
    (re.compile(r"^date: .*$"), "date: <date>"),
    (re.compile(r"process \[\d+\]"), "process [<pid>]"),
    (re.compile(r"\b1[789]\d{8}\b"), "<time>"),  # exp, iat, expires_at
    (re.compile(r"(?<=[?&])(state|code|code_challenge)=[^&\s]+"), r"\1=…"),
    (re.compile(r"(?<![\w-])[\w-]{43}(?![\w-])"), "<key id>"),
    (re.compile(r"(?<![\w-])[\w-]{22}(?![\w-])"), "<client id>"),  # a client registered at /register
    (re.compile(r"(jti\W+)[\w-]{16}\b"), r"\1<token id>"),
]


def why_not_run(command: console.Command) -> str | None:
    return NOT_RUN_UNDER.get(command.heading) or next(
        (reason for start, reason in NOT_RUN.items() if command.text.startswith(start)), None
    )


SKIPPED = [(at, reason) for at, command in enumerate(ALL) if (reason := why_not_run(command))]
RUN = [at for at, command in enumerate(ALL) if not why_not_run(command)]
STANDING = {AUTH_SERVER, UPSTREAM, SERVER, DOCUMENT_HOST, TRUSTING_DOCUMENTS}  # still printing: … after
SECOND_TERMINAL = [at for at in RUN if ALL[at].heading == HEADLESS and ALL[at].text != HEADLESS_LOGIN]


def set_aside_volatile(lines: list[str] | tuple[str, ...]) -> list[str]:
    return console.set_aside(lines, VOLATILE)


@dataclass
class Lesson:
    """The reader's machine: a home directory, the processes in the other terminals, their ports."""

    home: Path
    env: dict[str, str]
    ports: dict[str, int]  # the README's names -> the ports the tests chose
    started: ExitStack
    auth: processes.RunningServer
    upstream: processes.RunningServer
    mcp: processes.RunningServer

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, module: str, *args: str, port: str, tls_ca: Path | None = None) -> processes.RunningServer:
        return self.started.enter_context(
            processes.start_process(module, *args, port=self.ports[port], env=self.env, tls_ca=tls_ca)
        )

    def as_the_readme_shows(self, lines: list[str]) -> list[str]:
        """`lines` with the tests' ports and home directory written as the README's."""
        for name, port in self.ports.items():
            lines = [re.sub(rf"(?<![\d.]){port}(?!\d)", str(README_PORTS[name]), line) for line in lines]
        return [line.replace(str(self.home), "/home/you") for line in lines]


@pytest.fixture(scope="module")
def lesson(tmp_path_factory) -> Iterator[Lesson]:
    home = tmp_path_factory.mktemp("readme") / "home"
    home.mkdir()
    state = str(home / ".local" / "state")  # the authorization server's default database lives here
    env = {"HOME": str(home), "XDG_STATE_HOME": state, "BROWSER": "true"}  # a browser that opens nothing
    ports = {name: processes.free_port() for name in README_PORTS}
    with ExitStack() as started:
        url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        upstream = started.enter_context(
            processes.start_process("upstream", "--issuer", url["auth"], port=ports["upstream"], env=env)
        )
        auth_args = ("--upstream", url["upstream"], "--resource", f"{url['mcp']}/mcp")
        auth = started.enter_context(processes.start_process("auth_server", *auth_args, port=ports["auth"], env=env))
        mcp_args = ("--transport", "http", "--issuer", url["auth"], "--upstream-url", f"{url['upstream']}/anything")
        mcp = started.enter_context(processes.start_process("server", *mcp_args, port=ports["mcp"], env=env))
        yield Lesson(home, env, ports, started, auth, upstream, mcp)


@pytest.fixture(scope="module")
def printed(lesson: Lesson) -> Iterator[console.Walkthrough]:
    """What each command prints: each run in the README's order when its test comes."""
    bash = shutil.which("bash")
    if bash is None or shutil.which("curl") is None:
        pytest.skip("the README's examples need bash and curl")
    env = console.environment(**lesson.env)
    first, second = (console.Terminal(bash, processes.REPOSITORY_ROOT, env) for _ in range(2))

    def rewrite(at: int) -> str:
        """The command as the reader types it, but for the tests' ports; the clients told where the MCP server
        and the issuer are, and which port the browser comes back to, as the README's defaults say."""
        text = ALL[at].text
        for name, readme_port in README_PORTS.items():
            text = re.sub(rf"127\.0\.0\.1:{readme_port}\b", f"127.0.0.1:{lesson.ports[name]}", text)
        where = f"--url {lesson.url('mcp')}/mcp"
        text = text.replace(
            "python -m 03-oauth-mcp.client ",
            f"python -m 03-oauth-mcp.client {where} --callback-port {lesson.ports['callback']} ",
        )
        return text.replace(
            "python -m 03-oauth-mcp.machine_client ",
            f"python -m 03-oauth-mcp.machine_client {where} --issuer {lesson.url('auth')} ",
        )

    def log_of(server: processes.RunningServer) -> list[str]:
        return console.as_a_terminal_shows(server.logged())

    def host_the_document() -> list[str]:
        ca = lesson.home / ".local" / "state" / "mcp-workshop" / "client-document" / "ca.pem"
        return log_of(
            lesson.start("cimd", "--callback-port", str(lesson.ports["callback"]), port="document", tls_ca=ca)
        )

    def restart_trusting_documents() -> list[str]:  # Ctrl-C in the authorization server's terminal, then again
        lesson.auth.stop()
        ca = lesson.home / ".local" / "state" / "mcp-workshop" / "client-document" / "ca.pem"
        trusting = ("--cimd-allow-host", "127.0.0.1", "--cimd-ca-file", str(ca))
        lesson.auth = lesson.start(
            "auth_server",
            "--upstream",
            lesson.url("upstream"),
            "--resource",
            f"{lesson.url('mcp')}/mcp",
            *trusting,
            port="auth",
        )
        return log_of(lesson.auth)

    stand_ins: dict[str, Callable[[], list[str]]] = {
        AUTH_SERVER: lambda: log_of(lesson.auth),
        UPSTREAM: lambda: log_of(lesson.upstream),
        SERVER: lambda: log_of(lesson.mcp),
        DOCUMENT_HOST: host_the_document,
        TRUSTING_DOCUMENTS: restart_trusting_documents,
    }

    def in_the_second_terminal(line: str) -> None:
        """The reader's second terminal, once the client has printed the URL: the README's curl commands."""
        if match := AUTHORIZATION_URL.search(line):
            for at in SECOND_TERMINAL:
                text = f"URL='{match[1]}'" if ALL[at].text.startswith(PASTED_URL) else rewrite(at)
                walkthrough.record(at, second.run(text))

    def at_the_browser(line: str) -> None:
        if match := AUTHORIZATION_URL.search(line):
            consent(match[1], "alice", "wonderland")

    def watch(at: int) -> Callable[[str], None] | None:
        if ALL[at].text == HEADLESS_LOGIN:
            return in_the_second_terminal
        return at_the_browser if any("Open this URL in a browser" in line for line in ALL[at].shown) else None

    walkthrough = console.Walkthrough(
        ALL,
        first,
        rewrite,
        lambda at: stand_ins.get(ALL[at].text),
        watch,
        lambda at: why_not_run(ALL[at]) is not None,
    )
    try:
        yield walkthrough
    finally:
        first.close()
        second.close()


def name(at: int) -> str:
    return f"{at:02d} {' '.join(ALL[at].text.split()[:5])}"


@pytest.mark.parametrize("at", RUN, ids=[name(at) for at in RUN])
def test_each_command_prints_what_the_readme_shows(at: int, printed: console.Walkthrough, lesson: Lesson) -> None:
    command = ALL[at]
    shown = set_aside_volatile(command.shown)
    output = set_aside_volatile(lesson.as_the_readme_shows(printed[at]))
    if command.text in STANDING:  # a server goes on printing as it serves: the README shows how it starts
        shown = [*shown, console.ELIDED]
    assert console.as_shown(shown, output) == shown, command.text


@pytest.mark.parametrize("at", [at for at, _ in SKIPPED], ids=[name(at) for at, _ in SKIPPED])
def test_a_command_not_run_here_says_why(at: int) -> None:
    """Listed, so that a run's summary shows each command of the README that no test runs, and why."""
    pytest.skip(f"{ALL[at].text.splitlines()[0]}: {why_not_run(ALL[at])}")


def test_every_example_is_run_or_says_why_not() -> None:
    """Nothing slips through: each console command is run here or has a reason not to be, every stand-in
    is for a command the README has, and the learner path's every step that runs something shows output."""
    texts = {command.text for command in ALL}
    assert STANDING | {HEADLESS_LOGIN} <= texts
    assert any(text.startswith(PASTED_URL) for text in texts) and len(SECOND_TERMINAL) >= 5
    for start in NOT_RUN:
        assert any(text.startswith(start) for text in texts), start
    headings = {command.heading for command in ALL}
    assert set(NOT_RUN_UNDER) <= headings
    learner_path = console.commands(console.section(README.read_text(), "Learner path"))
    assert len(learner_path) >= 9 and all(command.shown for command in learner_path)


def test_the_readme_shows_the_missing_steps_of_issue_21() -> None:
    """The steps a reader once had to guess are written out, each as a command that runs: forcing expiry,
    approving consent with curl, a metadata document end to end, and the replicas' balancer configuration."""
    texts = [command.text for command in ALL]
    assert any("['expires_at'] = 1" in text for text in texts)
    assert any("csrf_token=$(field csrf_token)" in text and "decision=approve" in text for text in texts)
    assert {DOCUMENT_HOST, TRUSTING_DOCUMENTS} <= set(texts)
    assert any("--client-metadata-url https://127.0.0.1:8443/client.json login" in text for text in texts)
    assert "docs/production.md#the-balancers-configuration-haproxycfg" in README.read_text()
    assert "numbered" not in README.read_text()  # --verbose narrates its steps, unnumbered


def test_callback_port_0_with_a_metadata_document_is_a_usage_error(tmp_path: Path) -> None:
    """A metadata document lists fixed redirect URIs, and `--callback-port 0` picks a new port for each login:
    the authorization server could only show the user an error page. So it is a usage error (exit 2), in
    either order, before anything is sent or stored. (The README runs it the other way round, and a login
    with the document's own port.)"""
    token_file = tmp_path / "tokens.json"
    document = "--client-metadata-url=https://127.0.0.1:8443/client.json"
    done = processes.run_cli("client", "--token-file", str(token_file), document, "--callback-port", "0", "login")
    assert done.returncode == 2, done.stderr
    assert "Error: Invalid value for --client-metadata-url: --callback-port 0 picks a new port" in done.stderr
    assert not token_file.exists()
