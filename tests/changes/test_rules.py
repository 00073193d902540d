"""The rule registry: every rule is applied, once, and names are unique."""

from __future__ import annotations

import pytest

from changes.rules import GRADING, REGISTRY, SET_ASIDE, Rule


def _names(entries) -> list[str]:
    return [n for entry in entries for n in (entry if isinstance(entry, tuple) else (entry,))]


def test_every_registered_rule_is_applied_once():
    applied = _names(SET_ASIDE) + _names(GRADING)
    assert sorted(applied) == sorted(REGISTRY) and len(set(applied)) == len(applied)


def test_two_rules_cannot_share_a_name():
    with pytest.raises(ValueError, match="typo"):

        class AnotherTypo(Rule):
            name = "typo"
