"""Running the service: the lease that makes one scheduler the leader per database, and the
rate-limit counts every web worker shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base


class Lease(Base):
    """A named lease held by one process until ``expires_at``; renewing it keeps leadership."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()


class RateWindow(Base):
    """How many hits one client (``key``, e.g. ``subscribe:203.0.113.9``) made in the fixed window
    starting at ``window_start``; kept in the database so every web worker counts the same hits."""

    __tablename__ = "rate_window"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)


class JobFailure(Base):
    """Why one attempt at a queued job (``job_id`` of the job queue) failed; the latest attempt's
    reason is kept, so `policywatch status` can show why a job was given up."""

    __tablename__ = "job_failure"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column()
