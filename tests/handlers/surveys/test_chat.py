from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handlers import measures
from handlers.errors import OperationError
from handlers.inbound import Inbound
from handlers.members import on_scan
from handlers.surveys.answers import BadAnswer, parse_answer
from handlers.surveys.queries import response_of
from handlers.surveys.templates import Step, TemplateError, parse_template
from models import Conversation, SurveyResponse
from tests.factories import make_brand, make_ctx, make_union, make_user, standard_registry
from tests.factories_voice import say

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def area(session):
    top = make_union(session, name="省总工会")
    base = make_union(session, top, name="机械厂工会")
    brands = [
        make_brand(session, top, name=n)
        for n in ("工惠乐学", "查保促", "职工书屋", "匠心驿站", "娘家人", "暖心驿站")
    ]
    return base, brands


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[measures.MeasuredResponse]:
    got: list[measures.MeasuredResponse] = []
    monkeypatch.setattr(standard_registry(), "measure_sinks", [lambda _s, r: got.append(r)])
    return got


def _roster(session, user):
    resp = response_of(session, "brand_recognition", user)
    return resp, resp.plan["roster"]


def test_full_flow_with_every_kind_of_bad_answer(session, area, published) -> None:
    base = area[0]
    user = make_user(session, union_id=base.id)
    reply, _ = say(session, user, "问卷", NOW)
    assert "以下品牌您听说过哪些" in (reply.text or "") and "第 1 题" in (reply.text or "")
    resp, roster = _roster(session, user)
    assert len(roster) == 7 and sum(1 for i in roster if i["id"] is None) == 1
    # Bad answers: out of range, nonsense, none + a brand together, empty-ish.
    for bad in ("9", "0", "abc", f"1,{len(roster) + 1}", "，"):
        reply, _ = say(session, user, bad, NOW)
        assert "请回复选项序号" in (reply.text or "") and "以下品牌" in (reply.text or ""), bad
    assert resp.answers == {}
    # Tick every real brand plus the foil, with full-width digits and mixed separators.
    real = [i + 1 for i, item in enumerate(roster) if item["id"] is not None]
    foil = next(i + 1 for i, item in enumerate(roster) if item["id"] is None)
    typed = "、".join(str(c) for c in [*real, foil]).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    reply, _ = say(session, user, typed, NOW)
    assert len(resp.plan["rated"]) == 5  # six known, five chosen at random
    assert "满意吗" in (reply.text or "") and "回复 6 表示说不清" in (reply.text or "")
    for bad in ("7", "十", "-1"):
        reply, _ = say(session, user, bad, NOW)
        assert "1～5" in (reply.text or "")
    reply, _ = say(session, user, "跳过", NOW)
    assert "必答题" in (reply.text or "")
    rated = resp.plan["rated"]
    for b in rated:
        say(session, user, "5", NOW)  # q1
        say(session, user, "说不清", NOW)  # q2
        reply, _ = say(session, user, "11", NOW)  # q3 out of 0–10
        assert "0～10" in (reply.text or "")
        say(session, user, "跳过" if b is rated[-1] else "9", NOW)
    reply, _ = say(session, user, "4", NOW)  # union_service
    assert "参加过" in (reply.text or "")
    reply, _ = say(session, user, "也许", NOW)
    assert "1（是）" in (reply.text or "")
    reply, _ = say(session, user, "是", NOW)
    assert "哪类活动" in (reply.text or "")  # shown because joined = 是
    reply, _ = say(session, user, "1,2,3", NOW)
    assert "最多选 2 项" in (reply.text or "")
    say(session, user, "技能培训，文体活动", NOW)
    reply, _ = say(session, user, "公众", NOW)  # unique partial match of 公众号
    assert "意见或建议" in (reply.text or "")
    reply, _ = say(session, user, "希望多开展技能培训", NOW)
    assert "感谢" in (reply.text or "")
    assert resp.status == "complete" and resp.submitted_at == NOW
    assert resp.answers["activity"] == [1, 2] and resp.answers["channel"] == 1
    assert resp.answers[f"q1:{rated[0]['id']}"] == 5 and resp.answers[f"q2:{rated[0]['id']}"] == "dk"
    assert resp.answers[f"q3:{rated[-1]['id']}"] is None
    assert session.scalar(select(Conversation).where(Conversation.user_id == user.id)) is None
    # Published once, in the contract's shape.
    (m,) = published
    assert m.user_id == user.id and m.group is None and m.channel == "neutral_open"
    assert m.roster is not None and m.roster.foil_ticked and len(m.roster.aware_brand_ids) == 6
    assert [r.brand_id for r in m.ratings] == [b["id"] for b in rated]
    assert m.ratings[0].q1_overall == 5 and m.ratings[0].q2_vs_expect is None
    assert m.ratings[-1].q3_recommend is None and m.ratings[0].q3_recommend == 9
    assert m.source_key == f"survey:brand_recognition:{resp.respondent_code}"
    # Once per person.
    reply, _ = say(session, user, "问卷", NOW)
    assert "已经完成" in (reply.text or "") and len(published) == 1


def _start_no_brands(session, area):
    user = make_user(session, union_id=area[0].id)
    say(session, user, "问卷", NOW)
    resp, roster = _roster(session, user)
    return user, resp, roster


def test_back_skip_and_hidden_question(session, area, published) -> None:
    user, resp, roster = _start_no_brands(session, area)
    reply, _ = say(session, user, "上一题", NOW)
    assert "已经是第一题" in (reply.text or "")
    say(session, user, str(len(roster) + 1), NOW)  # 以上都没听说过
    assert resp.answers["aware"] == [] and resp.plan["rated"] == []
    reply, _ = say(session, user, "3", NOW)
    assert "参加过" in (reply.text or "")
    say(session, user, "1", NOW)  # joined = 是 → activity shown
    reply, _ = say(session, user, "上一题", NOW)
    assert "参加过" in (reply.text or "") and "joined" not in resp.answers
    say(session, user, "2", NOW)  # 否 → activity hidden
    reply, _ = say(session, user, "2", NOW)  # channel
    reply, _ = say(session, user, "跳过", NOW)  # optional comment
    assert "感谢" in (reply.text or "")
    assert "activity" not in resp.answers and resp.answers["comment"] is None
    assert resp.answers["union_service"] == 3 and published[0].ratings == ()


def test_back_over_the_roster_changes_the_brands(session, area) -> None:
    user, resp, roster = _start_no_brands(session, area)
    first = next(i + 1 for i, item in enumerate(roster) if item["id"] is not None)
    say(session, user, str(first), NOW)
    say(session, user, "5", NOW)
    say(session, user, "上一题", NOW)
    say(session, user, "上一题", NOW)
    assert resp.answers == {}
    say(session, user, str(len(roster) + 1), NOW)
    assert resp.plan["rated"] == [] and list(resp.answers) == ["aware"]


def test_cancel_resume_and_expiry(session, area) -> None:
    user, resp, roster = _start_no_brands(session, area)
    say(session, user, str(len(roster) + 1), NOW)
    reply, _ = say(session, user, "取消", NOW + timedelta(minutes=1))
    assert session.scalar(select(Conversation).where(Conversation.user_id == user.id)) is None
    reply, _ = say(session, user, "问卷", NOW + timedelta(hours=5))
    assert "欢迎回来" in (reply.text or "") and "所在工会的服务" in (reply.text or "")
    say(session, user, "4", NOW + timedelta(hours=5))
    # Walk away; a day later the conversation has expired and the response is too old to resume.
    later = NOW + timedelta(hours=30)
    reply, _ = say(session, user, "5", later)  # no conversation: routed, not recorded as an answer
    assert resp.answers.get("joined") is None
    reply, _ = say(session, user, "问卷", later)
    assert "以下品牌" in (reply.text or "") and resp.answers == {} and resp.status == "in_progress"
    assert session.scalars(select(SurveyResponse).where(SurveyResponse.user_id == user.id)).all() == [resp]


def test_one_response_per_person_is_a_db_constraint(session, area) -> None:
    user = make_user(session)
    session.add(SurveyResponse(survey_key="k", user_id=user.id, respondent_code="R1"))
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(SurveyResponse(survey_key="k", user_id=user.id, respondent_code="R2"))
        session.flush()


def test_scene_sets_group(session, area, published) -> None:
    user = make_user(session)
    ctx = make_ctx(session, user, NOW)
    inbound = Inbound(openid=user.openid, kind="event", created_at=NOW, event="SCAN",
                      event_key="survey:brand_recognition:G")  # fmt: skip
    reply = on_scan(ctx, inbound)
    assert "以下品牌" in (reply.text or "")
    resp, _roster_items = _roster(session, user)
    assert resp.respondent_group == "G" and resp.channel == "neutral_invited"
    reply = on_scan(make_ctx(session, user, NOW), Inbound(openid=user.openid, kind="event", created_at=NOW,
                    event="SCAN", event_key="survey:nope:G"))  # fmt: skip
    assert "不存在" in (reply.text or "")


@pytest.mark.parametrize(
    ("qtype", "extra", "text", "expected"),
    [
        ("single", {"options": ["甲", "乙", "丙"]}, "２", 2),
        ("single", {"options": ["甲", "乙", "丙"]}, "乙", 2),
        ("multiple", {"options": ["甲", "乙", "丙"], "max": 3}, "1 3", [1, 3]),
        ("multiple", {"options": ["甲", "乙", "丙"], "max": 3}, "13", [1, 3]),
        ("multiple", {"options": ["甲", "乙", "丙"], "max": 3}, "3，1，1", [1, 3]),
        ("yesno", {}, "否", 2),
        ("yesno", {}, "没有", 2),
        ("scale", {}, "５", 5),
        ("scale", {"dont_know": True}, "6", "dk"),
        ("text", {"max_chars": 5}, " 好 ", "好"),
    ],
)
def test_parse_answer(qtype, extra, text, expected) -> None:
    tpl = parse_template(
        {"key": "t", "title": "t", "questions": [{"id": "a", "type": qtype, "text": "?", **extra}]}
    )
    step = Step("a", tpl.questions[0])
    assert parse_answer(step, SurveyResponse(plan={}, answers={}), text) == expected


@pytest.mark.parametrize(
    ("qtype", "extra", "text"),
    [
        ("single", {"options": ["甲", "乙"]}, "3"),
        ("single", {"options": ["甲乙", "甲丙"]}, "甲"),  # ambiguous
        ("multiple", {"options": ["甲", "乙", "丙"], "max": 2}, "1,2,3"),
        ("scale", {}, "6"),
        ("scale", {}, "说不清"),
        ("text", {"max_chars": 3}, "太长了太长了"),
    ],
)
def test_parse_answer_rejects(qtype, extra, text) -> None:
    tpl = parse_template(
        {"key": "t", "title": "t", "questions": [{"id": "a", "type": qtype, "text": "?", **extra}]}
    )
    with pytest.raises(BadAnswer):
        parse_answer(Step("a", tpl.questions[0]), SurveyResponse(plan={}, answers={}), text)


@pytest.mark.parametrize(
    "questions",
    [
        [],
        [{"id": "a", "type": "nope", "text": "?"}],
        [{"id": "a", "type": "single", "text": "?", "options": ["x"]}],
        [{"id": "a", "type": "text", "text": "?"}, {"id": "a", "type": "text", "text": "?"}],
        [{"id": "b", "type": "text", "text": "?", "show_if": {"question": "later", "in": ["x"]}}],
    ],
)
def test_bad_templates(questions) -> None:
    with pytest.raises(TemplateError) as refused:
        parse_template({"key": "t", "title": "t", "questions": questions})
    assert isinstance(refused.value, OperationError)  # shown to the user as it is, like any refusal


def test_roster_random_order_is_neutral(session, area) -> None:
    user = make_user(session, union_id=area[0].id)
    orders = {
        tuple(i.name for i in standard_registry().roster(session, user, random.Random(seed)))
        for seed in range(5)
    }
    assert len(orders) > 1
