"""Defences of the web layer: security headers, signed double-submit CSRF tokens, a per-IP rate
limit on subscribing (counted in the database, shared by every web worker), and the operator bearer
token."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request
from fastapi.responses import PlainTextResponse
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.audience.rate_limits import count_hit
from store.db import transaction
from store.models import utcnow

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
RAW_CSP = "default-src 'none'; sandbox"
CSRF_COOKIE = "policywatch_csrf"
CSRF_FIELD = "csrf_token"


class SecurityHeaders:
    """Adds a strict CSP (unless a route set its own) and the usual hardening headers to every response;
    refuses (400) a URL holding a NUL character, which no policywatch name contains and PostgreSQL rejects.
    Plain ASGI: Starlette's BaseHTTPMiddleware costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
            await send(message)

        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await PlainTextResponse("NUL characters are not allowed in URLs", status_code=400)(
                scope, receive, with_headers
            )
        else:
            await self.app(scope, receive, with_headers)


class Csrf:
    """Signed double-submit tokens: a random value in a cookie, its signature in each form."""

    def __init__(self, key: str) -> None:
        self.serializer = URLSafeSerializer(key, salt="policywatch.csrf")

    def cookie_value(self, request: Request) -> str:
        """The browser's CSRF cookie value, or a fresh one (the page response then sets it)."""
        value = request.cookies.get(CSRF_COOKIE)
        if not value:
            value = request.state.new_csrf = secrets.token_urlsafe(24)
        return value

    def form_token(self, request: Request) -> str:
        """The token a form on this page carries."""
        return self.serializer.dumps(self.cookie_value(request))

    def check(self, request: Request, token: str | None) -> None:
        """Refuse (403) a form whose token is missing, forged, or not for this browser's cookie."""
        cookie = request.cookies.get(CSRF_COOKIE)
        try:
            signed = self.serializer.loads(token or "")
        except BadSignature:
            signed = None
        if not cookie or not signed or not hmac.compare_digest(str(signed), cookie):
            raise HTTPException(
                403, "the form expired or came from another site; reload the page and try again"
            )


def set_csrf_cookie(request: Request, response) -> None:
    """Set the CSRF cookie on ``response`` when this request minted a new one."""
    value = getattr(request.state, "new_csrf", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE, value, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )


class RateLimit:
    """At most ``limit`` hits per client address in each fixed ``window`` of seconds (windows start
    at multiples of it since the epoch), counted in the database: every web worker, on every host,
    counts the same hits."""

    def __init__(self, engine: Engine, name: str, limit: int, window: float) -> None:
        self.engine, self.name, self.limit, self.window = engine, name, limit, window

    def hit(self, client: str) -> None:
        """Count one hit of ``client``; refuse (429) one over the limit."""
        now = utcnow()
        start = datetime.fromtimestamp(now.timestamp() // self.window * self.window, UTC)
        with transaction(self.engine) as session:
            hits = count_hit(session, f"{self.name}:{client}", start)
        if hits > self.limit:
            wait = (start + timedelta(seconds=self.window) - now).total_seconds()
            raise HTTPException(
                429,
                "too many subscription requests from this address; try again later",
                headers={"Retry-After": str(int(wait) + 1)},
            )


def require_operator(request: Request) -> None:
    """Let through a request bearing the operator token; 401 for a wrong one. Operator routes are not
    mounted at all when no token is configured."""
    token = request.app.state.settings.operator_token
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
        raise HTTPException(401, "operator token required", headers={"WWW-Authenticate": "Bearer"})
