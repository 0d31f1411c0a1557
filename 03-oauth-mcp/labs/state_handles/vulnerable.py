"""DELIBERATELY VULNERABLE: production's draft tools, with drafts named 1, 2, 3, ... and bound to no one.

The tools are production's own (production/drafts.py `add_draft_tools`); only the store differs. Its
handle is the draft's number, the key of a dict in memory: whoever sends a number gets that draft,
whose ever it is, and the next number is easy to guess. The best practices' "State Handle
Hijacking", step 4: "The MCP server does not check whether the handle belongs to the caller".
Do not use it for anything but this lab.
"""

import itertools
from importlib import import_module

variant = import_module("03-oauth-mcp.labs.variant")
Draft = import_module("03-oauth-mcp.production.drafts").Draft
InvalidHandle = import_module("03-oauth-mcp.production.handles").InvalidHandle

FLAW = "production's draft tools, with handles that are plain numbers, bound to no one"


class NumberedDrafts:
    """A `DraftStore` (production/drafts.py) whose handles are numbers, and whose drafts are anyone's."""

    def __init__(self) -> None:
        variant.announce("state_handles", FLAW)
        self._drafts: dict[str, Draft] = {}
        self._numbers = itertools.count(1)

    def start(self, owner: str, title: str) -> str:
        number = str(next(self._numbers))
        self._drafts[number] = Draft(title=title, paragraphs=[])
        return number

    def add(self, owner: str, handle: str, text: str) -> int:  # `owner` is never looked at: the flaw
        draft = self._find(handle)
        draft.paragraphs.append(text)
        return len(draft.paragraphs)

    def take(self, owner: str, handle: str) -> Draft:
        draft = self._find(handle)
        del self._drafts[handle]
        return draft

    def _find(self, handle: str) -> Draft:
        if handle not in self._drafts:
            raise InvalidHandle("Unknown or expired draft handle")
        return self._drafts[handle]


if __name__ == "__main__":
    variant.not_a_program("state_handles", FLAW)
