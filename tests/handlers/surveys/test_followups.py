"""How many aware brands a ballot rates comes from the index's own parameter,
``recognition_index.rating_followups_per_ballot`` in config/recognition.yaml, not a second copy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from config.recognition import default_config
from handlers.surveys import operations
from handlers.surveys.queries import response_of
from handlers.surveys.templates import TemplateError, parse_template
from tests.factories import make_brand, make_union, make_user
from tests.factories_voice import say

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("followups", [2, 4])
def test_ballot_rates_as_many_brands_as_the_index_config_says(session, monkeypatch, followups: int) -> None:
    cfg = dataclasses.replace(default_config(), followups_per_ballot=followups)
    monkeypatch.setattr(operations, "default_config", lambda: cfg)
    top = make_union(session, name="省总工会")
    base = make_union(session, top, name="机械厂工会")
    for name in ("工惠乐学", "查保促", "职工书屋", "匠心驿站", "娘家人", "暖心驿站"):
        make_brand(session, top, name=name)
    user = make_user(session, union_id=base.id)
    say(session, user, "问卷", NOW)
    resp = response_of(session, "brand_recognition", user)
    assert resp is not None
    real = [i + 1 for i, item in enumerate(resp.plan["roster"]) if item["id"] is not None]
    say(session, user, ",".join(map(str, real)), NOW)
    assert len(real) == 6 and len(resp.plan["rated"]) == followups


def test_a_template_cannot_set_its_own_follow_up_count() -> None:
    block = {"id": "rate", "type": "brand_ratings", "from": "aware", "max_brands": 3,
             "items": [{"id": "q1", "type": "scale", "text": "{brand}?"}]}  # fmt: skip
    roster = {"id": "aware", "type": "roster", "text": "听说过哪些？"}
    with pytest.raises(TemplateError, match="rating_followups_per_ballot"):
        parse_template({"key": "t", "title": "t", "questions": [roster, block]})
