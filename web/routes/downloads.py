"""Downloads: a version's text, a change as JSON, a document's audit export, and raw snapshots.

Raw snapshots are untrusted pages: they are only ever sent as attachments, under a CSP that
forbids everything and sandboxes the document, so a browser never runs or renders them inline.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.audit import signed_export
from store.models import Snapshot
from store.queries import changes as change_queries
from store.snapshots import read_snapshot
from web.deps import RowId, Seq, get_session
from web.middleware.security import RAW_CSP
from web.routes.pages import document_or_404

router = APIRouter(include_in_schema=False)


def attachment(filename: str) -> dict[str, str]:
    """Headers that make a browser save the response as ``filename``."""
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/documents/{slug}/versions/{seq}/text")
def version_text(slug: str, seq: Seq, session: Session = Depends(get_session)):
    """A version's text as a UTF-8 file."""
    document = document_or_404(session, slug)
    version = change_queries.version_at(session, document.id, seq)
    if version is None:
        raise HTTPException(404, f"{slug} has no version {seq}")
    return PlainTextResponse(version.text, headers=attachment(f"{document.slug}-v{seq}.md"))


@router.get("/documents/{slug}/audit.json")
def audit_export(request: Request, slug: str, session: Session = Depends(get_session)):
    """The document's whole history with hashes, chain, snapshot references and its head, signed
    with this installation's key: ``policywatch verify FILE --public-key KEY`` checks it offline."""
    document = document_or_404(session, slug)
    export = signed_export(session, document, request.app.state.export_key)
    return JSONResponse(export, headers=attachment(f"{document.slug}-audit.json"))


@router.get("/audit/public-key")
def export_public_key(request: Request):
    """The base64 Ed25519 public key that signs this installation's audit exports."""
    return PlainTextResponse(request.app.state.export_public_key + "\n")


@router.get("/changes/{change_id}/json")
def change_json(change_id: RowId, session: Session = Depends(get_session)):
    """A change as JSON: significance, summary, topics, reasons and the structured details."""
    change = change_queries.get_change(session, change_id)
    if change is None:
        raise HTTPException(404, f"no change {change_id}")
    body = {
        "id": change.id,
        "document": change.document,
        "platform": change.platform,
        "from_seq": change.from_seq,
        "to_seq": change.to_seq,
        "detected_at": change.detected_at.isoformat(),
        "significance": change.significance,
        "summary": change.summary,
        "topics": change.topics,
        "provisions": change.provisions,
        "reasons": change.reasons,
        "details": change.details,
    }
    return JSONResponse(body, headers=attachment(f"change-{change.id}.json"))


@router.get("/snapshots/{sha256}")
def raw_snapshot(sha256: str = Path(pattern="^[0-9a-f]{64}$"), session: Session = Depends(get_session)):
    """The exact bytes fetched, as an attachment that is never rendered."""
    snapshot = session.scalar(select(Snapshot).where(Snapshot.sha256 == sha256))
    if snapshot is None:
        raise HTTPException(404, f"no snapshot {sha256}")
    headers = {
        **attachment(f"{sha256}.bin"),
        "Content-Security-Policy": RAW_CSP,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(read_snapshot(session, snapshot), media_type="application/octet-stream", headers=headers)
