"""`make demo`: every finished lesson's client against its server, end to end, offline.

Each step prints the command an attendee would type, its real output, and
whether it did what it should. The exit code is non-zero if any step did not.
Servers run on their default ports when those are free, on free ports if not.
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 20.0
failures: list[str] = []
COLOUR = sys.stdout.isatty()


def paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if COLOUR else text


def section(title: str) -> None:
    print("\n" + paint(f"== {title} ==", "1"), flush=True)


def port_or_free(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def step(title: str, command: str, expect: str, exit_code: int = 0, consent_as: tuple[str, str] | None = None) -> str:
    """Run `python -m <command>`, show it, and check its exit code and that `expect` is in its output; its stdout.

    With `consent_as=(user, password)`, play that user whenever the command prints an
    authorization URL: open the login-and-consent page, fill it in, approve.
    """
    print(f"\n-- {title}\n$ python -m {command}", flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", *shlex.split(command)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    errors: list[str] = []

    def watch_stderr() -> None:
        for line in process.stderr:
            errors.append(line)
            if consent_as and (url := re.search(r"(http://\S+/authorize\?\S+)", line)):
                errors.append(f"   (the tour logs in as {consent_as[0]} and approves)\n")
                approve(url.group(1), *consent_as)

    watcher = threading.Thread(target=watch_stderr, daemon=True)
    watcher.start()
    stdout = process.stdout.read()
    returncode = process.wait(timeout=60)
    watcher.join(timeout=10)
    output = "".join(errors) + stdout
    print(output.rstrip())
    if returncode == exit_code and expect in output:
        print(paint("ok", "32") + f" (exit {returncode})")
    else:
        print(paint("FAILED", "31") + f": wanted exit {exit_code} and {expect!r} in the output")
        failures.append(title)
    return stdout


def approve(authorization_url: str, username: str, password: str) -> None:
    """Be the user on the authorization server's page: fill in the form, approve, follow the redirect."""
    with httpx2.Client(timeout=10) as browser:
        page = browser.get(authorization_url).text
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        answer = browser.post(
            httpx2.URL(authorization_url).join("/authorize"),
            data={**hidden, "username": username, "password": password, "decision": "approve"},
        )
        browser.get(answer.headers["location"])  # back to the client's loopback callback


@contextmanager
def background(command: str, health_url: str) -> Iterator[None]:
    """Start a server, wait until its health check answers, stop it afterwards."""
    print(f"\n-- start: python -m {command} &", flush=True)
    argv = shlex.split(command)
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a chatty server never blocks on it
        process = subprocess.Popen([sys.executable, "-m", *argv], cwd=ROOT, stderr=log, text=True)
        try:
            deadline = time.monotonic() + DEADLINE
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{argv[0]} exited with {process.returncode}: {log.read()}")
                try:
                    if httpx2.get(health_url, timeout=1).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not answer {health_url} within {DEADLINE}s")
                time.sleep(0.05)
            print(f"   ready: {health_url}")
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


def lesson_01() -> None:
    section("Lesson 01: a basic MCP server over stdio and Streamable HTTP")
    client = "01-basic-mcp.client"
    step("list the tools (the client spawns the server over stdio)", f"{client} tools", expect="add_numbers")
    step("call echo_message over stdio", f"{client} call echo_message 'message=Hello, MCP'", expect="Echo: Hello, MCP")
    addr = f"127.0.0.1:{port_or_free(8080)}"
    with background(f"01-basic-mcp.server --transport http --addr {addr}", health_url=f"http://{addr}/healthz"):
        url = f"http://{addr}/mcp"
        step(
            "call add_numbers over Streamable HTTP",
            f"{client} --url {url} call add_numbers num1=2 num2=3",
            expect="5.0",
        )
        step(
            "an unknown tool: the server's error, exit 1",
            f"{client} --url {url} call subtract",
            expect="Unknown tool: subtract",
            exit_code=1,
        )


def lesson_02() -> None:
    section("Lesson 02: the caller's token in the request context, passed through to an upstream")
    client = "02-basic-token-passthrough.client --token workshop-demo-token-1234"
    masked = "wor****"
    upstream = f"127.0.0.1:{port_or_free(8082)}"
    addr = f"127.0.0.1:{port_or_free(8081)}"
    with (
        background(f"02-basic-token-passthrough.upstream --addr {upstream}", health_url=f"http://{upstream}/healthz"),
        background(
            f"02-basic-token-passthrough.server --transport http --addr {addr} --upstream-url http://{upstream}/anything",
            health_url=f"http://{addr}/healthz",
        ),
    ):
        url = f"http://{addr}/mcp"
        step(
            "the token from the Authorization header, masked",
            f"{client} --url {url} call show_auth_token",
            expect=masked,
        )
        step(
            "the token forwarded to the echo upstream",
            f"{client} --url {url} call make_authenticated_request 'message=hello upstream'",
            expect=f'"Authorization": "Bearer {masked}"',
        )
        step(
            "no token: a tool error saying how to send one",
            f"02-basic-token-passthrough.client --url {url} call show_auth_token",
            expect="No token",
            exit_code=1,
        )
    step("over stdio the token travels as API_KEY", f"{client} call show_auth_token", expect=masked)


def lesson_03() -> None:
    section("Lesson 03: an OAuth 2.1 protected MCP server, its authorization server, a PKCE client")
    state = Path(tempfile.mkdtemp(prefix="tour-03-"))
    issuer_addr = f"127.0.0.1:{port_or_free(9000)}"
    addr = f"127.0.0.1:{port_or_free(8095)}"
    upstream = f"127.0.0.1:{port_or_free(8097)}"
    idp = f"127.0.0.1:{port_or_free(9100)}"
    url, issuer = f"http://{addr}/mcp", f"http://{issuer_addr}"
    callback_port = port_or_free(8096)
    client = f"03-oauth-mcp.client --url {url} --token-file {state}/tokens.json --callback-port {callback_port}"
    with (
        background(
            f"03-oauth-mcp.auth_server --addr {issuer_addr} --db {state}/auth.db --resource {url}"
            f" --upstream http://{upstream} --trusted-idp http://{idp}=http://{idp}/jwks.json",
            health_url=f"{issuer}/healthz",
        ),
        background(
            f"03-oauth-mcp.enterprise.idp --addr {idp} --audience {issuer} --resource {url}",
            health_url=f"http://{idp}/healthz",
        ),
        background(
            f"03-oauth-mcp.upstream --addr {upstream} --issuer {issuer}",
            health_url=f"http://{upstream}/healthz",
        ),
        background(
            f"03-oauth-mcp.server --transport http --addr {addr} --issuer {issuer}"
            f" --upstream-url http://{upstream}/anything",
            health_url=f"http://{addr}/healthz",
        ),
    ):
        step(
            "log in as alice (401, discovery, registration, consent), then step up to write an entry",
            f"{client} --no-browser --verbose call create_entry 'title=First day' 'content=Hello OAuth'",
            expect='"title": "First day"',
            consent_as=("alice", "wonderland"),
        )
        step("the stored token: no login this time", f"{client} call list_entries", expect="Hello OAuth")
        step(
            "the upstream gets a token exchanged for it: alice, acted for by the MCP server",
            f"{client} call make_authenticated_request 'message=hello upstream'",
            expect='"sub": "journal-mcp-server"',
        )
        step(
            "a machine client: client credentials, no user",
            f"03-oauth-mcp.machine_client --url {url} --client-id journal-bot --client-secret dev-journal-bot-secret"
            f" --issuer {issuer} call whoami",
            expect='"subject": "journal-bot"',
        )
        public_keys = step(
            "a machine that signs with its own key (private_key_jwt): make a key pair, the public half for the admin",
            f"03-oauth-mcp.machine_client.new_key {state}/bot.jwk",
            expect='"kty": "EC"',
        )
        (state / "bot.jwks").write_text(public_keys)
        step(
            "the administrator registers the machine with its public key, no secret",
            f"03-oauth-mcp.auth_server.optional.add_client --db {state}/auth.db --client-id journal-key-bot"
            f" --jwks {state}/bot.jwks --scope journal:read",
            expect="private_key_jwt",
        )
        step(
            "the machine signs an assertion for each token request (the SDK's PrivateKeyJWTOAuthProvider)",
            f"03-oauth-mcp.machine_client --url {url} --client-id journal-key-bot --client-key {state}/bot.jwk"
            f" --issuer {issuer} --verbose call whoami",
            expect='"subject": "journal-key-bot"',
        )
        step(
            "enterprise: alice signs in at the company's IdP; its ID-JAG becomes a token (no consent page)",
            f"03-oauth-mcp.enterprise.client --idp http://{idp} --idp-client-secret dev-idp-client-secret"
            f" --client-secret dev-enterprise-client-secret --issuer {issuer} --url {url}"
            f" --callback-port {callback_port} --no-browser --verbose call whoami",
            expect='"subject": "alice"',
            consent_as=("alice", "wonderland"),
        )
        step(
            "a token the server did not issue is refused",
            f"{client} --token forged call whoami",
            expect="401",
            exit_code=1,
        )
        step("log out: tokens revoked and forgotten", f"{client} logout", expect="Logged out")


def lesson_04() -> None:
    section("Lesson 04: OpenTelemetry traces, metrics and logs, from client to server to upstream")
    client = "04-observability.client --token workshop-demo-token-1234"
    upstream = f"127.0.0.1:{port_or_free(8085)}"
    addr = f"127.0.0.1:{port_or_free(8084)}"
    with (
        background(f"04-observability.upstream --addr {upstream}", health_url=f"http://{upstream}/healthz"),
        background(
            f"04-observability.server --transport http --addr {addr} --upstream-url http://{upstream}/anything",
            health_url=f"http://{addr}/healthz",
        ),
    ):
        url = f"http://{addr}/mcp"
        step(
            "one trace: the client prints its id, and the upstream receives it in a traceparent header",
            f"{client} --url {url} call make_authenticated_request 'message=hello upstream'",
            expect='"Traceparent": "00-',
        )
        step(
            "a failing tool: exit 1, and a trace id to look it up by",
            f"04-observability.client --url {url} call show_auth_token",
            expect="trace_id: ",
            exit_code=1,
        )
    step(
        "over stdio the server is the client's child: its SERVER span joins the client's trace",
        f"{client} call echo_message 'message=over stdio'",
        expect="SERVER 'tools/call echo_message'",
    )


def lesson_05() -> None:
    section("Lesson 05: an aggregating MCP proxy: lessons 01, 02 and 04 behind one endpoint")
    # Lesson 02 is an HTTP backend: it and its echo upstream run first. The proxy's own credential
    # for it comes from the environment, as the shipped config says (${WORKSHOP_TOKEN}).
    os.environ.setdefault("WORKSHOP_TOKEN", "workshop-demo-token-1234")
    upstream = f"127.0.0.1:{port_or_free(8082)}"
    lesson_02 = f"127.0.0.1:{port_or_free(8081)}"
    proxy = f"127.0.0.1:{port_or_free(9090)}"
    # The shipped config with lesson 02 wherever it runs now, and pins in a scratch folder.
    with tempfile.TemporaryDirectory(prefix="tour-05-") as scratch_dir:
        scratch = Path(scratch_dir)
        config = json.loads((ROOT / "05-mcp-proxy" / "config.json").read_text())
        config["mcpServers"]["passthrough"]["url"] = f"http://{lesson_02}/mcp"
        (scratch / "config.json").write_text(json.dumps(config, indent=2))
        tour_05(scratch, upstream, lesson_02, proxy)


def tour_05(scratch: Path, upstream: str, lesson_02: str, proxy: str) -> None:
    server = f"05-mcp-proxy.server --config {scratch}/config.json --pins {scratch}/pins.json"
    client = f"05-mcp-proxy.client --url http://{proxy}/mcp"
    with (
        background(f"02-basic-token-passthrough.upstream --addr {upstream}", health_url=f"http://{upstream}/healthz"),
        background(
            f"02-basic-token-passthrough.server --transport http --addr {lesson_02} "
            f"--upstream-url http://{upstream}/anything",
            health_url=f"http://{lesson_02}/healthz",
        ),
        background(f"{server} --addr {proxy}", health_url=f"http://{proxy}/healthz"),
    ):
        step("every backend's tools, grouped, names namespaced", f"{client} tools", expect="basic__add_numbers")
        step(
            "lesson 01's tool, over stdio behind the proxy",
            f"{client} call basic__add_numbers num1=2 num2=3",
            expect="5.0",
        )
        step(
            "lesson 02, over HTTP, gets the proxy's token for it, never the caller's",
            f"{client} --token my-own-caller-token-77 call passthrough__show_auth_token",
            expect="wor****",
        )
        step("each backend's state, from /healthz", f"{client} health", expect="basic            ready")
        step(
            "an unknown tool: the proxy's error, exit 1",
            f"{client} call basic__subtract",
            expect="Unknown tool: basic__subtract",
            exit_code=1,
        )
        step("the pinned tool definitions", f"{server} pins", expect="ok      basic/add_numbers")


LESSONS = [lesson_01, lesson_02, lesson_03, lesson_04, lesson_05]

if __name__ == "__main__":
    for lesson in LESSONS:
        lesson()
    if failures:
        print("\n" + paint(f"{len(failures)} step(s) failed: ", "31") + "; ".join(failures))
        sys.exit(1)
    print("\n" + paint("Every step of the tour worked.", "32"))
