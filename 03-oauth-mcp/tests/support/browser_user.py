"""The person at the browser, played over HTTP: open the authorization URL, log in, consent,
and land on the client's loopback callback.

The authorization server may also answer the authorization request at once with a redirect
(an error for a request it refuses, such as a resource it does not serve): then the user
simply lands on the callback with that answer.
"""

import re

import httpx2

HIDDEN_INPUT = re.compile(r"<input[^>]*>", re.I)


def hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in HIDDEN_INPUT.findall(html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and value and 'type="hidden"' in tag:
            fields[name.group(1)] = value.group(1)
    return fields


def consent(authorization_url: str, username: str, password: str, decision: str = "approve") -> str:
    """Log in and answer the consent page; return the callback URL the browser was sent to."""
    with httpx2.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(authorization_url)
        if page.status_code in (302, 303):  # answered without asking the user
            location = page.headers["location"]
        else:
            assert page.status_code == 200, page.text
            action = re.search(r'<form[^>]*action="([^"]*)"', page.text)
            target = httpx2.URL(authorization_url).join(action.group(1) if action and action.group(1) else "/authorize")
            form = {**hidden_fields(page.text), "username": username, "password": password, "decision": decision}
            answer = browser.post(target, data=form)
            assert answer.status_code in (302, 303), answer.text
            location = answer.headers["location"]
        browser.get(location)  # the browser landing on the client's loopback callback
        return location
