"""How `make test` spreads the suite over its workers (pytest-xdist, `-n 3`).

Each unit below runs whole on one worker, so that the servers its tests share start once. A unit is
a test file (its module-scoped servers), except where files share session-wide servers: all of
lesson 01's, 02's, 04's and 05's tests (each lesson's `server`, `echo_upstream`, `aggregate`,
`guarded`), and lesson 03's three files that log in through `parties`. Anything else would start
those servers again on every worker that runs one of the files: correct, but seconds of CPU each.

It changes only where a test runs, never what it does; without `-n` it is not used at all.
"""

from functools import cached_property

from xdist.scheduler import LoadScopeScheduling

WHOLE_LESSONS = {"01-basic-mcp", "02-basic-token-passthrough", "04-observability", "05-mcp-proxy"}
PARTIES = {f"03-oauth-mcp/tests/{name}" for name in ("test_flow.py", "test_client_attacks.py", "test_browser.py")}


def unit_of(nodeid: str) -> str:
    """The unit a test belongs to: its lesson, its lesson 03 login group, or its file."""
    path = nodeid.split("::")[0]
    lesson = path.split("/")[0]
    if lesson in WHOLE_LESSONS:
        return lesson
    return "03-oauth-mcp parties" if path in PARTIES else path


class ByUnit(LoadScopeScheduling):
    """xdist's `--dist loadscope`, with `unit_of` for a scope: the largest units are handed out first.

    A run of one lesson alone (`pytest 05-mcp-proxy/tests -n 2`) is spread by file instead: it has
    no other lessons to run beside it."""

    @cached_property
    def several_lessons(self) -> bool:
        return len({nodeid.split("/")[0] for nodeid in self.collection}) > 1

    def _split_scope(self, nodeid: str) -> str:  # the method xdist's own loadfile and loadscope override
        return unit_of(nodeid) if self.several_lessons else nodeid.split("::")[0]


def pytest_xdist_make_scheduler(config, log) -> ByUnit:
    return ByUnit(config, log)
