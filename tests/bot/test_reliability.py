"""Nothing lost: the dedupe lease, the outbox, fail-fast Redis calls and the circuit breaker."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from bot.jobs import HIGH, LOW, RQQueue, parse_delays, priority
from bot.store import CircuitBreaker, RedisStore, Store, StoreUnavailable
from config import texts
from handlers.context import JobRequest, Reply
from models import InboundMessage, OutboxJob
from tests.conftest import REDIS_URL
from tests.wechat_protocol import WeChatServer, message_xml, text_fields

_ids = iter(range(4_000_000, 5_000_000))


def post(client, wechat: WeChatServer, openid: str, text: str, msg_id: int) -> str:
    req = wechat.sign(message_xml(text_fields(openid, text, msg_id)))
    resp = client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    return "success" if body == "success" else wechat.open_reply(body)["Content"]


def count(app, model) -> int:
    with app.extensions["ghpp"].session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers: what a stopped Redis looks like."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- fail-fast Redis ---------------------------------------------------------------------------


def test_hung_redis_costs_one_timeout_then_the_breaker_skips_it() -> None:
    with silent_server() as port:
        store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0")
        try:
            started = time.monotonic()
            for call in (
                lambda: store.set_if_absent("k", "v", 10),
                lambda: store.get("k"),
                lambda: store.set("k", "v", 10),
            ):
                with pytest.raises(StoreUnavailable):
                    call()
            # Before: three sequential 2 s timeouts (and redis-py's own retries on top).
            assert time.monotonic() - started < 2.0
            assert store.breaker.is_open
        finally:
            store.client.close()


def test_refused_redis_fails_at_once_without_client_retries() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    try:
        with pytest.raises(StoreUnavailable):
            store.set_if_absent("k", "v", 10)
        assert time.monotonic() - started < 1.0  # redis-py's default 3 retries took ~4 s here
    finally:
        store.client.close()


def test_rq_enqueue_against_a_hung_redis_gives_up_quickly() -> None:
    with silent_server() as port:
        queue = RQQueue(f"redis://127.0.0.1:{port}/0")
        errors: list[BaseException] = []

        def submit() -> None:
            try:
                queue.submit(JobRequest("send_text", {"openid": "o", "text": "x"}), "job-hung")
            except BaseException as exc:  # noqa: BLE001  (checked below)
                errors.append(exc)

        worker = threading.Thread(target=submit, daemon=True)
        try:
            worker.start()
            worker.join(3)  # before: no timeout at all, this waited forever
            assert not worker.is_alive()
            assert len(errors) == 1 and isinstance(errors[0], redis.RedisError)
        finally:
            queue.connection.close()


def test_breaker_lets_one_trial_through_after_the_cooldown() -> None:
    now = [100.0]
    breaker = CircuitBreaker(5.0, clock=lambda: now[0])
    assert breaker.allow()
    breaker.failure()
    assert not breaker.allow() and breaker.is_open
    now[0] += 5.1
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # everyone else keeps skipping while it runs
    breaker.success()
    assert breaker.allow() and not breaker.is_open


def test_extend_if_equals_renews_only_its_own_lease(store: Store) -> None:
    store.set("lease", "mine", 0.4)
    assert store.extend_if_equals("lease", "mine", 30)
    assert not store.extend_if_equals("lease", "theirs", 30)
    assert not store.extend_if_equals("absent", "mine", 30)
    time.sleep(0.6)
    assert store.get("lease") == "mine"


# --- the dedupe lease ------------------------------------------------------------------------


def test_retry_during_a_slow_first_delivery_gets_its_reply_not_success(
    app, client, wechat, monkeypatch
) -> None:
    started = threading.Event()

    def slow(ctx, inbound, intent):
        started.set()
        time.sleep(0.8)
        return Reply("处理好了")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", slow)
    msg_id = next(_ids)
    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(post(client, wechat, "o-lease", "慢", msg_id)))
    first.start()
    try:
        assert started.wait(5)
        # "success" would end WeChat's retries; the retry waits for the holder's reply instead.
        assert post(client, wechat, "o-lease", "慢", msg_id) == "处理好了"
    finally:
        first.join(10)
    assert results == ["处理好了"]
    assert count(app, InboundMessage) == 1


def test_a_failed_delivery_releases_the_lease_so_a_retry_is_processed(
    app, client, wechat, monkeypatch
) -> None:
    calls: list[str] = []

    def flaky(ctx, inbound, intent):
        calls.append(inbound.content)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return Reply("这次成功了")

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", flaky)
    msg_id = next(_ids)
    assert post(client, wechat, "o-flaky", "嗯嗯测试", msg_id) == texts.INTERNAL_ERROR
    # Nothing was committed: the retry does the work instead of replaying the error.
    assert post(client, wechat, "o-flaky", "嗯嗯测试", msg_id) == "这次成功了"
    assert len(calls) == 2
    assert count(app, InboundMessage) == 1


# --- the outbox --------------------------------------------------------------------------------


class FlakyTransport:
    """A durable queue that is down until told otherwise, and counts what it received."""

    durable = True

    def __init__(self) -> None:
        self.up = False
        self.jobs: dict[str, JobRequest] = {}
        self.submits = 0

    def submit(self, request: JobRequest, job_id: str) -> str:
        if not self.up:
            raise redis.ConnectionError("Connection refused")
        self.submits += 1
        self.jobs.setdefault(job_id, request)
        return job_id


def reply_and_push(ctx: Any, inbound: Any, intent: Any) -> Reply:
    ctx.enqueue("send_text", openid=inbound.openid, text=f"稍后的消息：{inbound.content}")
    if inbound.content == "出错":
        raise RuntimeError("handler failed after asking for a job")
    return Reply("马上回复")


@pytest.fixture
def push_handler(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "unknown", reply_and_push)


def test_jobs_survive_a_queue_that_is_down_at_commit(settings, clean_db, store, wechat, monkeypatch) -> None:
    from bot import create_app

    transport = FlakyTransport()
    app = create_app(settings, engine=clean_db, store=store, queue=transport)
    rt = app.extensions["ghpp"]
    monkeypatch.setitem(rt.registry.intents, "unknown", reply_and_push)
    started = time.monotonic()
    assert post(app.test_client(), wechat, "o-outbox", "嗯嗯测试", next(_ids)) == "马上回复"
    assert time.monotonic() - started < 5
    assert transport.jobs == {} and rt.queue.pending() == 1
    transport.up = True
    assert rt.queue.relay() == 1  # what the worker's relay loop does every second
    assert rt.queue.relay() == 0
    [(job_id, job)] = transport.jobs.items()
    assert job == JobRequest("send_text", {"openid": "o-outbox", "text": "稍后的消息：嗯嗯测试"})
    with rt.session_factory() as s:
        row = s.scalar(select(OutboxJob))
        assert row is not None and row.sent_at is not None and row.queue_job_id == job_id
        assert row.failures == 1
    assert job_id == f"{rt.queue_prefix}-outbox-{row.id}"  # deterministic: a re-send finds it


def test_a_job_asked_for_by_a_failed_handler_is_never_written(
    app, client, wechat, push_handler, wechat_stub
) -> None:
    assert post(client, wechat, "o-rollback", "出错", next(_ids)) == texts.INTERNAL_ERROR
    assert count(app, OutboxJob) == 0
    assert wechat_stub.calls_to("message/custom/send") == []


def test_in_process_jobs_go_through_the_outbox_and_run(
    app, client, wechat, push_handler, wechat_stub
) -> None:
    assert post(client, wechat, "o-inline", "嗯嗯测试", next(_ids)) == "马上回复"
    [send] = wechat_stub.calls_to("message/custom/send")
    assert send.body["text"]["content"] == "稍后的消息：嗯嗯测试"
    with app.extensions["ghpp"].session_factory() as s:
        assert [r.sent_at is not None for r in s.scalars(select(OutboxJob))] == [True]


def test_in_process_relay_sweeps_rows_left_by_a_crash(app, wechat_stub) -> None:
    rt = app.extensions["ghpp"]
    with rt.session_factory() as s, s.begin():  # committed, then the process died: never handed on
        rt.queue.stage(s, [JobRequest("send_text", {"openid": "o-left", "text": "补发"})])
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-next", "text": "下一条"}))
    assert sorted(c.body["touser"] for c in wechat_stub.calls_to("message/custom/send")) == [
        "o-left",
        "o-next",
    ]
    assert rt.queue.pending() == 0


# --- queues --------------------------------------------------------------------------------------


def test_priorities_and_retry_settings() -> None:
    assert priority("send_text") == priority("download_photo") == priority("suggestion_answer") == HIGH
    assert priority("recognition_scan") == LOW
    assert parse_delays("1, 2") == (1, 2) and parse_delays(None) == (10, 60, 300)


@pytest.mark.redis
def test_rq_relay_is_idempotent_and_uses_the_priority_queues(app) -> None:
    from bot.outbox import Outbox

    assert REDIS_URL
    rt = app.extensions["ghpp"]
    prefix = f"ghpp-test-{uuid.uuid4().hex[:8]}"
    queue = RQQueue(REDIS_URL, prefix=prefix)
    outbox = Outbox(rt.session_factory, queue, prefix=prefix)
    try:
        with rt.session_factory() as s, s.begin():
            ids = outbox.stage(
                s,
                [
                    JobRequest("send_text", {"openid": "o-p", "text": "x"}),
                    JobRequest("recognition_scan", {"campaign_id": 1}),
                ],
            )
        assert outbox.relay(ids) == 2
        assert (queue.queues[HIGH].count, queue.queues[LOW].count) == (1, 1)
        # The relay died after enqueueing, before marking: the next relay must not enqueue again.
        with rt.session_factory() as s, s.begin():
            for row in s.scalars(select(OutboxJob)):
                row.sent_at = None
        assert outbox.relay() == 2
        assert (queue.queues[HIGH].count, queue.queues[LOW].count) == (1, 1)
        assert queue.queues[HIGH].job_ids == [f"{prefix}-outbox-{ids[0]}"]
    finally:
        for q in queue.queues.values():
            q.delete(delete_jobs=True)
        queue.connection.close()


def test_jobs_cli_explains_embedded_mode(app) -> None:
    # The test app runs jobs in-process whatever REDIS_URL says (see conftest.app).
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "failed"])
    assert result.exit_code != 0 and "未设置 REDIS_URL" in result.output
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0 and "待发任务" in result.output


def test_settings_knobs_reach_the_runtime(settings, clean_db, store) -> None:
    from bot import create_app

    extra = {"GHPP_QUEUE_PREFIX": "ghpp-knob", "GHPP_DEDUPE_LEASE_S": "7"}
    app = create_app(replace(settings, extra=extra), engine=clean_db, store=store)
    rt = app.extensions["ghpp"]
    assert rt.queue_prefix == "ghpp-knob" and rt.pipeline.lease_s == 7.0
