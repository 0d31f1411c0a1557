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

ROOT = Path(__file__).resolve().parents[3]
ARGUMENTS = ["notes.txt", "notes.txt; touch shell-ran-this", "-ooption-wrote-this"]
VARIANTS = [
    ("vulnerable", "A tool that builds a shell command from its argument"),
    ("safe", "A tool that passes an argument vector, and checks the argument first"),
]


async def call_each(module: str, workspace: Path) -> list[str]:
    """Call `sort_lines` with each argument; the files the calls made in the workspace, besides notes.txt."""
    from mcp import Client, StdioServerParameters  # only now: the lab has said what it does

    server = StdioServerParameters(command=sys.executable, args=["-m", module, "--workspace", str(workspace)], cwd=ROOT)
    async with Client(server) as client:
        for file in ARGUMENTS:
            result = await client.call_tool("sort_lines", {"file": file})
            print(f"   sort_lines({file!r}): {shown(result.content[0].text, result.is_error)}")
    held = sorted(path.name for path in workspace.iterdir())
    print(f"   the workspace now holds: {', '.join(held)}")
    return [name for name in held if name != "notes.txt"]


def verdict(made: list[str]) -> None:
    """The last line of each half: what the attacker's arguments made the server do, or what stopped them."""
    if made:
        print(f"   ATTACK SUCCEEDED: the attacker's arguments ran a command and wrote a file ({', '.join(made)})")
    else:
        print(
            "   ATTACK BLOCKED by an argument vector and the tool's schema (safe.py): both arguments refused "
            "before sort ran; no shell ever read one"
        )


def shown(text: str, is_error: bool) -> str:
    if is_error:  # the reason, without the validation error's boilerplate
        reason = next((line for line in text.splitlines() if "should match" in line), text)
        return f"refused: {reason.partition(' [type=')[0].strip()}"
    return ", ".join(text.split()) or "(nothing)"


def main() -> None:
    print(
        "Command injection: sort_lines(file) returns a file of its workspace, sorted; the caller chooses `file`.",
        flush=True,  # at once: the SDK takes a second to import
    )
    for number, (module, what) in enumerate(VARIANTS, start=1):
        print(f"{number}. {what} (docs/labs/command_injection/{module}.py):")
        with tempfile.TemporaryDirectory() as workspace:
            (Path(workspace) / "notes.txt").write_text("cherry\napple\nbanana\n")
            verdict(anyio.run(call_each, f"docs.labs.command_injection.{module}", Path(workspace)))


if __name__ == "__main__":
    main()
