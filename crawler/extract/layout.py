"""Layout tables: tables that position blocks on the page instead of holding data.

A table with a single column, or with another table inside it, is layout; its rows and cells
become plain blocks, so the Markdown shows its content as paragraphs, headings and lists rather
than as one enormous pipe-table cell. Data tables (two or more columns, no nested table) stay tables.
"""

from __future__ import annotations

from lxml import html

_ROWS = "./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"
_PARTS = "./thead | ./tbody | ./tfoot | ./caption | ./colgroup"


def unwrap_layout_tables(root: html.HtmlElement) -> None:
    """Turn every layout table inside ``root`` (and ``root`` itself) into plain ``div`` blocks."""
    for table in [root] if root.tag == "table" else []:
        _unwrap_if_layout(table)
    for table in list(root.iter("table")):
        _unwrap_if_layout(table)


def _unwrap_if_layout(table: html.HtmlElement) -> None:
    rows = table.xpath(_ROWS)
    cells = [row.xpath("./td | ./th") for row in rows]
    if max(map(len, cells), default=0) > 1 and table.find(".//table") is None:
        return
    for element in [table, *table.xpath(_PARTS), *rows, *(cell for row in cells for cell in row)]:
        element.tag = "div"
