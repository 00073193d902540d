"""Fan-out benchmark: one substantive change alerted to N confirmed subscribers through the real
sendgrid client against the fake SendGrid server (a separate process on 127.0.0.1).

    .venv/bin/python bench/alerts_fanout.py [--subscribers 10000] [--database-url URL]

Measures queueing (the outbox transaction) and sending (claim, compose, sign links, Mail Send
requests, mark sent) and prints emails/s and the peak resident memory of this process. Figures
measured on the project machine are in bench/alerts.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL: the benchmark creates its own database "
        "there and drops it afterwards (default: a fresh SQLite file)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pw-fanout-"))
    port = _free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests/alerts/fake_sendgrid.py"), str(port)])
    database = _create_database(args.database_url) if args.database_url else None
    try:
        _configure(folder, port, database)
        _wait_for(port)
        result = _run(args.subscribers)
    finally:
        server.terminate()
        server.wait()
        if database:
            _drop_database(args.database_url, database)
    print(json.dumps(result, indent=2))


def _configure(folder: Path, port: int, database_url: str | None) -> None:
    from tests.alerts.fake_sendgrid import API_KEY

    os.environ.update(
        {
            "POLICYWATCH_DATA_DIR": str(folder),
            "POLICYWATCH_EMAIL_BACKEND": "sendgrid",
            "POLICYWATCH_SENDGRID_API_KEY": API_KEY,
            "POLICYWATCH_SENDGRID_API_HOST": f"http://127.0.0.1:{port}",
        }
    )
    if database_url:
        os.environ["POLICYWATCH_DATABASE_URL"] = database_url


def _run(count: int) -> dict:
    from sqlalchemy import func, insert, select

    from alerts.delivery.outbox import queue_alerts
    from alerts.delivery.sender import Sender
    from policywatch.settings import get_settings
    from store.db import make_engine, transaction
    from store.migrate import upgrade
    from store.models import Delivery, Document, Subscriber, Subscription
    from tests.alerts.builders import change, document

    settings = get_settings()
    upgrade(settings.database)
    engine = make_engine(settings.database)
    with transaction(engine) as session:
        platform_id = document(session, "openai", platform_name="OpenAI").platform_id
        session.execute(
            insert(Subscriber),
            [
                {"email": f"reader{i}@example.com", "tier": "watcher", "status": "confirmed"}
                for i in range(count)
            ],
        )
        ids = session.scalars(select(Subscriber.id)).all()
        session.execute(insert(Subscription), [{"subscriber_id": i, "platform_id": platform_id} for i in ids])
    with transaction(engine) as session:
        change(session, session.scalars(select(Document)).one())
    rss_before = _rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    with transaction(engine) as session:
        queue_alerts(session)
    queued = time.perf_counter()
    report = Sender(engine, settings).run()
    finished = time.perf_counter()
    cpu = time.process_time() - cpu
    with transaction(engine) as session:
        sent_rows = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "sent")
        )
    stats = json.load(urllib.request.urlopen(f"{settings.sendgrid_api_host}/_stats"))
    engine.dispose()
    return {
        "database": engine.dialect.name,
        "subscribers": count,
        "emails_sent": report.sent,
        "rows_sent": sent_rows,
        "provider_requests": report.requests,
        "provider_personalizations": stats["personalizations"],
        "queue_seconds": round(queued - started, 3),
        "send_seconds": round(finished - queued, 3),
        "emails_per_second": round(report.sent / (finished - started)),
        "cpu_seconds_this_process": round(cpu, 3),
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_mb": round(rss_before, 1),
    }


def _create_database(server_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pw_fanout_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url: str, database_url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
    admin.dispose()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"fake SendGrid server did not start on 127.0.0.1:{port}")


if __name__ == "__main__":
    main()
