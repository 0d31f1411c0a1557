"""Lesson 03's client beyond the concept: skip on a first read.

`client/` imports each of these in one line. The defences are always in force; read them when you
want to know how one works rather than what it is for:

- `private_file.py`: the token file, owner-only, written through a new random-named file, never
  through a symlink or into a file someone else planted;
- `authorization_url.py`: which authorization pages a user may be sent to, since a malicious MCP
  server chooses the authorization server that names them;
- `callback_http.py`: the loopback callback's HTTP, read within bounds, so that anything on this
  machine connecting to it costs the login in progress nothing, until the awaited answer or the timeout;
- `discovery.py`: discovery again, outside the SDK's flow and within bounds: before a stored login is
  refreshed or revoked, and to say why the SDK's flow found no usable authorization server metadata;
- `refusals.py`: what a server's refusal says, read with care: a raw `--token` refused, a token a
  login has just brought refused too, a refresh refused as `invalid_client`, an authorization error
  (shown only from the issuer the user was sent to);
- `registration.py`: a stored registration that no longer serves a login, dropped or forgotten;
- `account.py`: the `login` and `logout` commands, and `WithLogout`, the providers' `logout`;
- `revocation.py`: `logout`'s requests to the issuer's revocation endpoint (RFC 7009);
- `hooks.py`: the event hooks on the client's HTTP connection, for `--verbose` and a refused `--token`;
- `narration.py`: `--verbose`, each step of the OAuth flow told as it happens.

Beside this package, the client's variants, each its own command: `preregistered_client/` (a client
an administrator registered, its secret bound to its issuer), `machine_client/` (a machine, no
user: client credentials), and `cimd/` (the client's metadata document, hosted for development).
"""
