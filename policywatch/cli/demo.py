"""``policywatch demo``: policywatch end to end on bundled real policy pages, offline."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click


@click.command("demo", epilog="Example: policywatch demo --serve --port 8000")
@click.option(
    "--serve", is_flag=True, help="Then leave the web UI running on the demo data (Ctrl-C stops it)."
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the web UI with --serve.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to run in (default: a new temporary folder). Must be empty or absent.",
)
def command(serve: bool, port: int, folder: Path | None) -> None:
    """Run policywatch end to end on bundled real pages, offline: SQLite in a temporary folder,
    emails written as .eml files, pages served on 127.0.0.1. Touches no configured database."""
    from policywatch.demo.run import Demo, DemoError
    from policywatch.demo.show import Show

    folder = (folder or Path(tempfile.mkdtemp(prefix="policywatch-demo-"))).resolve()
    if folder.exists() and any(folder.iterdir()):
        raise click.ClickException(f"{folder} is not empty; give an empty or new folder")
    folder.mkdir(parents=True, exist_ok=True)
    demo = Demo(folder, Show(serving=port if serve else None))
    try:
        demo.run()
    except DemoError as exc:
        raise click.ClickException(f"demo stopped: {exc}") from None
    if serve:
        click.echo(f"web UI on http://127.0.0.1:{port} (Ctrl-C stops it)")
        serve_web(port, demo.env)


def serve_web(port: int, env: dict[str, str]) -> int:
    """Run ``policywatch web`` on ``port`` with ``env`` until it exits, or until this process gets
    SIGTERM or Ctrl-C, which stop the web server too; its exit status."""
    web = subprocess.Popen([sys.executable, "-m", "policywatch", "web", "--port", str(port)], env=env)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: web.terminate())
    try:
        return web.wait()
    except KeyboardInterrupt:
        web.terminate()
        return web.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
