"""Where emails go: small backend classes registered by name (setting ``email_backend``).

``send(batch)`` delivers one batch and returns the provider's message id, or raises
``TransientError`` (not accepted: retry later, maybe after ``retry_after`` seconds),
``UnconfirmedError`` (the request went out but its answer was lost: the provider may have accepted
it) or ``PermanentError`` (record the reason, never retry).
"""

from __future__ import annotations

import http.client
import logging
import os
import tempfile
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from alerts.content.compose import EmailBatch, Recipient
from policywatch.settings import Settings
from policywatch.verdicts import retry_after_seconds

ONE_CLICK = "List-Unsubscribe=One-Click"
PERMANENT_STATUSES = {400, 401, 403, 404, 413}
# Fold only at RFC 5322's hard limit: a List-Unsubscribe URL stays one plain line, not an encoded word.
EML_POLICY = policy.default.clone(max_line_length=998)


class DeliveryError(Exception):
    """A batch could not be delivered; the message names the backend and the reason."""


class TransientError(DeliveryError):
    """Worth retrying: rate limited, server error, timeout, connection refused."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnconfirmedError(TransientError):
    """The request reached the provider but no whole answer came back (timeout, cut or garbled
    answer, connection reset): it may have been accepted, so it is retried a bounded number of times."""


class PermanentError(DeliveryError):
    """Retrying cannot help: the provider refused the request as it is."""


class Backend:
    """Delivers batches of emails; subclasses register themselves in BACKENDS by ``name``."""

    name = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender_name, self.sender_email = parseaddr(settings.email_from)

    @property
    def list_id(self) -> str:
        """The RFC 2919 List-Id of this installation's emails: mail clients group and filter by it."""
        host = urlsplit(self.settings.base_url).hostname or "localhost"
        return f"policywatch alerts <alerts.{host}>"

    def send(self, batch: EmailBatch) -> str:
        """Deliver every recipient of ``batch``; return the provider's message id."""
        raise NotImplementedError


class FileBackend(Backend):
    """Writes each email as an .eml file in the outbox folder, atomically (temp file + rename).
    The file is named by the message key, so a retried batch rewrites rather than duplicates."""

    name = "file"

    def send(self, batch: EmailBatch) -> str:
        folder = self.settings.outbox
        for recipient in batch.recipients:
            path = folder / f"{recipient.message_key}.eml"
            try:
                write_atomically(path, self.message(batch, recipient).as_bytes())
            except OSError as exc:
                raise TransientError(f"file backend {path}: {exc.strerror or exc}") from None
        return f"file:{batch.recipients[0].message_key}"

    def message(self, batch: EmailBatch, recipient: Recipient) -> EmailMessage:
        """The complete email one recipient gets, with both parts and the unsubscribe headers."""
        text, html = batch.email.personal(recipient)
        message = EmailMessage(policy=EML_POLICY)
        message["From"] = formataddr((self.sender_name or "policywatch", self.sender_email))
        message["To"] = recipient.email
        message["Subject"] = batch.email.subject
        message["Date"] = formatdate(usegmt=True)
        domain = self.sender_email.rpartition("@")[2] or "localhost"
        message["Message-ID"] = f"<{recipient.message_key}@{domain}>"  # the same on a retried email
        message["List-Id"] = self.list_id
        message["List-Unsubscribe"] = f"<{recipient.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
        message["X-Policywatch-Kind"] = batch.email.kind
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


class SendGridBackend(Backend):
    """SendGrid v3 Mail Send through the official client: one request per batch, one
    personalization per recipient carrying their address, link substitutions, List-Unsubscribe
    header and the outbox keys as custom args."""

    name = "sendgrid"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.sendgrid_api_key:
            raise DeliveryError("sendgrid backend: POLICYWATCH_SENDGRID_API_KEY is not set")
        self.api = SendGridAPIClient(settings.sendgrid_api_key, host=settings.sendgrid_api_host)
        # The client logs whole request bodies (every address) at DEBUG: never let that through.
        logging.getLogger("python_http_client").setLevel(logging.INFO)
        self.url = f"{settings.sendgrid_api_host}/v3/mail/send"

    def send(self, batch: EmailBatch) -> str:
        try:
            response = self.api.client.mail.send.post(
                request_body=self.payload(batch), timeout=self.settings.email_timeout
            )
        except HTTPError as exc:
            raise _classified(exc, self.url) from None
        except URLError as exc:  # connecting or sending the request failed: nothing was accepted
            raise TransientError(f"sendgrid {self.url}: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:  # the request went out, the answer was lost
            raise UnconfirmedError(
                f"sendgrid {self.url}: no whole answer ({_described(exc)}); it may have been accepted"
            ) from None
        return response.headers.get("X-Message-Id") or ""

    def payload(self, batch: EmailBatch) -> dict:
        """The Mail Send request body for ``batch``."""
        email = batch.email
        sender = {"email": self.sender_email} | ({"name": self.sender_name} if self.sender_name else {})
        return {
            "from": sender,
            "subject": email.subject,
            "content": [
                {"type": "text/plain", "value": email.text},
                {"type": "text/html", "value": email.html},
            ],
            "personalizations": [
                {
                    "to": [{"email": recipient.email}],
                    "substitutions": email.substitutions(recipient),
                    "headers": {
                        "List-Id": self.list_id,
                        "List-Unsubscribe": f"<{recipient.unsubscribe_url}>",
                        "List-Unsubscribe-Post": ONE_CLICK,
                    },
                    "custom_args": {
                        "message_key": recipient.message_key,
                        "delivery_ids": ",".join(map(str, recipient.delivery_ids)),
                    },
                }
                for recipient in batch.recipients
            ],
            "categories": ["policywatch", email.kind],
            "custom_args": {"kind": email.kind},
            # Signed links must reach the reader untouched: no click-tracking rewrite, no extra footer.
            "tracking_settings": {
                "click_tracking": {"enable": False, "enable_text": False},
                "subscription_tracking": {"enable": False},
            },
        }


def _classified(exc: HTTPError, url: str) -> DeliveryError:
    body = exc.body.decode("utf-8", "replace")[:500] if isinstance(exc.body, bytes) else str(exc.body)[:500]
    reason = f"sendgrid {url}: HTTP {exc.status_code} {body}"
    if exc.status_code in PERMANENT_STATUSES:
        return PermanentError(reason)
    return TransientError(
        reason, retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
    )


def _described(exc: Exception) -> str:
    """``exc`` in words, on one line: a timeout says so, others give their type and message."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    message = " ".join(str(exc).split())  # a garbled status line brings its own line break
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


BACKENDS: dict[str, type[Backend]] = {backend.name: backend for backend in (FileBackend, SendGridBackend)}


def backend_for(settings: Settings) -> Backend:
    """The backend the settings name."""
    return BACKENDS[settings.email_backend](settings)
