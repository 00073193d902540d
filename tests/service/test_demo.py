"""`policywatch demo` end to end: real changes of the bundled replay found and alerted, noise not;
the sample newsroom's new post discovered, alerted and shown beside the policy change."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from policywatch.demo.bundle import Replay
from policywatch.settings import get_settings
from store.db import make_engine, transaction
from store.models import Change, Delivery, Document
from tests.web.serving import free_port, wait_until_healthy
from web.app import create_app

pytestmark = pytest.mark.slow  # the demo runs in a child process


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run in a subprocess, with a configured database it must leave alone."""
    root = tmp_path_factory.mktemp("demo")
    env = {name: value for name, value in os.environ.items() if not name.startswith("POLICYWATCH_")}
    env["POLICYWATCH_DATABASE_URL"] = f"sqlite:///{root / 'configured.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "policywatch", "demo", "--dir", str(root / "run")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((root / "run" / "demo.json").read_text())
    engine = make_engine(f"sqlite:///{root / 'run' / 'data' / 'policywatch.db'}")
    with transaction(engine) as session:
        changes = {
            c.id: (slug, c.significance)
            for c, slug in session.execute(
                select(Change, Document.slug).join(Document, Document.id == Change.document_id)
            )
        }
        alerted = set(
            session.scalars(
                select(Delivery.change_id).where(Delivery.kind == "alert", Delivery.status == "sent")
            )
        )
    with TestClient(create_app(get_settings(), engine)) as client:
        platform_page = client.get("/platforms/openai").text
    engine.dispose()
    yield {
        "root": root,
        "output": result.stdout,
        "report": report,
        "changes": changes,
        "alerted": alerted,
        "platform_page": platform_page,
    }


def message(path: str) -> email.message.EmailMessage:
    with open(path, "rb") as file:
        return email.message_from_bytes(file.read(), policy=email.policy.default)


def new_post(report: dict) -> tuple[dict, dict]:
    """(the crawl that discovered the sample newsroom's new post, the post)."""
    found = [(crawl, post) for crawl in report["crawls"][1:] for post in crawl["posts"]]
    assert len(found) == 1, found
    return found[0]


def crawl_of(report: dict) -> dict[int, int]:
    """change id -> the demo tick whose crawl found it."""
    return {c["id"]: crawl["tick"] for crawl in report["crawls"] for c in crawl["changes"]}


def truth_keys(replay: Replay, substantive: bool) -> set[tuple[str, int]]:
    slug = {doc.id: doc.slug for doc in replay.documents}
    events = replay.substantive() if substantive else replay.noise()
    return {(slug[e["document"]], e["tick"]) for e in events}


def test_every_bundled_real_change_is_found_as_substantive(demo):
    tick = crawl_of(demo["report"])
    found = {
        (slug, tick[id_])
        for id_, (slug, significance) in demo["changes"].items()
        if significance == "substantive"
    }
    assert truth_keys(Replay(), substantive=True) <= found


def test_alerts_go_out_for_the_real_changes_and_for_no_noise(demo):
    tick = crawl_of(demo["report"])
    alerted = {(demo["changes"][id_][0], tick[id_]) for id_ in demo["alerted"]}
    assert alerted == truth_keys(Replay(), substantive=True)
    assert not alerted & truth_keys(Replay(), substantive=False)


def test_the_outbox_holds_one_alert_email_and_a_digest_for_the_demo_subscriber(demo):
    messages = [
        email.message_from_bytes(open(m["path"], "rb").read(), policy=email.policy.default)
        for m in demo["report"]["emails"]
    ]
    kinds = sorted(m["X-Policywatch-Kind"] for m in messages)
    assert "alert" in kinds and "digest" in kinds
    alert = next(m for m in messages if m["X-Policywatch-Kind"] == "alert")
    text = alert.get_body(("plain",)).get_content()
    assert "ChatGPT for Clinicians" in text  # the real clause OpenAI added on 2026-05-18
    assert "Llama" not in alert["Subject"]  # its error pages are noise


def test_it_says_where_to_read_the_emails_and_how_to_browse(demo):
    output = " ".join(demo["output"].split())
    assert ".eml" in output and "policywatch demo --serve" in output and "policywatch web" in output
    assert "Open Terms Archive" in output
    lines = [line.strip() for line in demo["output"].splitlines()]
    (web,) = [line for line in lines if line.endswith("policywatch web")]  # one line, longer than 80
    assert web.startswith("POLICYWATCH_DATA_DIR=") and "POLICYWATCH_DATABASE_URL=sqlite:///" in web
    read = next(line for line in lines if line.startswith("less "))
    assert Path(shlex.split(read)[1]).is_file()


def test_under_serve_it_points_at_the_running_web_ui_instead_of_asking_for_serve():
    from types import SimpleNamespace

    from rich.console import Console

    from policywatch.demo.show import Show

    console = Console(file=io.StringIO(), width=60)
    outcome = SimpleNamespace(emails=[], folder="/tmp/demo", digest_week="2026-W21")
    env = {"POLICYWATCH_DATA_DIR": "/tmp/demo/data", "POLICYWATCH_DATABASE_URL": "sqlite:///x.db"}
    Show(console, serving=8123).finish(outcome, env)
    output = console.file.getvalue()
    assert "http://127.0.0.1:8123" in output and "--serve" not in output


def test_it_leaves_the_configured_database_alone(demo):
    assert not (demo["root"] / "configured.db").exists()


def test_sigterm_to_demo_serve_stops_its_web_server_too(migrated_url):
    port = free_port()
    serving = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, sys
                from policywatch.cli.demo import serve_web
                sys.exit(serve_web({port}, dict(os.environ)))
                """
            ),
        ],
        env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(base)
    serving.send_signal(signal.SIGTERM)
    serving.wait(timeout=30)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/healthz", timeout=2)


def test_the_sample_newsrooms_new_post_is_discovered_by_the_crawl_of_the_openai_change(demo):
    crawl, post = new_post(demo["report"])
    sample = Replay().newsroom.posts[-1]
    assert crawl["tick"] == sample.from_tick
    assert post["platform"] == "openai" and post["title"] == sample.title
    assert post["title"].startswith("Sample post") and post["versions"] == 1
    assert post["published"] and "data_retention" in post["topics"]
    assert {"openai-services-agreement"} <= {
        c["document"] for c in crawl["changes"] if c["significance"] == "substantive"
    }
    first_crawl = demo["report"]["crawls"][0]["posts"]
    assert [p["title"] for p in first_crawl] == [Replay().newsroom.posts[0].title]


def test_the_new_post_is_alerted_the_same_day_and_in_the_digest_and_the_back_catalogue_is_not(demo):
    _, post = new_post(demo["report"])
    emails = demo["report"]["emails"]
    announced = [message(m["path"]) for m in emails if m["kind"] == "announcement"]
    assert len(announced) == 1 and post["title"] in announced[0]["Subject"]
    text = announced[0].get_body(("plain",)).get_content()
    assert "fictional" in text  # the sample says it is one, in every email too
    digest = next(message(m["path"]) for m in emails if m["kind"] == "digest")
    digest_text = digest.get_body(("plain",)).get_content()
    assert post["title"] in digest_text
    assert Replay().newsroom.posts[0].title not in text + digest_text


def test_the_platform_page_shows_the_post_beside_the_policy_change(demo):
    from lxml import html

    _, post = new_post(demo["report"])
    (svg,) = html.fromstring(demo["platform_page"]).xpath("//figure[@class='timeline']/svg")
    marks = {g.findtext(".//text"): g for g in svg.xpath("g[@class='announcement']")}
    mark = marks[post["title"]]  # labelled by its title on the chart
    month = post["published"][:7]
    (bar,) = [g.find("rect") for g in svg.xpath("g[not(@class)]") if g.findtext("title").startswith(month)]
    assert float(mark.find("line").get("x1")) == float(bar.get("x")) + float(bar.get("width")) / 2
    assert "substantive" in bar.getparent().findtext("title")  # the month of the OpenAI changes


def test_the_summary_names_the_discovered_post_and_the_change_beside_it(demo):
    _, post = new_post(demo["report"])
    output = " ".join(demo["output"].split())
    assert "Announcements discovered: 1" in output and post["title"] in output
    assert "beside the substantive change of openai-services-agreement" in output


def test_changes_and_posts_carry_the_replayed_crawl_times_and_the_digest_is_of_the_replayed_week(demo):
    replay, report = Replay(), demo["report"]
    found = [(crawl["tick"], c) for crawl in report["crawls"] for c in crawl["changes"]]
    assert found and all(datetime.fromisoformat(c["detected_at"]) == replay.moment(t) for t, c in found)
    crawl, post = new_post(report)
    sample = replay.newsroom.posts[-1]
    assert datetime.fromisoformat(post["first_seen"]) == replay.moment(crawl["tick"])
    assert (
        post["published"]
        == (replay.moment(sample.from_tick) - timedelta(days=sample.days_old)).date().isoformat()
    )
    year, week, _ = replay.moment(-1).isocalendar()
    assert report["digest_week"] == f"{year}-W{week:02d}"
    digest = next(message(m["path"]) for m in report["emails"] if m["kind"] == "digest")
    assert f"Weekly digest {year}-W{week:02d}" in digest["Subject"]
    tick, first = found[0]
    detected = f"detected {replay.moment(tick):%Y-%m-%d %H:%M} UTC"
    assert detected in digest.get_body(("plain",)).get_content()
    output = " ".join(demo["output"].split())
    assert f"crawl {tick + 1} {replay.moment(tick):%Y-%m-%d} {first['document']}" in output
