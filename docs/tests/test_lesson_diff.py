"""`scripts/lesson_diff.py`, the instructor's diff, run as the guide runs it, for each lesson that builds on another."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = {
    "02": "01-basic-mcp",
    "03": "02-basic-token-passthrough",
    "04": "02-basic-token-passthrough",
    "05": "01-basic-mcp",
}


def lesson_diff(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "scripts/lesson_diff.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_the_diff_follows_the_readme_and_shows_only_the_lessons_own_changes(lesson: str) -> None:
    diff = lesson_diff(lesson)
    files = re.findall(r"^\+\+\+ \S+?/(\S+)", diff, re.M)
    assert files, "an empty diff"
    assert not [name for name in files if "__pycache__" in name or name.startswith("tests/")]
    # The base lesson's name is the lesson's own in the diff: a docstring naming its lesson is no change.
    base = LESSONS[lesson]
    assert not [line for line in diff.splitlines() if line.startswith(("+", "-")) and f"{base}." in line]
    # The first file is the first the README says to read that the diff changes.
    readme = (next(ROOT.glob(f"{lesson}-*")) / "README.md").read_text(encoding="utf-8")
    reading = re.search(r"^## Read in this order\n(.*?)^## ", readme, re.S | re.M).group(1)
    first_read = next(path for path in re.findall(r"\]\(([^)#]+\.py)\)", reading) if path in files)
    assert files[0] == first_read


def test_lesson_03s_live_coded_diff_and_authorization_server_core_are_within_budget() -> None:
    stat = lesson_diff("03", "--stat")
    live = int(re.search(r"^ *(\d+)  changed lines in server/ and client/", stat, re.M).group(1))
    core = int(re.search(r"^ *(\d+)  lines in the authorization server's core", stat, re.M).group(1))
    assert live <= 900, stat
    assert core <= 1500, stat
    assert "NOT met" not in stat
