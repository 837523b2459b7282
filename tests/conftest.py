"""Shared fixtures: a real database rolled back per test, the store, the WeChat stub, the app.

The same suite runs on the embedded defaults (SQLite, in-process store) and, with
DATABASE_URL/REDIS_URL set, on PostgreSQL and Redis. With REQUIRE_SERVICES=1 (CI's second
run) a test that needs a service fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import models
from bot.jobs import InlineQueue
from bot.store import MemoryStore, RedisStore, Store
from config.settings import Settings
from handlers.anonymity import anonymity_key, set_anonymity_key
from models.db import make_engine
from models.migrate import upgrade
from tests.wechat_protocol import WeChatServer
from tests.wechat_stub import WeChatStub

TEST_TOKEN = "testtoken123abcdef"
TEST_APPID = "wx1234567890abcdef"
TEST_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Handler tests run without a Runtime: the key a Runtime would derive from SECRET_KEY.
set_anonymity_key(anonymity_key("test-anonymity-secret-0123456789"))
DATABASE_URL = os.environ.get("DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")


def need(service: str) -> None:
    """Skip (or, in CI's service run, fail) a test whose service is not configured."""
    available = {
        "postgres": bool(DATABASE_URL and DATABASE_URL.startswith("postgresql")),
        "redis": bool(REDIS_URL),
    }[service]
    if available:
        return
    message = f"needs {service}: set {'DATABASE_URL' if service == 'postgres' else 'REDIS_URL'}"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_SERVICES and (not (DATABASE_URL or "").startswith("postgresql") or not REDIS_URL):
        pytest.exit("REQUIRE_SERVICES=1 needs DATABASE_URL (PostgreSQL) and REDIS_URL", returncode=3)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for service in ("postgres", "redis"):
        if item.get_closest_marker(service):
            need(service)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        return DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            models.Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(eng)  # the schema under test is the one the migrations build
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """For tests that commit through the app: every table emptied afterwards."""
    yield engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # the audit log's append-only trigger lets this through
            conn.execute(text("SET LOCAL ghpp.allow_audit_delete = 'on'"))
        for table in reversed(models.Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def store() -> Iterator[Store]:
    if not REDIS_URL:
        yield MemoryStore()
        return
    redis_store = RedisStore.from_url(REDIS_URL)
    redis_store.prefix = f"ghpp-test-{uuid.uuid4().hex[:8]}:"
    yield redis_store
    for key in redis_store.client.scan_iter(f"{redis_store.prefix}*"):
        redis_store.client.delete(key)


@pytest.fixture(scope="session")
def _stub_server() -> Iterator[WeChatStub]:
    stub = WeChatStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def wechat_stub(_stub_server: WeChatStub) -> WeChatStub:
    _stub_server.reset()
    return _stub_server


@pytest.fixture
def settings(wechat_stub: WeChatStub, database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        wechat_token=TEST_TOKEN,
        wechat_appid=TEST_APPID,
        wechat_secret="test-secret",
        secret_key="t3st-Secret_k3y-9f8e7d6c5b4a3210-ZyXwVuTsRq",
        wechat_aes_key=TEST_AES_KEY,
        wechat_api_base=wechat_stub.base_url,
        wechat_oauth_base=wechat_stub.base_url,
        database_url=database_url,
        redis_url=REDIS_URL,
        instance_dir=tmp_path / "instance",
    )


@pytest.fixture
def app(settings: Settings, clean_db: Engine, store: Store):
    """The Flask app on the test database; jobs run synchronously, right after commit."""
    from bot import create_app
    from bot.runtime import Runtime

    holder: dict[str, Runtime] = {}
    queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0, 0, 0))
    flask_app = create_app(settings, engine=clean_db, store=store, queue=queue)
    holder["rt"] = flask_app.extensions["ghpp"]
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def wechat() -> WeChatServer:
    return WeChatServer(TEST_TOKEN, TEST_APPID, TEST_AES_KEY)


@pytest.fixture(autouse=True)
def _live_refresh_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs run synchronously in tests: every recorded event refreshes the live report (the
    per-process debounce has its own test in tests/perf)."""
    from handlers.recognition import live

    monkeypatch.setattr(live, "REFRESH_EVERY_S", 0.0)
    live.forget_asked()


@pytest.fixture(autouse=True)
def _rare_rows_read_afresh() -> None:
    """A test's held replies and owed answers are seen at once, whatever an earlier test read."""
    from handlers.rare_rows import forget_all
    from handlers.recognition.scoped_queries import forget_participants

    forget_all()
    forget_participants()
