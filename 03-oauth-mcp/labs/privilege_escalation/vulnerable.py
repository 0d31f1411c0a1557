"""DELIBERATELY VULNERABLE: the journal behind the SDK's built-in bearer check, with one scope for everything.

    python -m 03-oauth-mcp.labs.privilege_escalation.vulnerable --addr HOST:PORT --issuer URL --db PATH

`MCPServer(token_verifier=..., auth=AuthSettings(required_scopes=[...]))` checks that a token is
valid and carries the *server's* required scopes. That is one list for every request: it cannot
say that `create_entry` needs `journal:write` while `list_entries` needs only `journal:read`. So
a token the user granted for reading writes too. Do not use it for anything but this lab.
"""

from importlib import import_module

LESSON = "03-oauth-mcp"
variant = import_module(f"{LESSON}.labs.variant")


def main() -> None:
    flaw = "the journal with one scope check for the whole server: a token granted journal:read writes too"
    options = variant.vulnerable_options("privilege_escalation", flaw, "--addr", "--issuer", "--db")
    # Imported only now: run bare, the variant refuses at once, not after a second of importing the SDK.
    import uvicorn
    from mcp.server import MCPServer
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.settings import AuthSettings
    from starlette.responses import PlainTextResponse

    split_addr = import_module(f"{LESSON}.addresses").split_addr
    DatabaseJournal = import_module(f"{LESSON}.production.journal").DatabaseJournal
    Issuer = import_module(f"{LESSON}.server.issuer").Issuer
    JWTVerifier = import_module(f"{LESSON}.server.verifier").JWTVerifier
    addr, issuer = options.addr, options.issuer
    host, port = split_addr(addr)
    resource = f"http://{addr}/mcp"
    journal = DatabaseJournal(options.db)
    mcp = MCPServer(
        "journal, one scope for all",
        token_verifier=JWTVerifier(Issuer(issuer), resource),
        auth=AuthSettings(
            issuer_url=issuer, resource_server_url=resource, required_scopes=["journal:read"]
        ),  # the only scope check there is
    )

    @mcp.tool()
    def create_entry(title: str, content: str) -> str:
        """Write a new journal entry."""
        entry = journal.create(get_access_token().subject, title, content, [])
        return f"created entry {entry.id}"

    app = mcp.streamable_http_app(host=host)
    app.add_route("/healthz", lambda request: PlainTextResponse("ok"))
    # No X-Forwarded-For believed from loopback either, as the lesson's server (server/__main__.py).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


if __name__ == "__main__":
    main()
