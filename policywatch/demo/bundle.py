"""The bundled replay: real policy pages (Open Terms Archive, ODC-By 1.0) served tick by tick, and
a sample newsroom of fictional posts (``newsroom``)."""

from __future__ import annotations

import functools
import io
import json
import tarfile
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import zstandard

from policywatch.demo.newsroom import SampleNewsroom

DATA = Path(__file__).parent / "replay"


def member_bytes(archive: tarfile.TarFile, member: tarfile.TarInfo, origin: Path) -> bytes:
    """The content of a regular file in ``archive`` (read from ``origin``); links and folders have none."""
    handle = archive.extractfile(member)
    if handle is None:
        raise ValueError(f"{origin}: {member.name} is not a regular file")
    return handle.read()


@dataclass(frozen=True)
class ReplayDocument:
    """One policy page of the replay: its declaration and the blob it serves at each tick."""

    id: str
    platform: str
    platform_name: str
    slug: str
    title: str
    service: str
    terms_type: str
    url: str
    select: list
    remove: list
    content_type: str
    blobs: list[str | None]

    @property
    def path(self) -> str:
        """Where the replay server answers for this page: /<host>/<path>?<query>."""
        parts = urllib.parse.urlsplit(self.url)
        return f"/{parts.netloc.lower()}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


class Replay:
    """The bundle, read once: documents, tick times, page bytes, labelled truth, sample newsroom."""

    def __init__(self, folder: Path = DATA):
        manifest = json.loads((folder / "manifest.json").read_text())
        self.ticks: list[str] = manifest["ticks"]
        self.documents = [ReplayDocument(**doc) for doc in manifest["documents"]]
        self.truth: list[dict] = json.loads((folder / "truth.json").read_text())["events"]
        self._archive = folder / "replay.tar.zst"
        self.newsroom = SampleNewsroom.load(folder / "sample_newsroom.json")

    @functools.cached_property
    def blobs(self) -> dict[str, bytes]:
        """Every page of the bundle by SHA-256."""
        raw = zstandard.ZstdDecompressor().decompress(self._archive.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            return {
                member.name: member_bytes(archive, member, self._archive)
                for member in archive
                if member.isfile()
            }

    def moment(self, tick: int) -> datetime:
        """When the crawl replayed at ``tick`` was made (UTC)."""
        return datetime.fromisoformat(self.ticks[tick])

    def page(self, document: ReplayDocument, tick: int) -> tuple[str, bytes] | None:
        """(SHA-256, bytes) the document serves at ``tick``, or None when it does not exist yet."""
        sha = document.blobs[tick]
        return (sha, self.blobs[sha]) if sha else None

    def substantive(self) -> list[dict]:
        """The real policy changes of the window."""
        return [event for event in self.truth if event["label"] == "substantive"]

    def noise(self) -> list[dict]:
        """The labelled noise events of the window (tracking ids, error pages…)."""
        return [event for event in self.truth if event["label"] != "substantive"]
