"""Machinery for lesson 03's tests: launching the lesson's processes, waiting, fakes and minters.

Each module is one idea and says what it stands in for. A lesson's folder starts with a digit,
which an `import` statement cannot spell, so the tests import the lesson, and this package, by
the alias the repository's root `conftest.py` gives each lesson (`lesson01` ... `lesson05`):

    from lesson03.server.verifier import JWTVerifier
    from lesson03.tests.support import processes

The same module under either name: the alias is not a copy. `conftest.py`, which pytest loads
before the aliases exist, and the modules here import relatively (`from .support import processes`,
`from .waiting import eventually`), which also works when a test starts one of them as a process.
`tests/` has no `__init__.py` on purpose: pytest would name every lesson's conftest `tests.conftest`.
"""
