"""DATABASE_READ_URL: the dashboard's read-only pages read through it; the replica engine refuses
writes on PostgreSQL (every transaction READ ONLY)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from bot.runtime import Runtime
from config.settings import Settings, load_settings
from models.db import make_engine, make_read_engine


def test_the_setting_is_read_and_checked(tmp_path) -> None:
    env = {
        "WECHAT_TOKEN": "tok123",
        "WECHAT_APPID": "wxapp",
        "WECHAT_SECRET": "s",
        "SECRET_KEY": "0123456789abcdef-key",
        "DATABASE_READ_URL": "postgresql+psycopg://ro@replica/ghpp",
    }
    assert (
        load_settings(env, tmp_path / "none.env").database_read_url == "postgresql+psycopg://ro@replica/ghpp"
    )
    assert load_settings({**env, "DATABASE_READ_URL": ""}, tmp_path / "none.env").database_read_url is None
    with pytest.raises(ValueError, match="DATABASE_READ_URL"):
        load_settings({**env, "DATABASE_READ_URL": "replica"}, tmp_path / "none.env")


def test_overview_reads_through_the_read_sessions(app: Flask, as_user, monkeypatch) -> None:
    """A replica stand-in: a second engine on the same database, behind a counting factory."""
    rt: Runtime = app.extensions["ghpp"]
    opened: list[object] = []
    url = rt.engine.url.render_as_string(hide_password=False)
    # SQLite: a plain engine (deferred BEGIN) reads beside the request's writer; the app's own
    # SQLite engine takes the write lock at BEGIN, which a real replica never shares anyway.
    replica = create_engine(url) if url.startswith("sqlite") else make_read_engine(url)
    factory = sessionmaker(bind=replica, expire_on_commit=False)

    def spy():
        opened.append(1)
        return factory()

    client = as_user("county")
    monkeypatch.setattr(rt, "read_session_factory", spy)
    try:
        page = client.get("/admin/")
    finally:
        replica.dispose()
    assert page.status_code == 200
    assert "总览" in page.get_data(as_text=True)
    assert opened, "the overview did not read through the read-only session factory"


def test_a_runtime_with_a_read_url_has_its_own_engine(settings: Settings, tmp_path) -> None:
    replica = f"sqlite:///{tmp_path / 'replica.sqlite3'}"
    rt = Runtime(replace(settings, database_read_url=replica))
    try:
        assert rt.read_engine is not None and str(rt.read_engine.url) == replica
        assert rt.read_session_factory is not rt.session_factory
    finally:
        rt.engine.dispose()
        rt.read_engine.dispose() if rt.read_engine is not None else None


@pytest.mark.postgres
def test_the_read_engine_refuses_writes_on_postgresql(database_url: str) -> None:
    engine = make_read_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            with pytest.raises(DBAPIError, match="read-only"):
                conn.execute(text("CREATE TEMPORARY TABLE ghpp_ro_probe (x int)"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pgbouncer_mode_turns_prepared_statements_off(database_url: str) -> None:
    """PgBouncer in transaction mode: psycopg's server-side prepared statements stay off."""
    for engine, expected in (
        (make_engine(database_url, pgbouncer=True), None),
        (make_engine(database_url), 5),
    ):
        try:
            with engine.connect() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                assert raw.prepare_threshold == expected
        finally:
            engine.dispose()
