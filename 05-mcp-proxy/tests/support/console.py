"""A README's console examples, read and run as a reader runs them: the commands they copy, and what those print.

An example is a fenced ```console block. A line starting with `$ ` is a command; it goes on over the
next lines for as long as the shell would (a trailing backslash, an open quote). The lines below it,
up to the next command, are what it prints; blank lines at their end only space the examples apart.
A line that is only `…` stands for lines the README leaves out: none, one or many (`as_shown`).

`Examples` runs them in the README's order, each when a test first asks for it, stderr where stdout
goes, as a terminal shows both, and Python writing each line at once, as it does to a terminal (to a
pipe it would hold stdout back). A command that reads what the one before it left in the shell (`$?`,
or a variable it set, `SID=$(...)`) runs in one bash with it. A command may also run in the test
process, where what it prints is the subject and not its process; and one that stands for a process
the reader leaves running, or for what they do to it, is the test's to do (see `Examples`).

Lesson 05's copy of lesson 04's: with a test's own steps between the commands (a backend stopped, a
retry waited for), and every command run each time the README shows it (a proxy's answer changes as
its backends come and go).
"""

import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

COMMAND_DEADLINE = 20.0  # seconds for each command a shell runs
FENCE = re.compile(r"^( *)```console\n(.*?)^\1```$", re.M | re.S)  # indented too: a step of a numbered list
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
ELIDED = "…"  # a line of the README's output that stands for lines left out
SETS_A_VARIABLE = re.compile(r"^([A-Za-z_]\w*)=\$\(")  # `SID=$(curl ...)`: kept by the shell for the next command
NOT_THE_READERS = ("OTEL_", "MCP_PROXY_TOKEN", "WORKSHOP_TOKEN")  # settings of the test run the commands would read


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


def python_module(text: str) -> tuple[str, list[str]] | None:
    """`python -m MODULE ARG...` as `(MODULE, [ARG, ...])`, the words as the shell passes them; None for a
    command the shell does more with: a variable, a pipe, a redirection, a second command, a setting before it."""
    if "$" in text or "`" in text:
        return None
    words = shlex.shlex(text.replace("\\\n", " "), posix=True, punctuation_chars=True)
    words.whitespace_split = True
    argv = list(words)
    if argv[:2] != ["python", "-m"] or len(argv) < 3 or any(set(word) <= set("();<>|&") for word in argv):
        return None
    return argv[2], argv[3:]


def as_a_terminal_shows(output: str) -> list[str]:
    """Lines without what a terminal does not show: the `\\r` of `\\r\\n`, trailing spaces, trailing blank lines."""
    lines = [line.rstrip() for line in output.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


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


def environment() -> dict[str, str]:
    """A reader's shell: `python` is the Python running the tests, as it is the virtual environment's for a
    reader who activated it, and no setting of the test run's that a command reads is there. Python writes
    each line at once, as it does to a terminal; a wide terminal, so that no usage error wraps."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(NOT_THE_READERS)}
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env | {"PATH": path, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def reads_what_the_last_left(text: str, unit: list[str]) -> bool:
    """Whether `text` reads `$?`, or a variable a command of `unit` (the shell it would join) set."""
    if "$?" in text:
        return True
    variables = {match[1] for earlier in unit if (match := SETS_A_VARIABLE.match(earlier))}
    return any(re.search(rf"\${{?{name}\b", text) for name in variables)


class Examples:
    """What each of `examples` prints, each run when a test first asks for it, after every command before it.

    So each test waits for its own command only, and they still run in the README's order: a call made
    after a backend is stopped is made after it is stopped. `rewrite(command)` is the text the shell runs
    (the tests' ports and folders for the README's).

    Three hooks make the reader's world: `before(at)` runs before command `at` does (a step the README
    describes in words: a backend stopped, a wait the reader does without knowing it); a command in
    `stand_ins` is not run, and what it printed is what `stand_ins[text]()` returns when its turn comes
    (the log of a server the tests started, or nothing once the test has done what it does); and a
    command for which `in_process(command, text)` returns lines does not run in a shell: those lines are
    what it printed, from the lesson's own command run in the test process, in its turn. For a command
    whose output is the subject, not its process; never for one that a `$?` after it reads.
    """

    def __init__(
        self,
        examples: list[Command],
        bash: str,
        cwd: Path,
        rewrite: Callable[[Command], str],
        stand_ins: dict[str, Callable[[], list[str]]],
        in_process: Callable[[Command, str], list[str] | None] = lambda command, text: None,
        before: Callable[[int], None] = lambda at: None,
    ) -> None:
        self.examples, self.bash, self.cwd, self.stand_ins = examples, bash, cwd, stand_ins
        self.in_process, self.before = in_process, before
        self.texts = [rewrite(command) for command in examples]
        self.env = environment()
        self.units: list[list[int]] = []  # indices of commands that run together, in order
        for at, command in enumerate(examples):
            joins = self.units and examples[self.units[-1][-1]].text not in stand_ins
            if joins and command.text not in stand_ins and reads_what_the_last_left(command.text, self.texts_of(-1)):
                self.units[-1].append(at)
            else:
                self.units.append([at])
        self.ran = 0  # how many units have run
        self.printed: dict[int, list[str]] = {}

    def texts_of(self, unit: int) -> list[str]:
        return [self.examples[at].text for at in self.units[unit]]

    def __getitem__(self, at: int) -> list[str]:
        while at not in self.printed:
            unit = self.units[self.ran]
            self.ran += 1
            first = self.examples[unit[0]]
            self.before(unit[0])
            if first.text in self.stand_ins:
                self.printed[unit[0]] = self.stand_ins[first.text]()
                continue
            texts = [self.texts[i] for i in unit]
            if len(unit) == 1 and (lines := self.in_process(first, texts[0])) is not None:
                outputs = [lines]
            else:
                outputs = run_in_one_shell(texts, self.bash, self.cwd, self.env)
            self.printed.update(zip(unit, outputs, strict=True))
        return self.printed[at]


def run_in_one_shell(texts: list[str], bash: str, cwd: Path, env: dict[str, str]) -> list[list[str]]:
    """Run `texts` in one bash; what each printed is told apart by a line only this run prints between them
    (and `$?` after it is still the command's exit status)."""
    between = f"--- {uuid.uuid4().hex} ---"
    script = "exec 2>&1\n" + "".join(
        f"{text}\n__status=$?; printf '\\n%s\\n' '{between}'; (exit $__status)\n" for text in texts
    )
    result = subprocess.run(
        [bash, "--noprofile", "--norc", "-c", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_DEADLINE * max(1, len(texts)),
        check=False,
    )
    outputs = result.stdout.split(f"\n{between}\n")
    assert len(outputs) == len(texts) + 1, f"the shell stopped early ({result.returncode}):\n{result.stdout}"
    return [as_a_terminal_shows(output) for output in outputs[:-1]]
