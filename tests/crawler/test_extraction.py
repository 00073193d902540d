"""select_region: what a user sees of a page, as Markdown, and when the digest moves."""

from __future__ import annotations

import pytest

from crawler.extract.extraction import ExtractionError, select_region

URL = "https://example.test/policies/terms"


def page(main: str, *, title: str = "Terms of Use", head: str = "", around: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body>"
        f"<header><a href='/'>Example</a><nav><a href='/a'>Products</a></nav></header>"
        f"<main>{main}</main>{around}<footer>© 2026 Example Inc. Cookie settings</footer></body></html>"
    ).encode()


POLICY = """
<h1>Terms of Use</h1>
<p>Updated: May 1, 2026</p>
<h2>1. Who we are</h2>
<p>These terms apply to <a href="https://example.test/services?utm_source=x&amp;gclid=abc">our services</a>
and to <strong>every</strong> user.</p>
<h3>1.1 Accounts</h3>
<ol><li>You must be 18.<ul><li>Or have consent.</li><li>Or be supervised.</li></ul></li>
<li>One account each.</li></ol>
<table><thead><tr><th>Data</th><th>Kept for</th></tr></thead>
<tbody><tr><td>Logs</td><td>30 days</td></tr><tr><td>Chats</td><td>Until deleted</td></tr></tbody></table>
<h2>2. Acceptable use</h2><p>Do not misuse the services.</p>
"""


def extract(body: bytes, select=("main",), remove=(), content_type="text/html; charset=utf-8"):
    return select_region(body, url=URL, content_type=content_type, select=list(select), remove=list(remove))


def test_markdown_keeps_headings_nested_lists_tables_and_link_text():
    markdown = extract(page(POLICY)).markdown()
    assert markdown.startswith("# Terms of Use\n")
    assert "\n## 1. Who we are\n" in markdown and "\n### 1.1 Accounts\n" in markdown
    assert (
        "1. You must be 18.\n   - Or have consent.\n   - Or be supervised.\n2. One account each." in markdown
    )
    assert "| Data | Kept for |\n| --- | --- |\n| Logs | 30 days |\n| Chats | Until deleted |" in markdown
    assert "These terms apply to our services and to **every** user." in markdown
    assert "utm_source" not in markdown and "https://" not in markdown
    assert "Products" not in markdown and "Cookie settings" not in markdown


def test_remove_drops_declared_parts_and_select_joins_matches_in_order():
    body = page(
        "<div class='a'><p>First part.</p><p class='ad'>Try our app!</p></div>"
        "<div class='b'><p>Second part.</p></div>"
    )
    markdown = extract(body, select=[".b", ".a"], remove=[".ad"]).markdown()
    assert markdown == "Second part.\n\nFirst part.\n"


def test_nested_matches_of_one_selector_are_not_repeated():
    body = page("<div><p>Outer.</p><div><p>Inner.</p></div></div>")
    assert extract(body, select=["main div"]).markdown() == "Outer.\n\nInner.\n"


def test_range_selectors_take_the_part_between_two_elements():
    body = page(
        "<p>Intro chrome.</p><h1 id='t'>Privacy</h1><section><p>We keep logs.</p><p id='end'>Last line.</p>"
        "<p>Share buttons.</p></section><p>Footer note.</p>"
    )
    before_after = extract(body, select=[{"startBefore": "#t", "endAfter": "#end"}]).markdown()
    assert before_after == "# Privacy\n\nWe keep logs.\n\nLast line.\n"
    after_before = extract(body, select=[{"startAfter": "#t", "endBefore": "#end"}]).markdown()
    assert after_before == "We keep logs.\n"


def test_range_in_remove_deletes_that_part():
    body = page(
        "<h1>Privacy</h1><p id='s'>Banner start.</p><p>Banner body.</p><p id='e'>Banner end.</p>"
        "<p>We keep logs.</p>"
    )
    markdown = extract(body, remove=[{"startBefore": "#s", "endAfter": "#e"}]).markdown()
    assert markdown == "# Privacy\n\nWe keep logs.\n"


def test_range_with_a_missing_boundary_names_it():
    with pytest.raises(ExtractionError, match=r"range endBefore '#nowhere' matched nothing"):
        extract(page(POLICY), select=[{"startBefore": "h1", "endBefore": "#nowhere"}])


def test_selector_that_matches_nothing_is_an_error_with_the_selector():
    with pytest.raises(ExtractionError) as caught:
        extract(page(POLICY), select=["article.policy"])
    assert caught.value.reason == "selector 'article.policy' matched nothing"


def test_invalid_css_is_an_error():
    with pytest.raises(ExtractionError, match="not valid CSS"):
        extract(page(POLICY), select=["main[["])


def test_empty_extraction_is_an_error():
    with pytest.raises(ExtractionError, match="extraction is empty"):
        extract(page(POLICY + "<div id='x'><img src='a.png'> </div>"), select=["#x"])


def test_an_empty_body_is_an_error_page():
    with pytest.raises(ExtractionError, match="empty body") as raised:
        extract(b"  \n")
    assert raised.value.failure.kind == "error_page"


def test_automatic_extraction_takes_the_main_landmark_without_chrome():
    around = "<aside><p>Related articles</p></aside>"
    markdown = extract(
        page(POLICY + "<nav><a href='#1'>On this page</a></nav>", around=around), select=[]
    ).markdown()
    assert markdown.startswith("# Terms of Use\n") and "Do not misuse the services." in markdown
    assert (
        "On this page" not in markdown and "Related articles" not in markdown and "Products" not in markdown
    )


def test_automatic_extraction_without_landmarks_drops_header_footer_and_nav():
    body = (
        b"<html><body><header>Example</header><nav>Menu</nav><div class='content'><h1>Privacy</h1>"
        b"<p>We keep logs for 30 days.</p></div><footer>Imprint</footer></body></html>"
    )
    assert extract(body, select=[]).markdown() == "# Privacy\n\nWe keep logs for 30 days.\n"


def test_text_is_normalised():
    body = page(
        "<p>We\u200b keep\u00a0\u00a0logs\u00ad   for  30\u2009days.\u200e</p>"
        "<p></p><p>   </p><p>Then delete them.</p>"
    )
    assert extract(body).markdown() == "We keep logs for 30 days.\n\nThen delete them.\n"


def test_content_streamed_into_a_hidden_element_is_kept():
    assert extract(page("<div hidden id='S:0'><p>We keep logs.</p></div>")).markdown() == "We keep logs.\n"


def test_never_content_is_dropped():
    body = page(
        "<p>Visible.</p><script>track()</script><style>p{}</style><noscript>Enable JS</noscript>"
        "<span class='sr-only'>(opens in a new tab)</span>"
        "<select name='Locale Select'><option>English</option><option>Deutsch</option></select>"
        "<div id='cookie-banner'>We use cookies. Accept</div><svg><text>icon</text></svg>"
    )
    assert extract(body).markdown() == "Visible.\n"


def test_digest_ignores_nonces_build_ids_attributes_and_link_targets():
    first = page(POLICY, head="<script nonce='n1'>window.__BUILD__='a1'</script>")
    second = page(
        POLICY.replace("gclid=abc", "gclid=xyz").replace("<p>", "<p class='p-9f2' data-v='7'>"),
        head="<script nonce='n2'>window.__BUILD__='b2'</script>",
    )
    assert extract(first).digest == extract(second).digest


def test_digest_changes_when_visible_text_changes_and_same_digest_means_same_markdown():
    before = extract(page(POLICY))
    after = extract(page(POLICY.replace("30 days", "90 days")))
    reformatted = extract(page(POLICY.replace("<p>", "<p>\n   ")))
    assert after.digest != before.digest and after.markdown() != before.markdown()
    assert reformatted.digest == before.digest and reformatted.markdown() == before.markdown()


def test_digest_changes_when_only_structure_changes():
    before = extract(page("<h2>Retention</h2><p>We keep logs.</p>"))
    after = extract(page("<h3>Retention</h3><p>We keep logs.</p>"))
    assert after.digest != before.digest
    assert after.markdown() == "### Retention\n\nWe keep logs.\n"


def test_charset_from_the_content_type_is_honoured():
    body = "<html><body><main><p>Données personnelles</p></main></body></html>".encode("latin-1")
    assert extract(body, content_type="text/html; charset=iso-8859-1").markdown() == "Données personnelles\n"


def test_layout_tables_become_blocks_and_data_tables_stay_tables():
    body = page(
        "<table><tr><td><h2>Cookies</h2><p>We use cookies.</p>"
        "<table><tr><th>Name</th><th>Lifespan</th></tr><tr><td>datr</td><td>400 days</td></tr></table>"
        "</td></tr></table>"
    )
    assert extract(body).markdown() == (
        "## Cookies\n\nWe use cookies.\n\n| Name | Lifespan |\n| --- | --- |\n| datr | 400 days |\n"
    )


@pytest.mark.parametrize(
    "hidden",
    [
        "<span class='visually_hidden'>Opens in new tab</span>",
        "<span class='ExternalLink_srOnly__x81f'>Opens in new tab</span>",
        "<span style='position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0)'>"
        "Opens in new tab</span>",
        "<span style='position:absolute; left:-10000px'>Opens in new tab</span>",
        "<span aria-hidden='true'>↗</span>",
    ],
)
def test_text_nobody_sees_is_not_content(hidden):
    assert extract(page(f"<p>More information{hidden}</p>")).markdown() == "More information\n"


def test_text_hidden_on_some_screens_only_or_visible_despite_aria_hidden_is_kept():
    body = page("<p><span class='md:sr-only'>Menu</span> and <span aria-hidden='true'>Jan 5</span></p>")
    assert extract(body).markdown() == "Menu and Jan 5\n"


def test_neighbouring_boxes_keep_a_word_boundary_and_words_split_by_markup_do_not():
    body = page(
        "<div><span>Effective 15 September 2025</span><a href='/v1'>Previous Version</a></div>"
        "<p>More information<span>Opens in new tab</span> for our <b>c</b>ustomers.</p>"
        "<div><span>Status</span><button>Subscribe</button></div>"
        "<div><nav>Contents</nav><header>Overview</header><footer>End</footer></div>"
    )
    assert extract(body).markdown() == (
        "Effective 15 September 2025 Previous Version\n\n"
        "More information Opens in new tab for our **c**ustomers.\n\n"
        "Status Subscribe\n\nContents\n\nOverview\n\nEnd\n"
    )


def test_a_pipe_inside_a_table_cell_stays_in_its_cell():
    from changes.tables import tables_in

    body = page(
        "<table><tr><th>Purpose</th><th>Vendor</th></tr>"
        "<tr><td>Hosting | storage</td><td>AWS</td></tr></table>"
    )
    [table] = tables_in(extract(body).markdown().splitlines())
    assert table.rows == (("Hosting | storage", "AWS"),)
