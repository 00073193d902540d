"""A page's fingerprint ignores what servers rewrite on every response, and nothing a reader sees."""

from __future__ import annotations

import pytest

from crawler.extract.extraction import select_region
from crawler.extract.fingerprint import fingerprint_applies, page_fingerprint
from tests.pdf import tiny_pdf

PAGE = """<!DOCTYPE html><html><head><title>Usage Policy</title>
<meta name="build-id" content="{build}"><link rel="preload" as="script" href="/_next/static/{build}/main.js">
<link rel="canonical" href="https://acme.test/aup?utm_source={build}">
<style nonce="{nonce}">.c-{build} {{ color: red }}</style>
<script nonce="{nonce}" src="/_next/static/{build}/app.js"></script>
</head><body><!-- served by node {build} -->
<nav class="menu">Home | Blog</nav>
<main id="policy"><h1>Usage Policy</h1><p>{clause}</p>
<SCRIPT>self.__next_f.push([1, "{build}</div>"])</SCRIPT>
<ul><li>No spam</li><li>No fraud</li></ul></main>
<footer>{footer}</footer></body></html>"""


def page(build="b1", nonce="n1", clause="You may not use the service to build weapons.", footer="Acme Inc."):
    return PAGE.format(build=build, nonce=nonce, clause=clause, footer=footer).encode()


def fingerprint(body: bytes) -> str:
    return page_fingerprint(body, "text/html; charset=utf-8")


def region(body: bytes) -> str:
    return select_region(
        body, url="https://acme.test/aup", content_type="text/html", select=["main"], remove=[]
    ).digest


def test_nonces_build_ids_tracking_parameters_and_comments_do_not_move_it():
    assert fingerprint(page()) == fingerprint(page(build="b2", nonce="n2"))


@pytest.mark.parametrize(
    "changed",
    [
        page(clause="You may not use the service to build weapons or malware."),  # the policy
        page(footer="Acme Inc., 1 Main Street"),  # visible text outside the region
        page().replace(b'<main id="policy">', b'<main id="policy" class="wide">'),  # what a selector may see
        page().replace(b"<ul>", b"<script></script><ul>"),  # an element more, even an empty one
        page().replace(
            b"<title>Usage Policy</title>", b"<title>Just a moment...</title>"
        ),  # a challenge's title
    ],
)
def test_anything_else_moves_it(changed):
    assert fingerprint(changed) != fingerprint(page())


def test_the_content_type_and_the_encoding_are_part_of_it():
    assert page_fingerprint(page(), "text/html; charset=utf-8") != page_fingerprint(
        page(), "text/html; charset=cp1252"
    )


def test_a_script_ends_where_the_tokenizer_ends_it_whatever_its_case():
    # the upper-case </SCRIPT> ends the script in <main>: the list after it is content
    assert fingerprint(page().replace(b"No fraud", b"No phishing")) != fingerprint(page())
    # "</scripts>" ends nothing: what follows it is still script
    inside = page().replace(b'"b1</div>"', b'"</scripts> b1"')
    assert fingerprint(inside) == fingerprint(inside.replace(b"</scripts> b1", b"</scripts> b2"))


def test_an_unclosed_comment_or_script_runs_to_the_end_as_in_a_browser():
    open_comment = page().replace(b"</footer>", b"</footer><!-- build b1")
    assert fingerprint(open_comment) == fingerprint(open_comment.replace(b"build b1", b"build b2"))


def test_equal_fingerprints_mean_equal_regions_on_these_pages():
    bodies = [page(), page(build="b2", nonce="n2"), page(build="b3", footer="Acme")]
    same = [(a, b) for a in bodies for b in bodies if fingerprint(a) == fingerprint(b)]
    assert all(region(a) == region(b) for a, b in same) and len(same) > len(bodies)


def test_a_pdf_has_none():
    assert page_fingerprint(tiny_pdf("Terms"), "application/pdf") is None


@pytest.mark.parametrize(
    "select, remove, applies",
    [
        (["main"], [".sr-only", 'select[name="Locale Select"]'], True),
        ([], [], True),
        (["script#__NEXT_DATA__"], [], False),
        (["main"], ["div:contains('Cookie')"], False),
        ([{"startAfter": "h1", "endBefore": "meta[itemprop=date]"}], [], False),
    ],
)
def test_it_stands_for_the_region_only_under_rules_that_cannot_see_volatile_markup(select, remove, applies):
    assert fingerprint_applies(select, remove) is applies
