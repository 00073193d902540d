"""The noise rules' cases, read from ``cases/*.yaml``: one parametrised test for all of them.

Each file holds ``cases``; a case has a ``name``, a ``before`` text and either an ``after`` text or
``edit`` (a list of [old, new] replacements that turn ``before`` into the new text), optionally the
``recent`` versions before the parent (oldest first, each a text or an ``edit`` list of the same
kind), and what is expected: ``significance``, optionally ``reason`` (a substring of one of the
reasons), ``reasons`` (the exact list) and ``flapping``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from changes.analysis import analyse

CASES = Path(__file__).parent / "cases"


def _text(before: str, spec: str | list) -> str:
    if isinstance(spec, str):
        return spec
    text = before
    for old, new in spec:
        assert old in text, f"{old!r} is not in the text it should replace"
        text = text.replace(old, new)
    return text


def _cases():
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            yield pytest.param(case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize("case", list(_cases()))
def test_case(case):
    before = case["before"]
    after = _text(before, case["after"] if "after" in case else case["edit"])
    recent = [_text(before, r) for r in case.get("recent", [])]
    analysis = analyse(before, after, recent)
    assert analysis.significance == case["significance"], analysis.reasons
    if "reason" in case:
        assert any(case["reason"] in r for r in analysis.reasons), analysis.reasons
    if "reasons" in case:
        assert analysis.reasons == case["reasons"]
    if "flapping" in case:
        assert analysis.details["flapping"] is case["flapping"]
    if analysis.significance == "cosmetic":
        assert analysis.topics == []
