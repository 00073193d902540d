"""The analysis card of a provision instance: what its clauses permit, prohibit or reserve, whether the
vendor decides alone, the notice it gives, and the regulations in play; built by rules over the clause
text, every statement citing the clause it comes from."""

from __future__ import annotations

import re

from changes.provisions import Instance, ProvisionType

# (what the clause does, the pattern that says so); a clause gets the first that matches
ACTIONS = (
    ("reserves", re.compile(r"\breserves? (all |the |its )?rights?\b", re.I)),
    (
        "prohibits",
        re.compile(
            r"\b(may not|must not|shall not|cannot|can't|do not|don't|never|prohibit\w*"
            r"|not (permitted|allowed)|forbid\w*|no (one|user) may)\b",
            re.I,
        ),
    ),
    ("requires", re.compile(r"\b(must|shall|are required to|is required to|have to)\b", re.I)),
    ("permits", re.compile(r"\b(may|can|is permitted|are permitted|allows?|allowed)\b", re.I)),
)
UNILATERAL = re.compile(
    r"\b(sole|absolute|own|exclusive) discretion\b|\bin (our|its|\w+['’]s) (sole |reasonable |absolute )?"
    r"(judg(e)?ment|opinion|determination)\b|\bas (we|it) (determine|deem)s?\b|\bwe (determine|deem)\b",
    re.I,
)
NOTICE = re.compile(
    r"\b(\d+|seven|fifteen|thirty|sixty|ninety)\s*(\(\d+\)\s*)?(calendar |business )?days['’]?\s*"
    r"(advance |prior )?notice\b|\b(advance|prior|reasonable) notice\b|\bnotify\b|\bnotice of\b",
    re.I,
)


def card(kind: ProvisionType, instance: Instance) -> dict:
    """The card of ``instance`` (of provision type ``kind``): statements, each with the clause it cites."""
    statements = []
    for clause in instance.clauses:
        action = next((name for name, pattern in ACTIONS if pattern.search(clause)), None)
        if action:
            statements.append({"says": action, "clause": clause})
        if UNILATERAL.search(clause):
            statements.append({"says": "decided by the vendor alone", "clause": clause})
        if NOTICE.search(clause):
            statements.append({"says": "notice given", "clause": clause})
    return {
        "provision": kind.id,
        "label": kind.label,
        "heading": instance.heading,
        "regulations": list(kind.regulations),
        "statements": statements,
    }
