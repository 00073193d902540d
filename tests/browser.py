"""What the browser tests share: Debian's chromium, the folder their screenshots are kept in (the CI's
artefacts), and what a reader would notice in a page's text: Markdown markers and ids shown as words."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from changes.provisions import load_catalog
from changes.taxonomy import load_taxonomy

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium); "
        "no browser is downloaded",
    ),
]
#: Where the browser tests keep their screenshots: artifacts/screenshots at the repository's root, or
#: the folder SCREENSHOT_DIR names.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
)
WIDTHS = {"desktop": 1280, "phone": 390}

MARKDOWN = re.compile(
    r"(?:^|\s)#{1,6} +\S|\*\*|__\w|\\[\\_*#|\[\]]|^\s*\|.*\|\s*$|\|\s*:?-{3,}", re.M
)  # a heading's hashes, emphasis, an escape, a table row or rule
IDS = {t.id for t in load_taxonomy().topics} | {p.id for p in load_catalog().types}
SHOWN_ID = re.compile(r"\b(?:" + "|".join(i for i in IDS if "_" in i) + r")\b")  # ids unlike words


_BROKEN_WORDS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("td, th")].flatMap(cell => {
    const style = getComputedStyle(cell);
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const fits = word => word.length > 20 || context.measureText(word).width <= room + 1;
    return cell.innerText.split(/[\\s-]+/).filter(word => !fits(word));  // a line may end at a hyphen
  });
}"""


def broken_words(page) -> list[str]:
    """The words (up to 20 characters: not URLs or ids, which may wrap; a hyphen ends a word) a table
    cell of ``page`` is too narrow for, so it breaks them ('Signifi' / 'cance')."""
    return page.evaluate(_BROKEN_WORDS)


_BROKEN_DATES = """() => {
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const date of node.data.matchAll(/\\d{4}-\\d{2}-\\d{2}/g)) {
      const range = document.createRange();
      range.setStart(node, date.index);
      range.setEnd(node, date.index + date[0].length);
      const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.bottom)));
      if (lines.size > 1) broken.push(date[0]);
    }
  }
  return broken;
}"""


def broken_dates(page) -> list[str]:
    """The dates (2026-06-03) in the main part of ``page`` that run over two lines, broken at a hyphen."""
    return page.evaluate(_BROKEN_DATES)


def screenshot(page, name: str) -> Path:
    """The whole of ``page`` saved as ``name``.png in SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unreadable(text: str) -> list[str]:
    """What in a page's visible ``text`` a reader should never see: Markdown's markers left as text
    and topic or provision ids where their label belongs."""
    return [m.group().strip() for m in MARKDOWN.finditer(text)] + SHOWN_ID.findall(text)


def shown_slugs(text: str, slugs: Iterable[str]) -> list[str]:
    """The ``slugs`` (of platforms and documents) ``text`` shows as words where a name or title
    belongs; a slug inside an address (acme.test, legal@acme.test, /documents/acme-terms) is not one."""
    return [m for slug in slugs for m in re.findall(rf"(?<![\w.@/-]){re.escape(slug)}(?![\w.@/-])", text)]


def overflow(page) -> int:
    """How many pixels ``page`` is wider than its window (a phone user would scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
