"""Settings from environment variables (prefix ``POLICYWATCH_``), with documented defaults.

This module is the one leaf every layer may import. ``get_settings()`` returns the cached
settings; ``SettingsError`` carries one line naming the variable that is wrong.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "POLICYWATCH_"


class SettingsError(Exception):
    """An environment variable holds a value policywatch cannot use."""


class Settings(BaseSettings):
    """Every setting, its environment variable and its default (see the README's table)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for the SQLite file, outbox and secret.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in the data folder."
    )

    user_agent: str = Field(
        "policywatch/0.1 (+https://github.com/policywatch/policywatch; policy change monitor)",
        description="User-Agent sent with every request, with a contact URL.",
    )
    crawl_delay: float = Field(1.0, ge=0, description="Seconds between two requests to one host.")
    crawl_concurrency_per_host: int = Field(
        16, ge=1, description="Parallel requests to one host; with a crawl delay, one starts per delay."
    )
    crawl_concurrency: int = Field(32, ge=1, description="Parallel requests in all.")
    crawl_timeout: float = Field(30.0, gt=0, description="Seconds before a request times out.")
    crawl_retries: int = Field(3, ge=0, description="Retries of 5xx, 429 and timeouts.")
    crawl_max_bytes: int = Field(10_000_000, gt=0, description="Largest response body accepted.")
    crawl_run_timeout: float = Field(1800.0, gt=0, description="Seconds one scheduled crawl may take.")
    default_schedule: str = Field(
        "12h", description="How often a source is crawled unless it says otherwise."
    )
    broken_after: int = Field(
        3, ge=1, description="Consecutive failed fetches after which a source is broken."
    )

    email_backend: Literal["file", "sendgrid"] = Field("file", description="Where emails go.")
    email_from: str = Field("policywatch@localhost", description="Sender address.")
    outbox_dir: Path | None = Field(
        None, description="Folder of .eml files (file backend); default: data/outbox."
    )
    sendgrid_api_key: str | None = Field(None, description="SendGrid API key (sendgrid backend).")
    sendgrid_api_host: str = Field("https://api.sendgrid.com", description="SendGrid API host.")
    secret_key: str | None = Field(
        None, description="Signs email links; default: a random key kept in the data folder."
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of the web UI, used in emails.")
    operator_token: str | None = Field(
        None, description="Token for operator actions in the web UI; unset = none."
    )
    web_threads: int = Field(
        4,
        ge=1,
        le=64,
        description=(
            "API, feed, download and form requests one web worker process works on at once "
            "(analyst pages take turns, one at a time)."
        ),
    )
    web_cache_dir: Path | None = Field(
        None,
        description="Folder where web workers share rendered pages; unset: each keeps its own in memory.",
    )
    subscribe_rate_limit: int = Field(
        5, ge=1, description="Subscribe requests one client address may make per window."
    )
    subscribe_rate_window: float = Field(
        3600.0, gt=0, description="Seconds of the subscribe rate-limit window."
    )

    digest_cron: str = Field("0 8 * * mon", description="Cron (UTC) of the weekly digest.")
    alerts_interval_minutes: int = Field(5, ge=1, description="Minutes between same-day alert runs.")
    crawl_check_seconds: int = Field(
        60, ge=1, description="Seconds between two looks of `serve` for sources due."
    )
    leader_lease_seconds: int = Field(
        30, ge=3, description="Seconds a dead scheduler keeps the others on standby."
    )
    shutdown_grace_seconds: float = Field(
        25.0, ge=0, description="Seconds a stopping child gets before SIGKILL."
    )
    fetch_event_retention_days: int = Field(
        180, ge=1, description="Days fetch events are kept (each source keeps its latest)."
    )

    taxonomy_file: Path | None = Field(
        None, description="YAML file of topics that extend or override the bundled taxonomy."
    )
    provisions_file: Path | None = Field(
        None, description="YAML file of provision types that extend or override the bundled catalog."
    )
    flapping_window: int = Field(
        8, ge=1, description="Crawl runs within which content that comes back is flapping."
    )
    flapping_versions: int = Field(
        16, ge=1, description="Most earlier versions a change is checked against for flapping."
    )
    email_timeout: float = Field(
        30.0, gt=0, description="Seconds before a request to the email provider times out."
    )
    email_max_attempts: int = Field(
        8, ge=1, description="Attempts at one email before it is recorded as failed."
    )
    email_retry_base: float = Field(
        2.0, gt=0, description="Seconds of the first retry delay; doubles per attempt."
    )
    email_retry_wait: float = Field(
        120.0, ge=0, description="Longest a send run waits for a retry before leaving it to the next run."
    )
    email_lease_seconds: int = Field(
        300, ge=1, description="Seconds a sender holds the emails it claimed before others may take them."
    )
    email_batch_size: int = Field(
        1000, ge=1, le=1000, description="Recipients per provider request (SendGrid personalizations)."
    )
    email_concurrency: int = Field(4, ge=1, description="Provider requests in flight at once.")

    @field_validator("base_url", "sendgrid_api_host")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'policywatch.db').resolve()}"

    @property
    def outbox(self) -> Path:
        """The folder the file email backend writes to."""
        return self.outbox_dir or self.data_dir / "outbox"

    def signing_key(self) -> str:
        """The secret that signs email links: the setting, else a key kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings() -> Settings:
    """Read settings from the environment; raise SettingsError naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        raise SettingsError(f"{PREFIX}{field.upper()}: {error['msg']}") from None


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
