"""Every security lab in docs/security.md runs with the command the page shows and prints what it shows.

A lab is a console block whose first line is `$ python -m ... .labs.<name>`; the lines after it are
the lab's output, pasted from a real run. Each lab starts its own processes on free ports, so the
labs run in parallel with the rest of the suite.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "security.md"
BLOCK = re.compile(r"^```console\n\$ python -m (\S+\.labs\.\S+)\n(.*?)^```", re.M | re.S)


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
