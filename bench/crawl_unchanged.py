"""CPU per page of the crawl pipeline's cheap paths, on a real corpus page when ../shared is there.

    .venv/bin/python bench/crawl_unchanged.py [--pages 200] [--page PATH] [--rounds N]

Feeds FetchedPage items straight to the FetchPipeline and its FetchRecorder (no network, no
Scrapy), on a fresh SQLite database, and prints the CPU time per page of: a 304, the same bytes as
last time, new bytes that differ in volatile markup alone (a new nonce in a ``<meta>``: same
fingerprint, nothing parsed or stored), and new bytes with a visible change outside the selected
region (parsed, stored, region unchanged), split into snapshot storage and the rest. ``--rounds N``
repeats each new-bytes crawl N times with new nonces (snapshots stored further into their group:
deltas against older bases, decoded through more deltas) and prints their means. Figures go to
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPUS_PAGE = "https://openai.com/policies/usage-policies/"


def corpus_page() -> bytes | None:
    """The latest snapshot of a real page from the replay corpus, if the corpus is there."""
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "genai-dev"
    if not corpus.exists():
        return None
    import json
    import tarfile

    import zstandard

    manifest = json.loads((corpus / "manifest.json").read_text())
    wanted = next(d for d in manifest["documents"] if d["url"] == CORPUS_PAGE)["snapshots"][-1]["blob"]
    with (
        open(corpus / "blobs.tar.zst", "rb") as raw,
        zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for member in tar:
            if member.name.endswith(wanted):
                return tar.extractfile(member).read()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--page", type=Path, help="an HTML file to use instead of the corpus page")
    parser.add_argument("--rounds", type=int, default=1, help="crawls of new bytes with the same region")
    args = parser.parse_args()
    body = args.page.read_bytes() if args.page else corpus_page()
    if body is None:
        body = (
            b"<html><body><main>"
            + b"<p>Policy clause number %d applies.</p>" * 2000
            + b"</main></body></html>"
        )
    work = tempfile.mkdtemp(prefix="pw_bench_")
    os.environ["POLICYWATCH_DATABASE_URL"] = f"sqlite:///{work}/bench.db"
    os.environ["POLICYWATCH_DATA_DIR"] = work

    from crawler.fetch.items import CrawlReport, FetchedPage
    from crawler.fetch.pipeline import FetchPipeline
    from crawler.sources.declarations import parse_declarations
    from policywatch.settings import load_settings
    from store import snapshots
    from store.crawl_plan import build_plan
    from store.db import make_engine, transaction
    from store.fetches import FetchRecorder
    from store.migrate import upgrade
    from store.models import utcnow
    from store.sources_file import load_declarations

    upgrade(os.environ["POLICYWATCH_DATABASE_URL"])
    engine = make_engine(os.environ["POLICYWATCH_DATABASE_URL"])
    declared = parse_declarations(
        {
            "platforms": [
                {
                    "slug": "bench",
                    "name": "Bench",
                    "documents": [
                        {
                            "slug": f"bench-{i}",
                            "title": "AUP",
                            "type": "Acceptable Use Policy",
                            "url": f"{CORPUS_PAGE}?copy={i}",
                            "select": ["main"],
                            "remove": ['select[name="Locale Select"]', "main .sr-only"],
                        }
                        for i in range(args.pages)
                    ],
                }
            ]
        },
        "bench",
    )
    with transaction(engine) as session:
        load_declarations(session, declared)

    def pipeline():
        with transaction(engine) as session:
            plan = build_plan(session, list(range(1, args.pages + 1)))
        settings = load_settings()
        item_pipeline = FetchPipeline(None, settings)
        recorder = FetchRecorder(engine, settings.broken_after, None)
        item_pipeline.open_spider(SimpleNamespace(plan=plan, report=CrawlReport(), recorder=recorder))
        return item_pipeline

    def page(i, status=200, content=body):
        return FetchedPage(
            i + 1, CORPUS_PAGE, utcnow(), status=status, body=content, content_type="text/html; charset=utf-8"
        )

    first = pipeline()
    start = time.process_time()
    for i in range(args.pages):
        first.process_item(
            page(i, content=body.replace(b"<head>", b"<head><meta name='copy' content='%d'>" % i, 1))
        )
    first.close_spider()
    print(
        f"page: {len(body)} bytes; first crawl of {args.pages} copies: {first.report.versions} versions, "
        f"{(time.process_time() - start) / args.pages * 1000:.1f} ms CPU/page"
    )

    snapshot_cpu = [0.0]
    original_put = snapshots.put_snapshot

    def timed_put(*a, **k):
        start = time.process_time()
        try:
            return original_put(*a, **k)
        finally:
            snapshot_cpu[0] += time.process_time() - start

    import store.fetches

    store.fetches.put_snapshot = timed_put

    def nonce(round_):
        return lambda i: page(
            i, content=body.replace(b"<head>", b"<head><meta name='nonce' content='x%d-%d'>" % (round_, i), 1)
        )

    def outside(round_):
        return lambda i: page(
            i, content=body.replace(b"</body>", b"<div>Notice %d-%d</div></body>" % (round_, i), 1)
        )

    def rounds(name, make):
        return [(f"{name}{f' ({n + 1})' if args.rounds > 1 else ''}", make(n)) for n in range(args.rounds)]

    cases = [
        ("304 not modified", lambda i: page(i, status=304, content=b"")),
        (
            "same bytes",
            lambda i: page(
                i, content=body.replace(b"<head>", b"<head><meta name='copy' content='%d'>" % i, 1)
            ),
        ),
        *rounds("volatile markup only", nonce),
        *rounds("visible change outside", outside),
    ]
    new_bytes: dict[str, list] = {}
    for name, make in cases:
        snapshot_cpu[0] = 0.0
        total = 0.0
        item_pipeline = pipeline()  # one crawl of every copy
        for i in range(args.pages):
            item = make(i)
            start = time.process_time()
            item_pipeline.process_item(item)
            total += time.process_time() - start
        start = time.process_time()
        item_pipeline.close_spider()  # commits the last batch
        total += time.process_time() - start
        outcomes = {result.outcome for result in item_pipeline.report.results}
        per_page = total / args.pages * 1000
        store_part = snapshot_cpu[0] / args.pages * 1000
        print(
            f"{name:28s} {per_page:6.2f} ms CPU/page (snapshot storage {store_part:5.2f} ms, "
            f"rest {per_page - store_part:5.2f} ms)  outcomes {sorted(outcomes)}"
        )
        new_bytes.setdefault(name.split(" (")[0], []).append((per_page, store_part))
    for name, measured in new_bytes.items():
        if len(measured) > 1:
            per_page, store_part = (sum(column) / len(measured) for column in zip(*measured))
            print(
                f"{name + ', mean':28s} {per_page:6.2f} ms CPU/page (snapshot storage {store_part:5.2f} ms, "
                f"rest {per_page - store_part:5.2f} ms)  over {len(measured)} crawls"
            )


if __name__ == "__main__":
    main()
