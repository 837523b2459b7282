"""Fault tests on the real services: our own Redis (to stop, freeze and restart), the suite's
PostgreSQL, and real ``flask worker`` processes. Every process started here is stopped in a
fixture's finally; every wait is bounded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import Engine

from config.settings import Settings
from tests.wechat_protocol import WeChatServer, message_xml, text_fields

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


class RedisServer:
    """A redis-server of our own on a free port: killed, frozen (SIGSTOP) and restarted at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            assert wait_until(lambda: _pings(client), 10), "redis-server did not start"
        finally:
            client.close()
        return self

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_settings(settings: Settings, redis_server: RedisServer) -> Settings:
    """Settings on our own Redis, with queues of this test's own."""
    extra = {"GHPP_QUEUE_PREFIX": f"ghpp-fault-{uuid.uuid4().hex[:8]}", "GHPP_JOB_RETRY_DELAYS": "2,3"}
    return replace(settings, redis_url=redis_server.url, extra=extra)


@pytest.fixture
def fault_app(fault_settings: Settings, clean_db: Engine) -> Flask:
    """The app as production builds it: Redis store, RQ queues and the outbox (no test doubles)."""
    from bot import create_app

    app = create_app(fault_settings, engine=clean_db)
    app.config["TESTING"] = True
    return app


def service_env(settings: Settings) -> dict[str, str]:
    """The environment a separate process (worker, web process) needs for these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GHPP_", "WECHAT_"))}
    env.update(
        WECHAT_TOKEN=settings.wechat_token,
        WECHAT_APPID=settings.wechat_appid,
        WECHAT_SECRET=settings.wechat_secret,
        WECHAT_AES_KEY=settings.wechat_aes_key or "",
        WECHAT_API_BASE=settings.wechat_api_base,
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        INSTANCE_DIR=str(settings.instance_dir),
        PYTHONPATH=str(ROOT),
        **dict(settings.extra),
    )
    return env


class WorkerProcess:
    """``flask --app bot worker`` in its own process, as deployed."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.env = service_env(settings)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "bot", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # RQ's warm shutdown: finish the current job, then exit
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def worker(fault_settings: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A worker, not started: the test starts and stops it; it is stopped at the end regardless."""
    proc = WorkerProcess(fault_settings, tmp_path / "worker.log")
    try:
        yield proc
    finally:
        proc.stop()


def post_text(client: Any, wechat: WeChatServer, openid: str, text: str, msg_id: int) -> tuple[str, float]:
    """(reply text or "success", seconds taken) for one signed, encrypted delivery."""
    req = wechat.sign(message_xml(text_fields(openid, text, msg_id)))
    started = time.monotonic()
    resp = client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    return ("success" if body == "success" else wechat.open_reply(body).get("Content", "")), elapsed


def handle_every_message_with(
    app: Flask, handler: Any, monkeypatch: pytest.MonkeyPatch | None = None
) -> None:
    """These tests are about transport and jobs, not understanding: every routed message goes to
    ``handler``, whatever intent the router names and past the clear-intent policy."""
    from handlers import dispatch
    from nlp import INTENTS

    intents = app.extensions["ghpp"].registry.intents

    def no_gate(ctx: Any, inbound: Any, intent: Any) -> None:
        return None

    for name in INTENTS:
        if monkeypatch is None:
            intents[name] = handler
        else:
            monkeypatch.setitem(intents, name, handler)
    if monkeypatch is None:
        dispatch.gate = no_gate  # type: ignore[attr-defined]  # the name dispatch imports from understanding
    else:
        monkeypatch.setattr(dispatch, "gate", no_gate)
