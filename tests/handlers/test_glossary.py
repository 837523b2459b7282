"""One glossary: every label users read for a code is defined once, with one text."""

from __future__ import annotations

import pytest

from handlers import glossary
from handlers.glossary import GlossaryError, merge


def test_a_key_given_two_texts_is_an_error() -> None:
    with pytest.raises(GlossaryError, match=r"'survey\.open'.*开启问卷.*打开问卷"):
        merge({"survey.open": "开启问卷"}, {"survey.open": "打开问卷"})


def test_a_key_repeated_with_the_same_text_is_one_entry() -> None:
    assert merge({"a": "甲"}, {"a": "甲", "b": "乙"}) == {"a": "甲", "b": "乙"}


def test_the_action_tables_do_not_contradict_each_other() -> None:
    tables = [
        glossary.ACCOUNT_ACTIONS,
        glossary.PROGRAMME_ACTIONS,
        glossary.RECOGNITION_ACTIONS,
        glossary.SUGGESTION_ACTIONS,
        glossary.SURVEY_ACTIONS,
        glossary.LEARNING_ACTIONS,
    ]
    assert merge(*tables) == glossary.ACTION_LABELS
    assert sum(len(t) for t in tables) == len(glossary.ACTION_LABELS)  # no key in two domains


def test_an_action_without_a_label_reads_as_its_code() -> None:
    assert glossary.action_label("suggestion.answer") == "答复建议"
    assert glossary.action_label("unknown.action") == "unknown.action"


def test_the_domains_read_their_labels_from_the_glossary() -> None:
    """The recognition maths and the survey results have no label tables of their own."""
    from handlers.recognition import report
    from handlers.surveys import results

    # report imports the tables without re-exporting them: read its namespace.
    assert vars(report)["STATUS_LABELS"] is glossary.RECOGNITION_STATUS_LABELS
    assert vars(report)["TIER_LABELS"] is glossary.TIER_LABELS
    assert vars(report)["GROUP_LABELS"] is glossary.GROUP_LABELS
    assert results.GROUP_LABELS is glossary.SURVEY_GROUP_LABELS


def test_both_group_vocabularies_name_the_same_groups() -> None:
    assert set(glossary.GROUP_LABELS) == set(glossary.SURVEY_GROUP_LABELS) == {"W", "S", "G"}
