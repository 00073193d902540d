"""Measure extraction on the genai-dev replay corpus (Data: Open Terms Archive, ODC-By 1.0).

For every document and every distinct snapshot, in crawl order, extract with the declared
select/remove ("selectors") and with automatic main-content extraction ("auto"), and compare with
the corpus truth:

- how often the digest changes, how often the Markdown changes, against blob changes and truth
  events (substantive or a kind of noise), and which substantive events the Markdown misses;
- which error-page snapshots (``bad_snapshots``) ``select_region`` refuses, and which good ones;
- for automatic extraction, against the selector Markdown of the same snapshot: the share of its
  text recovered (recall) and the share of extra text (chrome), for our landmark heuristic,
  trafilatura and readability-lxml (``--candidates``; readability-lxml is imported if installed,
  or from ``--extra-path``).

    .venv/bin/python bench/extraction_corpus.py [../shared/corpus/genai-dev] \\
        [--cache DIR] [--jobs 2] [--candidates]

Skips (exit 0) when the corpus is absent. Results are cached in ``--out`` (JSON) and summarised.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing
import re
import sys
import tarfile
import time
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.extract.extraction import ExtractionError, select_region  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "genai-dev"
NOISE = ("link_only", "relative_date", "whitespace_punct", "flip_flop", "other_noise")


def unpack(corpus: Path, cache: Path) -> Path:
    """The folder of corpus blobs, unpacked once from blobs.tar.zst."""
    blobs = cache / "blobs"
    if blobs.is_dir() and any(blobs.iterdir()):
        return blobs
    cache.mkdir(parents=True, exist_ok=True)
    with open(corpus / "blobs.tar.zst", "rb") as packed:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(packed)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            tar.extractall(cache, filter="data")
    return blobs


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def extract(body: bytes, doc: dict, select: list, previous: dict | None) -> dict:
    """Digest, and Markdown unless the digest is the previous snapshot's (same digest, same Markdown)."""
    started = time.process_time()
    try:
        region = select_region(
            body,
            url=doc["url"],
            content_type=doc["content_type"],
            select=select,
            remove=doc["remove"] if select else [],
        )
    except ExtractionError as exc:
        return {"error": exc.reason}
    digested = time.process_time()
    out = {"digest": region.digest[:16], "digest_ms": 1e3 * (digested - started)}
    if previous and previous.get("digest") == out["digest"]:
        return {**out, "md": previous["md"], "text": previous["text"]}
    markdown = region.markdown()
    return {**out, "md": sha(markdown), "text": markdown, "md_ms": 1e3 * (time.process_time() - digested)}


def candidates(body: bytes, reference: str | None) -> dict:
    """Automatic extraction by trafilatura and readability-lxml, scored against the selector text."""
    import trafilatura
    from markdownify import markdownify

    from crawler.extract.normalize import normalize_markdown

    out = {}
    if body.startswith(b"%PDF"):
        return out
    text = (
        trafilatura.extract(
            body,
            output_format="markdown",
            include_tables=True,
            include_links=False,
            include_images=False,
            include_comments=False,
        )
        or ""
    )
    out["trafilatura"] = normalize_markdown(text)
    try:
        from readability import Document
    except ImportError:
        return {name: {"md": sha(md), **score(md, reference)} for name, md in out.items()}
    try:
        summary = Document(body.decode("utf-8", "replace")).summary(html_partial=True)
        out["readability"] = normalize_markdown(markdownify(summary, heading_style="ATX", bullets="-"))
    except Exception:  # noqa: BLE001 - readability raises bare ValueErrors on odd pages: count as a failure
        out["readability"] = ""
    return {name: {"md": sha(md), **score(md, reference)} for name, md in out.items()}


_MARKERS = re.compile(r"^(?:#{1,6}|[-*+]|\d+[.)]|>)\s+|\*\*|\\(?=[*_])|\|")


def lines(markdown: str) -> collections.Counter:
    return collections.Counter(
        " ".join(_MARKERS.sub(" ", line).split()) for line in markdown.splitlines() if line.strip(" |-")
    )


def score(candidate: str | None, reference: str | None) -> dict:
    """Share of the reference's characters found in the candidate (recall), and of the candidate's not
    in the reference (chrome)."""
    if candidate is None or reference is None:
        return {}
    got, want = lines(candidate), lines(reference)
    want_chars = sum(len(line) * n for line, n in want.items()) or 1
    got_chars = sum(len(line) * n for line, n in got.items()) or 1
    common = sum(len(line) * min(n, got[line]) for line, n in want.items())
    return {"recall": common / want_chars, "chrome": (got_chars - common) / got_chars}


def sampled(snapshots: list[dict], count: int | None) -> list[dict]:
    """``count`` snapshots evenly spread from the first to the last (all of them if ``count`` is None)."""
    if not count or len(snapshots) <= count:
        return snapshots
    step = (len(snapshots) - 1) / (count - 1)
    return [snapshots[round(i * step)] for i in range(count)]


def run_document(args: tuple) -> dict:
    doc, blobs, with_candidates, sample = args
    rows, last = [], {"selectors": None, "auto": None}
    for snapshot in sampled(doc["snapshots"], sample):
        body = (blobs / snapshot["blob"]).read_bytes()
        selectors = extract(body, doc, doc["select"], last["selectors"]) if doc["select"] else None
        auto = extract(body, doc, [], last["auto"])
        last = {
            "selectors": selectors if selectors and "digest" in selectors else last["selectors"],
            "auto": auto if "digest" in auto else last["auto"],
        }
        reference = selectors.get("text") if selectors else None
        row = {"tick": snapshot["tick"], "size": len(body), "selectors": selectors, "auto": auto}
        if auto.get("text") is not None:
            auto.update(score(auto["text"], reference))
        if with_candidates:
            row["candidates"] = candidates(body, reference)
        rows.append(row)
    texts = {}
    for row in rows:
        for mode in ("selectors", "auto"):
            result = row[mode]
            if result and "text" in result:
                row[mode] = result = dict(result)
                texts.setdefault(mode, {})[result["md"]] = result.pop("text")
    print(f"{doc['id']}: {len(rows)} snapshots", file=sys.stderr, flush=True)
    return {"id": doc["id"], "rows": rows, "texts": texts}


def changes(rows: list[dict], mode: str, key: str) -> dict[int, bool]:
    """tick -> whether ``key`` changed against the last successful extraction (errors are not changes)."""
    last, out = None, {}
    for row in rows:
        result = row[mode] if mode in row else row.get("candidates", {}).get(mode)
        if not result or "error" in result or key not in result:
            continue
        if last is not None:
            out[row["tick"]] = result[key] != last
        last = result[key]
    return out


def served(doc: dict, tick: int) -> int:
    """The tick of the snapshot served at ``tick``."""
    return max(s["tick"] for s in doc["snapshots"] if s["tick"] <= tick)


def summarise(results: list[dict], manifest: dict, truth: dict) -> None:
    docs = {doc["id"]: doc for doc in manifest["documents"]}
    for mode, keys in (
        ("selectors", ("digest", "md")),
        ("auto", ("digest", "md")),
        ("trafilatura", ("md",)),
        ("readability", ("md",)),
    ):
        if mode in ("trafilatura", "readability") and not any(
            "candidates" in r for res in results for r in res["rows"]
        ):
            continue
        print(f"\n== {mode} ==")
        for key in keys:
            tally = collections.Counter()
            missed = []
            for result in results:
                doc_id, rows = result["id"], result["rows"]
                if mode == "selectors" and not docs[doc_id]["select"]:
                    continue
                events = {e["tick"]: e["label"] for e in truth["documents"][doc_id]["events"]}
                changed = changes(rows, mode, key)
                for tick, did_change in changed.items():
                    label = events.get(tick, "none")
                    tally[(label, did_change)] += 1
                for tick, label in events.items():
                    if label == "substantive" and not changed.get(tick, False):
                        missed.append((doc_id, tick))
            blob_changes = sum(
                len(r["rows"]) - 1 for r in results if mode != "selectors" or docs[r["id"]]["select"]
            )
            changed_total = sum(n for (label, c), n in tally.items() if c)
            print(
                f"{key:7} changes {changed_total:4} of {blob_changes} blob changes | "
                f"on no-event ticks {tally[('none', True)]:3}/"
                f"{tally[('none', True)] + tally[('none', False)]} | "
                + " ".join(
                    f"{label} {tally[(label, True)]}/{tally[(label, True)] + tally[(label, False)]}"
                    for label in ("substantive", *NOISE)
                )
                + f" | substantive missed {len(missed)} {missed[:6]}"
            )
    print("\n== refusals (selectors mode) ==")
    caught = wrong = bad_total = 0
    reasons = collections.Counter()
    for result in results:
        doc = docs[result["id"]]
        by_tick = {row["tick"]: row for row in result["rows"]}
        bad = {served(doc, b["tick"]) for b in truth["documents"][doc["id"]].get("bad_snapshots", [])}
        for tick, row in by_tick.items():
            outcome = row["selectors"] if doc["select"] else row["auto"]
            refused = "error" in outcome
            if refused:
                reasons[outcome["error"]] += 1
            if tick in bad:
                bad_total += 1
                caught += refused
            elif refused:
                wrong += 1
                print(f"  refused a good snapshot: {doc['id']} tick {tick}: {outcome['error']}")
    print(f"error-page snapshots refused {caught}/{bad_total}; good snapshots refused {wrong}")
    for reason, n in reasons.most_common():
        print(f"  {n:4} {reason}")
    print("\n== automatic extraction vs declared selectors (mean over snapshots where both succeed) ==")
    per_doc = collections.defaultdict(dict)
    for name in ("auto", "trafilatura", "readability"):
        recalls, chromes, failures = [], [], 0
        for result in results:
            for row in result["rows"]:
                outcome = row["auto"] if name == "auto" else row.get("candidates", {}).get(name)
                if outcome is None or not row["selectors"] or "error" in row["selectors"]:
                    continue
                if "recall" not in outcome:
                    failures += 1
                    continue
                recalls.append(outcome["recall"])
                chromes.append(outcome["chrome"])
                per_doc[result["id"]].setdefault(name, []).append(outcome["recall"])
        if recalls:
            print(
                f"{name:12} recall {sum(recalls) / len(recalls):.3f}  "
                f"chrome {sum(chromes) / len(chromes):.3f}  "
                f"recall<0.9 on {sum(r < 0.9 for r in recalls)}/{len(recalls)} snapshots, failures {failures}"
            )
    for doc_id, scores in sorted(per_doc.items()):
        print(f"  {doc_id[:70]:70} " + " ".join(f"{n} {sum(v) / len(v):.2f}" for n, v in scores.items()))
    timings = [(r["selectors"] or {}).get("digest_ms") for res in results for r in res["rows"]]
    md_timings = [(r["selectors"] or {}).get("md_ms") for res in results for r in res["rows"]]
    timings = sorted(t for t in timings if t is not None)
    md_timings = sorted(t for t in md_timings if t is not None)
    if timings:
        print(
            f"\nselectors mode CPU per snapshot: digest median {timings[len(timings) // 2]:.1f} ms, "
            f"Markdown median {md_timings[len(md_timings) // 2]:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/policywatch_corpus_cache"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/extraction_corpus.json"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="substring of the document ids to run")
    parser.add_argument("--candidates", action="store_true", help="also run trafilatura and readability-lxml")
    parser.add_argument("--sample", type=int, help="only this many snapshots per document, evenly spread")
    parser.add_argument("--extra-path", help="a folder to import readability-lxml from")
    parser.add_argument("--summary-only", action="store_true", help="summarise --out without extracting")
    args = parser.parse_args()
    if not (args.corpus / "manifest.json").exists():
        print(f"corpus {args.corpus} absent: skipped")
        return
    if args.extra_path:
        sys.path.insert(0, args.extra_path)
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    truth = json.loads((args.corpus / "truth.json").read_text())
    if args.summary_only:
        results = json.loads(args.out.read_text())
    else:
        blobs = unpack(args.corpus, args.cache)
        documents = [d for d in manifest["documents"] if not args.only or args.only in d["id"]]
        work = [(doc, blobs, args.candidates, args.sample) for doc in documents]
        with multiprocessing.Pool(args.jobs, initializer=_init_worker, initargs=(args.extra_path,)) as pool:
            results = pool.map(run_document, work, chunksize=1)
        args.out.write_text(json.dumps(results))
    summarise(results, manifest, truth)


def _init_worker(extra_path: str | None) -> None:
    if extra_path:
        sys.path.insert(0, extra_path)


if __name__ == "__main__":
    main()
