"""Every security lab in docs/security.md runs with the command the page shows and prints what it shows.

A lab is a console block whose first line is `$ python -m ... .labs.<name>`; the lines after it are
the lab's output, pasted from a real run. Each lab starts its own processes on free ports, so the
labs run in parallel with the rest of the suite. Each run of the attack in a lab ("1. ...", "2. ...")
ends with its one verdict, `ATTACK SUCCEEDED: ...` or `ATTACK BLOCKED by ...: ...`, and no other
line reads like one.

A lab's deliberately vulnerable variant (`labs/<name>/vulnerable.py`) runs only as its lab starts
it: run bare, where someone might take it for the lesson's server, it refuses, says what it is and
names its lab. Lesson 05's labs are checked with lesson 05. A lab says what it does within a second
of starting, before the SDK's import.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "security.md"
BLOCK = re.compile(r"^```console\n\$ python -m (\S+\.labs\.\S+)\n(.*?)^```", re.M | re.S)
VULNERABLE = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for labs in ("01-basic-mcp/labs", "02-basic-token-passthrough/labs", "03-oauth-mcp/labs", "docs/labs")
    for path in (ROOT / labs).glob("*/vulnerable.py")
)


def labs() -> list[tuple[str, str]]:
    return BLOCK.findall(PAGE.read_text()) if PAGE.exists() else []


def test_the_page_has_labs() -> None:
    assert len(labs()) >= 5


HALF = re.compile(r"^\d+\. .*\n", re.M)  # "1. A server that ...:", the first line of each run of the attack
VERDICT = re.compile(r"   ATTACK (SUCCEEDED: \S.*|BLOCKED by \S.*?: \S.*)")


@pytest.mark.parametrize(("module", "shown"), labs(), ids=[module for module, _ in labs()])
def test_each_run_of_a_lab_ends_with_one_verdict_and_the_vulnerable_variant_loses(module: str, shown: str) -> None:
    """Each numbered run ends with its one verdict line, the first (the vulnerable variant's) ATTACK SUCCEEDED,
    and some run is ATTACK BLOCKED: nothing before a verdict reads like one."""
    runs = HALF.split(shown)[1:]
    assert len(runs) >= 2, shown
    verdicts = []
    for run in runs:
        lines = run.rstrip("\n").splitlines()
        assert [line for line in lines if line.lstrip().startswith("ATTACK ")] == lines[-1:], run
        assert VERDICT.fullmatch(lines[-1]), lines[-1]
        verdicts.append(lines[-1].split()[1].rstrip(":"))
    assert verdicts[0] == "SUCCEEDED" and "BLOCKED" in verdicts, verdicts


@pytest.mark.parametrize(("module", "shown"), labs(), ids=[module for module, _ in labs()])
@pytest.mark.timeout(120)
def test_a_lab_prints_what_the_page_shows(module: str, shown: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with (tmp_path / "stderr").open("w+") as stderr:  # a file: a pipe nobody reads could fill and stall the lab
        lab = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is printed, as on a terminal
        )
        with lab:
            first_line = lab.stdout.readline()
            said_what_it_does_after = time.monotonic() - started
            printed = first_line + lab.stdout.read()
            lab.wait(timeout=110)
        stderr.seek(0)
        assert lab.returncode == 0, stderr.read()
        assert printed == shown, f"{module} now prints:\n{printed}\nstderr:\n{stderr.read()[-2000:]}"
    # Before anything slow (the SDK's import alone takes a second), the reader is told what the lab does.
    assert said_what_it_does_after < 1.0, f"{module} printed nothing for {said_what_it_does_after:.1f} s"


def test_every_lab_has_its_vulnerable_variants_checked() -> None:
    assert len(VULNERABLE) >= 8


@pytest.mark.parametrize("module", VULNERABLE)
def test_a_vulnerable_variant_run_bare_refuses_and_says_what_it_is(module: str) -> None:
    lab = module.removesuffix(".vulnerable")
    run = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert run.returncode != 0, run.stderr
    assert f"DELIBERATELY VULNERABLE (lab: {lab.rpartition('.')[2]}): " in run.stderr
    assert f"python -m {lab}\n" in run.stderr  # who starts it
    assert run.stdout == ""
