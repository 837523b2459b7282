"""The one policy for acting on what the router understood, with a router that returns a chosen
Intent (so the tests do not depend on today's router's confidence numbers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers import intent_gates
from handlers import understanding as u
from handlers.dispatch import handle
from handlers.inbound import Inbound
from handlers.recognition.campaigns import create_campaign
from models import Conversation, Role, Suggestion
from models.programme import BindAttempt, ProgressReport
from models.recognition import RecognitionEvent
from nlp import Intent
from tests.factories import make_brand, make_ctx, make_union, make_user

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
POLICY = u.policy()
MIDDLE = (POLICY.ask + POLICY.act) / 2


class FixedRouter:
    """Answers every message with the same Intent."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent

    def route(self, text: str) -> Intent:
        return self.intent


@pytest.fixture
def world(session: Session):
    union = make_union(session)
    brands = [make_brand(session, union=union, name=n) for n in ("工惠乐学", "幸福驿站", "职工书屋")]
    create_campaign(session, "评选", "vote", [b.name for b in brands], T0 - timedelta(days=1), max_choices=2)
    return brands


def _say(session: Session, user, text: str, intent: Intent | None = None, n: list[int] = [0]):  # noqa: B006
    n[0] += 1
    ctx = make_ctx(session, user, T0)
    if intent is not None:
        ctx.router = FixedRouter(intent)  # type: ignore[assignment]  # a stub with only the Router's route()
    reply = handle(ctx, Inbound(user.openid, "text", T0, msg_id=f"u{n[0]}", content=text))
    return reply.text or ""


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _flow(session: Session, user) -> str | None:
    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
    return conv.flow if conv else None


def test_thresholds_come_from_the_policy_file() -> None:
    data = yaml.safe_load((Path(u.__file__).parent.parent / "config/router/policy.yaml").read_text("utf-8"))
    assert (POLICY.act, POLICY.ask) == (data["act"], data["ask"])
    assert POLICY.recording_intents == {"vote", "suggest", "bind", "progress"}
    assert 0 < POLICY.ask < POLICY.act <= 1


def test_an_unsure_vote_asks_back_and_the_answer_resumes_it(session, world) -> None:
    user = make_user(session)
    unsure = Intent("vote", brand="幸福驿站", confidence=MIDDLE, alternatives=("status", "suggest"))
    reply = _say(session, user, "投票给幸福驿站", unsure)
    assert "1. 给「幸福驿站」投票" in reply and "2. 查询「幸福驿站」的进展" in reply
    assert _count(session, RecognitionEvent) == 0 and _flow(session, user) == u.FLOW
    assert "投上一票" in _say(session, user, "1")
    assert _count(session, RecognitionEvent) == 1 and _flow(session, user) is None


def test_the_words_of_an_option_choose_it(session, world) -> None:
    user = make_user(session)
    unsure = Intent("vote", brand="幸福驿站", confidence=MIDDLE, alternatives=("status",))
    _say(session, user, "投票给幸福驿站", unsure)
    assert "幸福驿站" in _say(session, user, "查询")
    assert _count(session, RecognitionEvent) == 0


def test_a_sure_explicit_vote_acts_at_once(session, world) -> None:
    user = make_user(session)
    assert "投上一票" in _say(
        session, user, "投票给幸福驿站", Intent("vote", brand="幸福驿站", confidence=POLICY.act)
    )
    assert _count(session, RecognitionEvent) == 1


def test_below_ask_says_what_the_account_can_do_and_keeps_no_flow(session, world) -> None:
    user = make_user(session)
    reply = _say(session, user, "投票给幸福驿站", Intent("vote", brand="幸福驿站", confidence=POLICY.ask / 2))
    assert "没有理解" in reply and "帮助" in reply
    assert _count(session, RecognitionEvent) == 0 and _flow(session, user) is None


def test_other_thresholds_change_the_decision(session, world, monkeypatch) -> None:
    monkeypatch.setattr(
        intent_gates, "policy", lambda: u.Policy(act=0.3, ask=0.1, recording_intents=POLICY.recording_intents)
    )
    user = make_user(session)
    assert "投上一票" in _say(
        session, user, "投票给幸福驿站", Intent("vote", brand="幸福驿站", confidence=0.35)
    )


def test_an_unsure_suggestion_is_filed_only_when_chosen(session, world) -> None:
    user = make_user(session)
    unsure = Intent("suggest", text="食堂饭菜太咸了", confidence=MIDDLE, alternatives=("help",))
    reply = _say(session, user, "食堂饭菜太咸了", unsure)
    assert "1. 把这段话作为建议/投诉提交给工会" in reply and "2. 查看使用说明" in reply
    assert _count(session, Suggestion) == 0
    assert "单号" in _say(session, user, "1")
    assert [s.content for s in session.scalars(select(Suggestion))] == ["食堂饭菜太咸了"]


def test_an_unsure_anonymous_suggestion_is_redacted_from_the_ask_back_on(session, world) -> None:
    """The ask-back of an anonymous suggestion must not leave its first message tied to the sender."""
    user = make_user(session)
    unsure = Intent(
        "suggest", text="食堂承包商克扣饭菜", anonymous=True, confidence=MIDDLE, alternatives=("help",)
    )
    ctx = make_ctx(session, user, T0)
    ctx.router = FixedRouter(unsure)  # type: ignore[assignment]  # a stub with only the Router's route()
    reply = handle(
        ctx, Inbound(user.openid, "text", T0, msg_id="anon-ask", content="我想匿名反映食堂承包商克扣饭菜")
    )
    assert "1." in (reply.text or "") and _count(session, Suggestion) == 0
    assert ctx.redact_inbound
    answer = make_ctx(session, user, T0)
    handle(answer, Inbound(user.openid, "text", T0, msg_id="anon-ask-1", content="1"))
    assert answer.redact_inbound
    filed = session.scalars(select(Suggestion)).one()
    assert filed.anonymous and filed.user_id is None


def test_unsure_binding_and_progress_record_nothing(session, world) -> None:
    cadre = make_user(session, role=Role.CADRE, union_id=world[0].union_id)
    reply = _say(session, cadre, "绑定 ABCD2345", Intent("bind", text="ABCD2345", confidence=MIDDLE))
    assert "1. " in reply and _count(session, BindAttempt) == 0
    _say(session, cadre, "取消")
    unsure = Intent("progress", text="本月开展培训12场", confidence=MIDDLE, alternatives=("suggest",))
    assert "1. 上报工作进度" in _say(session, cadre, "本月开展培训12场", unsure)
    assert _count(session, ProgressReport) == 0


def test_a_question_never_votes_even_when_the_router_is_sure(session, world) -> None:
    user = make_user(session)
    reply = _say(session, user, "幸福驿站怎么样", Intent("vote", brand="幸福驿站", confidence=1.0))
    assert "查询「幸福驿站」的进展" in reply
    assert _count(session, RecognitionEvent) == 0


def test_a_bare_number_outside_a_flow_is_guidance_whatever_the_router_says(session, world) -> None:
    user = make_user(session)
    assert "投3号" in _say(session, user, "2", Intent("vote", number=2, confidence=1.0))
    assert _count(session, RecognitionEvent) == 0 and _flow(session, user) is None


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("4", 4),
        ("5分", 5),
        ("投3号 4分", 4),
        ("对幸福驿站非常满意", 5),
        ("很满意！", 5),
        ("一般吧", 3),
        ("对食堂很不满意，菜里有头发", None),
        ("对工惠乐学很不满意，活动室总是锁着门", None),
        ("满意度调查", None),
        ("工惠乐学★★★★★", 5),
        ("工惠乐学四颗星", 4),
        # The router's score table: 不太满意 is 2, never 满意's 4.
        ("不太满意", 2),
        ("比较满意", 4),
    ],
)
def test_clear_score(session, world, text: str, score: int | None) -> None:
    assert u.clear_score(make_ctx(session), text) == score


def test_a_score_word_the_router_knows_counts_only_in_a_short_message(session, world) -> None:
    ctx = make_ctx(session)
    assert u.clear_score(ctx, "幸福驿站 满分", hint=5) == 5
    assert u.clear_score(ctx, "幸福驿站 满分，但是食堂的饭菜越来越难吃了", hint=5) is None


@pytest.mark.parametrize("text", ["投3号吗", "排第几？", "幸福驿站怎么样", "得了多少票", "如何投票"])
def test_questions(text: str) -> None:
    assert u.is_question(text)


@pytest.mark.parametrize("text", ["投3号", "工惠乐学 5分", "投票给幸福驿站"])
def test_not_questions(text: str) -> None:
    assert not u.is_question(text)


def test_fit_echo_cuts_the_echo_never_the_instruction() -> None:
    template = "请确认：\n「{text}」\n\n回复 1 确认提交，回复 2 重新输入。"
    out = u.fit_echo(template, "很长的建议" * 400)
    assert len(out.encode()) <= u.REPLY_LIMIT_BYTES
    assert out.endswith("回复 1 确认提交，回复 2 重新输入。") and "共2000字" in out
    assert u.fit_echo(template, "短") == template.format(text="短")
