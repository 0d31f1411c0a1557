"""Lesson 03's MCP server beyond one process, to skip on a first read: `python -m 03-oauth-mcp.production.server`.

The same server as `../server/` (its tools, gate, verifier and token exchange), with what a
deployment adds, each in a module of its own:

- `introspection.py`: `--verifier introspection`, asking the authorization server about every
  token (RFC 7662): opaque tokens, and revocations that count at once;
- `decisions.py`: each verifier's decisions kept a while, by the token's hash (`--introspection-cache`);
- `journal.py` (with `../database.py`): the journal in a SQLite file, or in the PostgreSQL that
  replicas share (`--db`);
- `handles.py` and `drafts.py`: tools whose state spans calls (a draft), reached through handles
  sealed for their user, with one key for every replica (`--handle-key-file`);
- `server.py`: the command, with those options and `--stateless` (no MCP sessions, so that any
  replica answers any request). docs/production.md runs it as replicas behind a load balancer.
"""
