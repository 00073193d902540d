"""The tamper-evident version chain: how a chain hash is computed and how a chain is checked.

Works on plain records (dicts), so the same check runs on the database and on an audit export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


def text_hash(text: str) -> str:
    """SHA-256 of a version's text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(
    parent_chain_hash: str | None,
    document: str,
    seq: int,
    created_at: str,
    text_sha256: str,
    snapshot_sha256s: Iterable[str],
) -> str:
    """The chain hash of a version: covers its parent's chain hash, position, time, text and snapshots."""
    material = "\n".join(
        [
            "policywatch-version-v1",
            parent_chain_hash or "",
            document,
            str(seq),
            created_at,
            text_sha256,
            ",".join(snapshot_sha256s),
        ]
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """One way a document's chain fails to check out."""

    document: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.document} version {self.seq}: {self.reason}"


def check_chain(document: str, records: list[dict]) -> list[ChainProblem]:
    """Problems in one document's versions, given in ``seq`` order as dicts with keys
    seq, text (optional), text_sha256, created_at, snapshots (sha256 list), chain_hash."""
    problems: list[ChainProblem] = []
    parent: str | None = None
    for expected_seq, record in enumerate(records, start=1):
        seq = record["seq"]
        if seq != expected_seq:
            problems.append(
                ChainProblem(document, seq, f"expected position {expected_seq}: a version is missing")
            )
        if "text" in record and text_hash(record["text"]) != record["text_sha256"]:
            problems.append(ChainProblem(document, seq, "text does not match its recorded hash"))
        expected = chain_hash(
            parent, document, seq, record["created_at"], record["text_sha256"], record["snapshots"]
        )
        if expected != record["chain_hash"]:
            problems.append(
                ChainProblem(document, seq, "chain hash does not match (version or an earlier one altered)")
            )
        parent = record["chain_hash"]
    return problems
