"""A Client ID Metadata Document end to end: lesson 03's client logs in with no registration at all.

The client's `client_id` is an https URL; the authorization server fetches the document there and
shows the user the client it describes. The document is served on this machine with a throwaway
certificate authority (`python -m 03-oauth-mcp.cimd`), which the authorization server
trusts for development (`--cimd-ca-file`, with `--cimd-allow-host 127.0.0.1`). The document's host is a
process; the authorization and MCP servers run their own commands on threads of the test process, each on
a real port (support/in_process_auth_server.py, in_process_server.py), and the client runs its own
command in this process (support/in_process_client.py): the login is the subject, not the processes.
"""

import json
from pathlib import Path

from lesson03.tests.support import processes
from lesson03.tests.support.in_process_auth_server import auth_server_in_thread
from lesson03.tests.support.in_process_client import run_client
from lesson03.tests.support.in_process_server import mcp_server_in_thread


def test_the_client_logs_in_with_its_metadata_document_and_no_registration(tmp_path: Path) -> None:
    callback_port, mcp_port = processes.free_port(), processes.free_port()
    mcp_url = f"http://127.0.0.1:{mcp_port}/mcp"
    ca = tmp_path / "tls" / "ca.pem"
    hosting = ["cimd", "--callback-port", str(callback_port), "--state", str(ca.parent)]
    trusting = ["--cimd-allow-host", "127.0.0.1", "--cimd-ca-file", str(ca)]
    with (
        processes.start_process(*hosting, tls_ca=ca) as document,
        auth_server_in_thread("--db", str(tmp_path / "a.db"), "--resource", mcp_url, *trusting) as auth,
        mcp_server_in_thread("-t", "http", "--issuer", auth.base_url, port=mcp_port),
    ):
        client_id = f"{document.base_url}/client.json"
        run = run_client(
            mcp_url,
            tmp_path / "tokens.json",
            "--client-metadata-url",
            client_id,
            "call",
            "whoami",
            callback_port=callback_port,
        )
    assert run.returncode == 0, run.stderr
    assert '"subject": "alice"' in run.stdout
    assert "register this client" not in run.stderr  # no dynamic registration
    assert json.loads((tmp_path / "tokens.json").read_text())[mcp_url]["client_info"]["client_id"] == client_id
