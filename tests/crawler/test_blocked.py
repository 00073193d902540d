"""Pages that are not the document are refused with a reason, and real policies are not."""

from __future__ import annotations

import pytest

from crawler.extract.extraction import ExtractionError, select_region

LONG_POLICY = "".join(
    f"<p>Section {n}. We process personal data only as described here.</p>" for n in range(80)
)


def extract(body: str, select=("main",)):
    return select_region(
        body.encode(),
        url="https://example.test/terms",
        content_type="text/html; charset=utf-8",
        select=list(select),
        remove=[],
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "<html><head><title>Just a moment...</title></head><body><div id='challenge-running'>"
            "Checking if the site connection is secure</div></body></html>",
            "Cloudflare 'Just a moment...'",
        ),
        (
            "<html><head><title>Attention Required! | Cloudflare</title></head>"
            "<body><h1>Sorry, you have been blocked</h1></body></html>",
            "Attention Required",
        ),
        (
            "<html><body><main><p>Enable JavaScript and cookies to continue</p></main></body></html>",
            "Enable JavaScript and cookies to continue",
        ),
        (
            "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
            "<p>You don't have permission to access this server. Reference #18.2c</p></body></html>",
            "Access denied",
        ),
        (
            "<html><body><main><div class='g-recaptcha' data-sitekey='x'></div>"
            "<p>Please verify.</p></main></body></html>",
            "captcha",
        ),
    ],
)
def test_challenge_and_interstitial_pages_are_refused(body, reason):
    with pytest.raises(ExtractionError) as caught:
        extract(body)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "<html><head><title>Llama API</title></head><body><div>Service status: Available</div>"
            "<div><h2>This page isn\u2019t available</h2><p>An unexpected error has occurred.</p></div>"
            "</body></html>",
            "This page isn't available",
        ),
        (
            "<html><head><title>Terms</title></head><body><div id='__next'>"
            "<h2>Application error: a client-side exception has occurred "
            "(see the browser console for more information).</h2></div></body></html>",
            "Next.js",
        ),
        (
            "<html><head><title>Page not found | Example</title></head>"
            "<body><main><h1>Oops</h1></main></body></html>",
            "Page not found",
        ),
        (
            "<html><head><title>404</title></head><body><main><p>Gone.</p></main></body></html>",
            "HTTP error status",
        ),
    ],
)
def test_error_pages_served_with_200_are_refused(body, reason):
    with pytest.raises(ExtractionError) as caught:
        extract(body)
    assert reason in caught.value.reason


def test_a_selector_miss_on_an_error_page_names_the_error_page():
    body = "<html><body><div><h2>This page isn't available</h2></div></body></html>"
    with pytest.raises(ExtractionError, match="This page isn't available"):
        extract(body, select=[{"startBefore": "h1", "endAfter": "#end-of-content"}])


def test_a_long_policy_that_quotes_error_phrases_is_content():
    body = (
        f"<html><head><title>Law enforcement policy</title></head><body><main>{LONG_POLICY}"
        "<p>If you see Access denied or Page not found, complete the captcha and retry.</p>"
        "</main></body></html>"
    )
    assert "Access denied or Page not found" in extract(body).markdown()


def test_an_error_message_in_the_region_of_a_long_page_is_refused_in_other_languages_too():
    navigation = "".join(
        f"<li><a href='/legal/{n}'>Rechtliches für Meta for Work, Bereich {n}</a></li>" for n in range(120)
    )
    body = (
        "<html><head><title>Meta for Work</title></head><body><nav><ul>" + navigation + "</ul></nav><main>"
        "<h2>Diese Seite ist momentan nicht verfügbar</h2><p>Dies liegt möglicherweise an einem technischen "
        "Fehler.</p></main></body></html>"
    )
    with pytest.raises(ExtractionError, match="This page isn't available"):
        extract(body)
