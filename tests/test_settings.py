"""Settings: documented defaults, one clear line for a bad value, and a README that lists them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policywatch.settings import PREFIX, Settings, SettingsError, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_put_everything_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.database == f"sqlite:///{tmp_path.resolve() / 'policywatch.db'}"
    assert settings.outbox == tmp_path / "outbox"
    assert settings.email_backend == "file"


@pytest.mark.slow
def test_a_bad_value_is_refused_with_one_line_naming_the_variable(tmp_path):
    env = {"POLICYWATCH_CRAWL_DELAY": "soon", "POLICYWATCH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "policywatch", "db", "current"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "POLICYWATCH_CRAWL_DELAY" in result.stderr


def test_the_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path))
    first = load_settings().signing_key()
    assert len(first) > 40 and load_settings().signing_key() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_the_export_key_is_generated_once_kept_private_and_a_bad_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path))
    assert load_settings().existing_export_signing_key() is None
    first = load_settings().export_signing_key()
    assert len(first) == 32 and load_settings().export_signing_key() == first
    assert (tmp_path / "export.key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("POLICYWATCH_EXPORT_KEY", "not-a-key")
    with pytest.raises(SettingsError, match="POLICYWATCH_EXPORT_KEY: not an Ed25519 private key"):
        load_settings().export_signing_key()


def test_the_readme_documents_every_setting():
    table = README.read_text(encoding="utf-8")
    missing = [
        f"{PREFIX}{name.upper()}"
        for name in Settings.model_fields
        if f"`{PREFIX}{name.upper()}`" not in table
    ]
    assert missing == []


@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["db", "current"], ["crawl", "--all"], ["sources", "list"]]
)
def test_an_unusable_data_folder_is_refused_in_one_line(tmp_path, monkeypatch, command):
    from click.testing import CliRunner

    from policywatch.cli import cli

    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path / "not-a-folder"))

    result = CliRunner().invoke(cli, command)

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot use {tmp_path / 'not-a-folder'} as the database's folder: File exists "
        "(set POLICYWATCH_DATA_DIR or POLICYWATCH_DATABASE_URL to a folder policywatch may write)"
    ]


def test_a_data_folder_that_cannot_keep_the_secret_key_is_a_setting_error(tmp_path, monkeypatch):
    from policywatch.settings import SettingsError

    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("POLICYWATCH_DATA_DIR", str(tmp_path / "not-a-folder"))

    with pytest.raises(SettingsError, match="^POLICYWATCH_DATA_DIR: cannot keep the secret key in "):
        load_settings().signing_key()


def test_a_crawl_time_is_read_in_utc_and_one_without_a_zone_is_refused(monkeypatch):
    monkeypatch.setenv("POLICYWATCH_CRAWL_AS_OF", "2026-05-18T12:36:16+02:00")
    assert load_settings().crawl_time().isoformat() == "2026-05-18T10:36:16+00:00"
    monkeypatch.setenv("POLICYWATCH_CRAWL_AS_OF", "2026-05-18T10:36:16")
    with pytest.raises(
        SettingsError, match="^POLICYWATCH_CRAWL_AS_OF: .* 2026-05-18T10:36:16 has no time zone"
    ):
        load_settings()
