"""Provisions: found on real bundled pages (Open Terms Archive, ODC-By 1.0; see
tests/fixtures/pages/ATTRIBUTION.md), recorded with versions, named on the changes that touch them,
and listed by the CLI to its JSON contract."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from changes.provisions import Catalog, ProvisionCatalogError, catalog_for, load_catalog, touched
from policywatch.cli import cli
from policywatch.settings import load_settings
from store.db import make_engine, transaction
from store.models import Change, ProvisionInstance
from store.versions import record_version
from tests.crawler.test_extraction_pages import MISTRAL, OPENAI, extract
from tests.factories import make_document

CATALOG_IDS = [
    "government_carve_out",
    "military_weapons",
    "law_enforcement_requests",
    "surveillance_biometrics",
    "training_on_user_data",
    "data_retention",
    "minimum_age",
    "arbitration_class_waiver",
    "liability_limitation",
    "unilateral_changes",
    "suspension_termination",
    "elections_political",
]
POLICY = """# Usage Policy

## Prohibited uses
You may not use the service for weapons development or military and warfare purposes.

## Changes to this policy
We may update this policy from time to time. We will notify you of material changes by email.

## Fees
You pay monthly.
"""
START = datetime(2026, 5, 1, tzinfo=UTC)


def test_the_catalog_has_the_fixed_ids():
    assert [t.id for t in load_catalog().types][: len(CATALOG_IDS)] == CATALOG_IDS


def test_operator_file_adds_and_overrides_provision_types(tmp_path, monkeypatch):
    extra = tmp_path / "provisions.yaml"
    extra.write_text(
        "provisions:\n"
        "  - id: biosecurity\n    label: Biosecurity\n    topic: prohibited_uses\n"
        "    clauses: ['\\bpathogens?\\b']\n"
        "  - id: military_weapons\n    label: Weapons only\n    clauses: ['\\bweapons?\\b']\n"
    )
    monkeypatch.setenv("POLICYWATCH_PROVISIONS_FILE", str(extra))
    catalog = catalog_for(load_settings())
    found = catalog.find("# Rules\n\nNo pathogens. No military use. No weapons.\n")
    assert found["biosecurity"].clauses == ("No pathogens.",)
    assert found["military_weapons"].clauses == ("No weapons.",)
    assert catalog.get("military_weapons").label == "Weapons only"


def test_invalid_provisions_file_names_the_file_and_the_pattern(tmp_path, monkeypatch):
    extra = tmp_path / "broken.yaml"
    extra.write_text("provisions:\n  - id: bad\n    clauses: ['(unclosed']\n")
    monkeypatch.setenv("POLICYWATCH_PROVISIONS_FILE", str(extra))
    with pytest.raises(ProvisionCatalogError, match="broken.yaml: provision 'bad': 'clauses'"):
        catalog_for(load_settings())


def test_openai_usage_policy_states_its_bans_under_its_heading():
    found = load_catalog().find(extract("openai-usage-policies-tick34.html", **OPENAI).markdown())
    military = found["military_weapons"]
    assert military.heading == "Usage policies"
    assert "- weapons development, procurement, or use, including conventional weapons or CBRNE" in (
        military.clauses
    )
    assert "- national security or intelligence purposes without our review and approval" in (
        found["government_carve_out"].clauses
    )
    assert any("election interference" in c for c in found["elections_political"].clauses)
    assert any("facial recognition databases" in c for c in found["surveillance_biometrics"].clauses)
    assert "arbitration_class_waiver" not in found and "minimum_age" not in found


def test_cues_only_skip_sentences_no_clause_pattern_matches():
    catalog = load_catalog()
    uncued = Catalog(tuple(replace(kind, cues=()) for kind in catalog.types))
    for name, declaration in (
        ("openai-usage-policies-tick34.html", OPENAI),
        ("mistral-usage-policy-tick71.html", MISTRAL),
    ):
        text = extract(name, **declaration).markdown()
        assert catalog.find(text) == uncued.find(text)


def test_a_real_edit_outside_any_provision_touches_none():
    before = load_catalog().find(extract("mistral-usage-policy-tick71.html", **MISTRAL).markdown())
    after = load_catalog().find(extract("mistral-usage-policy-tick92.html", **MISTRAL).markdown())
    assert before["military_weapons"].heading == "Prohibited content and activities"
    assert touched(before, after) == []


def test_a_provision_that_disappears_or_is_reworded_is_touched():
    catalog = load_catalog()
    before = catalog.find(POLICY)
    ban = " for weapons development or military and warfare purposes"
    gone = catalog.find(POLICY.replace(ban, " to harm"))
    reworded = catalog.find(POLICY.replace("by email", "in the product"))
    assert touched(before, gone) == ["military_weapons"]
    assert touched(before, reworded) == ["unilateral_changes"]
    assert touched(before, catalog.find(POLICY.replace("weapons", "[weapons](https://x.test)"))) == []


def test_grammar_words_glued_section_numbers_and_other_table_cells_do_not_touch_a_provision():
    catalog = load_catalog()
    before = catalog.find(POLICY)
    assert touched(before, catalog.find(POLICY.replace("purposes.", "purposes.4.2"))) == []
    assert (
        touched(before, catalog.find(POLICY.replace("development or military", "development, military")))
        == []
    )
    renamed = catalog.find(POLICY.replace("update this policy", "update this Usage Policy"))
    assert touched(before, renamed, title="Usage Policy") == []
    assert touched(before, renamed) == ["unilateral_changes"]
    row = "| Purpose | Providing information to law enforcement when required by a valid legal request. |"
    table = catalog.find(f"# Privacy\n\n{row}\n")
    assert table["law_enforcement_requests"].clauses == (
        "Providing information to law enforcement when required by a valid legal request.",
    )
    assert touched(table, catalog.find(f"# Privacy\n\n{row.replace('Purpose', 'Why')}\n")) == []


def _seed(session, texts):
    document = make_document(session)
    for i, text in enumerate(texts):
        record_version(session, document, text, [], created_at=START + timedelta(days=i))
    return document


def test_changes_record_the_provisions_they_touch_and_only_those(engine):
    from changes.record import record_changes

    military = POLICY.replace("weapons development or military and warfare purposes", "weapons development")
    fees = military.replace("You pay monthly.", "You pay yearly, in advance.")
    with transaction(engine) as session:
        _seed(session, [POLICY, military, fees])
    with transaction(engine) as session:
        record_changes(session, load_settings())
    with transaction(engine) as session:
        changes = session.query(Change).order_by(Change.id).all()
        assert [c.provisions for c in changes] == [["military_weapons"], []]
        stated = session.query(ProvisionInstance).filter_by(present=True).all()
        assert {(r.version_id, r.provision) for r in stated} == {
            (v, p) for v in (1, 2, 3) for p in ("military_weapons", "unilateral_changes")
        }
        assert session.query(ProvisionInstance).count() == 3 * len(load_catalog().types)


def test_rebuild_recomputes_instances_and_change_provisions(engine):
    from changes.record import rebuild_provisions, record_changes

    with transaction(engine) as session:
        _seed(session, [POLICY, POLICY.replace("by email", "in the product")])
        record_changes(session, load_settings())
        session.query(ProvisionInstance).delete()
        session.query(Change).one().provisions = []
    with transaction(engine) as session:
        assert rebuild_provisions(session, load_settings()) == (2, 1)
    with transaction(engine) as session:
        assert session.query(Change).one().provisions == ["unilateral_changes"]
        assert session.query(ProvisionInstance).filter_by(present=True).count() == 4


def test_a_change_is_tagged_with_the_topics_of_the_provisions_it_touches(engine):
    from changes.record import record_changes

    acme = (
        "# Usage Policy\n\n## Exceptions for government customers\n"
        "We may tailor these restrictions for government customers.\n\n"
        "## Contact\nWrite to legal@acme.test.\n"
    )
    contact = acme.replace("legal@acme.test.", "legal@acme.test; federal agencies write to gov@acme.test.")
    carve_out = contact.replace("tailor these restrictions", "tailor or waive these restrictions")
    with transaction(engine) as session:
        _seed(session, [acme, contact, carve_out])
    with transaction(engine) as session:
        record_changes(session, load_settings())
    with transaction(engine) as session:
        elsewhere, stated = session.query(Change).order_by(Change.id).all()
        assert elsewhere.provisions == [] and "government" not in elsewhere.topics
        assert elsewhere.details["regulations"] == []
        assert stated.provisions == ["government_carve_out"]
        assert stated.topics == ["government", "carve_outs"]
        assert "FAR/DFARS" in stated.details["regulations"]


def _cli_seed(url: str) -> None:
    from changes.record import record_changes

    engine = make_engine(url)
    with transaction(engine) as session:
        _seed(session, [POLICY, POLICY.replace(" or military and warfare purposes", "")])
        record_changes(session, load_settings())
    engine.dispose()


def test_provisions_list_json_contract(migrated_url):
    _cli_seed(migrated_url)
    result = CliRunner().invoke(cli, ["provisions", "list", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert {e["provision"] for e in entries} == set(t.id for t in load_catalog().types)
    for entry in entries:
        assert entry["document"] == "acme-terms" and isinstance(entry["present"], bool)
        assert entry["heading"] is None or isinstance(entry["heading"], str)
        assert isinstance(entry["text"], str)
    assert all(e.pop("note") is None for e in entries)  # no note kept yet
    military = next(e for e in entries if e["provision"] == "military_weapons")
    assert military.pop("card")["statements"] == [
        {"says": "prohibits", "clause": "You may not use the service for weapons development."}
    ]
    assert military == {
        "document": "acme-terms",
        "platform": "acme",
        "provision": "military_weapons",
        "present": True,
        "heading": "Prohibited uses",
        "text": "You may not use the service for weapons development.",
        "version": 2,
    }
    other = CliRunner().invoke(cli, ["provisions", "list", "--json", "--platform", "other"])
    assert json.loads(other.output) == []


def test_provisions_list_json_gives_the_machine_written_note_kept_on_the_clauses(migrated_url):
    from changes.notes import digest
    from store.models import ProvisionNote
    from store.notes import record_note

    _cli_seed(migrated_url)
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        text = "You may not use the service for weapons development."
        record_note(session, "military_weapons", digest(text), "test-model", "Weapons work is banned.")
        record_note(session, "minimum_age", digest(text), "test-model", "Not these clauses' provision.")
        record_note(session, "unilateral_changes", digest("an older text"), "test-model", "Outdated.")
    with transaction(engine) as session:
        written = session.get_one(ProvisionNote, ("military_weapons", digest(text))).created_at
    engine.dispose()

    entries = json.loads(CliRunner().invoke(cli, ["provisions", "list", "--json"]).output)

    notes = {e["provision"]: e["note"] for e in entries if e["note"] is not None}
    assert notes == {
        "military_weapons": {
            "text": "Weapons work is banned.",
            "model": "test-model",
            "written_at": written.isoformat().replace("+00:00", "Z"),
            "machine_written": True,
        }
    }
    military = next(e for e in entries if e["provision"] == "military_weapons")
    assert (military["document"], military["present"], military["heading"], military["text"]) == (
        "acme-terms",
        True,
        "Prohibited uses",
        text,
    )


def test_changes_list_and_provision_history_name_the_change(migrated_url):
    _cli_seed(migrated_url)
    runner = CliRunner()
    changes = json.loads(runner.invoke(cli, ["changes", "list", "--json"]).output)
    assert [c["provisions"] for c in changes] == [["military_weapons"]]
    table = runner.invoke(cli, ["provisions", "list", "--document", "acme-terms"]).output
    assert (
        "acme/acme-terms  military_weapons  [Prohibited uses]\n  You may not use the service for weapons"
        in table
    )
    history = runner.invoke(cli, ["provisions", "history", "military_weapons"])
    assert history.exit_code == 0, history.output
    assert "acme/acme-terms" in history.output and "version 1 → 2" in history.output
    reworded = "  You may not use the service for weapons development[- or military and warfare purposes-].\n"
    assert reworded in history.output
    assert "no changes of minimum_age" in runner.invoke(cli, ["provisions", "history", "minimum_age"]).output
    unknown = runner.invoke(cli, ["provisions", "history", "nonsense"])
    assert unknown.exit_code != 0 and "not a catalog provision" in unknown.output


def test_provision_history_folds_the_unchanged_clauses_of_a_long_provision(migrated_url):
    from changes.record import record_changes

    changes = POLICY.replace(
        "We may update this policy from time to time.",
        "We may update this policy from time to time.\nWe may change these terms at any time.\n"
        "We may modify this policy to reflect new laws.\nWe may revise this policy when our services change.",
    )
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        _seed(session, [changes, changes.replace("by email", "in the product")])
        record_changes(session, load_settings())
    engine.dispose()
    history = CliRunner().invoke(cli, ["provisions", "history", "unilateral_changes"]).output
    assert history.endswith(
        "  … 3 unchanged clauses …\n"
        "  We may revise this policy when our services change.\n"
        "  We will notify you of material changes [-by-]{+in+} [-email-]{+the product+}.\n"
    )


def test_provisions_compare_sets_platforms_side_by_side(migrated_url):
    from changes.record import record_changes

    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        _seed(session, [POLICY, POLICY.replace(" or military and warfare purposes", "")])
        other = make_document(session, slug="globex-terms", platform_slug="globex")
        record_version(session, other, "# Terms\n\n## Fees\nYou pay monthly.\n", [], created_at=START)
        record_changes(session, load_settings())
    engine.dispose()
    runner = CliRunner()
    compared = json.loads(runner.invoke(cli, ["provisions", "compare", "military_weapons", "--json"]).output)
    assert [(p["platform"], [d["document"] for d in p["documents"]]) for p in compared] == [
        ("acme", ["acme-terms"]),
        ("globex", []),
    ]
    acme = compared[0]["documents"][0]
    assert acme["heading"] == "Prohibited uses" and acme["last_changed"] == "2026-05-02T00:00:00Z"
    text = runner.invoke(cli, ["provisions", "compare", "military_weapons"]).output
    assert "Globex (globex)\n  not stated\n" in text
    assert "acme-terms [Prohibited uses], last changed 2026-05-02" in text


def test_words_that_only_move_between_sentences_touch_no_provision():
    apart = (
        "# Your account\n\nYou submit to the personal jurisdiction of these courts for any such claim\n"
        "If you reside outside the United States, other rules apply.\n"
    )
    joined = apart.replace("claim\nIf", "claim If")  # one sentence now: the line break is gone
    catalog = load_catalog()
    before, after = catalog.find(apart), catalog.find(joined)
    assert touched(before, after) == ["arbitration_class_waiver"]  # the clause's words differ
    assert touched(before, after, texts=(apart, joined)) == []
    elsewhere = joined.replace("these courts", "the courts of Dublin")
    assert touched(before, catalog.find(elsewhere), texts=(apart, elsewhere)) == ["arbitration_class_waiver"]
