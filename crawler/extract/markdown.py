"""HTML to Markdown with markdownify: ATX headings, ``-`` bullets, nested lists, pipe tables (a
pipe inside a cell escaped, so the cell stays one).

Links keep their text and lose their target, and images are dropped: link and image targets
carry tracking ids that change on every crawl and are not policy text. Horizontal rules are
dropped too: pages add and remove them as decoration.
"""

from __future__ import annotations

from lxml import etree, html
from markdownify import ATX, MarkdownConverter

from crawler.extract.normalize import normalize_markdown
from crawler.extract.word_boundaries import EXTRA_BLOCK_TAGS


class PolicyConverter(MarkdownConverter):
    """markdownify's converter, keeping link text without targets."""

    def convert_a(self, el, text, parent_tags):  # noqa: D102 - markdownify's hook
        return text

    def convert_hr(self, el, text, parent_tags):  # noqa: D102 - a rule is decoration, not text
        return "\n\n"

    def convert_td(self, el, text, parent_tags):  # noqa: D102 - a pipe in a cell is text, not a border
        return super().convert_td(el, text.replace("|", "\\|"), parent_tags)

    def convert_th(self, el, text, parent_tags):  # noqa: D102 - as in a cell
        return super().convert_th(el, text.replace("|", "\\|"), parent_tags)


_CONVERT_BLOCK = vars(MarkdownConverter)["convert_div"]  # markdownify's hook; its stub does not declare it
for _tag in EXTRA_BLOCK_TAGS:  # blocks in a browser are blocks in the Markdown
    setattr(PolicyConverter, f"convert_{_tag}", _CONVERT_BLOCK)


_CONVERTER = PolicyConverter(
    heading_style=ATX, bullets="-", bs4_options="lxml", escape_misc=False, wrap=True, wrap_width=None
)  # wrap without width: source line breaks become spaces


def to_markdown(roots: list[html.HtmlElement]) -> str:
    """The normalised Markdown of the region made of ``roots`` (one block each, in order)."""
    blocks = (_CONVERTER.convert(etree.tostring(root, encoding="unicode", with_tail=False)) for root in roots)
    return normalize_markdown("\n\n".join(blocks))
