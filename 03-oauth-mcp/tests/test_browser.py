"""A real browser on the real login-and-consent page: headless Chromium, driven by Playwright.

The HTTP-level tests prove the protocol; this one proves the page works for a
person: the form renders, the fields and buttons are where a user finds them,
and the browser follows the redirect to the client's loopback callback.
Chromium comes from Debian (`.ci/run` installs it); Playwright only drives it.
"""

import shutil
from pathlib import Path

import pytest

from lesson03.tests.support.client_runs import run_client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags that keep Chromium quiet on a machine with no network and no display.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (.ci/run installs it)")


def browser_consent(authorization_url: str, username: str, password: str, decision: str = "approve") -> str:
    """Log in and consent the way a person does, in Chromium; return the URL the browser ends on."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(authorization_url)
            assert "journal:read" in page.content()  # the page names what is being asked for
            page.fill("#username", username)
            page.fill("#password", password)
            with page.expect_navigation(url="**/callback?**"):
                page.click(f"button[name=decision][value={decision}]")
            assert "Authorization received" in page.content()  # the client's own callback page
            return page.url
        finally:
            browser.close()


def test_a_person_logs_in_and_consents_in_chromium(parties, tmp_path: Path) -> None:
    result = run_client(parties.mcp_url, tmp_path / "tokens.json", "call", "whoami", consenter=browser_consent)
    assert result.returncode == 0, result.stderr
    assert len(result.consents) == 1
    assert "code=" in result.consents[0]
    assert '"subject": "alice"' in result.stdout
