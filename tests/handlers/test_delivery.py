"""The channel plan, WeChat's limits on what is sent, errors, and answers put into the passive reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers import delivery_channels, delivery_messages
from handlers.actor import SYSTEM
from handlers.context import Reply
from handlers.inbound import Inbound
from handlers.ports import Channels, WeChatApiError
from handlers.registry import JobContext
from handlers.suggestions import jobs
from handlers.suggestions import operations as sg
from models import Suggestion
from models.delivery import AnswerDelivery, DeliveryChannel, SubscribeGrant
from tests.factories import make_ctx, make_union, make_user, standard_registry
from tests.factories_voice import say

C = DeliveryChannel
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
ALL = Channels(
    customer_service=True, template=True, subscribe_message=True, template_id="T", subscribe_template_id="S"
)
NONE = Channels(customer_service=False)


class Api:
    """Records what is sent; ``fail`` makes the next call of a kind raise."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.errors: dict[str, WeChatApiError] = {}

    def _call(self, kind: str, payload: Any) -> None:
        if kind in self.errors:
            raise self.errors.pop(kind)
        self.sent.append((kind, payload))

    def send_text(self, openid: str, text: str) -> None:
        self._call("text", text)

    def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> str:
        self._call("template", data)
        return "4242"

    def send_subscribe_message(
        self, openid: str, template_id: str, scene: int, title: str, content: str, url: str | None = None
    ) -> None:
        self._call("subscribe", content)


@pytest.mark.parametrize(
    ("channels", "within", "tried", "refuses", "grant", "expected"),
    [
        (ALL, True, set(), False, True, [C.CUSTOMER_SERVICE, C.TEMPLATE, C.SUBSCRIBE]),
        (ALL, False, set(), False, True, [C.TEMPLATE, C.SUBSCRIBE]),
        (ALL, False, {C.TEMPLATE}, False, True, [C.SUBSCRIBE]),  # once per answer
        (ALL, False, set(), True, False, []),  # refuses templates, no grant
        (ALL, False, {C.SUBSCRIBE}, False, True, [C.TEMPLATE]),
        (NONE, True, set(), False, True, []),  # an unverified account pushes nothing
        (Channels(), True, set(), False, True, [C.CUSTOMER_SERVICE]),
        (Channels(template=True, template_id=None), False, set(), False, False, []),
    ],
)
def test_plan(channels, within, tried, refuses, grant, expected) -> None:
    got = delivery_channels.plan(
        channels, within_window=within, tried=tried, refuses_templates=refuses, has_grant=grant
    )
    assert got == expected


def test_cut_keeps_twenty_characters_on_one_line() -> None:
    assert delivery_messages.cut("短答复", 20) == "短答复"
    assert delivery_messages.cut("一二三四五六七八九十" * 2, 20) == "一二三四五六七八九十" * 2
    long = "一二三四五六七八九十" * 2 + "多"
    assert delivery_messages.cut(long, 20) == long[:19] + "…" and len(delivery_messages.cut(long, 20)) == 20
    assert delivery_messages.cut("第一行\n第二行", 20) == "第一行 第二行"


def test_template_fields_setting() -> None:
    assert delivery_messages.parse_template_fields("keyword1:ticket, keyword2:answer") == (
        ("keyword1", "ticket"),
        ("keyword2", "answer"),
    )
    for bad in ("keyword1", "keyword1:colour", ":ticket", " , "):
        with pytest.raises(ValueError, match="GHPP_TEMPLATE_ANSWER_FIELDS"):
            delivery_messages.parse_template_fields(bad)


def _answered(session, text: str = "已处理。", *, wrote: datetime = NOW):
    top = make_union(session, name="市总工会")
    user = make_user(session, union_id=top.id, last_message_at=wrote)
    s = sg.submit(session, user, "食堂的饭菜太咸了，希望改进", wrote)
    sg.accept(session, s, SYSTEM, wrote)
    job = sg.answer(session, s, SYSTEM, text, LATER)
    assert job is not None
    return user, s, job


def _jctx(session, api, channels, now=LATER):
    return JobContext(
        session=session,
        api=api,
        now=now,
        options={},
        jobs=[],
        registry=standard_registry(),
        channels=channels,
    )


def _rows(session, s: Suggestion) -> list[tuple[str, str]]:
    found = session.scalars(
        select(AnswerDelivery).where(AnswerDelivery.suggestion_id == s.id).order_by(AnswerDelivery.id)
    )
    return [(r.channel.value, r.status.value) for r in found]


def test_subscription_content_stays_within_200_characters(session) -> None:
    _user, s, _job = _answered(session, "很长的答复。" * 100)
    content = delivery_messages.subscribe_content(s)
    assert len(content) <= 200 and content.endswith("3 不满意。") and "…" in content


def test_network_errors_are_left_to_the_job_queue(session) -> None:
    _user, s, job = _answered(session)
    api = Api()
    api.errors["template"] = WeChatApiError(None, "request failed", retryable=True)
    with pytest.raises(WeChatApiError):
        jobs.push_answer(_jctx(session, api, ALL), **job.kwargs)
    api.errors["template"] = WeChatApiError(-1, "system busy", retryable=True)
    with pytest.raises(WeChatApiError):
        jobs.push_answer(_jctx(session, api, ALL), **job.kwargs)
    assert _rows(session, s) == [] and s.answer_delivered_at is None


def test_other_refusals_fall_back_to_the_next_channel(session) -> None:
    user, s, job = _answered(session)
    session.add(SubscribeGrant(user_id=user.id, template_id="S", scene=1000, reserved_hash="x" * 64))
    api = Api()
    api.errors["template"] = WeChatApiError(48001, "api unauthorized")
    jobs.push_answer(_jctx(session, api, ALL), **job.kwargs)
    assert [k for k, _ in api.sent] == ["subscribe"]
    assert _rows(session, s) == [("template", "failed"), ("subscribe", "sent")]


def test_an_owed_answer_is_not_delivered_with_an_anonymous_message(session) -> None:
    """A delivery at the instant of a redacted message would show that the worker sent it."""
    user, s, job = _answered(session, wrote=NOW - timedelta(days=5))
    jobs.push_answer(_jctx(session, Api(), Channels()), **job.kwargs)
    assert _rows(session, s) == [("next_message", "waiting")]
    _reply, ctx = say(session, user, "匿名建议：车间主任经常拖欠加班费", LATER)
    assert ctx.redact_inbound and ctx.jobs == []
    _reply, ctx = say(session, user, "你好", LATER + timedelta(minutes=5))
    assert [j.name for j in ctx.jobs] == ["suggestion_answer"]


def test_a_full_reply_leaves_a_pointer_and_the_answer_owed(session) -> None:
    user, s, job = _answered(session, "答复内容。" * 40, wrote=NOW - timedelta(days=5))
    jobs.push_answer(_jctx(session, Api(), NONE), **job.kwargs)
    ctx = make_ctx(session, user, LATER)
    ctx.channels = NONE
    inbound = Inbound(openid=user.openid, kind="text", created_at=LATER, msg_id="1", content="帮助")
    out = jobs.owed_answers(ctx, inbound, Reply("很" * 600))  # 1800 bytes: no room for the answer
    assert out.text is not None and out.text.startswith(f"您的建议（单号 {s.ticket}）已有答复，回复「查询")
    assert out.text.endswith("很") and len(out.text.encode()) <= jobs.PASSIVE_REPLY_BYTES
    assert s.answer_delivered_at is None and _rows(session, s) == [("next_message", "waiting")]
    out = jobs.owed_answers(ctx, inbound, Reply("好的"))  # room now: the whole answer, then delivered
    assert out.text is not None and "答复内容。" * 40 in out.text
    assert s.answer_delivered_at == LATER
    assert _rows(session, s) == [("next_message", "done"), ("passive", "delivered")]
