"""Sources pointing inside the network are refused: when the sources file is loaded, and at every
hop of a fetch; nothing from a refused address is requested or stored. The tests allow 127.0.0.1
alone (tests/conftest.py), so 127.0.0.2 stands for an internal address."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from store.db import transaction
from store.models import Snapshot
from tests.crawler.conftest import Page, document, sources_yaml

POLICY = "<h1>Usage Policy</h1><p>You may not use our services to deceive people or to spy on them.</p>"
SECRET = "<h1>Instance metadata</h1><p>iam/security-credentials/admin: AKIAEXAMPLESECRET</p>"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://127.0.0.2:8080/", "127.0.0.2 is loopback"),
        ("http://[::1]/terms", "::1 is loopback"),
        ("http://10.1.2.3/terms", "10.1.2.3 is private"),
        ("http://[fd00::1]/terms", "fd00::1 is private"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is link-local"),
        ("http://2852039166/latest/", "2852039166 resolves to 169.254.169.254, link-local"),
    ],
)
def test_a_sources_file_pointing_inside_the_network_is_refused_naming_source_and_url(
    cli, tmp_path, site, url, reason
):
    path = tmp_path / "sources.yaml"
    path.write_text(
        sources_yaml(document("acme-aup", f"{site.url}/aup"), document("acme-meta", url, "select: [main]"))
    )

    result = cli("sources", "load", str(path), ok=False)

    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert f"document acme-meta: source {url} is refused: {reason}" in line
    assert "POLICYWATCH_ALLOWED_NETWORKS" in line
    assert "acme-aup" not in line
    assert "acme-aup" not in cli("sources", "list").output  # nothing of the file was loaded


def test_a_name_resolving_inside_the_network_is_refused(cli, tmp_path, monkeypatch):
    from crawler.sources import addresses

    names = {"metadata.acme.test": ["93.184.215.14", "169.254.169.254"], "www.acme.test": ["93.184.215.14"]}
    monkeypatch.setattr(addresses, "resolve", lambda host: names[host])
    path = tmp_path / "sources.yaml"
    path.write_text(
        sources_yaml(
            document("acme-aup", "https://www.acme.test/aup"),
            document("acme-meta", "http://metadata.acme.test/latest/"),
        )
    )

    result = cli("sources", "load", str(path), ok=False)

    assert result.output.strip().endswith(
        "document acme-meta: source http://metadata.acme.test/latest/ is refused: metadata.acme.test "
        "resolves to 169.254.169.254, link-local, not in POLICYWATCH_ALLOWED_NETWORKS"
    )
    assert "acme-aup" not in result.output


def test_an_allowed_network_may_be_fetched(cli, tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(sources_yaml(document("acme-intranet", "http://10.1.2.3/terms")))

    cli("sources", "load", str(path), env={"POLICYWATCH_ALLOWED_NETWORKS": "10.0.0.0/8"})

    assert "acme-intranet" in cli("sources", "list").output


@pytest.mark.slow
def test_a_redirect_into_the_network_is_refused_and_nothing_of_it_is_stored(
    site, internal_site, load, crawl, db, migrated_url
):
    internal_site.html("/latest/meta-data/", SECRET)
    site.pages["/aup"] = Page(b"", 302, headers={"Location": f"{internal_site.url}/latest/meta-data/"})
    site.pages["/hop"] = Page(b"", 301, headers={"Location": f"{site.url}/aup"})
    site.html("/tos", POLICY)
    load(sources_yaml(document("acme-aup", f"{site.url}/hop"), document("acme-tos", f"{site.url}/tos")))

    result = crawl()

    (event,) = db.events("acme-aup")
    assert event.outcome == "error" and event.failure_kind == "refused_address"
    assert event.reason == (
        f"refused {internal_site.url}/latest/meta-data/: "
        "127.0.0.2 is loopback, not in POLICYWATCH_ALLOWED_NETWORKS"
    )
    assert event.redirects == [f"{site.url}/hop", f"{site.url}/aup"]
    assert event.snapshot_id is None and event.bytes == 0
    assert internal_site.requests == []  # the internal address was never asked
    assert db.versions("acme-aup") == [] and len(db.versions("acme-tos")) == 1  # the others are fetched
    assert "refused" in result.stdout and result.stderr == ""
    with transaction(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 1  # acme-tos's page alone


@pytest.mark.slow
def test_a_source_loaded_while_its_network_was_allowed_is_refused_once_it_is_not(
    internal_site, cli, tmp_path, crawl, db
):
    internal_site.html("/aup", POLICY)
    path = tmp_path / "sources.yaml"
    path.write_text(sources_yaml(document("acme-aup", f"{internal_site.url}/aup")))
    cli("sources", "load", str(path), env={"POLICYWATCH_ALLOWED_NETWORKS": "127.0.0.0/8"})

    crawl()

    (event,) = db.events("acme-aup")
    assert event.failure_kind == "refused_address" and "127.0.0.2 is loopback" in event.reason
    assert internal_site.requests == [] and db.versions("acme-aup") == []


def test_a_response_from_a_refused_server_address_is_dropped():
    """A name that passed the check but connected elsewhere (DNS rebinding): its answer never
    reaches the spider."""
    import ipaddress

    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.fetch.middlewares import InternalAddressMiddleware, RefusedAddress
    from crawler.sources.addresses import AddressPolicy

    middleware = InternalAddressMiddleware(AddressPolicy([ipaddress.ip_network("127.0.0.1/32")]))
    url = "http://policies.acme.test/aup"

    def answer(address: str) -> HtmlResponse:
        return HtmlResponse(url, body=SECRET.encode(), ip_address=ipaddress.ip_address(address))

    assert middleware.process_response(Request(url), answer("127.0.0.1")).status == 200
    with pytest.raises(RefusedAddress) as refused:
        middleware.process_response(Request(url), answer("127.0.0.2"))
    assert refused.value.failure.detail == (
        f"refused {url}: the server's address 127.0.0.2 is loopback, not in POLICYWATCH_ALLOWED_NETWORKS"
    )
