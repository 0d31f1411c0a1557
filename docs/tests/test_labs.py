"""Every security lab in docs/security.md runs with the command the page shows and prints what it shows.

A lab is a console block whose first line is `$ python -m ... .labs.<name>`; the lines after it are
the lab's output, pasted from a real run. Each lab starts its own processes on free ports, so the
labs run in parallel with the rest of the suite.

A lab's deliberately vulnerable variant (`labs/<name>/vulnerable.py`) runs only as its lab starts
it: run bare, where someone might take it for the lesson's server, it refuses, says what it is and
names its lab. Lesson 05's labs are checked with lesson 05.
"""

import re
import subprocess
import sys
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


@pytest.mark.parametrize(("module", "shown"), labs(), ids=[module for module, _ in labs()])
@pytest.mark.timeout(120)
def test_a_lab_prints_what_the_page_shows(module: str, shown: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown, f"{module} now prints:\n{run.stdout}\nstderr:\n{run.stderr[-2000:]}"


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
