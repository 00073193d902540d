"""The web application: analyst pages, JSON API, feeds, downloads, subscription links, operator actions.

``create_app(settings)`` builds it on the settings' database, or on a given engine; the operator
routes are mounted when an operator token is set and the composition root passes their actions.
"""

from __future__ import annotations

import contextlib
import gc
from http import HTTPStatus
from pathlib import Path

import anyio.to_thread
import swagger_ui
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.audience.tokens import Tokens
from changes.provisions import catalog_for
from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from store.audit import public_key
from store.db import make_engine
from web.middleware.cache import MemoryPages, PageCache, SharedPages
from web.middleware.security import Csrf, RateLimit, SecurityHeaders
from web.middleware.turns import Turns
from web.rendering.templating import page, templates
from web.routes import api, downloads, feeds, health, operator, pages, subscribe

STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings, engine: Engine | None = None, operator_actions: operator.Actions | None = None
) -> FastAPI:
    """The ASGI app serving ``engine`` (default: the settings' database)."""
    app = FastAPI(
        title="policywatch",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        description="Policy versions, changes, search and comparison across platforms.",
    )
    app.state.settings = settings
    # a request holds a connection from its first query until its session closes, just after its
    # thread is released
    app.state.engine = engine or make_engine(settings.database, pool_size=2 * settings.web_threads)
    app.state.taxonomy = taxonomy_for(settings)
    app.state.catalog = catalog_for(settings)
    app.state.templates = templates()
    app.state.csrf = Csrf(settings.signing_key())
    app.state.export_key = settings.export_signing_key()
    app.state.export_public_key = public_key(app.state.export_key)
    app.state.tokens = Tokens.from_settings(settings)
    app.state.subscribe_limit = RateLimit(
        app.state.engine, "subscribe", settings.subscribe_rate_limit, settings.subscribe_rate_window
    )
    app.add_middleware(SecurityHeaders)
    kept = SharedPages(settings.web_cache_dir, settings.database) if settings.web_cache_dir else MemoryPages()
    app.add_middleware(PageCache, pages=kept)  # kept pages carry the security headers
    app.add_middleware(Turns)  # outermost: a page's turn covers its cache look-up
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # pages first: a request walks the routers in order, and analyst pages are the ones under load
    for router in (pages.router, health.router, api.router, feeds.router, downloads.router, subscribe.router):
        app.include_router(router)
    if settings.operator_token and operator_actions is not None:
        app.state.operator = operator_actions
        app.include_router(operator.router)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    return app


#: Swagger UI 5 (OpenAPI 3.1), as the swagger-ui-py package ships it: the API docs need no CDN.
SWAGGER_UI = Path(swagger_ui.__file__).parent / "static"
#: Paths answered in JSON (or their own format) when they fail; every other path gets an HTML page.
MACHINE_PATHS = ("/api/", "/feeds/", "/openapi.json", "/healthz", "/snapshots/")


async def _error_page(request: Request, exc: Exception):
    """An HTTP error as a page a browser's reader can use; the API, feeds and clients that do not
    ask for HTML keep FastAPI's JSON answer."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(MACHINE_PATHS) or "text/html" not in request.headers.get(
        "accept", "text/html"
    ):
        return await http_exception_handler(request, exc)
    title = "Not found" if exc.status_code == 404 else HTTPStatus(exc.status_code).phrase
    return page(request, "message.html", status_code=exc.status_code, title=title, message=str(exc.detail))


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    """Run at most ``web_threads`` handlers at once, and freeze what startup made out of the garbage
    collector's full passes, which would otherwise walk it all while a request waits."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.web_threads
    gc.collect()
    gc.freeze()
    yield
