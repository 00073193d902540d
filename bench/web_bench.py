"""Web benchmark: 100,000 versions across 200 documents in PostgreSQL, 20 concurrent clients on loopback.

    python bench/web_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/policywatch_bench

builds the history (unless ``--reuse``: the database keeps it between runs), starts ``policywatch web``
on a free loopback port, and sends bounded request loops for four pages: a document page, a diff
page, the change list and a search. It prints p50/p95/p99 and throughput per page; docs/web.md keeps
the measured figures. Texts are synthetic (about 4 KB, 20 paragraphs; words drawn with Zipf's law
from real policy words and made-up ones, so search terms range from ubiquitous to rare); every
version rewrites one paragraph of its parent, as a crawl would record it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import io
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from store.chain import chain_hash  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.versions import timestamp  # noqa: E402
from tests.web.serving import free_port, wait_until_healthy  # noqa: E402

PLATFORMS, DOCUMENTS_PER_PLATFORM, VERSIONS_PER_DOCUMENT = 10, 20, 500
PARAGRAPHS, WORDS_PER_SENTENCE, VOCABULARY = 20, 14, 6000
COMMON = (
    "service data content users account government agencies law enforcement requests military weapons "
    "training models opt out retention delete days months privacy third parties share sell affiliates "
    "children minors age verification arbitration disputes jurisdiction warranty liability indemnify "
    "terminate suspend access security breach notify encryption storage transfer countries safeguards "
    "advertising marketing cookies analytics consent withdraw rights access correct erase portability "
    "employees contractors subprocessors audit compliance export sanctions prohibited uses harassment "
    "fraud spam malware surveillance biometric facial recognition profiling elections political "
    "medical legal financial advice automated decisions human review outputs accuracy feedback"
).split()
TOPICS = [
    "government",
    "military",
    "training_data",
    "data_retention",
    "data_sharing",
    "children",
    "arbitration",
]
SYLLABLES = [consonant + vowel for consonant in "bdklmnrst" for vowel in "aeiou"]
SIGNIFICANCE = ["cosmetic"] * 6 + ["minor"] * 3 + ["substantive"]
START = datetime(2016, 1, 1, tzinfo=UTC)


def vocabulary() -> list[str]:
    """Real policy words first (the most frequent), then made-up words: ranked for a Zipf draw."""
    rng = random.Random(3)
    made_up = {
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(3, 5))) for _ in range(VOCABULARY * 2)
    }
    return list(COMMON) + sorted(made_up)[: VOCABULARY - len(COMMON)]


WORDS = vocabulary()
ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, len(WORDS) + 1)))


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, cum_weights=ZIPF, k=WORDS_PER_SENTENCE)
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(2))


def build(url: str) -> None:
    """Create the schema and load 200 documents of 500 versions each, with a change per later version."""
    upgrade(url)
    rng = random.Random(7)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        # as the migrations define them: dropped for the load, then built again
        search_indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'version' AND indexdef LIKE '% USING gin %'"
        ).fetchall()
        for name, _ in search_indexes:
            connection.execute(f'DROP INDEX "{name}"')
        with connection.cursor() as cursor:
            _catalog(cursor)
            _history(cursor, rng)
        connection.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in search_indexes:
            connection.execute(definition)
        for table in ("version", "change", "source", "document", "platform"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        connection.execute("VACUUM ANALYZE")


def _catalog(cursor) -> None:
    now = START
    for p in range(1, PLATFORMS + 1):
        cursor.execute(
            "INSERT INTO platform (id, slug, name, created_at) VALUES (%s, %s, %s, %s)",
            (p, f"platform-{p:02d}", f"Platform {p:02d}", now),
        )
        for d in range(DOCUMENTS_PER_PLATFORM):
            doc = (p - 1) * DOCUMENTS_PER_PLATFORM + d + 1
            terms = [
                "Terms of Service",
                "Privacy Policy",
                "Acceptable Use Policy",
                "Data Processing Agreement",
            ][d % 4]
            cursor.execute(
                "INSERT INTO document "
                "(id, platform_id, slug, title, terms_type, active, ignore, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, true, '[]', %s, %s)",
                (doc, p, f"platform-{p:02d}-doc-{d:02d}", f"{terms} {d:02d}", terms, now, now),
            )
            cursor.execute(
                'INSERT INTO source (id, document_id, position, url, "select", remove, fetcher, robots, '
                "active, consecutive_failures) VALUES (%s, %s, 0, %s, '[]', '[]', 'http', true, true, 0)",
                (doc, doc, f"https://platform-{p:02d}.test/doc-{d:02d}"),
            )


def _history(cursor, rng: random.Random) -> None:
    versions, changes = io.StringIO(), io.StringIO()
    version_id = change_id = 0
    for doc in range(1, PLATFORMS * DOCUMENTS_PER_PLATFORM + 1):
        platform, position = divmod(doc - 1, DOCUMENTS_PER_PLATFORM)
        slug = f"platform-{platform + 1:02d}-doc-{position:02d}"
        paragraphs = [f"# Section {i + 1}\n\n{paragraph(rng)}" for i in range(PARAGRAPHS)]
        parent_hash, parent_id, moment = None, None, START + timedelta(hours=rng.randrange(0, 200))
        for seq in range(1, VERSIONS_PER_DOCUMENT + 1):
            if seq > 1:
                i = rng.randrange(PARAGRAPHS)
                before = paragraphs[i]
                paragraphs[i] = f"# Section {i + 1}\n\n{paragraph(rng)}"
            body = "\n\n".join(paragraphs)
            digest = hashlib.sha256(body.encode()).hexdigest()
            version_id += 1
            chained = chain_hash(parent_hash, slug, seq, timestamp(moment), digest, [])
            versions.write(
                "\t".join(
                    [
                        str(version_id),
                        str(doc),
                        str(seq),
                        str(parent_id) if parent_id else "\\N",
                        _copy(body),
                        digest,
                        chained,
                        moment.isoformat(),
                    ]
                )
                + "\n"
            )
            if seq > 1:
                change_id += 1
                significance = rng.choice(SIGNIFICANCE)
                topics = rng.sample(TOPICS, rng.randrange(0, 3)) if significance != "cosmetic" else []
                details = {
                    "sections": [
                        {
                            "heading": f"Section {i + 1}",
                            "path": [f"Section {i + 1}"],
                            "status": "modified",
                            "old_heading": None,
                            "added": [paragraphs[i].split("\n\n", 1)[1]],
                            "removed": [before.split("\n\n", 1)[1]],
                            "changed": [],
                        }
                    ],
                    "counts": {"modified": 1},
                    "topics": [],
                    "regulations": [],
                    "flapping": False,
                }
                changes.write(
                    "\t".join(
                        [
                            str(change_id),
                            str(doc),
                            str(parent_id),
                            str(version_id),
                            moment.isoformat(),
                            significance,
                            json.dumps([f"{significance} edit"]),
                            json.dumps(topics),
                            _copy(f"Section {i + 1} reworded."),
                            _copy(json.dumps(details)),
                        ]
                    )
                    + "\n"
                )
            parent_hash, parent_id = chained, version_id
            moment += timedelta(hours=rng.randrange(6, 340))
    with cursor.copy(
        "COPY version (id, document_id, seq, parent_id, text, text_sha256, chain_hash, created_at) FROM STDIN"
    ) as copy:
        copy.write(versions.getvalue())
    with cursor.copy(
        "COPY change (id, document_id, from_version_id, to_version_id, detected_at, significance, reasons, "
        "topics, summary, details) FROM STDIN"
    ) as copy:
        copy.write(changes.getvalue())


def _copy(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def request_paths(rng: random.Random) -> dict[str, callable]:
    """For each measured page, a function giving the next path to request."""

    def slug() -> str:
        return (
            f"platform-{rng.randrange(1, PLATFORMS + 1):02d}-doc-{rng.randrange(DOCUMENTS_PER_PLATFORM):02d}"
        )

    def diff() -> str:
        to = rng.randrange(2, VERSIONS_PER_DOCUMENT + 1)
        return f"/documents/{slug()}/diff?from={rng.randrange(max(1, to - 20), to)}&to={to}"

    def changes() -> str:
        filters = [
            "",
            f"platform=platform-{rng.randrange(1, PLATFORMS + 1):02d}",
            "min_significance=substantive",
            f"document={slug()}",
            f"offset={rng.randrange(0, 2000)}",
        ]
        return "/changes?" + rng.choice(filters)

    def search() -> str:
        terms = [
            WORDS[1],
            f"{WORDS[20]} {WORDS[40]}",
            WORDS[300],
            WORDS[1500],
            WORDS[4000],
            f'"{WORDS[0]} {WORDS[2]}"',
        ]
        filters = [
            "",
            f"&platform=platform-{rng.randrange(1, PLATFORMS + 1):02d}",
            "&terms_type=Privacy+Policy",
        ]
        return f"/search?q={rng.choice(terms)}{rng.choice(filters)}"

    return {
        "document page": lambda: f"/documents/{slug()}",
        "diff page": diff,
        "change list": changes,
        "search": search,
    }


async def measure(base: str, next_path, clients: int, per_client: int) -> tuple[list[float], float]:
    """Latencies (ms) of ``clients`` concurrent loops of ``per_client`` requests, and the wall time (s).

    Each client is one kept-alive connection speaking plain HTTP/1.1 over asyncio streams: the
    load generator shares the machine's two cores with the server, and a full HTTP client library
    (httpx took about 2.5 ms of CPU per request, more than a cached page costs the server) would
    measure mostly itself."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    latencies: list[float] = []

    async def loop() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in range(per_client):
                path = quote(next_path(), safe="/?&=+%")
                started = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
                status, length = await _response_head(reader)
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"GET {path}: HTTP {status}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def _response_head(reader: asyncio.StreamReader) -> tuple[int, int]:
    """The status and Content-Length of the next response on ``reader`` (its head consumed)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    length = next((value for name, value in fields.items() if name.lower() == "content-length"), None)
    if length is None:
        raise RuntimeError(f"response without Content-Length: {head[0]}")
    return int(head[0].split()[1]), int(length)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its worker processes so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(int(value) for value in fields[11:13]) / os.sysconf("SC_CLK_TCK") + sum(
        cpu_seconds(int(child)) for child in children
    )


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL URL of a database for the benchmark"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the history already loaded (upgrading its schema)"
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="requests per client per page")
    parser.add_argument("--workers", type=int, default=1, help="policywatch web worker processes")
    args = parser.parse_args()
    if not args.reuse:
        url = make_url(args.database_url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        started = time.perf_counter()
        build(args.database_url)
        versions = PLATFORMS * DOCUMENTS_PER_PLATFORM * VERSIONS_PER_DOCUMENT
        print(f"built {versions} versions in {time.perf_counter() - started:.0f} s")
    else:
        upgrade(args.database_url)  # a history kept from an older schema gets the newer revisions
    port = free_port()
    env = {
        **os.environ,
        "POLICYWATCH_DATABASE_URL": args.database_url,
        "POLICYWATCH_DATA_DIR": "/tmp/policywatch-web-bench",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "web", "--port", str(port), "--workers", str(args.workers)],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base)  # AssertionError when it never answers, rather than measuring failures
        gc.collect()
        gc.freeze()  # the load generator's own full collections would count as the server's latency
        rng = random.Random(11)
        print(
            f"{args.clients} concurrent clients x {args.requests} requests per page, "
            f"{args.workers} workers, loopback"
        )
        print(
            f"{'page':<14} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7} "
            f"{'server CPU ms/req':>18} {'client':>7}"
        )
        for name, next_path in request_paths(rng).items():
            asyncio.run(measure(base, next_path, args.clients, 3))  # warm up
            server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
            latencies, wall = asyncio.run(measure(base, next_path, args.clients, args.requests))
            server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
            print(
                f"{name:<14} {percentile(latencies, 50):8.1f} {percentile(latencies, 95):8.1f} "
                f"{percentile(latencies, 99):8.1f} {max(latencies):8.1f} {len(latencies) / wall:7.0f} "
                f"{1000 * server_cpu / len(latencies):18.2f} {1000 * client_cpu / len(latencies):7.2f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
