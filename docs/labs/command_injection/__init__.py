"""Command injection: `python -m docs.labs.command_injection`.

No lesson runs shell commands, so this lab brings its own two MCP servers, each with one tool,
`sort_lines(file)`: one builds a shell command from its argument (vulnerable.py), the other
passes an argument vector and checks the argument first (safe.py).
"""
