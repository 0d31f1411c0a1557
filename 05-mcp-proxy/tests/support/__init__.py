"""Machinery for lesson 05's tests: the proxy and its backends started for real, waiting, raw MCP.

Each module is one idea and says what it stands in for. A lesson's folder starts with a digit,
which an `import` statement cannot spell, so a test imports the lesson, and this package, by the
alias the repository's root `conftest.py` gives each lesson (`lesson01` to `lesson05`), one plain
import per name:

    from lesson05.server.names import exposed_name
    from lesson05.tests.support import proxies

The alias is the very module, not a copy. Two places import relatively instead: `conftest.py`,
which pytest loads before the aliases exist (`from .support import proxies`), and the modules
here (`from .waiting import eventually`), some of which a test runs as a process of their own.
`tests/` has no `__init__.py` on purpose: pytest would name every lesson's conftest `tests.conftest`.
"""
