"""The official MCP conformance suite's authorization-extension scenarios, against lesson 03's clients.

`auth/client-credentials-jwt` runs the machine client with its key (`private_key_jwt`);
`auth/cross-app-access-complete-flow` runs the enterprise client from an ID token (the ID-JAG
exchange at the suite's IdP, then the JWT bearer grant at its authorization server). The suite
judges every request, and exits 0 only if every check passed. It is installed from npm with Node 22,
as oidc-provider is (support/conformance.py), and these tests skip, saying why, where it cannot be.
"""

import json
from pathlib import Path

import pytest

from lesson03.tests.support import conformance
from lesson03.tests.support.npm_packages import Unavailable

SCENARIOS = ["auth/client-credentials-jwt", "auth/cross-app-access-complete-flow"]


@pytest.fixture(scope="module")
def suite() -> tuple[Path, list[str]]:
    try:
        home = conformance.install()
    except Unavailable as reason:
        pytest.skip(f"the MCP conformance suite is unavailable: {reason}")
    return home, conformance.loopback_only_prefix()


def checks_of(output: Path) -> list[dict]:
    """Every check the suite made: what a failure shows (its stderr also holds the scenario's private key)."""
    return [check for found in output.rglob("checks.json") for check in json.loads(found.read_text())]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_scenario_passes_against_the_lessons_client(suite, scenario: str, tmp_path: Path) -> None:
    home, prefix = suite
    done = conformance.run_scenario(home, scenario, tmp_path, prefix)
    checks = checks_of(tmp_path)
    failed = [f"{check['status']} {check['id']}: {check.get('description')}" for check in checks]
    failed = [line for line in failed if not line.startswith(("SUCCESS", "INFO"))]
    assert done.returncode == 0 and checks and not failed, failed or done.stdout[-2000:]
    assert any(check["status"] == "SUCCESS" for check in checks)
