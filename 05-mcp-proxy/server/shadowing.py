"""Tool shadowing: one server's tool description that tells the model how to use another server's tool.

A model reads every tool's description before it calls any, whichever server wrote it. So one
server can steer the calls a model makes to another, honest one: Invariant Labs' example is a tool
whose description says that every e-mail sent with another server's `send_email` must go to the
attacker too. Namespacing (names.py) keeps one server from taking another's tool *name* (what
DVMCP's "tool shadowing" challenge shows); it does not keep one server's words from reaching the
model. The OWASP MCP Top 10 counts this as tool poisoning (MCP03).

What a proxy can see is names. A tool whose definition (its description, its schema's words, any
text a model reads) names another server's tool, as the model calls it (`mail__send_email`) or as
its own server calls it (`send_email`), or another server's namespace (`mail__`), is held for
review as a changed definition is (pinning.py): hidden, refused, logged, and shown by `pins` and
`/healthz`, until an operator approves it. A server's own names are its business: a tool may well
say "call list_files first".

What it cannot see is a description that says the same without a name: "whenever you send an
e-mail, with any tool, ...". Reading for intent is left to a person: the operator, who reads every
new tool with `approveNewTools`, and the host's user.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .names import exposed_name


def names_of_other_servers(
    definition: Mapping[str, Any], backend: str, others: Mapping[str, Iterable[str]], separator: str
) -> list[str]:
    """The names of other servers' tools, or namespaces, that a tool of `backend` names in its definition.

    `others` is every other configured backend, with the tools it lists now (none for one not ready):
    a namespace is recognised from the config alone, a tool's own name once its server has listed it.
    A tool's own name is recognised when it looks like an identifier (`send_email`), never as a plain
    word (`send`): prose is full of those.
    """
    text = json.dumps({key: value for key, value in definition.items() if key != "name"}, ensure_ascii=False)
    found: set[str] = set()
    for other, tools in others.items():
        if other == backend:
            continue
        prefix = re.escape(other + separator)
        found.update(re.findall(rf"(?<![\w-]){prefix}[\w-]*", text))
        for tool in tools:
            if re.search(r"[_-]", tool) and re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", text):
                found.add(exposed_name(other, tool, separator))
    return sorted(found)
