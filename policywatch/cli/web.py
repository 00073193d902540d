"""``policywatch web``: serve the analyst web UI and JSON API with uvicorn."""
from __future__ import annotations

import click

from policywatch.cli.common import open_engine


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
def command(host: str, port: int) -> None:
    """Serve the web UI and JSON API (refuses a database schema that is behind)."""
    import uvicorn

    from web.app import create_app

    app = create_app(open_engine())
    click.echo(f"policywatch web on http://{host}:{port}/ (API schema at /openapi.json)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
