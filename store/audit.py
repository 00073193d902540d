"""Signed audit exports: a document's whole version chain, its head, and an Ed25519 signature.

The chain (``store.chain``) shows that no version was altered in place; the signature anchors the
head, so an export with its last versions dropped, or a forged one with recomputed hashes, fails
offline: the signature covers the head and every record, and only the installation holding the
private key can make one. Keys and signatures are base64; the signed bytes are the export without
its ``signature``, as canonical JSON (keys sorted, no spaces, UTF-8).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from store.chain import check_chain
from store.models import Document
from store.versions import chain_records

FORMAT = "policywatch-audit-export-v1"


def public_key(private_key: bytes) -> str:
    """The base64 public key of a 32-byte Ed25519 private key, as shown to auditors."""
    key = Ed25519PrivateKey.from_private_bytes(private_key).public_key()
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def signed_export(session: Session, document: Document, private_key: bytes) -> dict:
    """The document's audit export: every version record, the chain head, signed."""
    records = chain_records(session, document.id)
    head = {"seq": records[-1]["seq"], "chain_hash": records[-1]["chain_hash"]} if records else None
    export = {
        "format": FORMAT,
        "document": document.slug,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "head": head,
        "versions": records,
    }
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(_signed_bytes(export))
    export["signature"] = {
        "algorithm": "ed25519",
        "public_key": public_key(private_key),
        "value": base64.b64encode(signature).decode(),
    }
    return export


@dataclass
class ExportCheck:
    """What checking an export found: the versions checked, its head, who signed it, the problems."""

    document: str
    versions: int
    head: dict | None = None
    signed_by: str | None = None
    problems: list[str] = field(default_factory=list)


def check_export(export: dict, trusted_key: str, head: str | None = None) -> ExportCheck:
    """Check an export's chain, that its head is its last version, and its signature by
    ``trusted_key``; ``head`` is a chain hash published elsewhere (an alert email, a feed) that the
    export must contain."""
    records = export["versions"]
    check = ExportCheck(export["document"], len(records), export.get("head"))
    check.problems += [str(problem) for problem in check_chain(check.document, records)]
    last = {"seq": records[-1]["seq"], "chain_hash": records[-1]["chain_hash"]} if records else None
    if check.head != last:
        check.problems.append(f"the head {check.head} is not the last version ({last}): versions are missing")
    if head is not None and head not in {record["chain_hash"] for record in records}:
        check.problems.append(f"the published chain head {head} is not in the export")
    check.problems += _signature_problems(export, trusted_key, check)
    return check


def _signature_problems(export: dict, trusted_key: str, check: ExportCheck) -> list[str]:
    signature = export.get("signature")
    if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
        return ["the export is not signed"]
    signer = signature.get("public_key")
    if signer != trusted_key:
        return [f"signed by key {signer}, not by the trusted key {trusted_key}"]
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer, validate=True))
        unsigned = {name: value for name, value in export.items() if name != "signature"}
        key.verify(base64.b64decode(signature.get("value", ""), validate=True), _signed_bytes(unsigned))
    except (InvalidSignature, ValueError, TypeError):
        return ["the signature does not match the export (altered, truncated or forged)"]
    check.signed_by = signer
    return []


def _signed_bytes(export: dict) -> bytes:
    return json.dumps(export, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
