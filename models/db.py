"""Engine and session factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

POOL_RECYCLE_S = 600


def make_engine(url: str, *, pgbouncer: bool = False, **kwargs: Any) -> Engine:
    # SQL parameters (message text, openids, names) never reach a log or traceback.
    kwargs.setdefault("hide_parameters", True)
    if pgbouncer and url.startswith("postgresql"):
        # Behind PgBouncer in transaction mode consecutive transactions may run on different
        # server connections: psycopg must not prepare statements on one and reuse them.
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _sqlite_proper_transactions(engine)
        return engine
    # No ping per checkout (a round trip on every message): connections are recycled before a
    # server or proxy drops them idle, and one found dead fails its message, which is answered
    # 系统繁忙 and retried by WeChat; SQLAlchemy then discards the pool's older connections too.
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
    return create_engine(url, pool_pre_ping=False, **kwargs)


def make_read_engine(url: str, *, pgbouncer: bool = False, **kwargs: Any) -> Engine:
    """An engine for a read replica: on PostgreSQL every transaction is READ ONLY (psycopg
    opens it with BEGIN READ ONLY, no extra round trip), so a write sent there fails loudly."""
    if url.startswith("postgresql"):
        kwargs.setdefault("execution_options", {"postgresql_readonly": True})
    return make_engine(url, pgbouncer=pgbouncer, **kwargs)


def _sqlite_proper_transactions(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and lets writers deadlock on lock
    # upgrade; take BEGIN into our hands (SQLAlchemy's documented recipe) and enforce FKs.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
