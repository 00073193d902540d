"""A change exported as text, Markdown, HTML (a redline) or JSON, for `policywatch changes`.

Every function takes a Change and the names of its platform and document; nothing is read from
the database. Page content is untrusted: the HTML escapes every piece of it.
"""

from __future__ import annotations

import json
from html import escape

from changes.compare import shown_clauses
from changes.tables import row_lines
from store.models import Change

CHANGED_CELL = '<td class="cell-changed">'


def as_record(change: Change, platform: str, document: str) -> dict:
    """The change as a JSON-ready dict (the `changes list --json` item); versions are ids."""
    details = change.details or {}
    return {
        "id": change.id,
        "platform": platform,
        "document": document,
        "from_version": change.from_version_id,
        "to_version": change.to_version_id,
        "detected_at": change.detected_at.isoformat().replace("+00:00", "Z"),
        "significance": change.significance,
        "reasons": list(change.reasons or []),
        "topics": list(change.topics or []),
        "provisions": list(change.provisions or []),
        "summary": change.summary,
        "sections": details.get("sections", []),
        "counts": details.get("counts", {}),
        "regulations": details.get("regulations", []),
        "flapping": details.get("flapping", False),
    }


def render_json(change: Change, platform: str, document: str) -> str:
    """The change record as indented JSON."""
    return json.dumps(as_record(change, platform, document), indent=2, ensure_ascii=False)


def _header(change: Change, platform: str, document: str) -> list[str]:
    return [
        f"Change {change.id}: {platform} / {document} — {change.significance}",
        f"detected {change.detected_at:%Y-%m-%d %H:%M} UTC, "
        f"version {change.from_version_id} → {change.to_version_id}",
        change.summary,
    ]


def _section_title(section: dict) -> str:
    title = section["heading"] or "(introduction)"
    if section.get("old_heading"):
        title += f" (was '{section['old_heading']}')"
    return f"{title} [{section['status']}]"


def render_text(change: Change, platform: str, document: str) -> str:
    """Plain text: header, summary, reasons, then per section the removed (-), added (+) and
    reworded (~) clauses, and each changed table's rows as "Column: value" lines."""
    lines = _header(change, platform, document)
    lines += ["", "Why: " + "; ".join(change.reasons or [])]
    if change.details.get("regulations"):
        lines.append("Regulations: " + ", ".join(change.details["regulations"]))
    for section in change.details.get("sections", []):
        added, removed, changed = shown_clauses(section)
        lines += ["", _section_title(section)]
        lines += [f"  - {s}" for s in removed] + [f"  + {s}" for s in added]
        for edit in changed:
            lines.append(
                "  ~ "
                + "".join(
                    f"[-{t}-]" if op == "delete" else f"{{+{t}+}}" if op == "insert" else t
                    for op, t in edit["diff"]
                )
            )
        for table in section.get("tables", []):
            lines += [f"  {line}" for line in row_lines(table["header"], table["rows"])]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("~", "\\~")


def render_markdown(change: Change, platform: str, document: str) -> str:
    """Markdown: the same content as text, reworded clauses with ~~deleted~~ and **inserted** words,
    each changed table as a Markdown table of its changed rows."""
    header = _header(change, platform, document)
    lines = [
        f"### {header[0]}",
        "",
        f"*{header[1]}*",
        "",
        header[2],
        "",
        "**Why:** " + "; ".join(change.reasons or []),
    ]
    if change.details.get("regulations"):
        lines.append("**Regulations:** " + ", ".join(change.details["regulations"]))
    for section in change.details.get("sections", []):
        added, removed, changed = shown_clauses(section)
        lines += ["", f"#### {_section_title(section)}", ""]
        lines += [f"- removed: ~~{_md(s)}~~" for s in removed] + [f"- added: **{s}**" for s in added]
        lines += [f"- reworded: {_md_runs(edit['diff'])}" for edit in changed]
        for table in section.get("tables", []):
            lines += [""] * bool(lines[-1]) + _md_table(table)
    return "\n".join(lines) + "\n"


def _md_runs(diff: list[list[str]]) -> str:
    return "".join(
        f"~~{_md(t)}~~" if op == "delete" and t.strip() else f"**{t}**" if op == "insert" and t.strip() else t
        for op, t in diff
    )


def _md_table(table: dict) -> list[str]:
    """A table diff as a Markdown table: a status column, then each cell's runs (pipes escaped)."""

    def row(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [
        row(["", *(_md_runs(c["diff"]) for c in table["header"])]),
        row(["---"] * (table["columns"] + 1)),
    ]
    for entry in table["rows"]:
        if entry["status"] == "same":
            lines.append(row([f"*{entry['count']} unchanged*", *[""] * table["columns"]]))
        else:
            lines.append(row([entry["status"], *(_md_runs(c["diff"]) for c in entry["cells"])]))
    return lines


def render_html(change: Change, platform: str, document: str) -> str:
    """An HTML fragment: the redline of the change, removed text in <del>, added text in <ins>, each
    changed table as a table, all escaped."""
    header = _header(change, platform, document)
    parts = [
        f'<article class="change change-{escape(change.significance)}">',
        f"<h2>{escape(header[0])}</h2>",
        f'<p class="meta">{escape(header[1])}</p>',
        f'<p class="summary">{escape(header[2])}</p>',
        '<ul class="reasons">' + "".join(f"<li>{escape(r)}</li>" for r in change.reasons or []) + "</ul>",
    ]
    if change.details.get("regulations"):
        parts.append(
            f'<p class="regulations">Regulations: {escape(", ".join(change.details["regulations"]))}</p>'
        )
    for section in change.details.get("sections", []):
        added, removed, changed = shown_clauses(section)
        parts.append(
            f'<section class="status-{escape(section["status"])}"><h3>{escape(_section_title(section))}</h3>'
        )
        parts += [f"<p><del>{escape(s)}</del></p>" for s in removed]
        parts += [f"<p><ins>{escape(s)}</ins></p>" for s in added]
        parts += [f"<p>{_html_runs(edit['diff'])}</p>" for edit in changed]
        parts += [_html_table(table) for table in section.get("tables", [])]
        parts.append("</section>")
    parts.append("</article>")
    return "\n".join(parts) + "\n"


def _html_runs(diff: list[list[str]]) -> str:
    return "".join(
        f"<del>{escape(t)}</del>"
        if op == "delete"
        else f"<ins>{escape(t)}</ins>"
        if op == "insert"
        else escape(t)
        for op, t in diff
    )


def _html_table(table: dict) -> str:
    """A table diff as an HTML table: header, changed rows (class ``row-<status>``, changed cells
    ``cell-changed``), runs of unchanged rows as their count."""
    head = "".join(f"<th>{_html_runs(c['diff'])}</th>" for c in table["header"])
    rows = []
    for row in table["rows"]:
        if row["status"] == "same":
            span = table["columns"] + 1
            rows.append(f'<tr class="rows-same"><td colspan="{span}">{row["count"]} unchanged</td></tr>')
            continue
        cells = "".join(
            (CHANGED_CELL if row["status"] == "changed" and c["changed"] else "<td>")
            + f"{_html_runs(c['diff'])}</td>"
            for c in row["cells"]
        )
        rows.append(f'<tr class="row-{escape(row["status"])}"><td>{escape(row["status"])}</td>{cells}</tr>')
    return f'<table class="table-diff"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html, "json": render_json}


def render(change: Change, fmt: str, platform: str, document: str) -> str:
    """The change in ``fmt`` (text, markdown, html or json)."""
    return RENDERERS[fmt](change, platform, document)
