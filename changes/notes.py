"""Machine-written interpretive notes on a provision's clauses, asked of the OpenAI-compatible
chat-completions endpoint the settings name (``POLICYWATCH_NOTE_URL``; off by default).

One note per provision type and clause text (its SHA-256): a text already noted is never asked
again. The note is shown beside the rules' analysis card as machine-written, with the text it is about.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Row
from sqlalchemy.orm import Session

from changes.provisions import Catalog, Instance, ProvisionType
from policywatch.settings import Settings
from store.models import ProvisionNote
from store.queries.provisions import latest_instances, note_keys, notes_on

MAX_NOTE_CHARS = 1200
#: Answers that concern the one request (its clause), not the provider: the round goes on.
REQUEST_ERRORS = {400, 413, 422}
INSTRUCTIONS = (
    "You annotate clauses of online platforms' policies for legal and compliance readers. In at most "
    "three sentences (under 80 words), say what the quoted clauses mean in practice for the platform's "
    "customers: what they allow, forbid or reserve, and what is left to the platform's judgment. Use "
    "only the quoted text; where it is unclear, say so. No preamble."
)


class NoteFailure(Exception):
    """A note request that gave no note: the endpoint's URL, the reason, and whether the provider
    itself failed (timeout, refused connection, 5xx, 401, 429…), which ends the round."""

    def __init__(self, url: str, reason: str, ends_round: bool = True) -> None:
        super().__init__(f"provision note from {url} failed: {reason}")
        self.url, self.reason, self.ends_round = url, reason, ends_round


@dataclass(frozen=True)
class Wanted:
    """A provision text of a document's latest version that has no note yet."""

    kind: ProvisionType
    text: str
    digest: str


@dataclass(frozen=True)
class NoteProvider:
    """The chat-completions endpoint notes are asked of."""

    url: str
    model: str
    api_key: str | None = field(repr=False)
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> NoteProvider | None:
        """The provider the settings name; None when notes are off."""
        if not settings.note_url or not settings.note_model:
            return None
        key = os.environ.get(settings.note_api_key_env) or None
        return cls(settings.note_url, settings.note_model, key, settings.note_timeout)

    def ask(self, kind: ProvisionType, text: str) -> str:
        """The note on ``text``, clauses of provision type ``kind``; NoteFailure if none came."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = json.dumps({"model": self.model, "messages": messages(kind, text)}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}{_provider_message(exc)}"
            raise NoteFailure(self.url, reason, ends_round=exc.code not in REQUEST_ERRORS) from None
        except urllib.error.URLError as exc:
            late = isinstance(exc.reason, TimeoutError)
            raise NoteFailure(self.url, self._late if late else str(exc.reason)) from None
        except TimeoutError:
            raise NoteFailure(self.url, self._late) from None
        except (OSError, http.client.HTTPException) as exc:
            raise NoteFailure(self.url, str(exc) or type(exc).__name__) from None
        except ValueError:
            raise NoteFailure(self.url, "the answer is not JSON") from None
        return _note_in(answer, self.url)

    @property
    def _late(self) -> str:
        return f"no answer within {self.timeout:g} s"


def messages(kind: ProvisionType, text: str) -> list[dict]:
    """The chat messages asking for a note on ``text``."""
    question = f"Provision: {kind.label} ({kind.description})\n\nClauses:\n{text}"
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": question}]


def digest(text: str) -> str:
    """The key a note on ``text`` is kept under (with its provision type)."""
    return hashlib.sha256(text.encode()).hexdigest()


def wanted_notes(session: Session, catalog: Catalog) -> list[Wanted]:
    """Each provision text stated in a document's latest version that has no note yet, once."""
    known = note_keys(session)
    wanted: dict[tuple[str, str], Wanted] = {}
    for row in latest_instances(session):
        kind = catalog.get(row.provision)
        if not row.present or kind is None:
            continue
        text = _text(row)
        key = (row.provision, digest(text))
        if key not in known:
            wanted.setdefault(key, Wanted(kind, text, key[1]))
    return list(wanted.values())


def kept_notes(session: Session, rows: Sequence[Row]) -> list[dict | None]:
    """For each row of ``latest_instances``, the machine-written note kept on its text as JSON
    (``text``, ``model``, ``written_at``, ``machine_written``); None when it states nothing or has none."""
    keys = [(r.provision, digest(_text(r))) if r.present else None for r in rows]
    kept = notes_on(session, {key for key in keys if key})
    return [_as_json(kept[key]) if key in kept else None for key in keys]


def _as_json(note: ProvisionNote) -> dict:
    written = note.created_at.isoformat().replace("+00:00", "Z")
    return {"text": note.note, "model": note.model, "written_at": written, "machine_written": True}


def _text(row: Row) -> str:
    """The text of a recorded instance, as its note was asked on."""
    return Instance(row.provision, row.heading, (), tuple(row.clauses or ())).text


def _note_in(answer: object, url: str) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str) or not content.strip():
        raise NoteFailure(url, "the answer holds no note (choices[0].message.content)")
    note = content.strip()
    return note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 1] + "…"


def _provider_message(error: urllib.error.HTTPError) -> str:
    """The provider's own error message (``{"error": {"message": …}}``), shortened, if it gave one."""
    try:
        message = json.loads(error.read(2000))["error"]["message"]
    except (ValueError, KeyError, TypeError, OSError):
        return ""
    return f": {str(message)[:200]}"
