"""Topics and their regulations, from the bundled taxonomy and an operator's file."""

from __future__ import annotations

import pytest

from changes.analysis import analyse
from changes.taxonomy import TaxonomyError, load_taxonomy, taxonomy_for
from policywatch.settings import load_settings

BASE = "# Terms\n\n## Use\nYou may use the service for personal projects.\n"


def _topics_of(sentence: str, taxonomy=None) -> dict:
    analysis = analyse(BASE, BASE + sentence + "\n", taxonomy=taxonomy)
    return {
        "topics": analysis.topics,
        "regulations": analysis.details["regulations"],
        "details": analysis.details["topics"],
    }


def test_bundled_taxonomy_has_the_required_topics_with_regulations():
    ids = {t.id for t in load_taxonomy().topics}
    assert {
        "government",
        "military",
        "law_enforcement",
        "surveillance",
        "training_data",
        "data_retention",
        "data_sharing",
        "children",
        "arbitration",
        "liability",
        "termination",
        "pricing",
        "prohibited_uses",
        "carve_outs",
    } <= ids
    assert all(t.regulations for t in load_taxonomy().topics)


@pytest.mark.parametrize(
    "sentence, topic, regulation",
    [
        ("Users under 13 may not create an account without parental consent.", "children", "COPPA"),
        ("We may use your conversations to train our models unless you opt out.", "training_data", "GDPR"),
        (
            "We respond to subpoenas and court orders from law enforcement.",
            "law_enforcement",
            "Stored Communications Act",
        ),
        (
            "Disputes are resolved by binding arbitration and you waive any class action.",
            "arbitration",
            "Federal Arbitration Act",
        ),
        ("Facial recognition for mass surveillance is not allowed.", "surveillance", "EU AI Act"),
        (
            "Federal government agencies may use the service for national security.",
            "government",
            "Privacy Act of 1974",
        ),
    ],
)
def test_changed_sentences_map_to_topics_and_regulations(sentence, topic, regulation):
    found = _topics_of(sentence)
    assert topic in found["topics"]
    assert regulation in found["regulations"]
    detail = next(d for d in found["details"] if d["id"] == topic)
    assert detail["label"] and regulation in detail["regulations"]


def test_unrelated_change_has_no_topic():
    assert _topics_of("Our office has a new reception desk near the lobby.")["topics"] == []


def test_operator_file_adds_and_overrides_topics(tmp_path, monkeypatch):
    extra = tmp_path / "topics.yaml"
    extra.write_text(
        "topics:\n"
        "  - id: biosecurity\n    label: Biosecurity\n"
        "    patterns: ['\\bpathogens?\\b']\n    regulations: [BWC]\n"
        "  - id: children\n    label: Kids\n    patterns: ['\\bkids\\b']\n    regulations: [KOSA]\n"
    )
    monkeypatch.setenv("POLICYWATCH_TAXONOMY_FILE", str(extra))
    taxonomy = taxonomy_for(load_settings())
    found = _topics_of("Designing pathogens for kids is prohibited.", taxonomy)
    assert {"biosecurity", "children", "prohibited_uses"} <= set(found["topics"])
    assert {"BWC", "KOSA"} <= set(found["regulations"]) and "COPPA" not in found["regulations"]
    assert "children" not in _topics_of("Users under 13 need parental consent.", taxonomy)["topics"]
    assert "biosecurity" not in _topics_of("Designing pathogens is prohibited.")["topics"]  # bundled only


def test_invalid_operator_file_names_the_file(tmp_path, monkeypatch):
    extra = tmp_path / "broken.yaml"
    extra.write_text("topics:\n  - label: no id\n")
    monkeypatch.setenv("POLICYWATCH_TAXONOMY_FILE", str(extra))
    with pytest.raises(TaxonomyError, match="broken.yaml"):
        taxonomy_for(load_settings())
