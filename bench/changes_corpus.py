"""Replay the genai-dev corpus through ``changes`` tick by tick, without HTTP.

Extracts each document's text from the corpus blobs its URL serves (documents sharing a URL get
the same page, as from replay_server.py) with the crawler's ``select_region`` (the declared
select/remove, or automatic extraction with ``--mode auto``; refused pages record no version),
records versions in a scratch SQLite database (one crawl run per tick), runs
``changes.record.record_changes`` after each tick and scores the alerts against truth.json in the
sense of ``shared/tools/score_replay.py`` (alert = minor or substantive; a minor change on
digest-level noise is allowed). Data: Open Terms Archive, ODC-By 1.0.

    .venv/bin/python bench/changes_corpus.py [../shared/corpus/genai-dev] [--mode auto] [--verbose]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import re
import sys
import tarfile
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from changes.record import record_changes  # noqa: E402
from crawler.extract.extraction import ExtractionError, select_region  # noqa: E402
from policywatch.settings import load_settings  # noqa: E402
from store.db import make_engine, transaction  # noqa: E402
from store.models import Base, CrawlRun, Document, Platform  # noqa: E402
from store.versions import record_version  # noqa: E402

DIGEST_LEVEL = {"date_or_chrome_only", "minor_edit", "notice_banner"}
CACHE = Path("/tmp/policywatch_corpus_texts")


def extract(body: bytes, doc: dict, mode: str) -> str | None:
    """The document's Markdown as the crawler extracts it, or None when the crawler refuses the page."""
    select, remove = (doc["select"], doc["remove"]) if mode == "selectors" else ([], [])
    try:
        region = select_region(
            body, url=doc["url"], content_type=doc["content_type"], select=select, remove=remove
        )
        return region.markdown()
    except ExtractionError:
        return None


def extraction_code() -> str:
    """A digest of the crawler's code, so a cached extraction is redone when the extraction changes."""
    crawler = Path(__file__).resolve().parents[1] / "crawler"
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(crawler.glob("*.py")))).hexdigest()[:12]


def served_snapshots(manifest: dict) -> dict[str, list[dict]]:
    """document id -> the snapshots its URL serves: as replay_server.py does, documents sharing a URL
    all get the snapshots of the last of them in the manifest."""
    owner = {doc["url"]: doc for doc in manifest["documents"]}
    return {doc["id"]: owner[doc["url"]]["snapshots"] for doc in manifest["documents"]}


def corpus_texts(corpus: Path, mode: str) -> dict[tuple[str, str], str | None]:
    """(document id, blob sha) -> extracted text, cached in /tmp between runs of the same crawler code."""
    cache = CACHE.with_suffix(f".{mode}.served.{extraction_code()}.pickle")
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    manifest = json.loads((corpus / "manifest.json").read_text())
    snapshots = served_snapshots(manifest)
    wanted: dict[str, list[dict]] = {}
    for doc in manifest["documents"]:
        for snap in snapshots[doc["id"]]:
            wanted.setdefault(snap["blob"], []).append(doc)
    texts = {}
    with open(corpus / "blobs.tar.zst", "rb") as raw:
        stream = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                sha = member.name.rsplit("/", 1)[-1]
                if sha not in wanted or not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                for doc in wanted[sha]:
                    texts[(doc["id"], sha)] = extract(data, doc, mode)
    cache.write_bytes(pickle.dumps(texts))
    return texts


def replay(corpus: Path, mode: str, verbose: bool) -> dict:
    """Record every document's versions tick by tick in a scratch SQLite database, one crawl run per
    tick, and let record_changes analyse them, as `policywatch crawl` does."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    truth = json.loads((corpus / "truth.json").read_text())
    texts = corpus_texts(corpus, mode)
    snapshots = served_snapshots(manifest)
    database = Path(tempfile.mkdtemp()) / "replay.db"
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    with transaction(engine) as session:
        documents = {}
        for doc in manifest["documents"]:
            platform = session.query(Platform).filter_by(slug=doc["service"]).one_or_none() or Platform(
                slug=doc["service"], name=doc["service"]
            )
            documents[doc["id"]] = Document(
                platform=platform, slug=doc["id"], title=doc["terms_type"], terms_type=doc["terms_type"]
            )
            session.add(documents[doc["id"]])
    alerts, records, settings = [], [], load_settings()
    served: dict[str, str] = {}
    for tick, moment in enumerate(manifest["ticks"]):
        at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        with transaction(engine) as session:
            run = CrawlRun(started_at=at)
            session.add(run)
            session.flush()
            for doc in manifest["documents"]:
                blob = next(
                    (s["blob"] for s in snapshots[doc["id"]] if s["tick"] == tick), served.get(doc["id"])
                )
                if blob is None:
                    continue
                served[doc["id"]] = blob
                if texts[(doc["id"], blob)] is None:
                    continue
                document = session.merge(documents[doc["id"]], load=True)
                record_version(
                    session, document, texts[(doc["id"], blob)], [], crawl_run_id=run.id, created_at=at
                )
            for change in record_changes(session, settings):
                slug = session.get(Document, change.document_id).slug
                records.append((slug, tick, change))
                if change.significance != "cosmetic":
                    alerts.append((slug, tick, change))
    engine.dispose()
    return score(truth, alerts, records, verbose, mode)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _found(sample: str, haystack: str) -> bool:
    """As score_replay.py: the sample in the change's sentences, or 85% of its words when it has 4+."""
    words = _norm(sample).split()
    if not words or " ".join(words) in haystack:
        return True
    hay = set(haystack.split())
    return len(words) >= 4 and sum(w in hay for w in words) / len(words) >= 0.85


def summary_share(truth: dict, matched: dict) -> float | None:
    """Share of the truth's key added/removed sentences found in the matched changes' sections."""
    samples = {
        (doc, ev["tick"]): (ev.get("key_added") or [], ev.get("key_removed") or [])
        for t in truth["terms"]
        for ev in t["events"]
        if ev["label"] == "substantive"
        for doc in ev["documents"]
    }
    hits = total = 0
    for event, change in matched.items():
        added, removed = samples.get(event, ([], []))
        sections = change.details["sections"]
        hay_a = _norm(" ".join(s for sec in sections for s in sec["added"]))
        hay_r = _norm(" ".join(s for sec in sections for s in sec["removed"]))
        for sample in added:
            total, hits = total + 1, hits + _found(sample, hay_a)
        for sample in removed:
            total, hits = total + 1, hits + _found(sample, hay_r)
            if not _found(sample, hay_r):
                print(f"  summary misses removed {event}: {sample[:120]}")
        for sample in added:
            if not _found(sample, hay_a):
                print(f"  summary misses added {event}: {sample[:120]}")
    return round(hits / total, 3) if total else None


def score(truth: dict, alerts: list, records: list, verbose: bool, mode: str) -> dict:
    """As score_replay.py; events the corpus selectors cannot see (selector_mismatch) are left out in
    selectors mode only."""
    events = {
        (doc, ev["tick"]): (ev["label"], set(ev.get("tags") or []))
        for doc, d in truth["documents"].items()
        for ev in d.get("events", [])
    }
    unseen = {
        k
        for k, (label, tags) in events.items()
        if label == "substantive" and mode == "selectors" and "selector_mismatch" in tags
    }
    substantive = {k for k, (label, _) in events.items() if label == "substantive"} - unseen
    matched, false = {}, []
    for doc, tick, result in sorted(alerts, key=lambda a: a[1]):
        hit = next((k for k in ((doc, tick), (doc, tick - 1)) if k in substantive and k not in matched), None)
        if hit:
            matched[hit] = result
            continue
        if (doc, tick) in unseen or (doc, tick - 1) in unseen:
            continue
        label, tags = events.get((doc, tick)) or events.get((doc, tick - 1)) or ("no_event", set())
        if result.significance == "minor" and label == "other_noise" and tags & DIGEST_LEVEL:
            continue
        false.append((doc, tick, label, tags, result))
    missed = sorted(substantive - set(matched), key=lambda k: k[1])
    for doc, tick in missed:
        rec = next((r for d, t, r in records if d == doc and t in (tick, tick + 1)), None)
        found = f"{rec.significance} {'; '.join(rec.reasons)}" if rec else "no version"
        print(f"MISSED {doc} @{tick}: {found}")
    for doc, tick, label, tags, result in false:
        print(
            f"FALSE  {doc} @{tick} truth={label} {sorted(tags)} -> "
            f"{result.significance}: {'; '.join(result.reasons)[:300]}"
        )
        if verbose:
            for sec in result.details["sections"][:6]:
                print(
                    "   ",
                    sec["status"],
                    sec["heading"][:60],
                    "+",
                    [s[:100] for s in sec["added"]][:4],
                    "-",
                    [s[:100] for s in sec["removed"]][:4],
                )
    figures = {
        "substantive": len(substantive),
        "detected": len(matched),
        "false_alerts": len(false),
        "recall": round(len(matched) / len(substantive), 3) if substantive else None,
        "summary": summary_share(truth, matched),
    }
    print(figures)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "corpus", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared/corpus/genai-dev")
    )
    parser.add_argument("--mode", choices=["selectors", "auto"], default="selectors")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--extract-only", action="store_true")
    args = parser.parse_args()
    if args.extract_only:
        print(len(corpus_texts(Path(args.corpus), args.mode)))
    else:
        replay(Path(args.corpus), args.mode, args.verbose)
