"""Who may change the config: only the user the proxy runs as, or root, as OpenSSH requires of ~/.ssh/config.

A config names the commands the proxy runs (a stdio server's `command` and `args`), and the proxy
runs them as its own user, at start and on every SIGHUP. Whoever can write the config can run any
command as that user: another account on a shared machine, a service that runs as someone else, a
folder shared too widely. So the proxy reads a config only after checking the file and the folder it
is in, as ssh checks its own files ("Bad owner or permissions"):

- each is owned by this user or by root. What another user creates is theirs, so a file or a folder
  put in the config's place, from anywhere above it, fails here;
- no one else can write either: not others, and the group only when it is this user's own (Debian and
  Ubuntu give each user a group of their own, and a umask of 002, so a checkout is group-writable);
- the folder may be writable by others only with the sticky bit (as /tmp is): then no one but the
  config's owner can replace it.

The proxy checks the file it has open, and reads that very file (`load_config` in config.py), so
nothing can be put in its place between the check and the read. The MCP security best practices ask a
proxy that spawns stdio servers to restrict what it runs ("stdio Transport Security in Proxy
Scenarios"); they do not prescribe this check: it is this workshop's reading of them.
"""

import grp
import os
import pwd
import stat
from pathlib import Path


def writable_by_others(path: Path, status: os.stat_result) -> str | None:
    """Why someone other than this process's user (or root) could change the config at `path`, or None.

    `status` is the open file's (`os.fstat`); its folder is looked up here.
    """
    if os.name != "posix":
        return None  # no owners and modes to check
    uid = os.geteuid()
    folder = path.absolute().parent
    return problem(status, str(path), uid) or problem(os.stat(folder), f"{folder}, the folder of {path},", uid)


def problem(status: os.stat_result, what: str, uid: int) -> str | None:
    """What is wrong with the owner or the mode of `what`, for a process run by `uid`; None if nothing."""
    if status.st_uid not in (uid, 0):
        return f"{what} is owned by {user_name(status.st_uid)}, not by {user_name(uid)} (who runs this proxy) or root"
    mode = stat.S_IMODE(status.st_mode)
    sticky_folder = stat.S_ISDIR(status.st_mode) and mode & stat.S_ISVTX
    if mode & stat.S_IWOTH and not sticky_folder:
        return f"anyone can write {what} (mode {mode:04o})"
    if mode & stat.S_IWGRP and not sticky_folder and not private_group(status.st_gid, status.st_uid):
        return f"group {group_name(status.st_gid)} can write {what} (mode {mode:04o})"
    return None


def private_group(gid: int, uid: int) -> bool:
    """Whether the group has no member but the user `uid`: a user private group, safe to be writable by."""
    try:
        group, user = grp.getgrgid(gid), pwd.getpwuid(uid)
    except KeyError:
        return False
    members = {account.pw_name for account in pwd.getpwall() if account.pw_gid == gid} | set(group.gr_mem)
    return members == {user.pw_name}


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"
