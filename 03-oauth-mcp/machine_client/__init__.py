"""A machine calls lesson 03's MCP server as itself: `python -m 03-oauth-mcp.machine_client --help`.

Skip on a first read: the lesson's client logs a *user* in, through a browser. A machine (a batch
job, another service) has no user and no browser. An administrator registers it at the
authorization server, with a client id and a secret, and the machine trades them for a token with
the client credentials grant (RFC 6749 §4.4). The SDK's `ClientCredentialsOAuthProvider` does it
all; given `--issuer`, it sends the secret to that authorization server's validated token endpoint
and nowhere else, whatever authorization server the MCP server names. Its tokens are kept in
memory, for one run: it holds its secret, and asks again next time.

The MCP part (`tools`, `call`, one-line errors, `--verbose`) is the lesson's client's (`client/`).
Machines that prove who they are with a signed assertion (`private_key_jwt`, RFC 7523) or that act
for a user through an enterprise identity provider (ID-JAG) are the next to come here.
"""
