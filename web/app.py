"""The web application: analyst pages, JSON API, feeds, downloads, subscription links, operator actions.

``create_app(settings)`` builds it on the settings' database, or on a given engine; the operator
routes are mounted when an operator token is set and the composition root passes their actions.
"""

from __future__ import annotations

import contextlib
import gc
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from alerts.audience.tokens import Tokens
from changes.provisions import catalog_for
from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from store.db import make_engine
from web.middleware.cache import MemoryPages, PageCache, SharedPages
from web.middleware.security import Csrf, RateLimit, SecurityHeaders
from web.middleware.turns import Turns
from web.rendering.templating import templates
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
    app.state.tokens = Tokens.from_settings(settings)
    app.state.subscribe_limit = RateLimit(settings.subscribe_rate_limit, settings.subscribe_rate_window)
    app.add_middleware(SecurityHeaders)
    kept = SharedPages(settings.web_cache_dir, settings.database) if settings.web_cache_dir else MemoryPages()
    app.add_middleware(PageCache, pages=kept)  # kept pages carry the security headers
    app.add_middleware(Turns)  # outermost: a page's turn covers its cache look-up
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # pages first: a request walks the routers in order, and analyst pages are the ones under load
    for router in (pages.router, health.router, api.router, feeds.router, downloads.router, subscribe.router):
        app.include_router(router)
    if settings.operator_token and operator_actions is not None:
        app.state.operator = operator_actions
        app.include_router(operator.router)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    """Run at most ``web_threads`` handlers at once, and freeze what startup made out of the garbage
    collector's full passes, which would otherwise walk it all while a request waits."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.web_threads
    gc.collect()
    gc.freeze()
    yield
