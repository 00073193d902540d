"""Running the service: the lease that makes one scheduler the leader per database."""

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
