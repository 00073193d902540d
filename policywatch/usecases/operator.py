"""The web operator page's actions: start a crawl of one document in a child process (Twisted's
reactor cannot restart inside the web process), load a posted sources file in process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from crawler.sources.declarations import DeclarationError
from policywatch.runtime import Runtime
from policywatch.usecases.sources import load_sources

POLICYWATCH = (sys.executable, "-m", "policywatch")


class OperatorActions:
    """What the operator routes do, on one runtime (injected into ``web.app.create_app``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def start_crawl(self, document: str) -> tuple[subprocess.Popen, list[str]]:
        """Start ``policywatch crawl --source DOCUMENT`` in the background; the process and the
        command as an operator would type it."""
        args = ["crawl", "--source", document]
        process = subprocess.Popen(
            [*POLICYWATCH, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return process, ["policywatch", *args]

    def load_sources(self, text: str) -> tuple[int, str]:
        """Load a sources file's ``text`` as ``policywatch sources load`` does; its exit status and
        output."""
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            try:
                report = load_sources(self.runtime, Path(handle.name))
            except DeclarationError as exc:
                return 1, f"Error: {exc}\n"
        return 0, f"{handle.name}: {report.line()}\n"
