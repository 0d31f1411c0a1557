"""The conformance suite's client contract, answered by lesson 03's clients: `python -m ...conformance_client URL`.

The suite starts its client under test with the MCP server's URL as the last argument, the scenario's
name in MCP_CONFORMANCE_SCENARIO, and the scenario's fixtures (client ids, a private key, an ID token)
as JSON in MCP_CONFORMANCE_CONTEXT. This turns them into the command an attendee would type:

- `auth/client-credentials-jwt`: the machine client with `--client-key`; the key, which the suite
  hands over as a string, is written to an owner-only file first, as the machine client requires;
- `auth/cross-app-access-complete-flow` (0.1) or `auth/enterprise-managed-authorization` (0.2): the
  enterprise client, starting from the ID token the suite's IdP issued (`MCP_ID_TOKEN`), with that
  IdP's issuer, token endpoint and client id. Its IdP asks for no client secret, so none is given.

The suite names no authorization server, so it is learned from the MCP server's protected resource
metadata (RFC 9728), as the SDK's own conformance client does: here the suite is the whole world. A
real deployment configures `--issuer`, so that the MCP server cannot choose where credentials go.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx2

from . import processes

ENTERPRISE_SCENARIOS = ("auth/cross-app-access-complete-flow", "auth/enterprise-managed-authorization")


def authorization_server(url: str) -> str:
    parts = urlsplit(url)
    metadata = f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{parts.path}"
    return httpx2.get(metadata, timeout=10).json()["authorization_servers"][0]


def lesson(module: str, *args: str, env: dict[str, str] | None = None) -> int:
    command = [sys.executable, "-m", f"{processes.LESSON}.{module}", *args, "--verbose", "tools"]
    return subprocess.run(
        command, cwd=processes.REPOSITORY_ROOT, env={**os.environ, **(env or {})}, check=False
    ).returncode


def main() -> int:
    url, scenario = sys.argv[-1], os.environ["MCP_CONFORMANCE_SCENARIO"]
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    common = ["--url", url, "--issuer", authorization_server(url), "--client-id", context.get("client_id", "")]
    if scenario == "auth/client-credentials-jwt":
        with tempfile.TemporaryDirectory() as scratch:
            key = Path(scratch) / "client-key.pem"
            descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(context["private_key_pem"])
            return lesson("machine_client", *common, "--client-key", str(key))
    if scenario in ENTERPRISE_SCENARIOS:
        idp = ["--idp", context["idp_issuer"], "--idp-token-endpoint", context["idp_token_endpoint"]]
        idp += ["--idp-client-id", context["idp_client_id"]]
        secrets = {"MCP_ID_TOKEN": context["idp_id_token"], "MCP_CLIENT_SECRET": context["client_secret"]}
        return lesson("enterprise.client", *common, *idp, env=secrets)
    print(f"lesson 03 has no client for the scenario {scenario}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
