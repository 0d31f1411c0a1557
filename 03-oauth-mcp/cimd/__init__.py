"""The client's metadata document, hosted for development: `python -m 03-oauth-mcp.cimd --help`.

Skip on a first read: the lesson's client registers itself (dynamic client registration) unless it
is given `--client-metadata-url`. With a Client ID Metadata Document (the MCP specification's
preferred way, draft-ietf-oauth-client-id-metadata-document) the client needs no registration at
all: its `client_id` *is* an https URL, and the authorization server fetches the document there to
learn the client's name and redirect URIs. In production the document lives on the application's
real https site; this package serves one on 127.0.0.1 with a throwaway certificate authority, so the
whole flow runs on one machine.
"""
