"""Machinery for lesson 05's tests: the proxy and its backends started for real, waiting, raw MCP.

Each module is one idea and says what it stands in for. The tests and `conftest.py` import
them, and the lesson's own code, by dotted name with `importlib`, because the lesson folder
starts with a digit, which an `import` statement cannot spell:

    from importlib import import_module

    proxies = import_module("05-mcp-proxy.tests.support.proxies")
    names = import_module("05-mcp-proxy.server.names")

The repository root is on `sys.path` (pyproject.toml: `pythonpath = ["."]`). `tests/` has no
`__init__.py` on purpose: pytest would name every lesson's conftest `tests.conftest`.
"""
