"""DELIBERATELY VULNERABLE: lesson 01's HTTP server as the SDK and uvicorn serve it by default: no stream limits.

    python -m 01-basic-mcp.labs.open_streams.vulnerable --addr HOST:PORT

The SDK allows one server-to-client stream per session, but 10,000 sessions, and never ends a
stream itself; uvicorn accepts connections for as long as the process can open a file. So a
client that opens stream after stream, and holds them, runs the server out of file descriptors,
and from then on it answers no one. Lesson 01's server adds the missing limits
(server/streams.py). Do not use this one for anything but this lab.
"""

from importlib import import_module

variant = import_module("01-basic-mcp.labs.variant")


def main() -> None:
    flaw = "lesson 01's server with no stream limits: streams held open until it runs out of files"
    options = variant.vulnerable_options("open_streams", flaw, "--addr")
    # Imported only now: run bare, the variant refuses at once, not after a second of importing the SDK.
    stage = import_module("01-basic-mcp.labs.stage")
    create_server = import_module("01-basic-mcp.server.app").create_server
    stage.serve(create_server().streamable_http_app(), options.addr)  # max_sessions=10_000, streams unbounded


if __name__ == "__main__":
    main()
