"""Progress of long commands: a rich bar on a terminal (stderr), else a plain line on stdout per
tenth of the work, before the command's report (logs keep both). A command whose work comes in
stages (read the files, then check their hosts) shows one bar, or one run of lines, per stage."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

#: Plain progress lines are written when another tenth of the work is done.
STEPS = 10

#: Told (stage, done, total) as a command's work advances.
StageProgress = Callable[[str, int, int], None]


@contextlib.contextmanager
def progress(what: str) -> Iterator[Callable[[int, int], None]]:
    """A function to call with (done, total) as ``what`` advances."""
    with stages() as show:
        yield lambda done, total: show(what, done, total)


@contextlib.contextmanager
def stages() -> Iterator[StageProgress]:
    """A function to call with (stage, done, total) as each stage of a command advances."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress, TaskID

        with Progress(console=Console(stderr=True), transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def update(what: str, done: int, total: int) -> None:
                task = tasks.get(what)
                if task is None:
                    task = tasks[what] = bar.add_task(what, total=None)
                bar.update(task, completed=done, total=total)

            yield update
        return
    shown: dict[str, int] = {}

    def line(what: str, done: int, total: int) -> None:
        step = done * STEPS // total if total else STEPS
        if step > shown.get(what, 0) or done == total:
            shown[what] = step
            click.echo(f"{what}: {done}/{total}")

    yield line
