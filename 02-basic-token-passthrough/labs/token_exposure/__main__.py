"""Token exposure through logs and errors, run twice: against a server that writes the caller's token in its
debug log and in its errors, and against lesson 02's, at the same log level.

    python -m 02-basic-token-passthrough.labs.token_exposure

Alice calls `make_authenticated_request`, which forwards her token to the upstream, and the upstream
refuses it (401). The upstream's failure is the moment a token leaks: someone turns the log level up
to see why, and the code that runs then writes what it sent. Both servers run with `--log-level
debug`. The attacker is whoever reads what the servers wrote: their log (a file, a log collector, a
support ticket), and the error Alice's client shows, which her model reads and her host keeps in its
transcript. The lab reads both, and looks for Alice's token. The upstream runs in the lab's own
process; the servers run as processes of their own. Everything runs on 127.0.0.1 and stops at the end.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from threading import Thread

import httpx2

LESSON = "02-basic-token-passthrough"
stage = import_module(f"{LESSON}.labs.stage")
mask_token = import_module(f"{LESSON}.safe_output").mask_token

TOKEN = "alice-secret-token-0042"  # noqa: S105 -- Alice's, made for the lab: what the attacker is after
MODERN = "2026-07-28"  # one POST per call, no session: what a client sends, in full


@contextmanager
def refusing_upstream() -> Iterator[str]:
    """An upstream, on a thread of the lab, that refuses every token (401): the URL to call it at."""

    class Refuses(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass  # the lab prints what it found, nothing else

    with ThreadingHTTPServer(("127.0.0.1", 0), Refuses) as http:
        Thread(target=http.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{http.server_address[1]}/anything"
        finally:
            http.shutdown()


def alice_calls(server: "stage.Server") -> str:
    """Alice's call, as her client sends it: the text of the error her client shows."""
    tool = "make_authenticated_request"
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    params = {"name": tool, "arguments": {"message": "hello upstream"}, "_meta": meta}
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    answer = httpx2.post(server.mcp_url, json=call, headers=headers, timeout=10)
    text = answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):
        text = next(line for line in text.splitlines() if line.startswith("data: ")).removeprefix("data: ")
    result = json.loads(text)["result"]
    return " ".join(block["text"] for block in result["content"])


def message_of(line: str) -> str:
    """A log line without its time, level, logger and request id: what the code wrote."""
    return line.partition("] ")[2] or line


def alice_calls_and_the_attacker_reads(server: "stage.Server", upstream: str) -> str | None:
    """Alice's call, then what the attacker reads: where her whole token appears, if anywhere."""
    shown = {upstream: "<upstream>", TOKEN: TOKEN}  # the upstream's port changes every run
    error = alice_calls(server)
    for real, printed in shown.items():
        error = error.replace(real, printed)
    print(f"   Alice's call fails, and her client shows: {error}")
    log = server.logged().splitlines()
    leaked = [message_of(line).replace(upstream, "<upstream>") for line in log if TOKEN in line]
    masked = [message_of(line).replace(upstream, "<upstream>") for line in log if mask_token(TOKEN) in line]
    if leaked:
        print(f"   the server's debug log: Alice's token in {len(leaked)} lines, first: {leaked[0]}")
    else:
        print(f"   the server's debug log: Alice's token in no line; masked ({mask_token(TOKEN)}) in: {masked[0]}")
    places = [where for where, found in [("the error", TOKEN in error), ("the log", leaked)] if found]
    return f"Alice's whole token, in {' and in '.join(places)}" if places else None


def main() -> None:
    print(
        "Token exposure: Alice's call forwards her token to an upstream that refuses it (HTTP 401); "
        "each server runs with --log-level debug.",
        flush=True,  # at once: the servers take a second to start
    )
    debug = ("--log-level", "debug")
    vulnerable = f"{LESSON}.labs.token_exposure.vulnerable"
    with (
        refusing_upstream() as upstream,
        stage.started(vulnerable, "--upstream-url", upstream, *debug) as leaky,
        stage.started(f"{LESSON}.server", "-t", "http", "--upstream-url", upstream, *debug) as lesson,
    ):
        print("1. A server that logs what it sends, and puts it in its errors (labs/token_exposure/vulnerable.py):")
        stage.verdict(alice_calls_and_the_attacker_reads(leaky.wait_until_healthy(), upstream))
        print("2. Lesson 02 at debug level: the token masked wherever it is written (safe_output.py mask_token):")
        stage.verdict(
            alice_calls_and_the_attacker_reads(lesson.wait_until_healthy(), upstream),
            "masking (safe_output.py mask_token, server/app.py)",
            "the token appears in neither the error nor any line of the debug log, only its masked form",
        )


if __name__ == "__main__":
    main()
