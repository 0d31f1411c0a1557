"""A README's console examples, read and run as a reader runs them: the commands they copy, and what those print.

An example is a fenced ```console block. A line starting with `$ ` is a command; it goes on over the
next lines for as long as the shell would (a trailing backslash, an open quote). The lines below it,
up to the next command, are what it prints; blank lines at their end only space the examples apart.
A line that is only `…` stands for lines the README leaves out: none, one or many (`as_shown`).

Lesson 03's examples build on each other, as a reader's terminal does: a login the client keeps, a
variable (`DEMO=...`) or a function (`field() ...`) the next command uses. So a `Terminal` is one bash
that stays up, and `Walkthrough` runs the README's commands in it, in the README's order, each when a
test first asks for it (a test waits for its own command only). A reader runs the servers, and
sometimes a second terminal, beside that one: the caller names what stands in for each of those
(`stand_ins`, asked when their turn comes), and may watch what a command prints while it runs (to play
the user at the browser, say, when a login prints the URL to open). stderr goes where stdout goes, as a
terminal shows both, and Python writes each line at once, as it does to a terminal (to a pipe it would
hold stdout back).
"""

import os
import queue
import re
import shlex
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

COMMAND_DEADLINE = 60.0  # seconds a command may take, a login with its consent included
FENCE = re.compile(r"^( *)```console\n(.*?)^\1```$", re.M | re.S)  # indented too: a step of a numbered list
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
ELIDED = "…"  # a line of the README's output that stands for lines left out


@dataclass(frozen=True)
class Command:
    text: str  # as the reader copies it: without the `$ `, continuation lines included
    shown: tuple[str, ...]  # the lines the README shows below it
    heading: str = ""  # the heading the block is under: where in the README the reader is


def section(markdown: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match[1]


def commands(markdown: str) -> list[Command]:
    """Every command of every ```console block in `markdown`, in order."""
    found: list[Command] = []
    for block in FENCE.finditer(markdown):
        headings = HEADING.findall(markdown, 0, block.start())
        lines = [line.removeprefix(block[1]) for line in block[2].splitlines()]
        at = 0
        while at < len(lines):
            assert lines[at].startswith("$ "), f"a console block line before any command: {lines[at]!r}"
            text = lines[at].removeprefix("$ ")
            at += 1
            while not complete(text):
                text += "\n" + lines[at]
                at += 1
            shown = []
            while at < len(lines) and not lines[at].startswith("$ "):
                shown.append(lines[at].rstrip())  # as a terminal shows it: no trailing spaces
                at += 1
            while shown and not shown[-1].strip():
                shown.pop()
            found.append(Command(text, tuple(shown), headings[-1] if headings else ""))
    return found


def complete(text: str) -> bool:
    """Whether the shell would run `text` as it is, rather than wait for another line."""
    if text.endswith("\\"):
        return False
    try:
        shlex.split(text)
    except ValueError:  # an open quote
        return False
    return True


def as_a_terminal_shows(output: str) -> list[str]:
    """Lines without what a terminal does not show: the `\\r` of `\\r\\n`, trailing spaces, trailing blank lines."""
    lines = [line.rstrip() for line in output.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def set_aside(lines: Sequence[str], volatile: Sequence[tuple[re.Pattern[str], str]]) -> list[str]:
    """`lines` with what changes from run to run (each pattern) as its stand-in: for the README and a run alike."""
    for pattern, stand_in in volatile:
        lines = [pattern.sub(stand_in, line) for line in lines]
    return list(lines)


def as_shown(shown: Sequence[str], printed: Sequence[str]) -> list[str]:
    """`printed` with each run of lines the README leaves out written as its `…` line.

    The result equals `shown` exactly when the README shows what was printed: every line it shows, in
    order, and the lines it shows together printed together. Otherwise it is `printed` as it was, for
    the failing comparison to show.
    """
    if ELIDED not in shown:
        return list(printed)
    parts: list[list[str]] = [[]]
    for line in shown:
        if line == ELIDED:
            parts.append([])
        else:
            parts[-1].append(line)
    first, *middle, last = parts
    if list(printed[: len(first)]) != first:
        return list(printed)
    at = len(first)
    for part in middle:
        found = next(
            (i for i in range(at, len(printed) - len(part) + 1) if list(printed[i : i + len(part)]) == part), None
        )
        if found is None:
            return list(printed)
        at = found + len(part)
    if len(printed) - len(last) < at or (last and list(printed[len(printed) - len(last) :]) != last):
        return list(printed)
    return list(shown)


def environment(**settings: str) -> dict[str, str]:
    """A reader's shell: `python` is the Python running the tests, as it is the virtual environment's for a
    reader who activated it, and no `OTEL_*` setting of the test run's is there; `settings` on top. Python
    writes each line at once, as it does to a terminal."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env | {"PATH": path, "PYTHONUNBUFFERED": "1"} | settings


class Terminal:
    """One bash that stays up, as a reader's terminal does: what one command sets is there for the next.

    Each command reads nothing from the terminal (stdin is /dev/null), so none can swallow the ones
    after it. `run` returns what the command printed, handing each line to `watch` as it comes.
    """

    def __init__(self, bash: str, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [bash, "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:  # a thread, so that a command that never ends fails the test instead of hanging it
            for line in self.process.stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=read, daemon=True).start()

    def run(self, text: str, watch: Callable[[str], None] | None = None) -> list[str]:
        end = f"--- {uuid.uuid4().hex} ---"
        self.process.stdin.write(f"{{ {text}\n}} </dev/null\nprintf '\\n%s\\n' '{end}'\n")
        self.process.stdin.flush()
        printed: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=COMMAND_DEADLINE)
            except queue.Empty:
                raise AssertionError(f"no end within {COMMAND_DEADLINE:g} s of: {text}\n{''.join(printed)}") from None
            if line is None:
                raise AssertionError(f"the terminal ended during: {text}\n{''.join(printed)}")
            if line.rstrip("\n") == end:
                return as_a_terminal_shows("".join(printed))
            printed.append(line)
            if watch:
                watch(line.rstrip("\n"))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Walkthrough:
    """What each of `examples` prints, each run in `terminal` when a test first asks for it, after every
    command before it, so that they run in the README's order whatever order the tests come in.

    `rewrite(at)` is the text to run for example `at` (ports the tests chose, say). A command for which
    `stand_in(at)` returns a callable is not run here: it is a server the tests run, or a second terminal,
    and what it printed is what that callable returns when its turn comes. `watch(at)` may return what to
    do with each line the command prints while it runs. `skip(at)` names commands not run at all.
    """

    def __init__(
        self,
        examples: list[Command],
        terminal: Terminal,
        rewrite: Callable[[int], str],
        stand_in: Callable[[int], Callable[[], list[str]] | None],
        watch: Callable[[int], Callable[[str], None] | None],
        skip: Callable[[int], bool],
    ) -> None:
        self.examples, self.terminal = examples, terminal
        self.rewrite, self.stand_in, self.watch, self.skip = rewrite, stand_in, watch, skip
        self.ran = 0  # how many examples have had their turn
        self.printed: dict[int, list[str]] = {}

    def record(self, at: int, printed: list[str]) -> None:
        """What example `at` printed, run out of turn (in a second terminal while the first waits, say)."""
        self.printed[at] = printed

    def __getitem__(self, at: int) -> list[str]:
        while at not in self.printed:
            assert self.ran < len(self.examples), f"example {at} is never run: skipped, or out of range"
            turn = self.ran
            self.ran += 1
            if turn in self.printed or self.skip(turn):
                continue
            if stand_in := self.stand_in(turn):
                self.printed[turn] = stand_in()
            else:
                self.printed[turn] = self.terminal.run(self.rewrite(turn), self.watch(turn))
        return self.printed[at]
