"""A README's console examples, read and run as a reader runs them: the commands they copy, and what those print.

An example is a fenced ```console block. A line starting with `$ ` is a command; it goes on over the
next lines for as long as the shell would (a trailing backslash, an open quote). The lines below it,
up to the next command, are what it prints; blank lines at their end only space the examples apart.
A line that is only `…` stands for lines the README leaves out: none, one or many (`as_shown`).

With `run`, the commands run in one bash, in order, as in the reader's one terminal: a variable one
sets (`SID=...`) is there for the next. With `Examples`, each runs when a test first asks for it, still
in the README's order, so that each test waits for its own command only. Either way stderr goes where
stdout goes, as a terminal shows both, and Python writes each line at once, as it does to a terminal
(to a pipe it would hold stdout back). `Examples` may also run a lesson's own command in the test
process, where what it prints is the subject and not its process (see `Examples`).

A command whose lines include JSON-RPC messages a client writes (a JSON object with a `method`) is a
program the reader types into, such as the stdio server: those lines go to its stdin, each once the
answers shown before it have arrived, and its stdin is closed after the last. It runs in its own
process, so it sees no variable the others set.
"""

import contextlib
import json
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

ANSWER_DEADLINE = 20.0  # seconds for one answer of a typed-into program, and per command of the shell
FENCE = re.compile(r"^( *)```console\n(.*?)^\1```$", re.M | re.S)  # indented too: a step of a numbered list
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
ELIDED = "…"  # a line of the README's output that stands for lines left out


@dataclass(frozen=True)
class Command:
    text: str  # as the reader copies it: without the `$ `, continuation lines included
    shown: tuple[str, ...]  # the lines the README shows below it (typed lines included, as a terminal echoes them)
    heading: str = ""  # the heading the block is under: where in the README the reader is

    @property
    def typed(self) -> tuple[str, ...]:
        return tuple(line for line in self.shown if is_client_message(line))


def is_client_message(line: str) -> bool:
    """A line a client writes: a JSON-RPC request or notification, which has a `method`."""
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return isinstance(message, dict) and "method" in message


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
    reader who activated it, and no `OTEL_*` setting of the test run's is there. Python writes each line
    at once, as it does to a terminal."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    return env | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}


def run(examples: list[Command], bash: str, cwd: Path, rewrite: dict[str, str]) -> list[list[str]]:
    """What each command prints, in order, all in one shell, each of its texts first rewritten (`old` ->
    `new`) by `rewrite`: for examples that leave something behind for the next (`SID=...`)."""
    env = environment()

    def rewritten(text: str) -> str:
        for old, new in rewrite.items():
            text = text.replace(old, new)
        return text

    in_shell = [command for command in examples if not command.typed]
    shell_outputs = iter(run_in_one_shell([rewritten(c.text) for c in in_shell], bash, cwd, env))
    return [run_typed_into(rewritten(c.text), c, bash, cwd, env) if c.typed else next(shell_outputs) for c in examples]


class Examples:
    """What each of `examples` prints, each run when a test first asks for it, after every command before it.

    So each test waits for its own command only, and they still run in the README's order: a call that a
    later `curl .../metrics` counts has run by then. A command that reads `$?` runs in one shell with the one
    before it. A command the README shows twice (a step of the learner path, then again in full) runs once,
    rewritten the same. Only for examples that leave nothing behind for the next: `run` is for `SID=...`.

    A command in `stand_ins` is not run: it is a server the tests started, and what it printed is what
    `stand_ins[text]()` returns when asked (its log, so far).

    A command for which `in_process(command, text)` (`text` rewritten) returns lines does not run in a
    shell: those lines are what it printed, from the lesson's own command run in the test process, in
    its turn. For a command whose output is the subject, not its process; never for one that is typed
    into or that a `$?` after it reads.
    """

    def __init__(
        self,
        examples: list[Command],
        bash: str,
        cwd: Path,
        rewrite: Callable[[Command], str],
        stand_ins: dict[str, Callable[[], list[str]]],
        in_process: Callable[[Command, str], list[str] | None] = lambda command, text: None,
    ) -> None:
        self.examples, self.bash, self.cwd, self.stand_ins = examples, bash, cwd, stand_ins
        self.in_process = in_process
        self.texts = [rewrite(command) for command in examples]
        self.env = environment()
        self.units: list[list[int]] = []  # indices of commands that run together, in order
        for at, command in enumerate(examples):
            reads_status = "$?" in command.text and self.units and not examples[self.units[-1][-1]].typed
            if reads_status and not command.typed:
                self.units[-1].append(at)
            else:
                self.units.append([at])
        self.ran = 0  # how many units have run
        self.printed: dict[int, list[str]] = {}
        self.by_texts: dict[tuple[str, ...], list[list[str]]] = {}

    def __getitem__(self, at: int) -> list[str]:
        if self.examples[at].text in self.stand_ins:
            return self.stand_ins[self.examples[at].text]()
        while at not in self.printed:
            unit = self.units[self.ran]
            self.ran += 1
            if self.examples[unit[0]].text in self.stand_ins:
                continue
            texts = tuple(self.texts[i] for i in unit)
            if texts not in self.by_texts:
                first = self.examples[unit[0]]
                if first.typed:
                    self.by_texts[texts] = [run_typed_into(texts[0], first, self.bash, self.cwd, self.env)]
                elif len(unit) == 1 and (lines := self.in_process(first, texts[0])) is not None:
                    self.by_texts[texts] = [lines]
                else:
                    self.by_texts[texts] = run_in_one_shell(list(texts), self.bash, self.cwd, self.env)
            self.printed.update(zip(unit, self.by_texts[texts], strict=True))
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
        timeout=ANSWER_DEADLINE * max(1, len(texts)),
        check=False,
    )
    outputs = result.stdout.split(f"\n{between}\n")
    assert len(outputs) == len(texts) + 1, f"the shell stopped early ({result.returncode}):\n{result.stdout}"
    return [as_a_terminal_shows(output) for output in outputs[:-1]]


def run_typed_into(text: str, command: Command, bash: str, cwd: Path, env: dict[str, str]) -> list[str]:
    """Start `text`, type `command`'s client lines into it, each after the answers shown before it; the
    transcript a terminal would show: typed lines and answers, in order, then whatever came after stdin closed."""
    process = subprocess.Popen(
        [bash, "--noprofile", "--norc", "-c", text],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # a thread, so that a program that never answers fails the test instead of hanging it
        for line in process.stdout:
            printed.put(line)
        printed.put(None)

    threading.Thread(target=read, daemon=True).start()
    transcript: list[str] = []
    ended = False
    try:
        for line in command.shown:
            if is_client_message(line):
                transcript.append(line)
                try:
                    process.stdin.write(line + "\n")
                    process.stdin.flush()
                except BrokenPipeError:
                    break  # it ended before reading this: what it printed instead follows below
                continue
            try:
                answer = printed.get(timeout=ANSWER_DEADLINE)
            except queue.Empty:
                transcript.append(f"<nothing within {ANSWER_DEADLINE:g} s>")
                break
            if ended := answer is None:
                transcript.append("<the program ended>")
                break
            transcript.append(answer)
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()  # Ctrl-D: the end of what the reader types
        process.wait(timeout=ANSWER_DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while not ended and (rest := printed.get(timeout=ANSWER_DEADLINE)) is not None:
        transcript.append(rest)
    return as_a_terminal_shows("\n".join(line.removesuffix("\n") for line in transcript))
