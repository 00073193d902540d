"""Operator actions, mounted only when POLICYWATCH_OPERATOR_TOKEN is set and guarded by it (bearer).

Crawling and loading sources are injected by the composition root (``Actions``), so the web
process never holds the crawler; a crawl runs in the background and its outcome shows on the
document pages.
"""

from __future__ import annotations

import subprocess
from typing import Protocol

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from alerts.audience import subscribers
from store.db import transaction
from store.queries.documents import get_document
from web.middleware.security import require_operator

router = APIRouter(prefix="/api/operator", tags=["operator"], dependencies=[Depends(require_operator)])


class Actions(Protocol):
    """The use cases the operator routes call (``app.state.operator``)."""

    def start_crawl(self, document: str) -> tuple[subprocess.Popen, list[str]]:
        """Start a crawl of ``document`` in the background; the process and its command line."""

    def load_sources(self, text: str) -> tuple[int, str]:
        """Load a sources file's text; the exit status and output of the load."""


class Started(BaseModel):
    pid: int
    command: list[str]


class Finished(BaseModel):
    returncode: int
    output: str


class SubscriberOut(BaseModel):
    email: str
    tier: str
    status: str
    subscriptions: int


@router.post("/crawl", response_model=Started, status_code=202)
def crawl(
    request: Request,
    document: str = Query(
        ...,
        max_length=120,
        pattern=r"^[\w.\-]+$",
        description="Slug of the document whose sources to fetch now.",
    ),
):
    """Start ``policywatch crawl --source DOCUMENT`` in the background."""
    with Session(request.app.state.engine) as session:
        if get_document(session, document) is None:
            raise HTTPException(404, f"no document {document!r}")
    process, command = request.app.state.operator.start_crawl(document)
    request.app.state.jobs = [*getattr(request.app.state, "jobs", []), process]
    return {"pid": process.pid, "command": command}


@router.post("/sources", response_model=Finished)
def load_sources(
    request: Request,
    sources: str = Body(..., media_type="text/plain", description="A sources file (YAML)."),
):
    """Load the posted sources file as ``policywatch sources load`` does and return its output."""
    returncode, output = request.app.state.operator.load_sources(sources)
    return {"returncode": returncode, "output": output[-20_000:]}


@router.get("/subscribers", response_model=list[SubscriberOut])
def list_subscribers(request: Request):
    """Every subscriber (addresses in full: operators manage them)."""
    with transaction(request.app.state.engine) as session:
        return [
            {"email": s.email, "tier": s.tier, "status": s.status, "subscriptions": len(s.subscriptions)}
            for s in subscribers.all_subscribers(session)
        ]


@router.post("/subscribers/confirm", status_code=204)
def confirm_subscriber(request: Request, email: str = Query(..., max_length=320)):
    """Confirm an address without its link."""
    _act(request, subscribers.confirm_email, email)


@router.delete("/subscribers", status_code=204)
def remove_subscriber(request: Request, email: str = Query(..., max_length=320)):
    """Delete a subscriber with its subscriptions and outbox rows."""
    _act(request, subscribers.remove, email)


def _act(request: Request, action, email: str) -> None:
    try:
        with transaction(request.app.state.engine) as session:
            action(session, email)
    except subscribers.SubscriberError as exc:
        raise HTTPException(404, str(exc)) from None
