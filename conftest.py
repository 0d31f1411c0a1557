"""The names tests import the lessons by (`lesson01` ... `lesson05`), how `make test` spreads the suite
over its workers (pytest-xdist, `-n 3`), and one TLS context for the HTTP clients of every test process
(`shared_default_tls`).

Each unit below runs whole on one worker, so that the servers its tests share start once. A unit is
a test file (its module-scoped servers), except where files share session-wide servers: all of
lesson 01's, 02's, 04's and 05's tests (each lesson's `server`, `echo_upstream`, `aggregate`,
`guarded`), and lesson 03's three files that log in through `parties`. Anything else would start
those servers again on every worker that runs one of the files: correct, but seconds of CPU each.

It changes only where a test runs, never what it does; without `-n` it is not used at all.
"""

import importlib
import importlib.abc
import importlib.machinery
import resource
import sys
from functools import cache, cached_property
from types import ModuleType

import httpcore2
import pytest
from hypothesis import settings
from xdist.scheduler import LoadScopeScheduling

LESSONS = {
    "lesson01": "01-basic-mcp",
    "lesson02": "02-basic-token-passthrough",
    "lesson03": "03-oauth-mcp",
    "lesson04": "04-observability",
    "lesson05": "05-mcp-proxy",
}


class LessonAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`from lesson03.server.verifier import JWTVerifier` loads `03-oauth-mcp.server.verifier` itself.

    A lesson's folder starts with a digit, which an `import` statement cannot spell. Under its alias a
    module is the very same object as under its folder's name, so a class is one class whichever
    name imported it, and the lesson's own relative imports are untouched.
    """

    def find_spec(self, fullname, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        alias, _, rest = fullname.partition(".")
        if alias not in LESSONS:
            return None
        module = importlib.import_module(LESSONS[alias] + (f".{rest}" if rest else ""))
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=hasattr(module, "__path__"))
        spec.real_module = module
        spec.real_spec = module.__spec__
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return spec.real_module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has just stamped the alias's spec on the module: give it back its own.
        module.__spec__ = module.__spec__.real_spec


def shared_default_tls() -> None:
    """One default TLS context for all the HTTP clients this test process makes.

    Every `httpx2` client builds its TLS context from the system's certificate authorities, about 20 ms
    of CPU, even to talk plain http to a loopback server; the tests make some 600 clients (each
    `Client(url)` of the SDK makes one), about 12 s of the suite's CPU. Built once and shared, it is the
    same context with the same settings (httpcore2 sets its ALPN list on each TLS connection, the same
    list for every client here): nothing a test checks changes. The lessons' own processes,
    the ones under test, are not touched; a test that needs another authority passes its own context.
    """
    if not hasattr(httpcore2.default_ssl_context, "cache_info"):  # once, however often pytest configures
        httpcore2.default_ssl_context = cache(httpcore2.default_ssl_context)


def install_lesson_aliases() -> None:
    if not any(isinstance(finder, LessonAliases) for finder in sys.meta_path):
        sys.meta_path.insert(0, LessonAliases())


# On import, not in a hook: pytest imports this file before any lesson's conftest.py, and no hook of a
# conftest runs before the others are imported. The aliases only add names; they change no module.
install_lesson_aliases()


# Fuzzing (hypothesis): `make test` tries the same 250 inputs per target on every run, so that a
# failure repeats in CI; `make fuzz` tries 2,000 new ones per target each time. Registered on import,
# so that `--hypothesis-profile fuzz` finds its profile; neither is loaded before pytest_configure.
settings.register_profile("suite", max_examples=250, derandomize=True, database=None)
settings.register_profile("fuzz", max_examples=2000, derandomize=False, database=None)


def pytest_configure(config: pytest.Config) -> None:
    """Set up at start, in the controller and in every xdist worker alike, not on import."""
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("suite")
    shared_default_tls()


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the time went, in CPU: this process and every process it waited for (xdist's workers,
    and the servers, clients and labs they ran), user and system time together. The suite is
    CPU-bound on two cores, so this is the number to keep down; the slowest tests (`--durations`)
    say where to look."""
    if hasattr(terminalreporter.config, "workerinput"):
        return  # an xdist worker: the controller reports, once the workers have ended
    total = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    terminalreporter.write_line(f"CPU: {total:.0f} s, user and system, this run and every process it waited for")
