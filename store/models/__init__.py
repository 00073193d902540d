"""The policywatch data model (SQLAlchemy 2.x, typed)."""

from store.models.audience import Delivery, Subscriber, Subscription
from store.models.base import Base, utcnow
from store.models.catalog import Announcement, AnnouncementSource, Document, Platform, Source
from store.models.crawl import CrawlRun, FetchEvent, Snapshot
from store.models.history import Change, ProvisionInstance, ProvisionNote, Version, VersionSnapshot
from store.models.service import JobFailure, Lease, RateWindow

__all__ = [
    "Base",
    "utcnow",
    "Platform",
    "Document",
    "Source",
    "AnnouncementSource",
    "Announcement",
    "CrawlRun",
    "FetchEvent",
    "Snapshot",
    "Version",
    "VersionSnapshot",
    "Change",
    "ProvisionInstance",
    "ProvisionNote",
    "Subscriber",
    "Subscription",
    "Delivery",
    "Lease",
    "RateWindow",
    "JobFailure",
]
