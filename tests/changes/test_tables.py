"""Tables compared as tables: rows paired by what they name, columns by their header, cells diffed
word by word; a table row is one clause."""

from __future__ import annotations

from changes.compare import compare_sections
from changes.tables import cells, table_changes

RETENTION = """| Data | Kept for |
| --- | --- |
| Account data | 30 days after closure |
| Logs | 90 days |
| Backups | 1 year |"""


def shown(table: dict) -> list[tuple[str, list[str]]]:
    """(status, the text of each cell as ``op:text`` runs) per row; unchanged runs as their count."""
    return [
        (row["status"], [str(row["count"])])
        if row["status"] == "same"
        else (row["status"], ["".join(f"{op}:{text};" for op, text in c["diff"]) for c in row["cells"]])
        for row in table["rows"]
    ]


def test_an_edited_cell_is_one_changed_row_and_another_first_cell_is_another_row():
    new = RETENTION.replace("30 days after", "12 months after").replace(
        "| Logs | 90 days |", "| Telemetry | 90 days |"
    )
    [table] = table_changes(RETENTION.splitlines(), new.splitlines())
    assert shown(table) == [
        (
            "changed",
            [
                "equal:Account data;",
                "delete:30;insert:12;equal: ;delete:days;insert:months;equal: after closure;",
            ],
        ),
        ("removed", ["delete:Logs;", "delete:90 days;"]),
        ("added", ["insert:Telemetry;", "insert:90 days;"]),
        ("same", ["1"]),
    ]
    assert [c["changed"] for c in table["rows"][0]["cells"]] == [False, True]


def test_a_renamed_column_marks_its_header_and_an_added_column_its_cells():
    renamed = RETENTION.replace("Kept for", "Retention period")
    [table] = table_changes(RETENTION.splitlines(), renamed.splitlines())
    assert [c["changed"] for c in table["header"]] == [False, True]
    assert shown(table) == [("same", ["3"])]
    widened = "\n".join(
        line + (" Basis |" if i == 0 else " --- |" if i == 1 else " Contract |")
        for i, line in enumerate(RETENTION.splitlines())
    )
    [table] = table_changes(RETENTION.splitlines(), widened.splitlines())
    assert [c["diff"] for c in table["header"]][2] == [["insert", "Basis"]]
    assert [row["status"] for row in table["rows"]] == ["changed"] * 3
    assert all(row["cells"][2]["diff"] == [["insert", "Contract"]] for row in table["rows"])


def test_cells_keep_escaped_pipes_and_lose_markdown_escapes():
    assert cells(r"| Hosting \| storage | US\_EU |") == ["Hosting | storage", "US_EU"]


def test_a_table_row_is_one_clause_whatever_its_sentences():
    old = "# Subprocessors\n\n" + RETENTION
    new = old.replace("| Backups | 1 year |", "| Backups | 1 year. Then deleted. Never restored. |")
    [section] = compare_sections(old, new)
    assert "| Backups | 1 year. Then deleted. Never restored. |" in section.added
    assert section.as_dict()["tables"][0]["rows"][-1]["status"] == "changed"
