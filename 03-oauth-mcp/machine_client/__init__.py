"""A machine calls lesson 03's MCP server as itself: `python -m 03-oauth-mcp.machine_client --help`.

Skip on a first read: the lesson's client logs a *user* in, through a browser. A machine (a batch
job, another service) has no user and no browser. An administrator registers it at the
authorization server, with a client id and a secret, and the machine trades them for a token with
the client credentials grant (RFC 6749 §4.4). The SDK's `ClientCredentialsOAuthProvider` does it
all; given `--issuer`, it sends the secret to that authorization server's validated token endpoint
and nowhere else, whatever authorization server the MCP server names. Its tokens are kept in
memory, for one run: it holds its secret, and asks again next time.

With `--client-key` instead of a secret, the machine proves who it is with an assertion signed by its
own key (`private_key_jwt`, RFC 7523 §2.2: the SDK's `PrivateKeyJWTOAuthProvider`): the authorization
server keeps only the public half (`new_key.py` makes a pair; `private_key.py` reads the private one
from a file only its owner can read). A user acting through the company's identity provider is the
enterprise flow's client instead (`enterprise/client/`).

The MCP part (`tools`, `call`, one-line errors, `--verbose`) is the lesson's client's (`client/`).
"""
