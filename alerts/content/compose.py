"""Emails from templates: one rendering per distinct content, personal links filled in per recipient.

An email's body is rendered once with placeholders where each recipient's own links go (confirm,
unsubscribe, preferences); an ``EmailBatch`` pairs that body with up to ``email_batch_size`` recipients
and their link values. Backends fill the placeholders: the file backend itself, SendGrid through
personalization substitutions, so one request carries a thousand personal emails.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from alerts.audience.subscribers import followed
from alerts.content.template_data import by_platform, by_significance, change_views, post_views, subject_line
from changes.provisions import catalog_for
from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from policywatch.verdicts import Significance

LINKS = ("confirm", "unsubscribe", "preferences")
# Line breaks and other control characters: in a header they would start a new header.
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
ENVIRONMENT = Environment(
    loader=PackageLoader("alerts.content", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class OutboxRow(Protocol):
    """What an outbox row tells of the email it belongs to."""

    @property
    def kind(self) -> str: ...
    @property
    def subscriber_id(self) -> int: ...
    @property
    def tier(self) -> str: ...
    @property
    def change_id(self) -> int | None: ...
    @property
    def announcement_id(self) -> int | None: ...
    @property
    def announcement_ids(self) -> tuple[int, ...]: ...
    @property
    def change_ids(self) -> tuple[int, ...]: ...
    @property
    def digest_week(self) -> str | None: ...


@dataclass(frozen=True)
class Recipient:
    """One person an email goes to, with their personal links and the outbox rows it settles."""

    subscriber_id: int
    email: str
    message_key: str
    delivery_ids: tuple[int, ...]
    links: dict[str, str]

    @property
    def unsubscribe_url(self) -> str:
        """The one-click unsubscribe URL for the List-Unsubscribe header."""
        return self.links["unsubscribe"]


@dataclass(frozen=True)
class Email:
    """Content shared by several recipients: subject and both parts, with link placeholders."""

    kind: str
    subject: str
    text: str
    html: str
    placeholders: dict[str, str]

    def substitutions(self, recipient: Recipient) -> dict[str, str]:
        """Placeholder -> this recipient's value."""
        return {
            self.placeholders[name]: recipient.links[name]
            for name in self.placeholders
            if name in recipient.links
        }

    def personal(self, recipient: Recipient) -> tuple[str, str]:
        """(text, html) with this recipient's links filled in."""
        text, html = self.text, self.html
        for placeholder, value in self.substitutions(recipient).items():
            text, html = text.replace(placeholder, value), html.replace(placeholder, value)
        return text, html


@dataclass
class EmailBatch:
    """One email content and the recipients it goes to in one provider request."""

    email: Email
    recipients: list[Recipient] = field(default_factory=list)

    @property
    def delivery_ids(self) -> list[int]:
        """Every outbox row this batch settles."""
        return [i for recipient in self.recipients for i in recipient.delivery_ids]


def placeholders() -> dict[str, str]:
    """Fresh link placeholders; the random part keeps page content from ever matching one."""
    nonce = secrets.token_hex(6)
    return {name: f"%{name}-{nonce}%" for name in LINKS}


def one_line(value: str) -> str:
    """``value`` fit for a header: control characters (line breaks above all) become one space."""
    return " ".join(CONTROL.sub(" ", value).split())


def render(kind: str, subject: str, **context) -> Email:
    """The ``kind`` email (templates ``kind.txt`` and ``kind.html``) rendered once for ``context``;
    its subject on one line, whatever the titles in it hold."""
    links = placeholders()
    subject = one_line(subject)
    context.update(links=links, subject=subject)
    text = ENVIRONMENT.get_template(f"{kind}.txt").render(context)
    html = ENVIRONMENT.get_template(f"{kind}.html").render(context)
    return Email(kind, subject, text, html, links)


def confirmation_email(tier: str, followed: list[str]) -> Email:
    """The double opt-in email naming what it subscribes to: confirm link, nothing else is sent
    before it is followed."""
    return render("confirmation", "[policywatch] Confirm your subscription", tier=tier, followed=followed)


def alert_email(views: list[dict]) -> Email:
    """The same-day alert covering ``views`` (one or more changes), most significant first."""
    ordered = by_significance(views)
    if len(ordered) == 1:
        subject = f"[policywatch] {ordered[0]['title']}: {ordered[0]['significance']} change"
    else:
        named = ", ".join(subject_line(view) for view in ordered[:3])
        subject = f"[policywatch] {len(ordered)} changes: {named}" + (", …" if len(ordered) > 3 else "")
    return render("alert", subject, changes=ordered)


def announcement_email(posts: list[dict]) -> Email:
    """The same-day news of new posts on the newsrooms of platforms followed."""
    if len(posts) == 1:
        subject = f"[policywatch] {posts[0]['platform']} announced: {posts[0]['title']}"
    else:
        subject = f"[policywatch] {len(posts)} new announcements: " + ", ".join(p["title"] for p in posts[:2])
        subject += ", …" if len(posts) > 2 else ""
    return render("announcement", subject, posts=posts)


def digest_email(week: str, views: list[dict], posts: Sequence[dict] = ()) -> Email:
    """The weekly digest: new announcements first, then a summary table (one row per change), then
    the changes grouped by platform, most significant first, with counts."""
    groups = by_platform(views)
    counts = {
        name: sum(1 for view in views if view["significance"] == name)
        for name in reversed(Significance.values())
    }
    subject = f"[policywatch] Weekly digest {week}: {len(views)} change{'s' if len(views) != 1 else ''}"
    subject += f" on {len(groups)} platform{'s' if len(groups) != 1 else ''}"
    if posts:
        subject += f", {len(posts)} announcement{'s' if len(posts) != 1 else ''}"
    summary = [view for _, changes in groups for view in changes]
    return render(
        "digest",
        subject,
        week=week,
        groups=groups,
        counts=counts,
        total=len(views),
        posts=list(posts),
        summary=summary,
    )


def content_key(message: Sequence[OutboxRow]) -> tuple:
    """What one subscriber's email of one kind (its outbox rows) holds: equal keys, equal content."""
    first = message[0]
    if first.kind == "confirmation":
        return (first.kind, first.tier, first.subscriber_id)
    if first.kind == "alert":
        return (first.kind, tuple(sorted(row.change_id for row in message)))
    if first.kind == "announcement":
        return (first.kind, tuple(sorted(row.announcement_id for row in message)))
    return (first.kind, first.digest_week, first.change_ids, first.announcement_ids)


@dataclass
class Composed:
    """The email of each content key, and why the others could not be composed."""

    emails: dict[tuple, Email] = field(default_factory=dict)
    errors: dict[tuple, str] = field(default_factory=dict)


def emails_for(session: Session, keys: Iterable[tuple], settings: Settings) -> Composed:
    """The email of each content key, rendered once; the changes they show loaded in one query, their
    links on ``settings.base_url``, topics and provisions named as the taxonomy and catalog in force
    name them. A key whose email cannot be rendered is reported in ``errors`` and the others are still
    composed."""
    keys, base_url = list(keys), settings.base_url
    ids = {i for key in keys for i in _change_ids(key)}
    catalog, taxonomy = catalog_for(settings), taxonomy_for(settings)
    views = change_views(session, ids, base_url, catalog) if ids else {}
    post_ids = {i for key in keys for i in _post_ids(key)}
    posts = post_views(session, post_ids, base_url, taxonomy) if post_ids else {}
    subscribers = {key[2] for key in keys if key[0] == "confirmation"}
    follows = followed(session, subscribers, taxonomy, catalog) if subscribers else {}
    composed = Composed()
    for key in keys:
        try:
            composed.emails[key] = _email(key, views, posts, follows)
        except Exception as exc:  # one email's content must not stop the others
            composed.errors[key] = f"{type(exc).__name__}: {exc}"
    return composed


def _change_ids(key: tuple) -> tuple[int, ...]:
    return key[1] if key[0] == "alert" else key[2] if key[0] == "digest" else ()


def _post_ids(key: tuple) -> tuple[int, ...]:
    return key[1] if key[0] == "announcement" else key[3] if key[0] == "digest" else ()


def _email(
    key: tuple, views: dict[int, dict], posts: dict[int, dict], follows: dict[int, list[str]]
) -> Email:
    kind = key[0]
    if kind == "confirmation":
        return confirmation_email(key[1], follows.get(key[2], []))
    if kind == "alert":
        return alert_email([views[i] for i in key[1] if i in views])
    if kind == "announcement":
        return announcement_email([posts[i] for i in key[1] if i in posts])
    return digest_email(
        key[1], [views[i] for i in key[2] if i in views], [posts[i] for i in key[3] if i in posts]
    )
