"""The Mermaid diagrams of the Markdown files as pictures (docs/diagrams/*.svg), for readers outside GitHub.

    python scripts/render_diagrams.py           # render every picture whose diagram changed
    python scripts/render_diagrams.py --all     # render every picture again
    python scripts/render_diagrams.py --check   # only list stale or missing pictures (no browser, no npm)

The Markdown stays the single source. Under each ```mermaid block stands the line that embeds its
picture, `![what it shows](docs/diagrams/NAME.svg)`, and that line names the picture: a new diagram
gets a picture by adding the line, a changed diagram by running this script. Blocks that are the
same diagram (the READMEs' translations) share one picture.

Each picture begins with the SHA-256 of everything it was made from: the Mermaid source, the
pinned mermaid version and the settings below. docs/tests/test_diagrams.py recomputes it from the
Markdown, so a stale picture fails the tests on any machine, with no browser and no npm.

Rendering runs the npm package `mermaid`, pinned by docs/diagrams/package-lock.json and installed
with `npm ci` into a cache directory (once per lock file), in Debian's headless Chromium (apt install
chromium npm), driven by Playwright: test tools cannot download browsers here. Labels are SVG text,
not HTML, so that every SVG viewer shows them; the font is Liberation Sans, which has Arial's
metrics, so boxes measured here fit their text where Arial or Helvetica stands in for it.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PICTURES = ROOT / "docs" / "diagrams"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-workshop"
SKIPPED = {".git", ".venv", "node_modules", ".pytest_cache", ".ruff_cache", "__pycache__", "build"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags that keep Chromium quiet on a machine with no network and no display.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Everything that decides how a picture looks, apart from its source; part of the picture's hash.
FONT = '"Liberation Sans", Arial, Helvetica, sans-serif'
MERMAID_CONFIG = {
    "startOnLoad": False,
    "theme": "default",
    "fontFamily": FONT,
    "htmlLabels": False,  # SVG <text>, not HTML in <foreignObject>, which most viewers but browsers leave blank
    "deterministicIds": True,  # the same source gives the same bytes, so a re-render changes nothing
    "securityLevel": "strict",
    "flowchart": {"useMaxWidth": False, "wrappingWidth": 260},  # 200 would break `01-basic-mcp.server`
    # A sequence diagram measures its text in fonts of its own: the same one, or boxes miss their text.
    "sequence": {"useMaxWidth": False, "actorFontFamily": FONT, "noteFontFamily": FONT, "messageFontFamily": FONT},
    "state": {"useMaxWidth": False},
}
BACKGROUND = "white"  # on GitHub's dark theme, a transparent picture's black text would vanish
VIEWPORT = {"width": 1200, "height": 800}
PICTURE_LINE = re.compile(r"^!\[[^\]]*\]\(([^)\s]+\.svg)\)$")


@dataclass
class Diagram:
    markdown: Path  # the file holding the ```mermaid block
    line: int  # the line of its opening fence, counted from 1
    source: str  # the Mermaid text between the fences
    picture: Path | None  # what the image line under the block names, if there is one

    @property
    def where(self) -> str:
        return f"{self.markdown.relative_to(ROOT)}:{self.line}"


def markdown_files() -> list[Path]:
    return sorted(path for path in ROOT.rglob("*.md") if not SKIPPED & set(path.relative_to(ROOT).parts))


def diagrams_in(markdown: Path) -> list[Diagram]:
    """Every ```mermaid block of `markdown`, with the picture named by the first non-blank line after it."""
    lines = markdown.read_text().splitlines()
    found = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```mermaid":
            index += 1
            continue
        opening = index
        index += 1
        while index < len(lines) and not lines[index].strip().startswith("```"):
            index += 1
        source = "\n".join(lines[opening + 1 : index]) + "\n"
        after = index + 1
        while after < len(lines) and not lines[after].strip():
            after += 1
        named = PICTURE_LINE.match(lines[after].strip()) if after < len(lines) else None
        picture = (markdown.parent / named.group(1)).resolve() if named else None
        found.append(Diagram(markdown, opening + 1, source, picture))
        index += 1
    return found


def all_diagrams() -> list[Diagram]:
    return [diagram for markdown in markdown_files() for diagram in diagrams_in(markdown)]


def mermaid_version() -> str:
    lock = json.loads((PICTURES / "package-lock.json").read_text())
    return lock["packages"]["node_modules/mermaid"]["version"]


def fingerprint(source: str) -> str:
    """The SHA-256 of what a picture is made from: its source, the mermaid version, the settings."""
    made_from = {"source": source, "mermaid": mermaid_version(), "config": MERMAID_CONFIG, "background": BACKGROUND}
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()


def stamp(diagram: Diagram) -> str:
    """The comment a picture starts with: where it comes from, and its fingerprint."""
    return (
        f"<!-- Generated by scripts/render_diagrams.py from a Mermaid block in {diagram.markdown.relative_to(ROOT)}:"
        f" edit that, then run the script. sha256: {fingerprint(diagram.source)} -->"
    )


def problems(diagrams: list[Diagram]) -> list[str]:
    """What is wrong, in words: blocks without a picture, pictures shared by different diagrams, orphans."""
    found = []
    sources: dict[Path, Diagram] = {}
    for diagram in diagrams:
        if diagram.picture is None:
            found.append(
                f"{diagram.where}: no picture; under the block, add a line ![what it shows](…/docs/diagrams/NAME.svg)"
            )
        elif diagram.picture.parent != PICTURES:
            found.append(f"{diagram.where}: its picture must be in docs/diagrams/, not {diagram.picture}")
        elif diagram.picture in sources and sources[diagram.picture].source != diagram.source:
            first = sources[diagram.picture]
            found.append(
                f"{diagram.where}: {diagram.picture.name} already shows a different diagram ({first.where});"
                " give this one its own name"
            )
        else:
            sources.setdefault(diagram.picture, diagram)
    embedded = {diagram.picture for diagram in diagrams}
    found += [
        f"docs/diagrams/{orphan.name}: no Markdown file shows it under a Mermaid block"
        for orphan in sorted(PICTURES.glob("*.svg"))
        if orphan not in embedded
    ]
    return found


def one_per_picture(diagrams: list[Diagram]) -> list[Diagram]:
    """The first diagram that names each picture (any other that names it is the same diagram)."""
    first: dict[Path, Diagram] = {}
    for diagram in diagrams:
        if diagram.picture is not None:
            first.setdefault(diagram.picture, diagram)
    return list(first.values())


def is_current(diagram: Diagram) -> bool:
    """Whether the diagram's picture exists and was made from this very source, mermaid and settings."""
    if diagram.picture is None or not diagram.picture.is_file():
        return False
    first_line = diagram.picture.read_text().partition("\n")[0]
    return first_line.endswith(f"sha256: {fingerprint(diagram.source)} -->")


def install_mermaid() -> Path:
    """mermaid's browser bundle, installed with `npm ci` from the lock file if it was not already."""
    lock = (PICTURES / "package-lock.json").read_bytes()
    target = CACHE / f"mermaid-{hashlib.sha256(lock).hexdigest()[:12]}"
    bundle = target / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    if (target / "node_modules" / ".installed").exists():
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed (Debian: apt install npm); it installs the pinned mermaid")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PICTURES / name, scratch)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"npm ci failed: {done.stderr.strip()[-500:]}")
        (Path(scratch) / "node_modules" / ".installed").touch()
        shutil.rmtree(target, ignore_errors=True)
        os.replace(scratch, target)  # whole or not at all, even with two installs racing
    return bundle


# Runs in the page: render, then serialize as XML (an SVG file is XML; the page's own HTML would not parse).
RENDER = """
async ([source, config, background]) => {
  mermaid.initialize(config);
  const { svg } = await mermaid.render("diagram", source);
  const holder = document.createElement("div");
  holder.innerHTML = svg;
  document.body.replaceChildren(holder);
  const root = holder.querySelector("svg");
  root.style.backgroundColor = background;
  // mermaid's own viewBox can cut off an edge, and its height can disagree with it (which shrinks the
  // drawing): frame what was drawn, with a margin for strokes and shadows, and make that the size.
  const drawn = root.getBBox();
  const [x, y, width, height] = [drawn.x - 16, drawn.y - 16, drawn.width + 32, drawn.height + 32].map(Math.ceil);
  root.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
  root.setAttribute("width", String(width));
  root.setAttribute("height", String(height));
  root.style.maxWidth = "";
  const xml = new XMLSerializer().serializeToString(root);
  const error = new DOMParser().parseFromString(xml, "image/svg+xml").querySelector("parsererror");
  if (error) throw new Error(`not well-formed XML: ${error.textContent}`);  // fail here, not in a viewer
  return xml;
}
"""


def render(diagrams: list[Diagram]) -> None:
    from playwright.sync_api import Error, sync_playwright  # only here: --check and the tests need no browser

    if not Path(CHROMIUM).exists():
        raise SystemExit("Chromium is not installed (Debian: apt install chromium)")
    bundle = install_mermaid()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for diagram in diagrams:
                # A fresh page each time: mermaid numbers its ids per page, and a picture must not depend
                # on which others were rendered before it.
                page = browser.new_page(viewport=VIEWPORT)
                page.set_content("<!doctype html><html><body></body></html>")
                page.add_script_tag(path=str(bundle))
                try:
                    svg = page.evaluate(RENDER, [diagram.source, MERMAID_CONFIG, BACKGROUND])
                except Error as error:  # GitHub cannot draw it either: say where, and mermaid's reason
                    raise SystemExit(f"{diagram.where}: mermaid cannot render it: {error.message[:800]}") from None
                page.close()
                assert diagram.picture is not None
                diagram.picture.write_text(f"{stamp(diagram)}\n{svg}\n")
                print(f"wrote {diagram.picture.relative_to(ROOT)} from {diagram.where}")
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--check", action="store_true", help="only list what is stale or missing")
    parser.add_argument("--all", action="store_true", help="render every picture, not only the stale ones")
    options = parser.parse_args()
    diagrams = all_diagrams()
    wrong = problems(diagrams)
    for problem in wrong:
        print(problem, file=sys.stderr)
    if wrong:
        return 1
    todo = [diagram for diagram in one_per_picture(diagrams) if options.all or not is_current(diagram)]
    if options.check:
        for diagram in todo:
            print(f"stale: {diagram.picture.relative_to(ROOT)} (from {diagram.where})", file=sys.stderr)
        return 1 if todo else 0
    if todo:
        render(todo)
    else:
        print("every picture is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
