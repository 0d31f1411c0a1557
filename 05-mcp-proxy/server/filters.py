"""Tool filters: which of a backend's tools the proxy exposes at all.

`{"mode": "allow", "list": ["echo_*"]}` exposes only the matching tools;
`{"mode": "block", "list": ["delete_*"]}` exposes all but those. Patterns are
shell-style globs (`*`, `?`, `[abc]`) matched against the backend's own tool
name, case-sensitively. The same check guards listing and calling: a tool the
filter hides answers "Unknown tool" exactly as a tool that does not exist, so a
client cannot call it by guessing its name, nor learn that it exists.
"""

from fnmatch import fnmatchcase

from .config import ToolFilter


def allowed(tool_filter: ToolFilter | None, name: str) -> bool:
    if tool_filter is None:
        return True
    matched = any(fnmatchcase(name, pattern) for pattern in tool_filter.list)
    return matched if tool_filter.mode == "allow" else not matched
