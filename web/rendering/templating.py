"""Server-side rendering: the Jinja2 environment (autoescaped: page content is untrusted) and helpers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from changes.compare import shown_clauses
from changes.plain import plain
from store.queries.documents import document_title
from web.middleware.security import CSRF_FIELD, set_csrf_cookie
from web.rendering.markdown import render_markdown
from web.rendering.redline_text import line_html, lines_html, segments_html
from web.rendering.rows import change_rows, version_rows, when, when_whole

TEMPLATES = Path(__file__).parent.parent / "templates"


def templates() -> Jinja2Templates:
    """The page and feed templates, HTML and XML autoescaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["when"] = when
    env.filters["when_whole"] = when_whole
    env.filters["markdown"] = render_markdown
    env.filters["plain"] = plain
    env.filters.update(line_html=line_html, lines_html=lines_html, segments_html=segments_html)
    env.globals["document_title"] = document_title
    env.globals["shown_clauses"] = shown_clauses
    env.filters["day"] = lambda moment: moment.strftime("%Y-%m-%d") if moment else ""
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.globals.update(
        version_rows=version_rows, change_list_rows=change_rows
    )  # the macro change_rows wraps the latter
    return Jinja2Templates(env=env)


def page(request: Request, name: str, status_code: int = 200, **context):
    """Render template ``name`` with ``context``; a form calling ``csrf_token()`` gets a token, and
    the browser its cookie (pages without such a form mint neither)."""
    csrf = request.app.state.csrf
    context.update(request=request, csrf_token=lambda: csrf.form_token(request), query=query_with(request))
    response = request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


def query_with(request: Request):
    """A function giving this page's query string with some parameters replaced (None drops one)."""

    def build(**changes) -> str:
        params = {k: v for k, v in request.query_params.items() if k not in changes}
        params.update({k: v for k, v in changes.items() if v is not None})
        return "?" + urlencode(params) if params else "?"

    return build
