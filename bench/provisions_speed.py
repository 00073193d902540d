"""Speed of a change's analysis with provisions: a 30,000-word policy made of the real bundled pages
(tests/fixtures/pages: OpenAI's, Google's and Mistral's usage policies and Meta's processor terms,
repeated under numbered headings) with 1% of its sentences edited, compared and summarised
(``analyse``) and its provisions found (``Catalog.find``) and compared with the parent's (``touched``),
every cache cleared before each run (target: < 100 ms median in all). The parent's instances are read
from the store when a change is recorded, so one ``find`` is what a change costs; both are timed.

    .venv/bin/python bench/provisions_speed.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from changes.analysis import analyse  # noqa: E402
from changes.meaning import key, meaning, text_keys  # noqa: E402
from changes.provisions import load_catalog, touched  # noqa: E402
from crawler.extract.extraction import select_region  # noqa: E402

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"
DECLARATIONS = {
    "openai-usage-policies-tick34.html": (["main"], ['select[name="Locale Select"]', "main .sr-only"]),
    "google-generative-ai-use-policy-tick0.html": (['[role="article"]'], []),
    "mistral-usage-policy-tick71.html": (["div"], ["button", "footer", "nav", "aside"]),
    "meta-global-processor-terms-tick0.html": ([], []),
}


def page_text(name: str) -> str:
    select, remove = DECLARATIONS[name]
    body = (PAGES / name).read_bytes()
    region = select_region(
        body, url="https://example.test/", content_type="text/html", select=select, remove=remove
    )
    return region.markdown()


def policy(words: int) -> list[str]:
    """Lines of a policy of about ``words`` words: the pages in turn, each copy under its own heading."""
    pages = [page_text(name) for name in DECLARATIONS]
    lines: list[str] = []
    copy = 0
    while sum(len(line.split()) for line in lines) < words:
        for text in pages:
            copy += 1
            lines.append(f"# Part {copy}")
            lines += [line for line in text.splitlines() if line.strip()]
    return lines


def edited(rng: random.Random, lines: list[str], share: float) -> list[str]:
    """A copy with ``share`` of its lines reworded (one word replaced)."""
    copy = list(lines)
    prose = [i for i, line in enumerate(copy) if len(line.split()) > 5 and not line.startswith("#")]
    for i in rng.sample(prose, max(1, int(len(prose) * share))):
        words = copy[i].split()
        words[rng.randrange(len(words))] = "changed"
        copy[i] = " ".join(words)
    return copy


def main(runs: int = 30) -> None:
    rng = random.Random(1)
    lines = policy(30_000)
    old, new = "\n\n".join(lines), "\n\n".join(edited(rng, lines, 0.01))
    catalog = load_catalog()
    parent = catalog.find(old)
    whole, finding = [], []
    for _ in range(runs):
        meaning.cache_clear()
        key.cache_clear()
        text_keys.cache_clear()
        start = time.perf_counter()
        analyse(old, new, title="Policy")
        middle = time.perf_counter()
        provisions = touched(parent, catalog.find(new), texts=(old, new))
        end = time.perf_counter()
        whole.append((end - start) * 1000)
        finding.append((end - middle) * 1000)
    both = []
    for _ in range(5):
        start = time.perf_counter()
        touched(catalog.find(old), catalog.find(new), texts=(old, new))
        both.append((time.perf_counter() - start) * 1000)
    print(
        f"{len(old.split()):,}-word policy, 1 % of lines edited, {len(provisions)} provisions touched: "
        f"median {statistics.median(whole):.1f} ms for the change with provisions, "
        f"of which {statistics.median(finding):.1f} ms finding the new version's provisions "
        f"(both versions' from their texts: {statistics.median(both):.1f} ms)"
    )


if __name__ == "__main__":
    main()
