"""Redis refused, Redis hung: the webhook still answers in time, the database still catches
duplicates, jobs wait in the outbox, and everything recovers on its own."""

from __future__ import annotations

import itertools
import uuid

import pytest
from flask import Flask
from rq import SimpleWorker
from sqlalchemy import func, select

from bot.jobs import HIGH
from config import texts
from handlers.context import Reply
from models import InboundMessage, OutboxJob
from tests.faults.conftest import RedisServer, handle_every_message_with, post_text, wait_until
from tests.wechat_protocol import WeChatServer
from tests.wechat_stub import WeChatStub

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

_ids = itertools.count(7_100_000)
DEADLINE_S = 5.0  # WeChat's; the reply budget is 4 s


@pytest.fixture
def seen(fault_app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An echo handler that also asks for a push job, and records every message it handled."""
    handled: list[str] = []

    def echo_and_push(ctx, inbound, intent):
        handled.append(inbound.content)
        ctx.enqueue("send_text", openid=inbound.openid, text=f"推送：{inbound.content}")
        return Reply(f"你说：{inbound.content}")

    handle_every_message_with(fault_app, echo_and_push, monkeypatch)
    return handled


def _count(app: Flask, model: type) -> int:
    with app.extensions["ghpp"].session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def _unsent(app: Flask) -> int:
    with app.extensions["ghpp"].session_factory() as s:
        return int(s.scalar(select(func.count()).where(OutboxJob.sent_at.is_(None))))


def _drain(app: Flask) -> None:
    """Relay the outbox (the worker's loop) and run the queued jobs once, in-process."""
    rt = app.extensions["ghpp"]
    assert wait_until(lambda: _relay_all(app) and _unsent(app) == 0, 15, 0.5)
    rt.make_current()
    SimpleWorker(list(rt.transport.queues.values()), connection=rt.transport.connection).work(burst=True)


def _relay_all(app: Flask) -> bool:
    try:
        app.extensions["ghpp"].queue.relay()
    except Exception:  # noqa: BLE001  (still down: the caller polls)
        return False
    return True


def test_redis_refused_replies_in_time_and_loses_no_job(
    fault_app: Flask,
    redis_server: RedisServer,
    wechat: WeChatServer,
    wechat_stub: WeChatStub,
    seen: list[str],
) -> None:
    client = fault_app.test_client()
    redis_server.stop()  # connection refused from now on
    msg_id = next(_ids)
    reply, elapsed = post_text(client, wechat, "o-refused", "红灯停", msg_id)
    assert reply == "你说：红灯停" and elapsed < DEADLINE_S
    again, elapsed = post_text(client, wechat, "o-refused", "红灯停", msg_id)
    assert again == texts.ALREADY_HANDLED and elapsed < DEADLINE_S  # the database caught it
    assert seen == ["红灯停"] and _count(fault_app, InboundMessage) == 1
    assert _unsent(fault_app) == 1  # the push waits in the outbox, not lost
    assert wechat_stub.calls_to("message/custom/send") == []

    redis_server.start()  # same port: Redis is back
    _drain(fault_app)
    [push] = wechat_stub.calls_to("message/custom/send")
    assert push.body["touser"] == "o-refused" and push.body["text"]["content"] == "推送：红灯停"


def test_redis_hung_answers_in_time_and_recovers_by_itself(
    fault_app: Flask,
    redis_server: RedisServer,
    wechat: WeChatServer,
    wechat_stub: WeChatStub,
    seen: list[str],
) -> None:
    rt = fault_app.extensions["ghpp"]
    client = fault_app.test_client()
    assert post_text(client, wechat, "o-hung", "冻结前", next(_ids))[0] == "你说：冻结前"
    redis_server.freeze()  # the process stops; connections are accepted and never answered
    try:
        msg_id = next(_ids)
        reply, elapsed = post_text(client, wechat, "o-hung", "冻结中", msg_id)
        assert reply == "你说：冻结中" and elapsed < DEADLINE_S
        retry, elapsed = post_text(client, wechat, "o-hung", "冻结中", msg_id)
        assert retry == texts.ALREADY_HANDLED and elapsed < DEADLINE_S
        for n in range(3):
            reply, elapsed = post_text(client, wechat, "o-hung", f"又一条{n}", next(_ids))
            assert reply == f"你说：又一条{n}" and elapsed < DEADLINE_S
        assert seen.count("冻结中") == 1
        assert _unsent(fault_app) == 4  # four pushes wait for Redis in the outbox
    finally:
        redis_server.thaw()

    # No restart, no operator: after the breaker's cooldown Redis is used again.
    probe = f"probe:{uuid.uuid4().hex}"
    assert wait_until(lambda: _store_answers(fault_app, probe), 20, 0.5)
    msg_id = next(_ids)
    first, _ = post_text(client, wechat, "o-hung", "恢复后", msg_id)
    second, _ = post_text(client, wechat, "o-hung", "恢复后", msg_id)
    assert first == second == "你说：恢复后"  # replayed from Redis again, not re-run
    assert seen.count("恢复后") == 1
    _drain(fault_app)
    pushes = [c.body["text"]["content"] for c in wechat_stub.calls_to("message/custom/send")]
    assert sorted(pushes) == sorted(f"推送：{m}" for m in seen)  # every push once, none twice
    assert rt.transport.queues[HIGH].count == 0


def _store_answers(app: Flask, probe: str) -> bool:
    from bot.store import StoreUnavailable

    try:
        return bool(app.extensions["ghpp"].store.set_if_absent(probe, "1", 30))
    except StoreUnavailable:
        return False
