"""The demo run: policywatch end to end on the bundled replay, offline, in a scratch folder.

It serves the replay on 127.0.0.1, declares its pages as sources and its sample newsroom (fictional
posts, labelled as such) as an announcement source, subscribes a demo address, runs one crawl per
replayed tick (each in its own process, as `policywatch serve` does, recorded as of the tick's real
time), then sends the same-day alerts and the digest of the replayed week to the file outbox.
Everything else runs in process through the layers' own functions. ``demo.json`` in the folder
records what was found, for tests.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import func, select

from policywatch.demo.bundle import Replay
from policywatch.demo.server import ReplayServer
from policywatch.runtime import Runtime
from policywatch.settings import PREFIX, get_settings

SUBSCRIBER = "analyst@example.com"


def demo_environment(folder: Path) -> dict[str, str]:
    """The settings of a demo in ``folder``: its own SQLite file and outbox, file emails, no delay,
    its replay server's loopback address allowed. Every other POLICYWATCH_* variable is dropped, so
    a demo never touches a configured database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(PREFIX)}
    return env | {
        f"{PREFIX}DATA_DIR": str(folder / "data"),
        f"{PREFIX}DATABASE_URL": f"sqlite:///{folder / 'data' / 'policywatch.db'}",
        f"{PREFIX}EMAIL_BACKEND": "file",
        f"{PREFIX}EMAIL_FROM": "policywatch-demo@localhost",
        f"{PREFIX}CRAWL_DELAY": "0",
        f"{PREFIX}CRAWL_RETRIES": "0",
        f"{PREFIX}BASE_URL": "http://127.0.0.1:8000",
        f"{PREFIX}ALLOWED_NETWORKS": "127.0.0.1/32",  # the replay server's
    }


def sources_declaration(replay: Replay, server: ReplayServer) -> dict:
    """The sources file of the replayed pages, with their Open Terms Archive selectors, and the
    sample newsroom under its platform."""
    platforms: dict[str, dict] = {}
    for doc in replay.documents:
        platform = platforms.setdefault(
            doc.platform, {"slug": doc.platform, "name": doc.platform_name, "documents": []}
        )
        declared = {"slug": doc.slug, "title": doc.title, "type": doc.terms_type, "url": server.url(doc)}
        platform["documents"].append(
            declared
            | {key: value for key, value in (("select", doc.select), ("remove", doc.remove)) if value}
        )
    newsroom = replay.newsroom
    platforms[newsroom.platform]["announcements"] = [{"slug": newsroom.slug, "listing": server.listing_url}]
    return {"platforms": list(platforms.values())}


@dataclass
class Crawl:
    """What one replayed crawl found."""

    tick: int
    time: str
    fetched: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    versions: int = 0
    first_versions: list[str] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    #: newsroom posts this crawl discovered, as ``policywatch announcements list --json`` gives them
    posts: list[dict] = field(default_factory=list)


@dataclass
class Outcome:
    """The whole demo: crawls, emails written, and where to look."""

    folder: str
    crawls: list[Crawl] = field(default_factory=list)
    emails: list[dict] = field(default_factory=list)
    #: the ISO week (YYYY-Www) of the digest sent
    digest_week: str | None = None

    def save(self) -> None:
        """Write demo.json into the demo folder."""
        data = {
            "folder": self.folder,
            "crawls": [vars(c) for c in self.crawls],
            "emails": self.emails,
            "digest_week": self.digest_week,
        }
        (Path(self.folder) / "demo.json").write_text(json.dumps(data, indent=1))


class Demo:
    """Runs the demo in ``folder``, reporting each step to ``show`` (see ``policywatch.demo.show``)."""

    def __init__(self, folder: Path, show):
        self.folder = folder
        self.show = show
        self.env = demo_environment(folder)
        self.replay = Replay()
        self.outcome = Outcome(str(folder))

    def run(self) -> Outcome:
        """Every step in order; raises DemoError naming the step that failed."""
        os.environ.clear()
        os.environ.update(self.env)
        get_settings.cache_clear()
        self.show.start(self.replay, self.folder)
        runtime = self._database()
        engine = runtime.engine
        try:
            with ReplayServer(self.replay) as server:
                self._declare(runtime, server)
                self._subscribe(runtime)
                for tick, moment in enumerate(self.replay.ticks):
                    server.tick = tick
                    self.outcome.crawls.append(self._crawl(engine, tick, moment))
                    if tick == 0:
                        self._follow_newsroom(runtime)
            self.show.changes(self.outcome.crawls, self.replay)
            self._send(runtime)
        finally:
            runtime.close()
        self.outcome.save()
        self.show.finish(self.outcome, self.env)
        return self.outcome

    def _database(self) -> Runtime:
        from store.migrate import upgrade

        settings = get_settings()
        upgrade(settings.database)
        self.show.step(f"database ready: SQLite in {self.folder / 'data'}")
        return Runtime.from_settings(settings)

    def _declare(self, runtime: Runtime, server: ReplayServer) -> None:
        from crawler.sources.declarations import parse_declarations
        from policywatch.usecases.sources import load_declared

        path = self.folder / "sources.yaml"
        declaration = sources_declaration(self.replay, server)
        path.write_text(yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True))
        load_declared(
            runtime, parse_declarations(declaration, str(path)), deactivate_missing=True, origin=str(path)
        )
        platforms = len(declaration["platforms"])
        self.show.step(
            f"{len(self.replay.documents)} policies of {platforms} platforms declared in {path.name}, "
            f"served from {server.base_url}, and a sample newsroom (fictional posts) under "
            f"{self.replay.newsroom.platform}"
        )

    def _follow_newsroom(self, runtime: Runtime) -> None:
        """Run the same-day alerts once after the baseline crawl, as serve's alerts job would: from
        now on they follow the newsroom, and the posts the first crawl found are its back catalogue."""
        from policywatch import usecases

        delivered = usecases.send_alerts(runtime).delivered
        if delivered.error is not None:
            raise DemoError(f"sending the alerts after the first crawl failed: {delivered.error}")
        back = len(self.outcome.crawls[0].posts)
        self.show.step(
            f"alerts follow the newsroom from now on: the {back} post(s) of the first crawl are its "
            "back catalogue (archived, not alerted)"
        )

    def _subscribe(self, runtime: Runtime) -> None:
        from alerts.audience.subscribers import confirm_email, subscribe
        from changes.taxonomy import taxonomy_for
        from store.db import transaction

        taxonomy = taxonomy_for(runtime.settings)
        with transaction(runtime.engine) as session:
            for platform in dict.fromkeys(doc.platform for doc in self.replay.documents):
                subscribe(session, SUBSCRIBER, tier="watcher", platform=platform, taxonomy=taxonomy)
            confirm_email(session, SUBSCRIBER)
        self.show.step(
            f"{SUBSCRIBER} subscribed to every platform (watcher tier: same-day alerts) and confirmed"
        )

    def _crawl(self, engine, tick: int, moment: str) -> Crawl:
        from store.db import transaction
        from store.models import Change, CrawlRun, Document, FetchEvent, Source, Version
        from store.queries.announcements import list_posts

        with transaction(engine) as session:
            seen = set(session.scalars(select(Change.id)))
            known = {post["document"] for post in list_posts(session)}
        result = subprocess.run(
            [sys.executable, "-m", "policywatch", "crawl", "--all", "--as-of", moment],
            env=self.env,
            capture_output=True,
            text=True,
            errors="replace",
        )
        if result.returncode != 0:
            raise DemoError(
                f"crawl {tick + 1} exited {result.returncode}:\n{(result.stderr or result.stdout)[-2000:]}"
            )
        crawl = Crawl(tick, moment)
        with transaction(engine) as session:
            run_id = session.scalar(select(func.max(CrawlRun.id)))
            crawl.fetched = dict(
                session.execute(
                    select(FetchEvent.outcome, func.count())
                    .where(FetchEvent.crawl_run_id == run_id)
                    .group_by(FetchEvent.outcome)
                ).all()
            )
            crawl.errors = {
                slug: reason or "no reason recorded"
                for slug, reason in session.execute(
                    select(Document.slug, FetchEvent.reason)
                    .join(Source, Source.id == FetchEvent.source_id)
                    .join(Document, Document.id == Source.document_id)
                    .where(FetchEvent.crawl_run_id == run_id, FetchEvent.outcome == "error")
                )
            }
            crawl.versions = session.execute(
                select(func.count()).select_from(Version).where(Version.crawl_run_id == run_id)
            ).scalar_one()
            crawl.first_versions = list(
                session.scalars(
                    select(Document.slug)
                    .join(Version, Version.document_id == Document.id)
                    .where(Version.crawl_run_id == run_id, Version.seq == 1)
                    .order_by(Document.slug)
                )
            )
            for change, slug in session.execute(
                select(Change, Document.slug)
                .join(Document, Document.id == Change.document_id)
                .order_by(Change.id)
            ):
                if change.id not in seen:
                    crawl.changes.append(
                        {
                            "id": change.id,
                            "document": slug,
                            "detected_at": change.detected_at.isoformat(),
                            "significance": change.significance,
                            "summary": change.summary,
                            "topics": change.topics,
                        }
                    )
            crawl.posts = [post for post in list_posts(session) if post["document"] not in known]
        self.show.crawl(crawl, len(self.replay.ticks))
        return crawl

    def _send(self, runtime: Runtime) -> None:
        from policywatch import usecases

        sent = usecases.send_alerts(runtime)
        year, week, _ = self.replay.moment(-1).isocalendar()  # the week of the last replayed crawl
        digest = usecases.send_digest(runtime, f"{year}-W{week:02d}")
        for delivered in (sent.delivered, digest.delivered):
            if delivered.error is not None:
                raise DemoError(f"sending the emails failed: {delivered.error}")
        self.outcome.digest_week = digest.week
        self.outcome.emails = outbox_emails(runtime.settings.outbox)


def outbox_emails(folder: Path) -> list[dict]:
    """The .eml files in ``folder``: path, kind and subject, oldest first."""
    found = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(
            {
                "path": str(path),
                "kind": message["X-Policywatch-Kind"],
                "subject": message["Subject"],
                "to": message["To"],
            }
        )
    return found


class DemoError(Exception):
    """A demo step failed: the message names it and carries the command's last output."""
