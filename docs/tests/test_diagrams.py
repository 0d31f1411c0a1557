"""The pictures in the docs are there, shown, and up to date with what they are made from.

Every ```mermaid block in a Markdown file has a picture in docs/diagrams/, named by the image line
under the block, for readers outside GitHub (where Mermaid is raw text). Each picture begins with
the SHA-256 of its Mermaid source, the pinned mermaid and the renderer's settings; these tests
recompute it from the Markdown, so they need no browser and no npm. When one fails, run
`python scripts/render_diagrams.py` (it needs Chromium and npm) and commit what it writes.
"""

import re
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path

import pytest

render_diagrams = import_module("scripts.render_diagrams")

ROOT = render_diagrams.ROOT
DIAGRAMS = render_diagrams.all_diagrams()
SVG = "{http://www.w3.org/2000/svg}"


def test_the_flows_a_reader_would_rather_look_at_are_among_the_diagrams() -> None:
    pictures = {diagram.picture.name for diagram in DIAGRAMS if diagram.picture}
    assert {"oauth-flow.svg", "03-oauth-flow.svg", "05-proxy-call-flow.svg"} <= pictures


def test_every_mermaid_block_has_a_picture_and_every_picture_is_shown() -> None:
    assert not render_diagrams.problems(DIAGRAMS), "\n".join(render_diagrams.problems(DIAGRAMS))


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda diagram: diagram.where)
def test_the_picture_was_made_from_this_very_diagram(diagram) -> None:
    assert render_diagrams.is_current(diagram), (
        f"{diagram.picture.relative_to(ROOT)} is missing or older than the diagram at {diagram.where}:"
        " run python scripts/render_diagrams.py"
    )


@pytest.mark.parametrize("picture", sorted(render_diagrams.PICTURES.glob("*.svg")), ids=lambda path: path.name)
def test_every_viewer_can_draw_the_picture(picture: Path) -> None:
    """Well-formed SVG with a size, on white, its labels SVG text (no HTML that only browsers draw)."""
    root = ET.fromstring(picture.read_text())  # noqa: S314 (a file of this repository, not untrusted input)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") and root.get("height") and root.get("viewBox")
    assert "background-color: white" in root.get("style", "")
    assert root.find(f".//{SVG}foreignObject") is None
    assert root.find(f".//{SVG}text") is not None


@pytest.mark.parametrize(
    "diagram", [d for d in DIAGRAMS if d.source.startswith("sequenceDiagram")], ids=lambda d: d.where
)
def test_a_sequence_picture_names_every_participant(diagram) -> None:
    root = ET.fromstring(diagram.picture.read_text())  # noqa: S314 (a file of this repository)
    shown = {"".join(text.itertext()) for text in root.iter(f"{SVG}tspan")} | {
        "".join(text.itertext()) for text in root.iter(f"{SVG}text")
    }
    for label in re.findall(r"^\s*participant \w+ as (.+)$", diagram.source, re.M):
        for line in label.split("<br/>"):
            assert line.strip() in shown, f"{diagram.picture.name} does not show {line.strip()!r}"


def test_lesson_04_shows_a_trace_from_a_real_run() -> None:
    picture = ROOT / "04-observability" / "trace.png"
    header = picture.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert width >= 1000 and height >= 600, (width, height)
    readme = (ROOT / "04-observability" / "README.md").read_text()
    assert "](trace.png)" in readme
    assert "scripts/screenshot_trace.py" in readme  # how it was made, so a reader can make it again
    assert not (ROOT / "04-observability" / "phoenix-trace.png").exists()
