"""State handles, sealed and bound to their user: what a tool hands out for state spanning calls (`--handle-key-file`).

The 2026-07-28 protocol has no sessions: a tool that keeps state across calls (a draft, drafts.py)
mints a handle, and the client sends it back as an ordinary argument. Handles end up in chat logs,
prompts and screenshots, so whoever holds one may send it: the best practices' "State Handle
Hijacking". A handle here is therefore not a name but a seal: the SDK's AES-256-GCM codec (the one
that protects MRTR `requestState`) over what it names, whose it is and until when:

- the user: the verified `sub` of the token that minted it, compared with the caller's at every use
  (the best practices' SHOULD: "reject a handle presented by any other principal");
- this server: its resource URL, the audience of its tokens, so another server sharing the key
  cannot pass its handles off here;
- an expiry, stated in the minting tool's description;
- the kind and the id of what it names, so a handle is never taken for another kind of thing.

Encrypted, a handle says nothing to whoever holds it; sealed, any changed byte is refused, and no
one can forge one without the key. Every refusal has the same words (`InvalidHandle`): the caller
learns nothing of why; the log says why. Sealing bounds who and when, not how often: a handle is
used until it expires or its state is gone (drafts.py deletes a draft once published).

Every replica must open every other's handles, so they share one key: a file each one reads
(`--handle-key-file`, owner-only: it refuses a file others could read, as ssh refuses a private
key). Not a key kept in the shared database: the database is read by more than the servers (its
backups, whoever runs reports), and a key there is a key in every backup; a file is handed out like
the other secrets of a deployment, and can be changed apart from the data. Without the option, each
process makes a key of its own at start: its handles work there, and only until it stops.
"""

import json
import logging
import os
import secrets
import stat
import time
from pathlib import Path

from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState

KEY_BYTES = 32  # AES-256; the codec derives its key from these with HKDF

logger = logging.getLogger(__name__)


class InvalidHandle(Exception):
    """A handle that is not one of ours, not the caller's, or expired: one message for all, the log says which."""


class SealedHandles:
    def __init__(self, key: bytes, resource: str, ttl: float) -> None:
        self._codec = AESGCMRequestStateCodec([key])
        self.resource, self.ttl = resource, ttl

    def mint(self, kind: str, id: str, subject: str) -> str:
        """A handle for the `kind` named `id`, that only `subject` may use here, for `ttl` seconds."""
        expires = int(time.time() + self.ttl)
        claims = {"kind": kind, "id": id, "sub": subject, "aud": self.resource, "exp": expires}
        return self._codec.seal(json.dumps(claims, separators=(",", ":")).encode())

    def open(self, kind: str, handle: str, subject: str) -> str:
        """The id a handle names, if it is a `kind` this server sealed for `subject`, unexpired; else InvalidHandle."""
        try:
            claims = json.loads(self._codec.unseal(handle))
        except InvalidRequestState as problem:  # malformed, another key, or a changed byte: forged or tampered
            why = f"not sealed with this server's key ({problem})"
        else:
            if claims["kind"] != kind:
                why = "sealed for another kind of state"
            elif claims["aud"] != self.resource:
                why = "sealed by another server"
            elif claims["sub"] != subject:
                why = "sealed for another user"
            elif claims["exp"] < time.time():
                why = "expired"
            else:
                return claims["id"]
        logger.info("refused a %s handle from %s: %s", kind, subject, why)  # never the handle itself
        raise InvalidHandle(f"Unknown or expired {kind} handle")


def handle_key(path: Path | None) -> bytes:
    """The key that seals handles: read from `path`, created there (owner-only) if missing; or, without a
    path, one of this process's own. PermissionError for a file others could read or that is not ours."""
    if path is None:
        logger.info("handles sealed with a key of this process: give replicas one --handle-key-file")
        return secrets.token_bytes(KEY_BYTES)
    if not path.exists():
        create_key_file(path)
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # a symlink planted at the path is refused (ELOOP)
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise PermissionError(f"{path} must be a file of yours that only you can read (mode 0600)")
        key = file.read().strip()
    if len(key) < KEY_BYTES:
        raise PermissionError(f"{path} holds {len(key)} bytes: a handle key needs at least {KEY_BYTES}")
    return key


def create_key_file(path: Path) -> None:
    """A new random key at `path`, 0600, whole or not at all: replicas starting together read the same one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")
    try:
        os.link(draft, path)  # atomic, and refused if another replica got there first: then its key stands
    except FileExistsError:
        pass
    finally:
        draft.unlink()
