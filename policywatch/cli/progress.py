"""Progress of long commands: a rich bar on a terminal (stderr), else a plain line on stdout per
tenth of the work, before the command's report (logs keep both)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

#: Plain progress lines are written when another tenth of the work is done.
STEPS = 10


@contextlib.contextmanager
def progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A function to call with (done, total) as ``what`` advances."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(what, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    shown = [0]

    def line(done: int, total: int) -> None:
        step = done * STEPS // total if total else STEPS
        if step > shown[0] or done == total:
            shown[0] = step
            click.echo(f"{what}: {done}/{total}")

    yield line
