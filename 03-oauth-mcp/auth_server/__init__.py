"""The lesson's OAuth 2.1 authorization server: `python -m 03-oauth-mcp.auth_server --help`.

Read app.py first (the parts, and one route per endpoint), then oauth.py, flow.py and consent.py.
"""
