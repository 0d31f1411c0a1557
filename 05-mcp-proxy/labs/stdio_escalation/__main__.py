"""Privilege escalation through a proxy's stdio servers, run twice: through a proxy that starts any server a
caller posts, and reads a config anyone can write, and through lesson 05's.

    python -m 05-mcp-proxy.labs.stdio_escalation

A proxy runs every stdio server its config names as a process of its own user, with that user's
files, keys and rights. So naming a server is running a command as that user. Two attackers try:

- Mallory, who has the proxy's token (stolen, as in the MCP security best practices' proxy scenario),
  posts a server to the proxy: `sh -c 'touch posted-by-a-caller'`;
- another user of the machine, once the config has been left writable by anyone (a shared folder, a
  careless chmod), adds a server to it: `sh -c 'touch written-into-the-config'`. The operator then
  reloads the proxy (SIGHUP), as after any edit.

What each command made shows in the proxy's folder. The lab plays both attackers (the "other user"
is the lab itself, writing a file whose mode lets anyone write it) and the operator. Each proxy starts
with no server at all, in a folder of its own. Everything runs on 127.0.0.1 and stops at the end.
"""

import json
import os
import re
import signal
from importlib import import_module

import httpx2

LESSON = "05-mcp-proxy"
stage = import_module(f"{LESSON}.labs.stage")
TOKEN = "lab-proxy-token"  # noqa: S105 -- made for the lab: the proxy's token, which Mallory has too
POSTED = {"name": "helper", "server": {"command": "sh", "args": ["-c", "touch posted-by-a-caller"]}}
WRITTEN = {"name": "backup", "server": {"command": "sh", "args": ["-c", "touch written-into-the-config"]}}
MADE = {"posted-by-a-caller", "written-into-the-config"}  # what the attackers' commands leave in the folder
SHOWN = json.dumps(POSTED["server"])


def mallory_posts(proxy: "stage.Proxy") -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    answer = httpx2.post(f"{proxy.base_url}/servers", json=POSTED, headers=headers, timeout=30)
    outcome = f"HTTP {answer.status_code} {answer.reason_phrase}"
    print(f"   Mallory, with the proxy's token, posts a server to /servers, {SHOWN}: {outcome}")


def another_user_writes(proxy: "stage.Proxy") -> None:
    path = proxy.folder / proxy.config
    os.chmod(path, 0o666)  # noqa: S103 -- the lab's mistake to show: the config left writable by anyone
    written = json.loads(path.read_text())
    written["mcpServers"][WRITTEN["name"]] = WRITTEN["server"]
    path.write_text(json.dumps(written))
    server = json.dumps(WRITTEN["server"])
    print(f"   {proxy.config} is left writable by anyone (mode 0666); another user adds a server to it, {server}")


def the_operator_reloads(proxy: "stage.Proxy") -> None:
    """SIGHUP, and what the proxy did about it: started the new server, or kept its config, saying why."""
    log = proxy.folder / "proxy.log"
    before = log.read_text()
    proxy.process.send_signal(signal.SIGHUP)

    def reloaded() -> str | None:
        new = log.read_text()[len(before) :]
        if refused := re.search(r"keeps running on the previous config:\\n(.*)", new):
            return f"it keeps its previous config, and logs: {refused[1].replace(str(proxy.folder) + '/', '')}"
        if "backend backup: running" in new:
            return "it starts the new server"
        return None

    outcome = stage.wait_for(reloaded)
    print(f"   the operator reloads the proxy (SIGHUP): {outcome}")


def what_the_attackers_made(proxy: "stage.Proxy") -> str | None:
    """The files the attackers' commands made in the proxy's folder: what the attack got, if anything."""
    made = sorted(path.name for path in proxy.folder.iterdir() if path.name in MADE)
    print(f"   the proxy's folder now holds what the attackers' commands made: {', '.join(made) or 'nothing'}")
    return f"the attackers ran {len(made)} commands of their own as the proxy's user" if made else None


def main() -> None:
    print(
        "Privilege escalation through stdio servers: a proxy runs each stdio server its config names, as its own user.",
        flush=True,  # at once: the proxies take a second to start
    )
    options = {"servers": {}, "authTokens": [TOKEN]}
    vulnerable = f"{LESSON}.labs.stdio_escalation.vulnerable"
    with (
        stage.proxy("vulnerable", None, module=vulnerable, **options) as open_to_all,
        stage.proxy("lesson", None, **options) as lesson,
    ):
        for proxy in (open_to_all, lesson):
            os.chmod(proxy.folder / proxy.config, 0o600)  # as an operator keeps it
        print("1. A proxy that starts what callers post, and reads any config (labs/stdio_escalation/vulnerable.py):")
        mallory_posts(open_to_all.wait_until_healthy())
        another_user_writes(open_to_all)
        the_operator_reloads(open_to_all)
        stage.wait_for(lambda: {path.name for path in open_to_all.folder.iterdir()} >= MADE)
        stage.verdict(what_the_attackers_made(open_to_all))
        print("2. Lesson 05: servers from its config alone, a config only its user can change (server/permissions.py):")
        mallory_posts(lesson.wait_until_healthy())
        another_user_writes(lesson)
        the_operator_reloads(lesson)
        stage.verdict(
            what_the_attackers_made(lesson),
            "lesson 05's config check (server/permissions.py, config.py load_config)",
            "no request can name a server, and a config others can change is refused, at start and at every reload",
        )
        stage.stop(open_to_all, lesson)


if __name__ == "__main__":
    main()
