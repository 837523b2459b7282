from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.actor import SYSTEM, Actor
from handlers.clock import add_working_days
from handlers.registry import JobContext
from handlers.suggestions import chat, flows, jobs, numbering, queries
from handlers.suggestions import operations as sg
from handlers.suggestions.errors import SuggestionError
from handlers.suggestions.operations import user_actor
from models import Conversation, Role, Suggestion, SuggestionState
from tests.factories import make_brand, make_union, make_user, standard_registry
from tests.factories_voice import say

S = SuggestionState
# A Monday, 10:00 in Shanghai.
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def tree(session):
    top = make_union(session, name="省总工会")
    city = make_union(session, top, name="市总工会")
    base = make_union(session, city, name="机械厂工会")
    return top, city, base


def test_working_days_skip_weekends() -> None:
    friday = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert add_working_days(friday, 1) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert add_working_days(MONDAY, 5) == MONDAY + timedelta(days=7)
    assert add_working_days(MONDAY, 15) == MONDAY + timedelta(days=21)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("建议：食堂菜品太少", "食堂菜品太少"),
        ("匿名建议：食堂菜品太少", "食堂菜品太少"),
        ("匿名 投诉, 车间太热", "车间太热"),
        ("我要提建议 宿舍热水不够", "宿舍热水不够"),
        ("建议", ""),
        ("意见一下：  班车太早", "班车太早"),
        ("食堂菜品太少", "食堂菜品太少"),
        ("建议提高夜班补贴", "提高夜班补贴"),
        ("我想提个意见：想要更多培训", "想要更多培训"),
        ("反映一下 宿舍漏水", "宿舍漏水"),
    ],
)
def test_strip_command(raw: str, expected: str) -> None:
    assert chat.strip_command(raw) == expected


def test_one_message_submit_files_ticket_category_and_union(session, tree) -> None:
    _top, _city, base = tree
    user = make_user(session, union_id=base.id)
    reply, ctx = say(session, user, "建议：食堂菜品太少，希望增加午餐品种。", MONDAY)
    m = re.search(r"JY(\d{8})-(\d{4})", reply.text or "")
    assert m and m.group(1) == "20261123"
    s = queries.find_ticket(session, m.group(0))
    assert s is not None
    assert s.user_id == user.id and not s.anonymous
    assert s.content == "食堂菜品太少，希望增加午餐品种。"
    assert s.category == "职工福利"
    assert s.union_id == base.id
    assert s.state == S.SUBMITTED
    assert s.due_at == MONDAY + timedelta(days=7)
    assert [e.action for e in s.events] == ["submit"]
    assert not ctx.redact_inbound


def test_dialogue_submit_and_brand_routing(session, tree) -> None:
    top, city, base = tree
    brand = make_brand(session, city, name="工惠乐学")
    user = make_user(session, union_id=base.id)
    reply, _ = say(session, user, "建议", MONDAY)
    assert "请直接输入您的建议" in (reply.text or "")
    reply, _ = say(session, user, "工惠乐学的课程能不能多开晚上的培训班", MONDAY)
    s = session.scalar(select(Suggestion).where(Suggestion.user_id == user.id))
    assert s is not None and s.brand_id == brand.id and s.union_id == city.id
    assert s.category == "培训"
    # No union at all → the top union.
    loner = make_user(session)
    say(session, loner, "建议：厂区安全隐患要排查", MONDAY)
    s2 = session.scalar(select(Suggestion).where(Suggestion.user_id == loner.id))
    assert s2 is not None and s2.union_id == top.id and s2.category == "安全生产"


def test_long_or_cut_off_text_is_confirmed_first(session, tree) -> None:
    user = make_user(session, union_id=tree[2].id)
    reply, _ = say(session, user, "建议：车间里的空调和", MONDAY)
    assert "请确认" in (reply.text or "")
    assert session.scalar(select(Suggestion)) is None
    reply, _ = say(session, user, "随便说点", MONDAY)
    assert "1 确认" in (reply.text or "")
    reply, _ = say(session, user, "2", MONDAY)
    assert "请直接输入" in (reply.text or "")
    reply, _ = say(session, user, "车" * 300, MONDAY)
    assert "请确认" in (reply.text or "")
    reply, _ = say(session, user, "１", MONDAY)  # full-width digit
    assert "已提交" in (reply.text or "")
    assert session.scalar(select(Suggestion)).content == "车" * 300


def test_limits(session, tree) -> None:
    user = make_user(session, union_id=tree[2].id)
    reply, _ = say(session, user, "建议：好", MONDAY)
    assert "太短" in (reply.text or "")
    reply, _ = say(session, user, "建" * 1001, MONDAY)  # still in the dialogue
    assert "太长" in (reply.text or "") and "1001" in (reply.text or "")
    say(session, user, "取消", MONDAY)
    for i in range(10):
        reply, _ = say(session, user, f"建议：第{i}条意见，食堂饭菜", MONDAY)
        assert "已提交" in (reply.text or "")
    reply, _ = say(session, user, "建议：第十一条意见，食堂饭菜", MONDAY)
    assert "每日上限" in (reply.text or "")
    reply, _ = say(session, user, "建议：第二天的意见，食堂饭菜", MONDAY + timedelta(days=1))
    assert "已提交" in (reply.text or "")


def _cadre(session, union, role=Role.CADRE):
    return user_actor(make_user(session, role=role, union_id=union.id))


def _filed(session, tree, text="建议：食堂菜品太少"):
    user = make_user(session, union_id=tree[2].id)
    say(session, user, text, MONDAY)
    s = session.scalar(select(Suggestion).where(Suggestion.user_id == user.id))
    assert s is not None
    return user, s


def test_every_transition_and_history(session, tree) -> None:
    base = tree[2]
    _user, s = _filed(session, tree)
    cadre = _cadre(session, base)
    t = MONDAY + timedelta(hours=1)
    sg.accept(session, s, cadre, t)
    assert s.state == S.ACCEPTED and s.due_at == add_working_days(t, 15)
    sg.start(session, s, cadre, t)
    assert s.state == S.IN_PROGRESS
    job = sg.answer(session, s, cadre, "已协调食堂增加菜品。", t)
    assert s.state == S.ANSWERED and s.due_at is None
    assert job is not None and job.name == "suggestion_answer"
    sg.rate(session, s, "unsatisfied", t)
    assert s.state == S.IN_PROGRESS and s.reopen_count == 1 and s.rating is None
    sg.answer(session, s, cadre, "下周起每天增加两个菜。", t)
    sg.rate(session, s, "unsatisfied", t)  # reopens only once
    assert s.state == S.RATED and s.rating == "unsatisfied"
    assert [(e.action, e.from_state, e.to_state) for e in s.events] == [
        ("submit", None, "submitted"),
        ("accept", "submitted", "accepted"),
        ("start", "accepted", "in_progress"),
        ("answer", "in_progress", "answered"),
        ("reopen", "answered", "in_progress"),
        ("answer", "in_progress", "answered"),
        ("rate", "answered", "rated"),
    ]
    assert s.events[1].actor_id == cadre.user_id


def test_the_event_records_a_wechat_users_id_only(session, tree) -> None:
    """Cadres and admins acting in WeChat are recorded by user id; the dashboard, the system and
    the author (filing, rating) are not."""
    _u, s = _filed(session, tree)
    sg.accept(session, s, Actor.admin("county", "滨城区总工会"), MONDAY)
    admin = make_user(session, role=Role.ADMIN)
    sg.start(session, s, user_actor(admin), MONDAY)
    sg.answer(session, s, SYSTEM, "已处理。", MONDAY)
    sg.rate(session, s, "satisfied", MONDAY)
    assert [(e.action, e.actor_id) for e in s.events] == [
        ("submit", None),
        ("accept", None),
        ("start", admin.id),
        ("answer", None),
        ("rate", None),
    ]


def test_answer_straight_from_accepted_and_satisfied(session, tree) -> None:
    _u, s = _filed(session, tree)
    cadre = _cadre(session, tree[0], Role.CADRE)  # the top union acts on its subtree
    sg.accept(session, s, cadre, MONDAY)
    sg.answer(session, s, cadre, "好的", MONDAY)
    sg.rate(session, s, "satisfied", MONDAY)
    assert s.state == S.RATED and s.rating == "satisfied"


def test_reject_needs_reason_and_only_from_submitted(session, tree) -> None:
    _u, s = _filed(session, tree)
    admin = user_actor(make_user(session, role=Role.ADMIN))
    with pytest.raises(SuggestionError, match="原因"):
        sg.reject(session, s, admin, "  ", MONDAY)
    sg.reject(session, s, admin, "不属于工会职责范围", MONDAY)
    assert s.state == S.REJECTED and s.reason == "不属于工会职责范围" and s.due_at is None
    for op in (sg.accept, sg.start):
        with pytest.raises(SuggestionError, match="不能执行"):
            op(session, s, admin, MONDAY)
    with pytest.raises(SuggestionError):
        sg.rate(session, s, "satisfied", MONDAY)


def test_illegal_transitions_and_permissions(session, tree) -> None:
    top, _city, base = tree
    _u, s = _filed(session, tree)
    other = make_union(session, top, name="别的市总")
    outsider = _cadre(session, other)
    worker = make_user(session, union_id=base.id)
    with pytest.raises(SuggestionError, match="无权"):
        sg.accept(session, s, outsider, MONDAY)
    with pytest.raises(SuggestionError, match="无权"):
        sg.accept(session, s, user_actor(worker), MONDAY)
    cadre = _cadre(session, base)
    with pytest.raises(SuggestionError, match="不能执行"):
        sg.start(session, s, cadre, MONDAY)
    with pytest.raises(SuggestionError, match="不能执行"):
        sg.answer(session, s, cadre, "x", MONDAY)
    with pytest.raises(SuggestionError, match="不能执行"):
        sg.rate(session, s, "satisfied", MONDAY)
    sg.accept(session, s, cadre, MONDAY)
    with pytest.raises(SuggestionError, match="不能执行"):
        sg.reject(session, s, cadre, "晚了", MONDAY)


def test_transfer(session, tree) -> None:
    _top, city, base = tree
    _u, s = _filed(session, tree)
    cadre = _cadre(session, base)
    other = make_union(session, city, name="后勤工会")
    sg.transfer(session, s, cadre, other, MONDAY, note="属后勤管理")
    assert s.union_id == other.id and s.state == S.SUBMITTED
    assert s.events[-1].action == "transfer" and s.events[-1].union_id == other.id
    with pytest.raises(SuggestionError, match="无权"):
        sg.accept(session, s, cadre, MONDAY)  # no longer theirs
    with pytest.raises(SuggestionError, match="无需转办"):
        sg.transfer(session, s, _cadre(session, city), other, MONDAY)


def test_escalation_is_idempotent_and_climbs(session, tree) -> None:
    top, city, _base = tree
    _u, s = _filed(session, tree)
    late = MONDAY + timedelta(days=7, minutes=1)
    assert sg.escalate_overdue(session, SYSTEM, MONDAY + timedelta(days=6)) == []
    assert sg.escalate_overdue(session, SYSTEM, late) == [s]
    assert s.union_id == city.id and s.escalations == 1
    assert sg.escalate_overdue(session, SYSTEM, late) == []  # run twice: nothing more
    later = add_working_days(late, 5) + timedelta(minutes=1)
    sg.escalate_overdue(session, SYSTEM, later)
    assert s.union_id == top.id and s.escalations == 2
    even_later = add_working_days(later, 5) + timedelta(minutes=1)
    assert sg.escalate_overdue(session, SYSTEM, even_later) == []
    assert s.union_id == top.id and s.events[-1].action == "overdue"


def test_status_views(session, tree) -> None:
    user, s = _filed(session, tree)
    reply, _ = say(session, user, "我的建议", MONDAY)
    assert s.ticket in (reply.text or "") and "已提交" in (reply.text or "")
    reply, _ = say(session, user, f"查询 {s.ticket.lower()}", MONDAY)
    assert "食堂菜品太少" in (reply.text or "")
    stranger = make_user(session)
    reply, _ = say(session, stranger, f"查询 {s.ticket}", MONDAY)
    assert "食堂" not in (reply.text or "") and "不是您提交的" in (reply.text or "")
    reply, _ = say(session, stranger, "查询 JY20200101-0001", MONDAY)
    assert "未找到" in (reply.text or "")
    reply, _ = say(session, stranger, "我的建议", MONDAY)
    assert "还没有提交过" in (reply.text or "")


class _Api:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_text(self, openid: str, text: str) -> None:
        self.sent.append((openid, text))


def _jctx(session, now, api):
    return JobContext(session=session, api=api, now=now, options={}, jobs=[], registry=standard_registry())


def test_answer_push_within_window_then_rating_by_reply(session, tree) -> None:
    user, s = _filed(session, tree)
    cadre = _cadre(session, tree[2])
    sg.accept(session, s, cadre, MONDAY)
    job = sg.answer(session, s, cadre, "已增加菜品。", MONDAY + timedelta(hours=2))
    assert job is not None
    api = _Api()
    jobs.push_answer(_jctx(session, MONDAY + timedelta(hours=2), api), **job.kwargs)
    jobs.push_answer(_jctx(session, MONDAY + timedelta(hours=2), api), **job.kwargs)  # idempotent
    assert len(api.sent) == 1 and api.sent[0][0] == user.openid and "已增加菜品" in api.sent[0][1]
    reply, _ = say(session, user, "基本满意", MONDAY + timedelta(hours=3))
    assert "感谢" in (reply.text or "")
    assert s.state == S.RATED and s.rating == "basic"


def test_answer_outside_window_delivered_on_next_message(session, tree) -> None:
    user, s = _filed(session, tree)
    cadre = _cadre(session, tree[2])
    sg.accept(session, s, cadre, MONDAY)
    late = MONDAY + timedelta(days=3)
    job = sg.answer(session, s, cadre, "已处理。", late)
    assert job is not None
    api = _Api()
    jobs.push_answer(_jctx(session, late, api), **job.kwargs)
    assert api.sent == [] and s.answer_delivered_at is None
    _reply, ctx = say(session, user, "你好", late + timedelta(hours=1))
    assert [(j.name, j.kwargs) for j in ctx.jobs] == [("suggestion_answer", {"suggestion_id": s.id})]
    jobs.push_answer(_jctx(session, late + timedelta(hours=1), api), **ctx.jobs[0].kwargs)
    assert len(api.sent) == 1 and s.answer_delivered_at is not None
    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
    assert conv is not None and conv.flow == flows.RATE_FLOW
    reply, _ = say(session, user, "3", late + timedelta(hours=2))
    assert "重新转入办理" in (reply.text or "") and s.state == S.IN_PROGRESS


def test_rating_flow_lets_other_messages_through(session, tree) -> None:
    user, s = _filed(session, tree)
    cadre = _cadre(session, tree[2])
    sg.accept(session, s, cadre, MONDAY)
    sg.answer(session, s, cadre, "已处理。", MONDAY)
    reply, _ = say(session, user, f"查询 {s.ticket}", MONDAY)
    assert "请对答复进行评价" in (reply.text or "")
    reply, _ = say(session, user, "帮助", MONDAY)
    assert "使用说明" in (reply.text or "")
    assert s.state == S.ANSWERED
    reply, _ = say(session, user, "２", MONDAY)  # the rating is still open after other messages
    assert "感谢" in (reply.text or "") and s.rating == "basic"
    reply, _ = say(session, user, "2", MONDAY)  # and closed once given
    assert "感谢" not in (reply.text or "")


def test_anonymous_suggestion(session, tree) -> None:
    user = make_user(session, union_id=tree[2].id, openid="o-anon-author")
    reply, ctx = say(session, user, "匿名建议：车间主任经常拖欠加班费", MONDAY)
    assert ctx.redact_inbound
    text = reply.text or ""
    assert "匿名" in text and "不保存您的微信身份" in text
    found = re.search(r"(JY\d{8}-\d{4})，查询码：([0-9A-Z]{4}-[0-9A-Z]{4})", text)
    assert found is not None
    ticket, code = found.groups()
    s = queries.find_ticket(session, ticket)
    assert s is not None and s.anonymous and s.user_id is None and s.category == "薪酬"
    # Not listed under 我的建议; visible by ticket + code only.
    reply, _ = say(session, user, "我的建议", MONDAY)
    assert ticket not in (reply.text or "")
    reply, ctx = say(session, user, f"查询 {ticket}", MONDAY)
    assert "加班费" not in (reply.text or "") and "查询码" in (reply.text or "") and ctx.redact_inbound
    reply, _ = say(session, user, f"查询 {ticket} {code}", MONDAY)
    assert "加班费" in (reply.text or "")
    wrong = ("2" if code[0] != "2" else "3") + code[1:]
    reply, _ = say(session, make_user(session), f"查询 {ticket} {wrong}", MONDAY)
    assert "加班费" not in (reply.text or "")
    # Answered: no push job; read and rated with the code.
    cadre = _cadre(session, tree[2])
    sg.accept(session, s, cadre, MONDAY)
    assert sg.answer(session, s, cadre, "已约谈车间主任。", MONDAY) is None
    reply, ctx = say(session, user, f"查询 {ticket} {code}", MONDAY)
    assert "已约谈" in (reply.text or "") and ctx.redact_inbound
    reply, ctx = say(session, user, "满意", MONDAY)
    assert ctx.redact_inbound and s.state == S.RATED


def test_anonymous_dialogue_redacts_every_step(session, tree) -> None:
    user = make_user(session, union_id=tree[2].id)
    reply, ctx1 = say(session, user, "匿名建议", MONDAY)
    assert "匿名" in (reply.text or "") and ctx1.redact_inbound
    reply, ctx2 = say(session, user, "宿舍的热水器坏了，因为", MONDAY)
    assert "请确认" in (reply.text or "") and ctx2.redact_inbound
    reply, ctx3 = say(session, user, "1", MONDAY)
    assert "匿名建议已提交" in (reply.text or "") and ctx3.redact_inbound
    assert session.scalar(select(Conversation).where(Conversation.user_id == user.id)) is None


def test_router_stripped_text_is_not_stripped_again(session, tree) -> None:
    from handlers.inbound import Inbound
    from nlp import Intent
    from tests.factories import make_ctx

    user = make_user(session, union_id=tree[2].id)
    ctx = make_ctx(session, user, MONDAY)
    inbound = Inbound(
        openid=user.openid, kind="text", created_at=MONDAY, msg_id="x1", content="建议：意见箱坏了"
    )
    chat.suggest_intent(ctx, inbound, Intent(name="suggest", text="意见箱坏了"))
    s = session.scalar(select(Suggestion).where(Suggestion.user_id == user.id))
    assert s is not None and s.content == "意见箱坏了"


@pytest.mark.parametrize(
    ("text", "ticket", "code"),
    [
        ("查询 JY20261121-0042", "JY20261121-0042", None),
        ("查询 jy20261121－0042 查询码：1234", "JY20261121-0042", "1234"),
        ("查询ＪＹ20261121 0042，１２３４", "JY20261121-0042", "1234"),
        ("JY202611210042 5678", "JY20261121-0042", "5678"),
        ("查询 JY20261121-0042 查询码 7k2m-9qxa", "JY20261121-0042", "7K2M9QXA"),
        ("JY20261121-0042 7K2M9QXO", "JY20261121-0042", "7K2M9QX0"),
    ],
)
def test_parse_ticket(text: str, ticket: str | None, code: str | None) -> None:
    assert numbering.parse_ticket(text) == (ticket, code)


def test_anonymous_dialogue_redacts_the_break_out_and_declined_replies(session, tree) -> None:
    user = make_user(session, union_id=tree[2].id)
    say(session, user, "匿名建议", MONDAY)
    reply, ctx = say(session, user, "取消", MONDAY)  # handled by dispatch, not by the flow
    assert "已退出" in (reply.text or "") and ctx.redact_inbound
    reply, ctx = say(session, user, "帮助", MONDAY)  # the dialogue is over: an ordinary message
    assert not ctx.redact_inbound
    # An answered anonymous ticket opens the rating step; a reply it declines is still redacted.
    reply, _ = say(session, user, "匿名建议：宿舍的热水器坏了很久", MONDAY)
    found = re.search(r"(JY\d{8}-\d{4})，查询码：([0-9A-Z]{4}-[0-9A-Z]{4})", reply.text or "")
    assert found is not None
    ticket, code = found.groups()
    s = queries.find_ticket(session, ticket)
    assert s is not None
    cadre = _cadre(session, tree[2])
    sg.accept(session, s, cadre, MONDAY)
    sg.answer(session, s, cadre, "已更换。", MONDAY)
    say(session, user, f"查询 {ticket} {code}", MONDAY)
    reply, ctx = say(session, user, "谢谢", MONDAY)
    assert ctx.redact_inbound and s.state == S.ANSWERED
    # A named author's rating step redacts nothing.
    named = make_user(session, union_id=tree[2].id)
    reply, _ = say(session, named, "建议：食堂增加夜班餐", MONDAY)
    named_s = session.scalar(select(Suggestion).where(Suggestion.user_id == named.id))
    sg.accept(session, named_s, cadre, MONDAY)
    sg.answer(session, named_s, cadre, "已增加。", MONDAY)
    say(session, named, f"查询 {named_s.ticket}", MONDAY)
    reply, ctx = say(session, named, "谢谢", MONDAY)
    assert not ctx.redact_inbound
