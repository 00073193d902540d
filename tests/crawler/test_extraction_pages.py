"""select_region on real policy pages (Open Terms Archive, ODC-By 1.0; see
tests/fixtures/pages/ATTRIBUTION.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extract.extraction import ExtractionError, select_region
from tests.pdf import tiny_pdf

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
OPENAI = {"select": ["main"], "remove": ['select[name="Locale Select"]', "main .sr-only"]}
MISTRAL = {"select": ["div"], "remove": ["button", "footer", "nav", "aside"]}


def extract(name: str, *, select: list, remove: list = (), content_type: str = "text/html; charset=utf-8"):
    return select_region(
        (PAGES / name).read_bytes(),
        url="https://example.test/",
        content_type=content_type,
        select=select,
        remove=list(remove),
    )


def test_openai_page_with_its_declaration_gives_the_policy_text():
    markdown = extract("openai-usage-policies-tick34.html", **OPENAI).markdown()
    assert markdown.startswith("Effective: October 29, 2025\n\n# Usage policies\n\nWe aim for our tools")
    assert "- 2021-02-26: Clarified the impermissibility of Tweet and Instagram generators.\n" in markdown
    assert "opens in a new window" not in markdown and "openaicom-did" not in markdown


def test_tracking_ids_that_change_between_two_real_crawls_do_not_move_the_digest():
    first, second = (PAGES / f"openai-usage-policies-tick{n}.html" for n in (34, 35))
    assert first.read_bytes() != second.read_bytes()  # the pages differ only in openaicom-did tracking ids
    assert extract(first.name, **OPENAI).digest == extract(second.name, **OPENAI).digest
    assert extract(first.name, select=[]).digest == extract(second.name, select=[]).digest


def test_a_real_substantive_change_moves_the_digest_and_shows_in_the_markdown():
    before = extract("mistral-usage-policy-tick71.html", **MISTRAL)
    after = extract("mistral-usage-policy-tick92.html", **MISTRAL)
    assert after.digest != before.digest
    assert "including Le Chat and Mistral AI Studio" in before.markdown()
    assert "including Vibe and Mistral AI Studio" in after.markdown()
    assert (
        "please report it immediately via the form available at https://mistral.ai/report/."
        in after.markdown()
    )


def test_a_broad_selector_matching_nested_elements_gives_each_text_once():
    markdown = extract("mistral-usage-policy-tick71.html", **MISTRAL).markdown()
    assert markdown.startswith("# Usage Policy\n\nEffective: March 25, 2026\n\n## Scope\n")
    assert markdown.count("## Scope") == 1


def test_google_article_role_selector():
    markdown = extract("google-generative-ai-use-policy-tick0.html", select=['[role="article"]']).markdown()
    assert markdown.startswith("# Generative AI-Prohibited Use Policy\n\nLast modified: 17 December 2024\n")
    assert markdown.endswith("where harms are outweighed by substantial benefits to the public.\n")


def test_meta_range_selector_stops_at_the_declared_end():
    selector = {"startBefore": '[role="main"]', "endAfter": "[style] ~ ol"}
    markdown = extract("meta-global-processor-terms-tick0.html", select=[selector]).markdown()
    assert markdown.startswith("**Last Updated:** March 20, 2026\n\n**Meta Global Processor Terms**\n")
    assert markdown.endswith('the Virginia Consumer Data Protection Act ("**VCDPA**").\n')
    assert "Ad choices" not in markdown


def test_automatic_extraction_finds_the_policy_on_real_pages():
    for name, opening in [
        ("openai-usage-policies-tick34.html", "Effective: October 29, 2025\n\n# Usage policies"),
        ("google-generative-ai-use-policy-tick0.html", "# Generative AI-Prohibited Use Policy"),
        ("mistral-usage-policy-tick71.html", "# Usage Policy\n\nEffective: March 25, 2026"),
    ]:
        assert extract(name, select=[]).markdown().startswith(opening), name


def test_meta_error_page_served_with_200_is_refused():
    with pytest.raises(ExtractionError) as caught:
        extract(
            "llama-api-acceptable-use-policy-error-tick0.html",
            select=[{"startAfter": "h1", "endAfter": "#end-of-content"}],
        )
    assert caught.value.reason == "error page ('This page isn't available')"


def test_pdf_becomes_paragraphs_of_its_text():
    region = extract("openai-law-enforcement-policy.pdf", select=[], content_type="application/pdf")
    markdown = region.markdown()
    assert markdown.startswith("OPENAI GOVERNMENT USER DATA REQUEST POLICY\n\nEffective 1 January 2026\n\n")
    assert (
        "Where You should send Your legal request will depend on which OpenAI company provides the service "
        "to the user who is the subject of the request.\n"
    ) in markdown


def test_a_pdf_is_recognised_by_its_magic_number_and_its_digest_follows_its_text():
    def region(text):
        return select_region(
            tiny_pdf(text),
            url="https://example.test/policy",
            content_type="application/octet-stream",
            select=["main"],
            remove=[],
        )

    assert region("We keep logs for 30 days.").markdown() == "We keep logs for 30 days.\n"
    assert region("We keep logs for 30 days.").digest != region("We keep logs for 90 days.").digest


def test_a_body_that_claims_to_be_a_pdf_but_is_not_is_refused():
    with pytest.raises(ExtractionError, match="PDF is not readable"):
        select_region(
            b"%PDF-1.4 truncated",
            url="https://example.test/x.pdf",
            content_type="application/pdf",
            select=[],
            remove=[],
        )
