"""Lesson 04's picture, 04-observability/trace.png: one trace in Arize Phoenix, photographed in headless Chromium.

    python scripts/screenshot_trace.py TRACE_ID     # the trace id the lesson's client printed

Phoenix must be running at --phoenix with that trace in it: 04-observability/README.md, "Arize Phoenix",
gives the commands, and the picture's caption there the exact run it shows. The picture opens the
trace, selects the server's `tools/call` span (so its MCP attributes show) and widens the span tree
until no name is cut short. Chromium is Debian's (apt install chromium), driven by Playwright.
"""

import argparse
import re
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
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
SIZE = {"width": 1400, "height": 900}
SELECTED_SPAN = "tools/call make_authenticated_request"
# Pixels: wide enough for the longest span name ("MCP send tools/call make_authenticated_request") in
# full, and for the timeline bars Phoenix draws beside the names once the tree is wide.
TREE_WIDTH = 640
PANEL_LEFT = 60  # right of the collapsed side navigation


def vertical_dividers(page) -> list[dict]:
    """Where the page's vertical panel dividers are now, left to right."""
    boxes = (handle.bounding_box() for handle in page.get_by_role("separator").all())
    return sorted((box for box in boxes if box and box["height"] > box["width"]), key=lambda box: box["x"])


def drag(page, divider: dict, x: float) -> None:
    """Drag a panel divider sideways, as a person would, to `x`."""
    y = divider["y"] + divider["height"] / 2
    page.mouse.move(divider["x"] + divider["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(x, y, steps=10)
    page.mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("trace_id", help="32 hex digits, as the client prints after trace_id:")
    parser.add_argument("--phoenix", default="http://127.0.0.1:6006", help="where Phoenix serves its UI")
    parser.add_argument("--out", type=Path, default=ROOT / "04-observability" / "trace.png")
    options = parser.parse_args()
    if not re.fullmatch(r"[0-9a-f]{32}", options.trace_id):
        parser.error("a trace id is 32 lowercase hex digits")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=SIZE)
            page.goto(f"{options.phoenix}/redirects/traces/{options.trace_id}")  # Phoenix finds the project
            page.wait_for_load_state("networkidle")
            page.get_by_role("button", name="Collapse side navigation").click()  # room for the trace
            page.get_by_text(SELECTED_SPAN, exact=True).first.click()
            page.wait_for_load_state("networkidle")
            # Two dividers: the trace panel's left edge, then the one between the span tree and the span's
            # details. Drag the first to the window's left (the panel takes the page), the second to TREE_WIDTH.
            for index, target in enumerate((PANEL_LEFT, PANEL_LEFT + TREE_WIDTH)):
                drag(page, vertical_dividers(page)[index], target)
            page.wait_for_timeout(500)  # the panels settle after the drag
            page.screenshot(path=str(options.out))
            print(f"wrote {options.out}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
