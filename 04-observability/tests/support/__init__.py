"""Machinery for lesson 04's tests: launching the lesson's processes, waiting, connecting, and the
stand-ins a test needs to see what those processes do (an OTLP receiver, an upstream that records).

Each module is one idea and says what it stands in for. A lesson's folder starts with a digit,
which an `import` statement cannot spell, so a test imports the lesson, and this package, by the
alias the repository's root `conftest.py` gives each lesson (`lesson01` to `lesson05`), one plain
import per name:

    from lesson04.server.gate import bearer_token
    from lesson04.tests.support import processes

The alias is the very module, not a copy. Two places import relatively instead: `conftest.py`,
which pytest loads before the aliases exist (`from .support import processes`), and the modules
here (`from .waiting import eventually`), some of which a test runs as a process of their own.
`tests/` has no `__init__.py` on purpose: pytest would name every lesson's conftest `tests.conftest`.
"""
