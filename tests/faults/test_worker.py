"""Real worker processes: jobs wait while the worker is down and complete when it is back; a
failing job is retried with back-off and ends in the failed registry, from where the CLI
re-queues it; a web process killed mid-message does not lose the message."""

from __future__ import annotations

import itertools
import queue
import subprocess
import sys
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.jobs import HIGH
from config.settings import Settings
from handlers.context import JobRequest, Reply
from models import InboundMessage, utcnow
from models.programme import Photo, PhotoStatus
from tests.factories import make_brand, make_union
from tests.factories_programme import make_cadre, png_bytes
from tests.faults.conftest import (
    ROOT,
    WorkerProcess,
    handle_every_message_with,
    post_text,
    service_env,
    wait_until,
)
from tests.wechat_protocol import WeChatServer
from tests.wechat_stub import WeChatStub

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

_ids = itertools.count(7_500_000)
JOB_WAIT_S = 40  # a worker's start-up (jieba) plus the jobs; generous on a busy machine


def _sends_to(stub: WeChatStub, openid: str) -> list[str]:
    return [
        c.body["text"]["content"] for c in stub.calls_to("message/custom/send") if c.body["touser"] == openid
    ]


def _photo_status(engine: Engine, photo_id: int) -> PhotoStatus:
    with Session(engine) as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        return photo.status


def test_jobs_wait_for_a_stopped_worker_and_complete_when_it_is_back(
    fault_app: Flask, clean_db: Engine, worker: WorkerProcess, wechat_stub: WeChatStub
) -> None:
    rt = fault_app.extensions["ghpp"]
    with Session(clean_db) as s, s.begin():
        union = make_union(s)
        cadre = make_cadre(s, union, openid="o-cadre-photo")
        photo = Photo(
            media_id="m-fault",
            uploader_id=cadre.id,
            brand_id=make_brand(s, union=union).id,
            captured_at=utcnow(),
        )
        s.add(photo)
        s.flush()
        photo_id = photo.id
    wechat_stub.state.media["m-fault"] = (png_bytes(5), "image/png")

    # No worker yet: the photo download and the answer push wait in the queue.
    rt.queue.enqueue(JobRequest("download_photo", {"photo_id": photo_id}))
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-asker", "text": "您的建议已答复"}))
    assert rt.transport.queues[HIGH].count == 2 and rt.queue.pending() == 0
    time.sleep(0.5)
    assert (
        _photo_status(clean_db, photo_id) == PhotoStatus.PENDING and _sends_to(wechat_stub, "o-asker") == []
    )

    worker.start()
    assert wait_until(lambda: _photo_status(clean_db, photo_id) == PhotoStatus.STORED, JOB_WAIT_S), (
        worker.log()
    )
    assert wait_until(lambda: _sends_to(wechat_stub, "o-asker"), JOB_WAIT_S), worker.log()
    worker.stop()

    # Stopped again: a new push waits, then the restarted worker delivers it, once.
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-asker", "text": "第二条答复"}))
    time.sleep(1.0)
    assert _sends_to(wechat_stub, "o-asker") == ["您的建议已答复"]
    worker.start()
    assert wait_until(lambda: len(_sends_to(wechat_stub, "o-asker")) == 2, JOB_WAIT_S), worker.log()
    assert _sends_to(wechat_stub, "o-asker") == ["您的建议已答复", "第二条答复"]
    assert len(wechat_stub.calls_to("media/get")) == 1


def _attempt_times(stub: WeChatStub, openid: str, n: int, timeout_s: float) -> list[float]:
    """When each of the first ``n`` calls for ``openid`` was seen (polled every 50 ms)."""
    seen: list[float] = []
    deadline = time.monotonic() + timeout_s
    while len(seen) < n and time.monotonic() < deadline:
        calls = len(_sends_to(stub, openid))
        seen.extend(time.monotonic() for _ in range(calls - len(seen)))
        time.sleep(0.05)
    return seen


def test_failing_job_backs_off_lands_in_failed_registry_and_is_requeued(
    fault_app: Flask, worker: WorkerProcess, wechat_stub: WeChatStub
) -> None:
    rt = fault_app.extensions["ghpp"]
    failed = rt.transport.queues[HIGH].failed_job_registry
    runner = fault_app.test_cli_runner()
    wechat_stub.fail("message/custom/send", "http500", times=3)  # the first try and both retries
    worker.start()
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-retry", "text": "重试到底"}))
    times = _attempt_times(wechat_stub, "o-retry", 3, JOB_WAIT_S)
    assert len(times) == 3, worker.log()
    # GHPP_JOB_RETRY_DELAYS=2,3. RQ schedules in whole seconds (it truncates the due time), so a
    # retry may come up to 1 s before its delay, never sooner.
    assert times[1] - times[0] >= 1.0 and times[2] - times[1] >= 2.0
    assert wait_until(lambda: failed.count == 1, JOB_WAIT_S), worker.log()
    result = runner.invoke(args=["jobs", "failed"])
    assert result.exit_code == 0 and "失败的任务共 1 个" in result.output and "send_text" in result.output
    [job_id] = failed.get_job_ids()
    assert job_id in result.output

    result = runner.invoke(args=["jobs", "requeue", "no-such-job"])
    assert result.exit_code != 0 and "没有找到" in result.output
    result = runner.invoke(args=["jobs", "requeue", "--all"])
    assert result.exit_code == 0 and "已重新排队 1 个任务" in result.output
    assert wait_until(lambda: len(_sends_to(wechat_stub, "o-retry")) == 4, JOB_WAIT_S), worker.log()
    assert wait_until(lambda: failed.count == 0, 10)
    assert "没有失败的任务" in runner.invoke(args=["jobs", "failed"]).output

    # A permanent error (user unfollowed, 43004) is not retried: straight to the failed list.
    wechat_stub.fail("message/custom/send", "errcode", 43004)
    rt.queue.enqueue(JobRequest("send_text", {"openid": "o-gone", "text": "已取关"}))
    assert wait_until(lambda: failed.count == 1, JOB_WAIT_S), worker.log()
    time.sleep(2.5)  # past the first retry's due time: still the one attempt
    assert len(_sends_to(wechat_stub, "o-gone")) == 1


def test_web_process_killed_mid_message_does_not_lose_it(
    fault_app: Flask, fault_settings: Settings, clean_db: Engine, wechat: WeChatServer, monkeypatch
) -> None:
    handled: list[str] = []

    def echo(ctx, inbound, intent):
        handled.append(inbound.content)
        return Reply(f"你说：{inbound.content}")

    handle_every_message_with(fault_app, echo, monkeypatch)
    msg_id = next(_ids)
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.faults._holder", "o-killed", "被杀掉的那条", str(msg_id)],
        cwd=ROOT,
        env=service_env(fault_settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        for line in holder.stdout or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert lines.get(timeout=60).strip() == b"STARTED"
        first_delivery = time.monotonic()
        holder.kill()  # mid-transaction, holding the dedupe lease
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
    # WeChat got no answer: it retries about 5 s after the first delivery (three times in all).
    time.sleep(max(0.0, first_delivery + 5 - time.monotonic()))
    reply, elapsed = post_text(fault_app.test_client(), wechat, "o-killed", "被杀掉的那条", msg_id)
    assert reply == "你说：被杀掉的那条" and elapsed < 5  # before: "success" for 300 s, message lost
    assert handled == ["被杀掉的那条"]
    with Session(clean_db) as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 1
