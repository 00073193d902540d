"""The redline's text as HTML: no Markdown markers, a heading line still marked as a heading."""

from __future__ import annotations

from changes.redline import compare_texts
from web.rendering.redline_text import lines_html, segments_html


def test_a_reworded_heading_is_a_heading_in_each_of_its_runs_and_its_clause_is_not():
    [block] = compare_texts(
        "# Government customers\nWe may **not** share.", "# Public customers\nWe share."
    ).blocks
    html = segments_html(block.inline)
    assert html.startswith('<del><strong class="heading">Government</strong></del>')
    assert (
        '<ins><strong class="heading">Public</strong></ins><strong class="heading"> customers</strong>\n'
        in html
    )
    assert "#" not in html and "**" not in html and "We <del>may not </del>share." in html


def test_unchanged_lines_mark_their_headings_and_escape_their_text():
    assert lines_html(["## Data <b>", "Keep **data** & logs."]) == (
        '<strong class="heading">Data &lt;b&gt;</strong>\nKeep data &amp; logs.'
    )
