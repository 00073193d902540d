"""``policywatch web``: serve the analyst web UI and JSON API with uvicorn."""

from __future__ import annotations

import click

from policywatch.cli.common import open_engine


@click.command("web", epilog="Example: policywatch web --host 0.0.0.0 --port 8000 --workers 4")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help=(
        "Worker processes; the connections are dealt to them in turn (they share the subscribe rate limit)."
    ),
)
def command(host: str, port: int, workers: int) -> None:
    """Serve the web UI and JSON API (refuses a database schema that is behind)."""
    from policywatch.webserver import free_port, serve

    open_engine().dispose()  # refuse, with one line, a database that is unreachable or behind
    try:
        port = free_port(host, port)
        click.echo(f"policywatch web on http://{host}:{port}/ (API schema at /openapi.json)")
        status = serve(host, port, workers)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    raise SystemExit(status)
