"""The use cases every front end calls (CLI, scheduler, demo, web operator, tests): each is a function
taking the process's ``Runtime``."""

from policywatch.usecases.alerts import AlertsSent, DigestSent, send_alerts, send_digest, send_outbox
from policywatch.usecases.crawl import Crawled, crawl
from policywatch.usecases.sources import load_sources

__all__ = [
    "AlertsSent",
    "Crawled",
    "DigestSent",
    "crawl",
    "load_sources",
    "send_alerts",
    "send_digest",
    "send_outbox",
]
