"""One change, analysed: sections, counts, significance with reasons, topics and summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from changes.compare import SectionChange, compare_sections
from changes.provisions import Catalog
from changes.rules import Context, grade
from changes.summary import summarise
from changes.taxonomy import Taxonomy, load_taxonomy
from policywatch.verdicts import Significance


@dataclass
class Analysis:
    """What a Change row stores."""

    significance: Significance
    reasons: list[str]
    topics: list[str]
    summary: str
    details: dict
    provisions: list[str] = field(default_factory=list)


def counts(sections: list[SectionChange]) -> dict:
    """Words and sentences added and removed, and sections touched."""
    words_added = words_removed = 0
    for section in sections:
        added, removed = section.unpaired
        words_added += sum(len(s.split()) for s in added)
        words_removed += sum(len(s.split()) for s in removed)
        for change in section.changed:
            words_added += sum(len(text.split()) for op, text in change["diff"] if op == "insert")
            words_removed += sum(len(text.split()) for op, text in change["diff"] if op == "delete")
    return {
        "words_added": words_added,
        "words_removed": words_removed,
        "sentences_added": sum(len(s.added) for s in sections),
        "sentences_removed": sum(len(s.removed) for s in sections),
        "sections_touched": len(sections),
    }


def analyse(
    parent: str,
    text: str,
    recent: Sequence[str] = (),
    title: str = "Document",
    taxonomy: Taxonomy | None = None,
    catalog: Catalog | None = None,
    touched: Sequence[str] = (),
) -> Analysis:
    """Compare ``text`` with its ``parent``; ``recent`` are the versions before the parent within the
    flapping window, oldest first; topics come from ``taxonomy`` (the bundled one if None). With a
    provision ``catalog``, ``touched`` are the provisions whose clauses differ: a change of significance
    minor or above records them, and its topics and regulations are theirs (plus the topics no
    provision type belongs to)."""
    sections = compare_sections(parent, text)
    verdict = grade(Context(parent, text, sections, recent))
    significance, reasons = verdict.significance, verdict.reasons
    taxonomy = taxonomy or load_taxonomy()
    alerting = significance.at_least(Significance.MINOR)
    topics = taxonomy.topics_in(_topic_text(sections)) if alerting else []
    provisions = list(touched) if alerting and catalog else []
    regulations = sorted({r for t in topics for r in t.regulations})
    if catalog and alerting:
        topics = catalog.topics_of_change(taxonomy, provisions, [t.id for t in topics])
        regulations = sorted({r for t in topics for r in t.regulations} | catalog.regulations_of(provisions))
    topic_ids = [t.id for t in topics]
    details = {
        "sections": [s.as_dict() for s in sections],
        "counts": counts(sections),
        "topics": [t.as_dict() for t in topics],
        "regulations": regulations,
        "flapping": verdict.flapping,
    }
    return Analysis(
        significance,
        reasons or ["no wording change"],
        topic_ids,
        summarise(title, significance, sections, reasons, [t.label for t in topics]),
        details,
        provisions,
    )


def _topic_text(sections: list[SectionChange]) -> list[str]:
    texts = []
    for section in sections:
        if section.added or section.removed or section.changed:
            texts.append(" ".join(section.path))
            texts += section.added + section.removed
    return texts
