"""The runtime: the settings and the database engine of one process, made once by an entry point
(CLI group, scheduler, demo, web server) and handed to every use case."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from policywatch.settings import Settings
from store.db import check_schema, make_engine


@dataclass
class Runtime:
    """What use cases need: the settings in force and one engine on their database."""

    settings: Settings
    engine: Engine

    @classmethod
    def from_settings(cls, settings: Settings, check: bool = True) -> Runtime:
        """The runtime on ``settings``' database; with ``check``, StoreError when its schema is behind."""
        engine = make_engine(settings.database)
        if check:
            try:
                check_schema(engine)
            except Exception:
                engine.dispose()
                raise
        return cls(settings, engine)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
