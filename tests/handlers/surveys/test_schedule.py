"""Opening and closing a survey (set in the dashboard): starts, resumes and scenes obey it;
answers already given are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config import voice_texts as T
from handlers.actor import Actor
from handlers.inbound import Inbound
from handlers.members import on_scan
from handlers.surveys.operations import set_open
from handlers.surveys.queries import is_open, open_default_template, response_of
from handlers.surveys.templates import templates
from models import SurveyResponse
from models.survey_admin import SurveySchedule
from tests.factories import make_ctx, make_union, make_user
from tests.factories_voice import say

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_closed_survey_stops_start_resume_and_scene(session) -> None:
    top = make_union(session, name="省总工会")
    user = make_user(session, union_id=top.id)
    tpl = templates()["brand_recognition"]
    assert is_open(session, tpl) is tpl.active is True
    reply, _ = say(session, user, "问卷", NOW)
    assert "第 1 题" in (reply.text or "")
    resp = response_of(session, "brand_recognition", user)
    assert resp is not None
    say(session, user, str(len(resp.plan["roster"]) + 1), NOW)  # 以上都没听说过
    answered = dict(resp.answers)
    assert answered

    assert set_open(session, tpl, False, NOW, Actor.admin("admin")) is True
    assert session.get(SurveySchedule, tpl.key).changed_by == "admin"  # the actor's label
    assert is_open(session, tpl) is False and open_default_template(session) is None
    reply, _ = say(session, user, "4", NOW + timedelta(minutes=1))  # mid-survey: the dialogue ends
    assert reply.text == T.SURVEY_CLOSED
    assert resp.answers == answered and resp.status == "in_progress"  # nothing lost, nothing added
    reply, _ = say(session, user, "问卷", NOW + timedelta(minutes=2))
    assert reply.text == T.SURVEY_NONE
    scan = Inbound(openid=user.openid, kind="event", created_at=NOW, event="SCAN",
                   event_key="survey:brand_recognition:G")  # fmt: skip
    assert on_scan(make_ctx(session, user, NOW), scan).text == T.SURVEY_SCENE_UNKNOWN

    assert set_open(session, tpl, True, NOW, Actor.admin("admin")) is False
    reply, _ = say(session, user, "问卷", NOW + timedelta(minutes=3))
    assert "欢迎回来" in (reply.text or "")  # resumes where it stopped
    assert session.get(SurveyResponse, resp.id) is resp
