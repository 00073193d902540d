"""CPU time of extraction per page on the genai-dev corpus (Data: Open Terms Archive, ODC-By 1.0).

For the latest snapshot of every document, with its declared select/remove: the CPU time of
``select_region`` (parse, refusal checks, selection, digest) and of ``Region.markdown()`` (the
conversion the pipeline skips when the digest is unchanged), best of ``--repeat`` runs, and the
parse alone for reference.

    .venv/bin/python bench/extraction_bench.py [../shared/corpus/genai-dev] [--cache DIR] [--repeat 5]

Skips (exit 0) when the corpus is absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from extraction_corpus import DEFAULT_CORPUS, unpack  # noqa: E402
from lxml import html  # noqa: E402

from crawler.extract.extraction import ExtractionError, select_region  # noqa: E402


def best_cpu_ms(action, repeat: int) -> float:
    """The least CPU time of ``repeat`` runs of ``action``, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return 1e3 * min(times)


def measure(doc: dict, body: bytes, repeat: int) -> dict | None:
    def region():
        return select_region(
            body, url=doc["url"], content_type=doc["content_type"], select=doc["select"], remove=doc["remove"]
        )

    try:
        region()
    except ExtractionError:
        return None
    digest = best_cpu_ms(region, repeat)
    markdown = best_cpu_ms(lambda: region().markdown(), repeat) - digest
    parse = (
        best_cpu_ms(lambda: html.document_fromstring(body), repeat) if not body.startswith(b"%PDF") else 0.0
    )
    return {
        "id": doc["id"],
        "kb": len(body) / 1e3,
        "parse": parse,
        "digest": digest,
        "markdown": max(markdown, 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/policywatch_corpus_cache"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (args.corpus / "manifest.json").exists():
        print(f"corpus {args.corpus} absent: skipped")
        return
    blobs = unpack(args.corpus, args.cache)
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    rows = []
    for doc in manifest["documents"]:
        body = (blobs / doc["snapshots"][-1]["blob"]).read_bytes()
        row = measure(doc, body, args.repeat)
        if row:
            rows.append(row)
            print(
                f"{row['id'][:60]:60} {row['kb']:7.0f} KB  parse {row['parse']:6.1f}  "
                f"digest {row['digest']:6.1f}  markdown {row['markdown']:6.1f} ms",
                flush=True,
            )
    html_rows = [r for r in rows if r["parse"]]
    for label, key in (("parse", "parse"), ("select_region (digest)", "digest"), ("markdown()", "markdown")):
        values = [r[key] for r in html_rows]
        print(
            f"{label:24} median {statistics.median(values):6.1f} ms  max {max(values):6.1f} ms  (HTML pages)"
        )
    per_kb = [r["digest"] / r["kb"] * 500 for r in html_rows]
    ratio = [r["markdown"] / r["digest"] for r in html_rows if r["digest"]]
    print(
        f"select_region per 500 KB: median {statistics.median(per_kb):.1f} ms; "
        f"markdown()/select_region median {statistics.median(ratio):.1f}x"
    )


if __name__ == "__main__":
    main()
