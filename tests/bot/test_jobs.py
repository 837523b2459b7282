"""Background jobs: in-process retries, and the real RQ path on Redis."""

from __future__ import annotations

import uuid

import pytest

from bot.jobs import InlineQueue, execute
from handlers.context import JobRequest
from tests.conftest import REDIS_URL
from tests.wechat_stub import WeChatStub


def test_send_text_job_pushes_through_the_api(app, wechat_stub: WeChatStub) -> None:
    rt = app.extensions["ghpp"]
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-job", "text": "您的建议已答复"}))
    sends = wechat_stub.calls_to("message/custom/send")
    assert [s.body["text"]["content"] for s in sends] == ["您的建议已答复"]


def test_retryable_failure_is_retried_then_succeeds(app, wechat_stub: WeChatStub) -> None:
    rt = app.extensions["ghpp"]
    wechat_stub.fail("message/custom/send", "http500", times=2)
    queue = InlineQueue(lambda: rt, synchronous=True, retry_delays_s=(0, 0, 0))
    queue.enqueue(JobRequest("send_text", {"openid": "o-r", "text": "重试成功"}))
    assert len(wechat_stub.calls_to("message/custom/send")) == 3


def test_permanent_failure_is_not_retried(app, wechat_stub: WeChatStub) -> None:
    rt = app.extensions["ghpp"]
    wechat_stub.fail("message/custom/send", "errcode", 43004)  # user unsubscribed
    queue = InlineQueue(lambda: rt, synchronous=True, retry_delays_s=(0, 0, 0))
    queue.enqueue(JobRequest("send_text", {"openid": "o-gone", "text": "x"}))
    assert len(wechat_stub.calls_to("message/custom/send")) == 1


def test_unknown_job_is_refused(app) -> None:
    with pytest.raises(LookupError):
        execute(app.extensions["ghpp"], "no_such_job", {})


@pytest.mark.redis
def test_rq_queue_runs_jobs_in_a_worker(app, wechat_stub: WeChatStub) -> None:
    from rq import SimpleWorker

    from bot.jobs import HIGH, RQQueue

    assert REDIS_URL
    rt = app.extensions["ghpp"]
    queue = RQQueue(REDIS_URL, prefix=f"ghpp-test-{uuid.uuid4().hex[:8]}")
    high = queue.queues[HIGH]
    queue.enqueue(JobRequest("send_text", {"openid": "o-rq", "text": "来自队列"}))
    assert high.count == 1
    rt.make_current()
    try:
        SimpleWorker([high], connection=queue.connection).work(burst=True)
        sends = wechat_stub.calls_to("message/custom/send")
        assert [s.body["touser"] for s in sends] == ["o-rq"]
    finally:
        for q in queue.queues.values():
            q.delete(delete_jobs=True)
