"""A JSON file only its owner can read, written so no one can capture it: how the client keeps its logins.

Skip on a first read: `client/token_storage.py` says what is kept; this says how a credential store
must be written. A new file with a random name, created exclusively and owner-only (mkstemp), then
renamed over the old one: nothing is ever written through a symlink or into a file someone else
planted. A file that is a symlink, someone else's, or readable by others is refused on reading.
"""

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any


class UnsafeFile(Exception):
    """The file is a symlink, or someone else's, or readable by others: not ours to trust."""


def read_private_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, {} if there is no file; UnsafeFile if it is not a file of ours, mode 0600."""
    try:
        # O_NOFOLLOW: a symlink planted where the file should be is an error, not a redirection.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UnsafeFile(f"{path}: not a regular file of ours ({error.strerror})") from None
    with os.fdopen(descriptor) as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise UnsafeFile(f"{path}: must be a file owned by you with mode 0600")
        return json.load(file)


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data`, owner-only, in a directory only its owner may enter if it is new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp: a random name, O_CREAT|O_EXCL (never an existing file or symlink), mode 0600.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as file:
            json.dump(data, file, indent=2)
        # rename() replaces whatever is at the path, a symlink included, without following it.
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
