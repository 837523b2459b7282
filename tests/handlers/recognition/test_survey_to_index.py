"""The standing recognition survey, answered in chat, feeds the open rating campaign's index."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.surveys.operations import measured_response
from handlers.surveys.queries import response_of
from handlers.surveys.templates import templates
from models.recognition import RecognitionEvent
from tests.factories import make_user, standard_registry
from tests.factories_voice import say
from tests.handlers.recognition.conftest import T0, make_campaign


def _answer_everything(session: Session, user) -> None:
    reply, _ = say(session, user, "问卷", T0)
    for _ in range(60):
        text = reply.text or ""
        if "感谢" in text:
            return
        if "以下品牌您听说过哪些" in text:
            resp = response_of(session, "brand_recognition", user)
            assert resp is not None
            roster = resp.plan["roster"]
            answer = ",".join(str(i + 1) for i, item in enumerate(roster) if item["id"] is not None)
        elif "0～10" in text:
            answer = "8"
        elif "1～5" in text or "满意" in text:
            answer = "4"
        else:
            answer = "跳过"
        reply, _ = say(session, user, answer, T0)
        if "必答题" in (reply.text or ""):
            reply, _ = say(session, user, "1", T0)
    raise AssertionError("survey did not finish")


def test_survey_answers_become_roster_and_rating_events(session: Session, brands) -> None:
    campaign = make_campaign(session, "rating")
    worker = make_user(session, union_id=brands[0].union_id, union_source="member")
    _answer_everything(session, worker)
    events = session.scalars(
        select(RecognitionEvent).where(RecognitionEvent.campaign_id == campaign.id)
    ).all()
    kinds = sorted(e.kind for e in events)
    assert kinds.count("roster_ballot") == 1
    assert kinds.count("rating") >= 1
    ballot = next(e for e in events if e.kind == "roster_ballot")
    assert ballot.grp == "W" and ballot.channel == "neutral_open" and ballot.payload["aware"]
    # Delivered again (a retried publish): nothing new is recorded.
    before = len(events)
    resp = response_of(session, "brand_recognition", worker)
    assert resp is not None
    measured = measured_response(templates()["brand_recognition"], resp)
    assert measured is not None
    standard_registry().publish(session, measured)
    after = session.scalars(select(RecognitionEvent).where(RecognitionEvent.campaign_id == campaign.id)).all()
    assert len(after) == before
