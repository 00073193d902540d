"""Running the service: the lease that makes one scheduler the leader per database, and the
rate-limit counts every web worker shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
