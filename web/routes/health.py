"""``GET /healthz`` for containers: the database answers, its schema is at head, who leads the scheduler."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from store.db import StoreError, current_revision, head_revision
from store.models import Lease, utcnow

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz(request: Request):
    """200 with the schema and scheduler leader when the database is usable; 503 saying why when not."""
    engine = request.app.state.engine
    try:
        revision = current_revision(engine)
    except StoreError as exc:
        return JSONResponse({"status": "error", "reason": str(exc)}, status_code=503)
    head = head_revision()
    if revision != head:
        return JSONResponse(
            {
                "status": "error",
                "schema": revision,
                "head": head,
                "reason": "database schema is behind: run `policywatch db upgrade`",
            },
            status_code=503,
        )
    with Session(engine) as session:
        lease = session.get(Lease, "scheduler")
    scheduler = (
        None
        if lease is None
        else {
            "holder": lease.holder,
            "expires_at": lease.expires_at.isoformat(),
            "active": lease.expires_at > utcnow(),
        }
    )
    return JSONResponse({"status": "ok", "schema": revision, "head": head, "scheduler": scheduler})
