"""Rebuild the demo's bundled replay from the genai-dev replay corpus (Open Terms Archive data).

    python -m policywatch.demo.bundle_build --corpus ../shared/corpus/genai-dev

Keeps the few documents and the window of crawl ticks the demo replays, and only the blobs they
serve: ``replay.tar.zst`` (one member per blob, ordered by document and time so near-identical
pages compress to their differences), ``manifest.json`` (which blob each document serves at each
demo tick) and ``truth.json`` (the labelled change events of those documents in the window).
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path

import zstandard

from policywatch.demo.bundle import member_bytes

HERE = Path(__file__).parent / "replay"
# corpus id -> (platform slug, platform name, document slug, title) as the demo declares them
DOCUMENTS = {
    "chatgpt--commercial-terms": (
        "openai",
        "OpenAI",
        "openai-services-agreement",
        "OpenAI Services Agreement",
    ),
    "chatgpt--trackers-policy": ("openai", "OpenAI", "openai-cookie-policy", "OpenAI Cookie Policy"),
    "google-generative-ai-services--privacy-policy--gemini-answer-13594961": (
        "google",
        "Google",
        "gemini-apps-privacy-hub",
        "Gemini Apps Privacy Hub",
    ),
    "llama-api--acceptable-use-policy": (
        "meta",
        "Meta",
        "llama-api-acceptable-use-policy",
        "Llama API Acceptable Use Policy",
    ),
}
FIRST_TICK, LAST_TICK = 33, 39  # corpus ticks: a baseline, then two real changes at 34 and one at 37
WINDOW_LOG = 27  # decodable by zstandard and `zstd -d` with their default limits


def served_blob(document: dict, tick: int) -> str | None:
    """The blob a corpus document serves at ``tick``: its latest snapshot at or before it."""
    current = None
    for snapshot in document["snapshots"]:
        if snapshot["tick"] > tick:
            break
        current = snapshot["blob"]
    return current


def build_manifest(corpus: dict) -> dict:
    """The demo manifest: documents with their declaration and blob per demo tick (0 = baseline)."""
    ticks = range(FIRST_TICK, LAST_TICK + 1)
    documents = []
    for document in corpus["documents"]:
        if document["id"] in DOCUMENTS:
            platform, platform_name, slug, title = DOCUMENTS[document["id"]]
            documents.append(
                {
                    key: document[key]
                    for key in ("id", "service", "terms_type", "url", "select", "remove", "content_type")
                }
                | {
                    "platform": platform,
                    "platform_name": platform_name,
                    "slug": slug,
                    "title": title,
                    "blobs": [served_blob(document, tick) for tick in ticks],
                }
            )
    documents.sort(key=lambda d: list(DOCUMENTS).index(d["id"]))
    return {
        "source": "Open Terms Archive (https://opentermsarchive.org), collection genai-eu; ODC-By 1.0",
        "license": "ODC-By-1.0",
        "corpus_ticks": list(ticks),
        "ticks": [corpus["ticks"][tick] for tick in ticks],
        "documents": documents,
    }


def build_truth(truth: dict) -> dict:
    """Change events of the demo documents inside the window, re-numbered to demo ticks."""
    events = []
    for term in truth["terms"]:
        for event in term["events"]:
            for document in event["documents"]:
                if document in DOCUMENTS and FIRST_TICK < event["tick"] <= LAST_TICK:
                    events.append(
                        {
                            "document": document,
                            "tick": event["tick"] - FIRST_TICK,
                            "label": event["label"],
                            "tags": event["tags"],
                            "key_added": event.get("key_added", []),
                            "key_removed": event.get("key_removed", []),
                        }
                    )
    events.sort(key=lambda e: (e["tick"], list(DOCUMENTS).index(e["document"])))
    return {"source": "Open Terms Archive; labels from the genai-dev replay corpus", "events": events}


def pack_blobs(manifest: dict, blobs: dict[str, bytes]) -> bytes:
    """A zstd-compressed tar of the blobs the manifest names, in document and time order."""
    order = list(dict.fromkeys(blob for d in manifest["documents"] for blob in d["blobs"] if blob))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for sha in order:
            member = tarfile.TarInfo(sha)
            member.size = len(blobs[sha])
            archive.addfile(member, io.BytesIO(blobs[sha]))
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=WINDOW_LOG, enable_ldm=True)
    return zstandard.ZstdCompressor(compression_params=params).compress(raw.getvalue())


def read_corpus_blobs(path: Path, wanted: set[str]) -> dict[str, bytes]:
    """The wanted blobs of a corpus ``blobs.tar.zst``, read in one streaming pass."""
    found = {}
    with path.open("rb") as stream:
        reader = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(stream)
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            for member in archive:
                sha = member.name.rsplit("/", 1)[-1]
                if sha in wanted:
                    found[sha] = member_bytes(archive, member, path)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of the genai-dev replay corpus")
    corpus_dir = parser.parse_args().corpus
    manifest = build_manifest(json.loads((corpus_dir / "manifest.json").read_text()))
    truth = build_truth(json.loads((corpus_dir / "truth.json").read_text()))
    wanted = {blob for d in manifest["documents"] for blob in d["blobs"] if blob}
    blobs = read_corpus_blobs(corpus_dir / "blobs.tar.zst", wanted)
    (HERE / "replay.tar.zst").write_bytes(pack_blobs(manifest, blobs))
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (HERE / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    counts = f"{len(manifest['documents'])} documents, {len(wanted)} blobs, {len(truth['events'])} events"
    print(f"{counts} -> {HERE}")


if __name__ == "__main__":
    main()
