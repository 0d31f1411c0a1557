"""Machinery for lesson 01's tests: starting the lesson's processes, waiting, speaking raw MCP over HTTP.

Each module is one idea and says what it stands in for. The tests and `conftest.py` import
them, and the lesson's own code, by dotted name with `importlib`, because the lesson folder
starts with a digit, which an `import` statement cannot spell:

    from importlib import import_module

    processes = import_module("01-basic-mcp.tests.support.processes")
    app = import_module("01-basic-mcp.server.app")

The repository root is on `sys.path` (pyproject.toml: `pythonpath = ["."]`). `tests/` has no
`__init__.py` on purpose: pytest would name every lesson's conftest `tests.conftest`.
"""
