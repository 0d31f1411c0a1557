"""A client an administrator registered beforehand, whose secret goes to its own issuer only.

    python -m 03-oauth-mcp.preregistered_client --client-id ID [--client-secret S] [--issuer URL] \\
        [any option of python -m 03-oauth-mcp.client] tools | call TOOL k=v ... | login | logout

Skip on a first read: the lesson's client registers itself, or names its metadata document. Many
authorization servers allow neither (Entra ID, most company tenants): an administrator registers the
client for the authorization code flow, with the redirect URI http://127.0.0.1:CALLBACK_PORT/callback,
and hands out its id, perhaps a secret, and the issuer both belong to (SEP-2352). This is the
lesson's client with that client plugged in (`provider.py`); everything else is `client/`'s.
"""
