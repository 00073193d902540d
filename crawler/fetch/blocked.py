"""Recognising pages that are not the document: bot challenges, interstitials and error pages
served with status 200. Rules are general (no site names); the reason says what was recognised.

A page's title is trusted on its own. Phrases in the visible text count only in a short selected
region or on a short page, so a policy that quotes "Access denied" or "Page not found" is never
mistaken for an error.
"""

from __future__ import annotations

import re

from lxml import html

from policywatch.verdicts import Failure, FailureKind

#: A page with more visible characters than this is content, whatever phrases it contains.
SHORT_PAGE = 3000

_CHALLENGES = [
    (
        r"just a moment\.\.\.|checking (?:if the site connection is secure|your browser before accessing)",
        "bot challenge page (Cloudflare 'Just a moment...')",
    ),
    (r"attention required! \| cloudflare", "bot challenge page (Cloudflare 'Attention Required')"),
    (
        r"enable javascript and cookies to continue",
        "bot challenge page ('Enable JavaScript and cookies to continue')",
    ),
    (
        r"pardon our interruption|press (?:&|and) hold to confirm",
        "bot challenge page ('Pardon our interruption')",
    ),
    (r"request unsuccessful\. incapsula incident", "bot challenge page (Incapsula 'Request unsuccessful')"),
    (r"verify(?:ing)? (?:that )?you are (?:a )?human|are you a robot|\bcaptcha\b", "captcha page"),
    (r"\baccess denied\b|you don't have permission to access", "interstitial page ('Access denied')"),
]
_ERRORS = [
    (
        r"application error: a client-side exception has occurred",
        "error page (Next.js 'Application error: a client-side exception has occurred')",
    ),
    (
        r"this page isn't available|diese seite ist (?:momentan|derzeit) nicht verf\u00fcgbar|"
        r"cette page n'est pas disponible|esta p\u00e1gina no est\u00e1 disponible|"
        r"questa pagina non \u00e8 disponibile",
        "error page ('This page isn't available')",
    ),
    (
        r"\bpage not found\b|seite nicht gefunden|page introuvable|p\u00e1gina no encontrada|"
        r"pagina non trovata|"
        r"\b404\b.{0,20}\bnot found\b|\bnot found\b.{0,20}\b404\b|page (?:you requested )?"
        r"(?:could not|couldn't|cannot|can't) be found",
        "error page ('Page not found')",
    ),
    (r"\b(?:500 )?internal server error\b", "error page ('Internal Server Error')"),
    (
        r"\b(?:502 bad gateway|503 service (?:temporarily )?unavailable|504 gateway time-?out)\b",
        "error page (gateway or service unavailable)",
    ),
]
_TITLE_ONLY = [(r"^\s*(?:error\s*)?(?:40[34]|50[0234])\b", "error page (HTTP error status in the title)")]
_PATTERNS = [
    (re.compile(p, re.IGNORECASE | re.DOTALL), Failure(kind, reason))
    for kinds, kind in ((_CHALLENGES, FailureKind.BOT_CHALLENGE), (_ERRORS, FailureKind.ERROR_PAGE))
    for p, reason in kinds
]
_TITLE_PATTERNS = _PATTERNS + [
    (re.compile(p, re.IGNORECASE), Failure(FailureKind.ERROR_PAGE, reason)) for p, reason in _TITLE_ONLY
]
_CAPTCHA = Failure(FailureKind.BOT_CHALLENGE, "captcha page")
_CAPTCHA_WIDGETS = (b"g-recaptcha", b"h-captcha", b"cf-turnstile", b"challenge-form", b"cf-challenge")
_VISIBLE_TEXT = (
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)


def title_reason(doc: html.HtmlElement) -> Failure | None:
    """Why the page's title shows it is not the document, or None."""
    title = doc.findtext(".//title")
    return _match(_TITLE_PATTERNS, _plain(title)) if title else None


def short_text_reason(text: str) -> Failure | None:
    """Why a short region's text shows it is an error or challenge message, or None (also for long text)."""
    return _match(_PATTERNS, _plain(text)) if len(text) <= SHORT_PAGE else None


def short_page_reason(doc: html.HtmlElement, body: bytes) -> Failure | None:
    """Why a short page (its visible text, its raw ``body``) shows it is not the document, or None
    (also for long pages)."""
    text = _plain(" ".join(doc.xpath(_VISIBLE_TEXT)))
    if len(text) > SHORT_PAGE:
        return None
    if any(widget in body for widget in _CAPTCHA_WIDGETS):
        return _CAPTCHA
    return _match(_PATTERNS, text)


def _plain(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def _match(patterns: list[tuple[re.Pattern[str], Failure]], text: str) -> Failure | None:
    return next((reason for pattern, reason in patterns if pattern.search(text)), None)
