"""How the demo talks: rich output on a terminal (plain text when piped), one line per step."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from policywatch.demo.bundle import Replay
from policywatch.settings import PREFIX

STYLE = {"substantive": "bold red", "minor": "yellow", "cosmetic": "dim"}


def first_line(text: str, width: int = 110) -> str:
    """The first non-empty line of ``text``, shortened to ``width``."""
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def truth_found(crawls, replay: Replay) -> tuple[list[dict], list[dict]]:
    """The bundled substantive events, split into (found as substantive, missed)."""
    slug = {doc.id: doc.slug for doc in replay.documents}
    found = {
        (c["document"], crawl.tick)
        for crawl in crawls
        for c in crawl.changes
        if c["significance"] == "substantive"
    }
    events = replay.substantive()
    hit = [e for e in events if (slug[e["document"]], e["tick"]) in found]
    return hit, [e for e in events if e not in hit]


class Show:
    """The demo's console output; ``serving`` is the port of the web UI that follows it (``--serve``)."""

    def __init__(self, console: Console | None = None, serving: int | None = None):
        self.console = console or Console(highlight=False)
        self.serving = serving

    def start(self, replay: Replay, folder: Path) -> None:
        first, last = replay.ticks[0][:16].replace("T", " "), replay.ticks[-1][:16].replace("T", " ")
        titles = ", ".join(doc.title for doc in replay.documents)
        self.console.print(
            Panel.fit(
                f"[bold]policywatch demo[/]: {len(replay.documents)} real policy pages replayed over "
                f"{len(replay.ticks)} real crawls ({first} to {last} UTC), offline.\n"
                f"{escape(titles)}\n"
                f"Plus a sample newsroom of {escape(replay.newsroom.platform)}: fictional posts written "
                "for the demo and labelled as samples, not the vendor's.\n"
                "[dim]Pages: Open Terms Archive (opentermsarchive.org), ODC-By 1.0. "
                "Served on 127.0.0.1 only.[/]",
                border_style="cyan",
            )
        )
        self.console.print(f"working folder: [bold]{folder}[/]")

    def step(self, text: str) -> None:
        self.console.print(f"[green]✓[/] {escape(text)}")

    def crawl(self, crawl, total: int) -> None:
        fetched = ", ".join(
            f"{n} {outcome.replace('_', ' ')}" for outcome, n in sorted(crawl.fetched.items())
        )
        versions = f"{crawl.versions} new version{'s' * (crawl.versions != 1)}"
        self.console.print(
            f"[bold cyan]crawl {crawl.tick + 1}/{total}[/] [dim]{crawl.time[:16].replace('T', ' ')} UTC[/]"
            f"  {fetched or 'nothing fetched'}; {versions}"
        )
        if crawl.first_versions:
            self.console.print(f"    [dim]first version of {', '.join(crawl.first_versions)}[/]")
        for document, reason in crawl.errors.items():
            self.console.print(
                f"    [dim]{document}: {escape(first_line(reason, 80))} (no version recorded)[/]"
            )
        for change in crawl.changes:
            style = STYLE.get(change["significance"], "")
            self.console.print(f"    [{style}]{change['significance']}[/] change: {change['document']}")
        for post in crawl.posts:
            self.console.print(f"    [bold magenta]new post[/]: {escape(post['title'] or post['url'])}")

    def changes(self, crawls, replay: Replay) -> None:
        changes = [(crawl, c) for crawl in crawls for c in crawl.changes]
        self.console.print(f"\n[bold]Changes found: {len(changes)}[/]")
        for crawl, c in changes:
            style = STYLE.get(c["significance"], "")
            topics = ", ".join(c["topics"] or []) or "no topic"
            self.console.print(
                f"  crawl {crawl.tick + 1}  {c['detected_at'][:10]}  [bold]{c['document']}[/]  "
                f"[{style}]{c['significance']}[/]  [dim]{topics}[/]"
            )
            self.console.print(f"           {escape(first_line(summary_body(c['summary']), 100))}")
        self.announcements(crawls, replay)
        hit, missed = truth_found(crawls, replay)
        below = sum(1 for _, c in changes if c["significance"] != "substantive")
        self.console.print(
            f"\n[bold]Noise ignored:[/] over {len(crawls) - 1} re-crawls the pages' raw bytes changed "
            f"{raw_churn(replay)} times (tracking ids, build hashes, error pages); "
            f"{len(changes)} change(s) recorded, {below} of them below substantive (digest only, no alert)."
        )
        verdict = "[green]all found[/]" if not missed else f"[red]{len(missed)} missed[/]"
        self.console.print(
            f"[bold]Check:[/] Open Terms Archive's labels for this window: {len(replay.substantive())} "
            f"substantive changes, {len(replay.noise())} noise events. Found {len(hit)} of "
            f"{len(replay.substantive())}: {verdict}.\n"
        )

    def announcements(self, crawls, replay: Replay) -> None:
        """The posts discovered after the first crawl, each with the policy changes of its platform
        that the same crawl found."""
        platform = {doc.slug: doc.platform for doc in replay.documents}
        found = [(crawl, post) for crawl in crawls[1:] for post in crawl.posts]
        self.console.print(f"\n[bold]Announcements discovered: {len(found)}[/] [dim](sample newsroom)[/]")
        for crawl, post in found:
            topics = ", ".join(post["topics"]) or "no topic"
            title = escape(post["title"] or post["url"])
            self.console.print(
                f"  crawl {crawl.tick + 1}  [bold]{post['platform']}[/]  {title}"
                f"  [dim]{post['published'] or 'undated'}; {topics}[/]"
            )
            beside = [c for c in crawl.changes if platform.get(c["document"]) == post["platform"]]
            for change in beside:
                self.console.print(
                    f"           beside the {change['significance']} change of {change['document']} "
                    "found by the same crawl"
                )

    def finish(self, outcome, env: dict[str, str]) -> None:
        self.console.print(
            f"[bold]Emails written to the outbox:[/] {len(outcome.emails)} "
            f"[dim](the digest is of {outcome.digest_week}, the week of the replayed crawls)[/]"
        )
        for message in outcome.emails:
            self.console.print(
                f"  [bold]{message['kind']}[/] to {message['to']}: {escape(message['subject'] or '')}"
            )
            self.console.print(f"    [dim]{message['path']}[/]", soft_wrap=True)
        settings = " ".join(
            f"{name}={shlex.quote(env[name])}" for name in (f"{PREFIX}DATA_DIR", f"{PREFIX}DATABASE_URL")
        )
        program = program_name()
        first = shlex.quote(outcome.emails[0]["path"]) if outcome.emails else "<outbox>/*.eml"
        self.console.rule("[bold green]next", align="left", style="green")
        self.console.print("Read an email:")
        self._command(f"less {first}")
        if self.serving:
            self.console.print(f"Browse history: the web UI starts on http://127.0.0.1:{self.serving} now.")
        else:
            self.console.print(
                "Browse history (runs the demo again, then the web UI on http://127.0.0.1:8000):"
            )
            self._command(f"{program} demo --serve")
            self.console.print("or, on this run's data:")
            self._command(f"{settings} {program} web")
        self.console.print(
            f"Files: {outcome.folder} (sources.yaml, data/policywatch.db, data/outbox/); delete it when done."
        )

    def _command(self, line: str) -> None:
        """A command on one line of its own, never wrapped, so it can be copied and pasted whole."""
        self.console.print(f"  {line}", markup=False, soft_wrap=True, style="bold")


def program_name() -> str:
    """The policywatch command as the user typed it (``.venv/bin/policywatch``), for copy and paste."""
    typed = sys.argv[0] if sys.argv else ""
    return shlex.quote(typed) if typed.endswith("policywatch") else "policywatch"


def summary_body(summary: str) -> str:
    """A change summary without its leading 'Document title: '."""
    head, separator, rest = (summary or "").partition(": ")
    return rest if separator and len(head) < 120 else summary


def raw_churn(replay: Replay) -> int:
    """How often a replayed page's bytes changed from one crawl to the next."""
    return sum(
        doc.blobs[tick] != doc.blobs[tick - 1]
        for doc in replay.documents
        for tick in range(1, len(replay.ticks))
    )
