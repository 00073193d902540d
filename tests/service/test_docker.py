"""The container setup: compose services wired as documented, every variable explained in .env.example.
No Docker engine is needed: the files are parsed (and `docker compose config` runs when available)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from policywatch.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
REQUIRED = (
    "DATABASE_URL",
    "EMAIL_BACKEND",
    "SENDGRID_API_KEY",
    "EMAIL_FROM",
    "SECRET_KEY",
    "BASE_URL",
    "OPERATOR_TOKEN",
)


def example_variables() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_postgres_16_keeps_its_data_in_a_volume_and_reports_health():
    db = SERVICES["db"]
    assert db["image"] == "postgres:16"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert {volume.split(":")[0] for volume in db["volumes"]} <= set(COMPOSE["volumes"])


def test_migrations_run_once_before_serve_and_web_start():
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("serve", "web"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["serve"]["command"] == ["serve"]
    assert SERVICES["web"]["command"][0] == "web" and "/healthz" in " ".join(
        SERVICES["web"]["healthcheck"]["test"]
    )


def test_a_stopping_scheduler_gets_more_time_than_it_gives_its_crawl():
    grace = int(SERVICES["serve"]["stop_grace_period"].rstrip("s"))
    assert grace > Settings().shutdown_grace_seconds + 10


def test_every_policywatch_service_is_configured_through_the_documented_variables():
    for name in ("migrate", "serve", "web"):
        environment = SERVICES[name]["environment"]
        assert {f"{PREFIX}{variable}" for variable in REQUIRED} <= set(environment), name
        assert SERVICES[name]["env_file"] == ".env"
    referenced = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    assert referenced <= set(example_variables())


def test_env_example_names_only_real_settings_and_asks_for_sendgrid():
    variables = example_variables()
    fields = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert {name for name in variables if name.startswith(PREFIX)} <= fields
    assert variables[f"{PREFIX}EMAIL_BACKEND"] == "sendgrid"


def test_the_image_runs_as_a_non_root_user_and_holds_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"][
        "include"
    ]
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, re.M))
    assert {package.rstrip("*") for package in packages} <= copied


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="the docker compose plugin is not installed",
)
def test_docker_compose_config_validates(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    subprocess.run(["docker", "compose", "config", "--quiet"], cwd=tmp_path, check=True)
