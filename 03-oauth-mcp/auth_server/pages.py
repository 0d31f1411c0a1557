"""The HTML pages this server shows a user (templates/), and the headers every one of them carries."""

import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse

# autoescape=True: every value rendered is HTML-escaped. A client chooses its own client_name,
# and the page must show it as text, never run it.
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
)


def render(template: str, status: int, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template(template).render(nonce=nonce, **context)
    return HTMLResponse(html, status_code=status, headers={**page_headers(nonce), **(headers or {})})


def error_page(error: str, description: str, status: int, detail: str | None = None) -> HTMLResponse:
    """An error the user reads here: used whenever redirecting to the client would not be safe."""
    return render("error.html", status, error=error, description=description, detail=detail)


def expired_page() -> HTMLResponse:
    return error_page("expired", "This sign-in page has expired. Start again from the application.", 400)


def page_headers(nonce: str) -> dict[str, str]:
    """Headers for every HTML page: no framing (clickjacking), no scripts, no caching."""
    return {
        "X-Frame-Options": "DENY",  # older browsers
        # No form-action: Chromium applies it to the redirect that follows the form's POST too,
        # and that redirect goes to the client's own URI.
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "Cache-Control": "no-store",  # the page holds a CSRF token
        "Referrer-Policy": "no-referrer",  # the URL holds the PKCE challenge and state
        "X-Content-Type-Options": "nosniff",
    }
