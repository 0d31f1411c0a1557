"""HTTP Basic as OAuth clients must send it: how the MCP server authenticates to its issuer.

Skip on a first read. RFC 6749 §2.3.1 makes a client form-urlencode its id and its secret before
they are joined with `:` and base64-encoded, so a secret may hold `:`, `%` or `+`. httpx2.BasicAuth
encodes the raw strings, which is right for other uses of Basic, and wrong here: a secret with a
reserved character would then not match at the authorization server.
"""

import base64
from urllib.parse import quote


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The `Authorization` header value for this client, each part form-urlencoded first."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()
