"""Alembic environment: uses the connection handed in by the CLI, else DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

import models
from config.settings import DEFAULT_INSTANCE_DIR
from models.db import make_engine

config = context.config
target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_INSTANCE_DIR / 'ghpp.sqlite3'}"
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
