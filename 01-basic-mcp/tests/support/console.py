"""A README's console examples, read and run as a reader runs them: the commands they copy, and what those print.

An example is a fenced ```console block. A line starting with `$ ` is a command; it goes on over the
next lines for as long as the shell would (a trailing backslash, an open quote). The lines below it,
up to the next command, are what it prints; blank lines at their end only space the examples apart.

The commands of a section run in one bash, in order, as in the reader's one terminal: a variable one
sets (`SID=...`) is there for the next. stderr goes where stdout goes, as a terminal shows both.

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
from dataclasses import dataclass
from pathlib import Path

ANSWER_DEADLINE = 20.0  # seconds for one answer of a typed-into program, and per command of the shell
FENCE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)


@dataclass(frozen=True)
class Command:
    text: str  # as the reader copies it: without the `$ `, continuation lines included
    shown: tuple[str, ...]  # the lines the README shows below it (typed lines included, as a terminal echoes them)

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
    for block in FENCE.findall(markdown):
        lines = block.splitlines()
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
                shown.append(lines[at])
                at += 1
            while shown and not shown[-1].strip():
                shown.pop()
            found.append(Command(text, tuple(shown)))
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


def run(examples: list[Command], bash: str, cwd: Path, rewrite: dict[str, str]) -> list[list[str]]:
    """What each command prints, in order, each of its texts first rewritten (`old` -> `new`) by `rewrite`.

    `python` is the Python running the tests, as it is the virtual environment's for a reader who
    activated it.
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def rewritten(text: str) -> str:
        for old, new in rewrite.items():
            text = text.replace(old, new)
        return text

    in_shell = [command for command in examples if not command.typed]
    shell_outputs = iter(run_in_one_shell([rewritten(c.text) for c in in_shell], bash, cwd, env))
    return [run_typed_into(rewritten(c.text), c, bash, cwd, env) if c.typed else next(shell_outputs) for c in examples]


def run_in_one_shell(texts: list[str], bash: str, cwd: Path, env: dict[str, str]) -> list[list[str]]:
    """Run `texts` in one bash; what each printed is told apart by a line only this run prints between them."""
    between = f"--- {uuid.uuid4().hex} ---"
    script = "exec 2>&1\n" + "".join(f"{text}\nprintf '\\n%s\\n' '{between}'\n" for text in texts)
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
