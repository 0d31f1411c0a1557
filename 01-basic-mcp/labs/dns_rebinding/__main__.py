"""DNS rebinding, run twice: against a server that does not check Host and Origin, and against lesson 01's.

    python -m 01-basic-mcp.labs.dns_rebinding

You open a page on http://attacker.example. Its script waits until the attacker's DNS server
answers the next lookup of attacker.example with 127.0.0.1, then fetches
http://attacker.example:<port>/mcp: the browser connects to the MCP server on your machine, and
since the page talks to its own origin, it lets the script read every answer. The lab plays the
page: it sends the requests the browser would send after the rebinding, to 127.0.0.1, with the
Host and Origin headers the browser would put on them. Everything runs on 127.0.0.1 and stops at
the end.
"""

from importlib import import_module

import httpx2

LESSON = "01-basic-mcp"
stage = import_module(f"{LESSON}.labs.stage")

MODERN = "2026-07-28"  # each request stands alone: what a script's fetch() most easily sends
PAGE = "attacker.example"


def page_sends(server: "stage.Server", method: str, params: dict, *, host: str, origin: str) -> str:
    """A `fetch()` from the page's script: one JSON-RPC request; what the script reads of the answer."""
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    headers = {
        "Host": host,
        "Origin": origin,
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
        **({"Mcp-Name": params["name"]} if "name" in params else {}),
    }
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}
    answer = httpx2.post(server.mcp_url, json=message, headers=headers, timeout=10)
    if answer.status_code != 200:
        return f"HTTP {answer.status_code} {answer.text}"
    result = answer.json()["result"]
    if method == "tools/list":
        return ", ".join(tool["name"] for tool in result["tools"])
    return result["content"][0]["text"]


def play_the_page(server: "stage.Server") -> list[str]:
    """The page's requests after the rebinding; what it read of the answers (none is an HTTP error)."""
    port = server.base_url.rpartition(":")[2]
    rebound = {"host": f"{PAGE}:{port}", "origin": f"http://{PAGE}:{port}"}  # the page's own origin, now 127.0.0.1
    listed = page_sends(server, "tools/list", {}, **rebound)
    print(f"   the page lists the tools: {listed}")
    call = {"name": "echo_message", "arguments": {"message": "read by a web page"}}
    called = page_sends(server, "tools/call", call, **rebound)
    print(f"   the page calls echo_message: {called}")
    return [answer for answer in (listed, called) if not answer.startswith("HTTP ")]


def main() -> None:
    print(
        f"DNS rebinding: a page from http://{PAGE}, its name now resolving to 127.0.0.1, calls your MCP server.",
        flush=True,  # at once: the servers take a second to start
    )
    with (
        stage.started(f"{LESSON}.labs.dns_rebinding.vulnerable") as unchecked,
        stage.started(f"{LESSON}.server", "-t", "http") as lesson,
    ):
        print("1. Lesson 01's server with the SDK's DNS-rebinding protection off (labs/dns_rebinding/vulnerable.py):")
        read = play_the_page(unchecked.wait_until_healthy())
        stage.verdict("a web page listed and called the tools of the server on your machine" if read else None)
        print("2. Lesson 01's server: the SDK checks Host and Origin (server/http.py, streamable_http_app(host=...)):")
        read = play_the_page(lesson.wait_until_healthy())
        # Without the rebinding, to http://127.0.0.1:<port>: the Host is right, the Origin gives the page away.
        straight = {"host": lesson.base_url.removeprefix("http://"), "origin": f"http://{PAGE}"}
        answer = page_sends(lesson, "tools/list", {}, **straight)
        print(f"   the page, sending to 127.0.0.1 instead: {answer}")
        read += [] if answer.startswith("HTTP ") else [answer]
        stage.verdict(
            "the page read the server's answers" if read else None,
            "the SDK's Host and Origin checks (server/http.py)",
            "every request of the page refused before it reached a tool: a foreign Host (421), a foreign Origin (403)",
        )


if __name__ == "__main__":
    main()
