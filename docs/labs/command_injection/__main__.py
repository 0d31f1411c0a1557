"""Command injection, run twice: against a tool that builds a shell command, and against one that does not.

    python -m docs.labs.command_injection

Both servers offer `sort_lines(file)`, which returns the lines of a file in a workspace folder,
sorted, by running `sort`. The lab is the caller (the part a model plays, when a prompt it read
tells it what to write): it asks for notes.txt, then for two arguments an attacker wrote. What
the attack did shows in the workspace: files that nobody asked for. Each server runs over stdio,
spawned by the SDK's `Client`, in a temporary workspace that is gone at the end.
"""

import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[3]
ARGUMENTS = ["notes.txt", "notes.txt; touch shell-ran-this", "-ooption-wrote-this"]
VARIANTS = [
    ("vulnerable", "A tool that builds a shell command from its argument"),
    ("safe", "A tool that passes an argument vector, and checks the argument first"),
]


async def call_each(module: str, workspace: Path) -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", module, "--workspace", str(workspace)], cwd=ROOT)
    async with Client(server) as client:
        for file in ARGUMENTS:
            result = await client.call_tool("sort_lines", {"file": file})
            print(f"   sort_lines({file!r}): {shown(result.content[0].text, result.is_error)}")
    print(f"   the workspace now holds: {', '.join(sorted(path.name for path in workspace.iterdir()))}")


def shown(text: str, is_error: bool) -> str:
    if is_error:  # the reason, without the validation error's boilerplate
        reason = next((line for line in text.splitlines() if "should match" in line), text)
        return f"refused: {reason.partition(' [type=')[0].strip()}"
    return ", ".join(text.split()) or "(nothing)"


def main() -> None:
    print("Command injection: sort_lines(file) returns a file of its workspace, sorted; the caller chooses `file`.")
    for number, (module, what) in enumerate(VARIANTS, start=1):
        print(f"{number}. {what} (docs/labs/command_injection/{module}.py):")
        with tempfile.TemporaryDirectory() as workspace:
            (Path(workspace) / "notes.txt").write_text("cherry\napple\nbanana\n")
            anyio.run(call_each, f"docs.labs.command_injection.{module}", Path(workspace))


if __name__ == "__main__":
    main()
