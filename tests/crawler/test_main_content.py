"""Automatic extraction: on pages built of plain divs, menus and hidden app-download panels beside
the policy are not content, and a change to them is not a change of the policy; a page's own table
of contents is part of the document, site menus are not."""

from __future__ import annotations

from pathlib import Path

from changes.analysis import analyse
from crawler.extract.extraction import select_region

HEADER = (
    "<div class='top'><div>Studio</div><div>Code</div><div>Research</div><div>API Platform</div>"
    "<button>Try Studio</button></div>"
)
FOOTER = (
    "<div class='foot'><div>Terms &amp; Policies</div><div>Terms of Service</div><div>Privacy Policy</div>"
    "<div>Powered by Example Cloud</div><div>Example © 2026</div></div>"
)
DOWNLOAD = (
    "<div id='get-app' style='display: none'><div>Download App</div>"
    "<div>Designed for mobile devices, offering better experience</div>"
    "<div>Press and hold to scan the QR code for download</div></div>"
)
POLICY = (
    "<div class='title'><div>Privacy Policy</div><div>Last updated: May 19, 2026</div></div>"
    "<div class='policy'><p>We collect your prompts and files to provide the service.</p>"
    "<p>We may collect, use and disclose your personal data for the following purposes:</p>"
    "<ul><li>Account Information</li><li>User Content</li><li>Log Data</li><li>Usage Data</li></ul>"
    "<p>We keep chats for 30 days, then delete them.</p>"
    "<div class='answer' style='display:none'><p>You can ask us to delete your data at any time.</p></div>"
    "<p>You may withdraw your consent at any time.</p></div>"
)
TABLE_OF_CONTENTS = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "table-of-contents.html"


def page(header: str = HEADER, policy: str = POLICY, footer: str = FOOTER, around: str = "") -> bytes:
    return (
        f"<html><head><title>Privacy Policy</title></head><body><div id='root'>{header}"
        f"<div class='content'><div>{policy}</div>{footer}</div></div>{around}</body></html>"
    ).encode()


def auto(body: bytes) -> str:
    return select_region(
        body, url="https://example.test/privacy", content_type="text/html", select=[], remove=[]
    ).markdown()


def test_menus_and_a_hidden_download_panel_beside_the_policy_are_dropped():
    markdown = auto(page(around=DOWNLOAD))
    assert markdown.startswith("Privacy Policy\n\nLast updated: May 19, 2026\n\nWe collect your prompts")
    for chrome in ("Research", "Try Studio", "Terms & Policies", "Powered by", "QR code", "Download App"):
        assert chrome not in markdown


def test_short_items_and_collapsed_answers_inside_the_policy_are_kept():
    markdown = auto(page(around=DOWNLOAD))
    assert "- Account Information\n- User Content\n- Log Data\n- Usage Data" in markdown
    assert "You can ask us to delete your data at any time." in markdown


def test_a_redesigned_menu_and_download_panel_are_not_a_change_but_a_clause_is():
    before = auto(page(around=DOWNLOAD))
    redesigned = auto(
        page(
            header=HEADER.replace("Research", "Blog").replace("Code", "Code Assist"),
            footer=FOOTER.replace("Powered by Example Cloud", "Built on Example Cloud"),
        )
    )
    assert analyse(before, redesigned).significance == "cosmetic"
    longer = auto(page(policy=POLICY.replace("30 days", "90 days"), around=DOWNLOAD))
    assert analyse(before, longer).significance == "substantive"


def test_the_page_own_table_of_contents_is_kept_once_and_site_menus_are_dropped():
    markdown = auto(TABLE_OF_CONTENTS.read_bytes())
    assert markdown == (
        "Updated: 13 March 2026\n\n# Privacy policy\n\n"
        "Table of contents\n\n- 1. Data we collect\n- 2. Data use\n- 3. Your rights\n\n"
        "## 1. Data we collect\n\nWe collect the prompts, files and feedback you give us, and technical data "
        "about the devices and browsers you use to reach the service.\n\n"
        "## 2. Data use\n\nWe use your data to provide, secure and improve the service, to answer your "
        "requests and to meet our legal obligations.\n\n"
        "## 3. Your rights\n\nYou may ask us to access, correct or delete your data at any time, and to "
        "stop using it to improve our models.\n"
    )


RELATED = "<div class='related'><h3>Related articles</h3><ul>{}</ul></div>"


def related(*titles: str, site: str = "") -> str:
    return RELATED.format(
        "".join(f"<li><a href='{site}/help/articles/{n}'>{title}</a></li>" for n, title in enumerate(titles))
    )


def test_a_rotating_list_of_related_articles_beside_the_policy_is_not_a_change():
    first = related("How do I change my billing address?", "Can I export my data?", "Resetting a password")
    second = related("Why was my payment declined?", "Using the API with a proxy", "Closing my account")
    before, after = auto(page(around="", footer=first)), auto(page(footer=second))
    assert "billing address" not in before
    assert before == after
    assert "We keep chats for 30 days" in before


def test_a_list_of_links_to_other_sites_beside_the_policy_is_kept():
    processors = related(
        "Amazon Web Services for hosting in the United States",
        "Google Cloud Platform for model serving in Europe",
        "Snowflake Inc. for analytics of usage data",
        site="https://processor.test",
    )
    assert "Snowflake Inc. for analytics" in auto(page(footer=processors))
