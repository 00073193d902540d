"""Settings from environment variables (prefix ``POLICYWATCH_``), with documented defaults.

This module is the one leaf every layer may import. ``get_settings()`` returns the cached
settings; ``SettingsError`` carries one line naming the variable that is wrong.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "POLICYWATCH_"
#: Internal networks sources may point at unless the operator says otherwise: the loopback ranges,
#: where a developer's or a test's local servers listen. Production sets none.
ALLOWED_NETWORKS = "127.0.0.0/8,::1/128"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    announcement_schedule: str = Field(
        "6h", description="How often a newsroom listing is read unless it says otherwise."
    )
    announcement_pages: int = Field(
        3, ge=1, description="Pages of a newsroom listing read per crawl (its next-page links followed)."
    )
    announcement_budget: int = Field(
        20, ge=1, description="New posts of one newsroom fetched per crawl, newest first; the rest wait."
    )
    crawl_as_of: datetime | None = Field(
        None,
        description=(
            "ISO 8601 time with a zone (2026-05-20T10:36:08Z) a crawl records its fetches, versions, "
            "changes and posts at, for replaying archived pages; unset: the current time."
        ),
    )
    broken_after: int = Field(
        3, ge=1, description="Consecutive failed fetches after which a source is broken."
    )
    allowed_networks: Annotated[tuple[Network, ...], NoDecode] = Field(
        ALLOWED_NETWORKS,  # type: ignore[assignment]  # parsed by _networks, as the variable is
        validate_default=True,
        description=(
            "Internal networks (comma-separated CIDRs) sources may point at; every other loopback, "
            "private, link-local or otherwise non-public address is refused. Empty: none (production)."
        ),
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
    export_key: str | None = Field(
        None,
        description="Ed25519 private key (base64 of its 32 bytes) that signs audit exports; "
        "default: a key kept in the data folder.",
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
    trusted_proxies: str = Field(
        "",
        description=(
            "Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed; unset: none, the connecting address is the client."
        ),
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
    worker_stalled_seconds: float = Field(
        30.0,
        ge=3,
        description=(
            "Seconds without a heartbeat after which a worker counts as dead and its running jobs are "
            "retried by another worker (workers beat every third of it)."
        ),
    )
    job_attempts: int = Field(
        5, ge=1, description="PostgreSQL: attempts at a queued job before it is left failed with its reason."
    )
    job_retry_seconds: float = Field(
        5.0,
        gt=0,
        description="PostgreSQL: seconds before a failed job's first retry; each next waits 5× longer.",
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
    note_url: str | None = Field(
        None,
        description=(
            "OpenAI-compatible chat-completions endpoint (…/v1/chat/completions) asked for a "
            "machine-written note on each provision's clauses; unset: no notes."
        ),
    )
    note_model: str | None = Field(
        None, validate_default=True, description="Model named in note requests (required with a note URL)."
    )
    note_api_key_env: str = Field(
        "OPENAI_API_KEY",
        description="Environment variable holding the note provider's API key, sent as a Bearer token.",
    )
    note_timeout: float = Field(20.0, gt=0, description="Seconds before a note request times out.")
    notes_per_crawl: int = Field(
        20, ge=0, description="Most notes asked after one crawl (the rest after the next, or by command)."
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
    email_retry_base: float = Field(
        2.0, gt=0, description="Seconds of the first retry delay; doubles per attempt."
    )
    email_retry_max_delay: float = Field(
        10800.0, gt=0, description="Longest delay between two attempts at one email (the backoff's cap)."
    )
    email_max_age_hours: float = Field(
        72.0,
        gt=0,
        description="Hours an email is retried through provider errors before it is recorded as failed.",
    )
    email_unconfirmed_retries: int = Field(
        1,
        ge=0,
        description=(
            "Times an email is sent again after a request whose answer was lost (timeout, cut answer), "
            "which the provider may have accepted; then it is recorded as unconfirmed."
        ),
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

    @field_validator("allowed_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ipaddress.ip_network(cidr.strip()) for cidr in value.split(",") if cidr.strip())
        return value

    @field_validator("crawl_as_of")
    @classmethod
    def _as_of(cls, value: datetime | None) -> datetime | None:
        return zoned(value) if value is not None else None

    @field_validator("base_url", "sendgrid_api_host")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("note_url")
    @classmethod
    def _note_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("not an http:// or https:// URL")
        return value or None

    @field_validator("note_model")
    @classmethod
    def _note_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("note_url") and not value:
            raise ValueError(f"required with {PREFIX}NOTE_URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for proxy in _listed(value):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    def crawl_time(self) -> datetime:
        """The time a crawl stamps on what it observes: ``crawl_as_of`` when set, else now (UTC)."""
        return self.crawl_as_of or datetime.now(UTC)

    @property
    def proxies(self) -> list[str]:
        """The trusted proxies' addresses and networks."""
        return _listed(self.trusted_proxies)

    @property
    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'policywatch.db').resolve()}"

    @property
    def outbox(self) -> Path:
        """The folder the file email backend writes to."""
        return self.outbox_dir or self.data_dir / "outbox"

    def signing_key(self) -> str:
        """The secret that signs email links: the setting, else a key kept in the data folder;
        SettingsError when that folder cannot keep it."""
        if self.secret_key:
            return self.secret_key
        return _kept(
            self.data_dir / "secret.key", lambda: secrets.token_urlsafe(48), "the secret key", "SECRET_KEY"
        )

    def export_signing_key(self) -> bytes:
        """The 32-byte Ed25519 private key that signs audit exports: the setting, else a key kept in
        the data folder, made on first use."""
        if self.export_key:
            return _export_key_bytes(self.export_key, f"{PREFIX}EXPORT_KEY")
        path = self.data_dir / "export.key"
        made = _kept(
            path, lambda: base64.b64encode(secrets.token_bytes(32)).decode(), "the export key", "EXPORT_KEY"
        )
        return _export_key_bytes(made, str(path))

    def existing_export_signing_key(self) -> bytes | None:
        """The export signing key of the setting or the data folder, None when there is none yet."""
        if self.export_key:
            return _export_key_bytes(self.export_key, f"{PREFIX}EXPORT_KEY")
        path = self.data_dir / "export.key"
        return _export_key_bytes(path.read_text().strip(), str(path)) if path.exists() else None


def zoned(moment: datetime) -> datetime:
    """``moment`` in UTC; ValueError when it names no time zone (its instant would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone (write it as 2026-05-20T10:36:08Z)")
    return moment.astimezone(UTC)


def _kept(path: Path, make: Callable[[], str], what: str, setting: str) -> str:
    """The secret kept in ``path``, written owner-only by ``make`` on first use; SettingsError
    naming ``what`` and the ``setting`` that replaces it when the folder cannot keep it."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()
    except OSError as exc:
        raise SettingsError(
            f"{PREFIX}DATA_DIR: cannot keep {what} in {path}: {exc.strerror} "
            f"(set {PREFIX}{setting}, or a data folder policywatch may write)"
        ) from None


def _export_key_bytes(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SettingsError(f"{origin}: not an Ed25519 private key (base64 of 32 bytes)")
    return key


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


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
