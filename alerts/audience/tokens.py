"""Signed, purpose-bound links in emails: confirm, unsubscribe, preferences.

A token signs ``<subscriber id>.<email tag>`` and its time (itsdangerous ``TimestampSigner``) with
the settings' signing key, salted per purpose, so
a token made for one purpose or subscriber is refused for any other, and a token stops working when
the subscriber's address changes. The email tag is an HMAC of the address: tokens in URLs and logs
never reveal it.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from policywatch.settings import Settings

DAY = 86_400
# purpose -> (URL path under base_url, max age in seconds or None = never expires)
PURPOSES: dict[str, tuple[str, int | None]] = {
    "confirm": ("confirm", 7 * DAY),
    "unsubscribe": ("unsubscribe", None),
    "preferences": ("preferences", 90 * DAY),
}


class TokenError(ValueError):
    """A link token is malformed, forged, expired, or made for another purpose or subscriber."""


class Tokens:
    """Makes and reads tokens with one signing key (build once per run: signing is then cheap)."""

    def __init__(self, key: str, base_url: str) -> None:
        self.key = key.encode()
        self.base_url = base_url
        self.signers = {purpose: TimestampSigner(key, salt=f"policywatch.{purpose}") for purpose in PURPOSES}

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        """Tokens signed with the settings' key, linking to their base URL."""
        return cls(settings.signing_key(), settings.base_url)

    def email_tag(self, email: str) -> str:
        """A short keyed digest of ``email`` that binds a token to the address without revealing it."""
        return hmac.new(self.key, email.encode(), hashlib.sha256).hexdigest()[:16]

    def make(self, purpose: str, subscriber_id: int, email: str) -> str:
        """A token for ``purpose`` bound to this subscriber id and address."""
        return self.signers[_known(purpose)].sign(f"{subscriber_id}.{self.email_tag(email)}").decode()

    def read(self, purpose: str, token: str) -> tuple[int, str]:
        """The (subscriber id, email tag) a valid token for ``purpose`` carries; TokenError otherwise."""
        max_age = PURPOSES[_known(purpose)][1]
        try:
            subscriber_id, tag = self.signers[purpose].unsign(token, max_age=max_age).decode().split(".")
            return int(subscriber_id), tag
        except SignatureExpired:
            raise TokenError(f"the {purpose} link has expired; ask for a new one") from None
        except (BadSignature, ValueError, UnicodeError):
            raise TokenError(f"the {purpose} link is invalid") from None

    def link(self, purpose: str, subscriber_id: int, email: str) -> str:
        """The web URL that acts on ``purpose`` for this subscriber."""
        return f"{self.base_url}/{PURPOSES[purpose][0]}/{self.make(purpose, subscriber_id, email)}"


def _known(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise TokenError(f"unknown token purpose {purpose!r}; expected one of {', '.join(PURPOSES)}")
    return purpose
