"""Speed of the changes layer.

1. compare + summarise a 30,000-word policy with 1% of its sentences edited (target: < 50 ms median),
   with the sentence-key cache cleared before every run, so each run does all its work;
2. record_changes over one document with 1,000 versions (SQLite), timing each block of 100 changes:
   flat figures mean the bounded flapping look-back keeps it linear.

    .venv/bin/python bench/changes_speed.py
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from changes.analysis import analyse  # noqa: E402
from changes.meaning import key, meaning, text_keys  # noqa: E402
from policywatch.settings import load_settings  # noqa: E402
from store.db import make_engine, transaction  # noqa: E402
from store.models import Base, CrawlRun, Document, Platform  # noqa: E402
from store.versions import record_version  # noqa: E402

WORDS = (
    "data service user account policy provider content model request agreement law third party "
    "security access personal information process purpose right consent notice period term use"
).split()


def policy(rng: random.Random, words: int) -> list[list[str]]:
    """Sections of sentences, about ``words`` words in all."""
    sections, total = [], 0
    while total < words:
        sentences = []
        for _ in range(15):
            n = rng.randint(8, 25)
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
            total += n
        sections.append(sentences)
    return sections


def text_of(sections: list[list[str]]) -> str:
    return (
        "\n\n".join(
            f"## Section {i}\n\n" + "\n\n".join(" ".join(s[k : k + 3]) for k in range(0, len(s), 3))
            for i, s in enumerate(sections)
        )
        + "\n"
    )


def edited(rng: random.Random, sections: list[list[str]], share: float) -> list[list[str]]:
    """A copy with ``share`` of its sentences reworded (one word replaced)."""
    copy = [list(s) for s in sections]
    flat = [(i, j) for i, s in enumerate(copy) for j in range(len(s))]
    for i, j in rng.sample(flat, max(1, int(len(flat) * share))):
        words = copy[i][j].split()
        words[rng.randrange(len(words))] = "changed"
        copy[i][j] = " ".join(words)
    return copy


def bench_compare(runs: int = 30) -> None:
    rng = random.Random(1)
    base = policy(rng, 30_000)
    old, new = text_of(base), text_of(edited(rng, base, 0.01))
    timings = []
    for _ in range(runs):
        meaning.cache_clear()
        key.cache_clear()
        text_keys.cache_clear()
        start = time.perf_counter()
        analysis = analyse(old, new, title="Policy")
        timings.append((time.perf_counter() - start) * 1000)
    print(
        f"30,000 words ({len(old.split())} tokens), "
        f"{analysis.details['counts']['sentences_added']} sentences edited: "
        f"median {statistics.median(timings):.1f} ms, min {min(timings):.1f} ms, "
        f"max {max(timings):.1f} ms over {runs} runs ({analysis.significance})"
    )


def bench_history(versions: int = 1000, words: int = 3000) -> None:
    rng = random.Random(2)
    sections = policy(rng, words)
    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    Base.metadata.create_all(engine)
    start_time = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(engine) as session:
        document = Document(
            platform=Platform(slug="bench", name="Bench"),
            slug="bench-policy",
            title="Policy",
            terms_type="Terms of Service",
        )
        session.add(document)
        for i in range(versions):
            at = start_time + timedelta(hours=12 * i)
            run = CrawlRun(started_at=at)
            session.add(run)
            session.flush()
            # every other version flips a banner; the rest edit one sentence
            sections = edited(rng, sections, 0.002) if i % 2 else sections
            banner = "We use cookies. Accept all.\n\n" if i % 4 == 1 else ""
            record_version(
                session, document, banner + text_of(sections), [], crawl_run_id=run.id, created_at=at
            )
    blocks = []
    with transaction(engine) as session:
        from changes import record

        pending, settings = record.pending_versions(session), load_settings()
        for block in range(0, len(pending), 100):
            start = time.perf_counter()
            for version in pending[block : block + 100]:
                session.add(record.change_for(session, version, settings))
            session.flush()
            blocks.append(time.perf_counter() - start)
    print(
        f"{versions} versions of a {words}-word document: "
        + ", ".join(f"{b * 10:.1f}" for b in blocks)
        + " ms per change, per block of 100 (flat = linear)"
    )
    engine.dispose()


if __name__ == "__main__":
    bench_compare()
    bench_history()
