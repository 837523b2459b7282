"""Dispatch order: conversation first (only a real stop request breaks out), then the router."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from handlers.context import Reply
from handlers.dispatch import handle, is_break_out
from handlers.inbound import Inbound
from models import utcnow
from tests.factories import make_ctx


@pytest.mark.parametrize(
    "text", ["取消", "退出", "我要退出", "不填了", "算了吧", "取消问卷", "结束。", "请取消"]
)
def test_stop_requests_break_out(text: str) -> None:
    assert is_break_out(text)


@pytest.mark.parametrize("text", ["希望取消加班", "取消夜班补贴不合理", "退出机制要完善", "不要了解", "1"])
def test_answers_that_mention_stopping_do_not(text: str) -> None:
    assert not is_break_out(text)


def _text(ctx, content: str) -> Inbound:
    return Inbound(openid=ctx.user.openid, kind="text", created_at=utcnow(), msg_id="1", content=content)


def test_flow_receives_answers_that_contain_cancel_words(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def flow(ctx, inbound, conv):
        seen.append(inbound.text)
        return Reply("记下了")

    ctx = make_ctx(session)
    monkeypatch.setitem(ctx.registry.flows, "test_flow", flow)
    ctx.start_flow("test_flow", {}, timedelta(hours=1))
    assert handle(ctx, _text(ctx, "希望取消加班")).text == "记下了"
    assert seen == ["希望取消加班"]
    assert "已退出" in (handle(ctx, _text(ctx, "取消")).text or "")
    assert ctx.conversation() is None


def test_expired_flow_no_longer_captures_messages(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(session)
    monkeypatch.setitem(ctx.registry.flows, "test_flow", lambda ctx, inbound, conv: Reply("流程中"))
    ctx.start_flow("test_flow", {}, timedelta(minutes=5))
    ctx.now = utcnow() + timedelta(minutes=6)
    assert handle(ctx, _text(ctx, "帮助")).text != "流程中"


def test_flow_can_decline_and_the_router_takes_over(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx(session)
    monkeypatch.setitem(ctx.registry.flows, "test_flow", lambda ctx, inbound, conv: None)
    ctx.start_flow("test_flow", {}, timedelta(hours=1))
    assert "使用说明" in (handle(ctx, _text(ctx, "帮助")).text or "")
