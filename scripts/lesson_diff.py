"""What an instructor live-codes: a lesson's diff from the lesson it builds on, in reading order, without noise.

    python scripts/lesson_diff.py 03          # the diff, file by file, in the order the README reads them
    python scripts/lesson_diff.py 03 --stat   # changed lines per file, the total, and for 03 the auth server's core

The live-coded part of a lesson is its `server/` and `client/` packages and the modules at its root
that they import. Files come in the order the lesson README's "Read in this order" list names them,
then the rest by name. Noise is left out: `__pycache__`, tests, and the lesson's own name where a
docstring or a `prog_name` spells it (`02-basic-token-passthrough` and `lesson 02` read as the
lesson's), so that every line shown is one the instructor types.
"""

import argparse
import difflib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILDS_ON = {"02": "01", "03": "02", "04": "02", "05": "01"}
LIVE_CODED = ("server", "client")
CORE_BUDGET = {"02->03": 900}  # changed lines of server/ and client/ that an instructor can live-code
AUTH_SERVER_CORE_BUDGET = 1500


def lesson_dir(number: str) -> Path:
    matches = sorted(ROOT.glob(f"{number}-*"))
    if len(matches) != 1:
        raise SystemExit(f"no lesson {number!r} in {ROOT}")
    return matches[0]


def live_coded_files(lesson: Path) -> set[str]:
    """Paths (relative to the lesson) of every .py file in server/ and client/, and the lesson-root modules."""
    found = {str(path.relative_to(lesson)) for part in LIVE_CODED for path in (lesson / part).rglob("*.py")}
    found |= {path.name for path in lesson.glob("*.py") if path.name not in ("__init__.py", "benchmark.py")}
    return {path for path in found if "__pycache__" not in path}


def reading_order(lesson: Path) -> list[str]:
    """The files the README's "Read in this order" list links to, in that order."""
    readme = (lesson / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Read in this order\n(.*?)^## ", readme, re.S | re.M)
    return re.findall(r"\]\(([^)#]+\.py)\)", section.group(1)) if section else []


def normalised(text: str, lesson: Path, base: Path) -> list[str]:
    """The file's lines with the base lesson's name written as this lesson's: a rename is not a change."""
    text = text.replace(base.name, lesson.name)
    text = re.sub(rf"\b([Ll]esson) {base.name[:2]}\b", rf"\1 {lesson.name[:2]}", text)
    return text.splitlines(keepends=True)


def file_diffs(lesson: Path, base: Path) -> list[tuple[str, list[str]]]:
    files = live_coded_files(lesson) | live_coded_files(base)
    order = [path for path in reading_order(lesson) if path in files]
    order += sorted(files - set(order))
    diffs = []
    for path in order:
        old, new = base / path, lesson / path
        old_lines = normalised(old.read_text(encoding="utf-8"), lesson, base) if old.exists() else []
        new_lines = new.read_text(encoding="utf-8").splitlines(keepends=True) if new.exists() else []
        diff = list(difflib.unified_diff(old_lines, new_lines, f"{base.name}/{path}", f"{lesson.name}/{path}", n=3))
        if diff:
            diffs.append((path, diff))
    return diffs


def changed(diff: list[str]) -> int:
    return sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))


def auth_server_lines(lesson: Path) -> dict[str, int]:
    """Lines of the authorization server's core (its flat modules: grants, endpoints, login and consent,
    tokens, metadata) and of each of its subpackages (storage, the optional parts), counted apart."""
    package = lesson / "auth_server"
    if not package.is_dir():
        return {}

    def lines(paths) -> int:
        return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in paths)

    counts = {"auth_server/*.py": lines(package.glob("*.py"))}
    for sub in sorted(path for path in package.iterdir() if path.is_dir() and (path / "__init__.py").exists()):
        counts[f"auth_server/{sub.name}/"] = lines(sub.rglob("*.py"))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lesson", choices=sorted(BUILDS_ON), help="the lesson's number, e.g. 03")
    parser.add_argument("--stat", action="store_true", help="changed lines per file instead of the diff")
    args = parser.parse_args(argv)
    lesson, base = lesson_dir(args.lesson), lesson_dir(BUILDS_ON[args.lesson])
    diffs = file_diffs(lesson, base)
    if not args.stat:
        for _, diff in diffs:
            sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
        return 0
    total = root = 0
    for path, diff in diffs:
        print(f"{changed(diff):6d}  {path}")
        if path.startswith(LIVE_CODED):
            total += changed(diff)
        else:
            root += changed(diff)
    key = f"{base.name[:2]}->{lesson.name[:2]}"
    budget = CORE_BUDGET.get(key)
    verdict = "" if budget is None else f" (at most {budget}: {'met' if total <= budget else 'NOT met'})"
    print(f"{total:6d}  changed lines in server/ and client/, {base.name} -> {lesson.name}{verdict}")
    print(f"{root:6d}  changed lines in the lesson-root modules they import")
    for place, count in auth_server_lines(lesson).items():
        if place == "auth_server/*.py":
            met = "met" if count <= AUTH_SERVER_CORE_BUDGET else "NOT met"
            budget = f"at most {AUTH_SERVER_CORE_BUDGET}: {met}"
            print(f"{count:6d}  lines in the authorization server's core, {place} ({budget})")
        else:
            print(f"{count:6d}  lines in {place}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # piped into `head` or a pager that quit: not an error
        sys.exit(0)
