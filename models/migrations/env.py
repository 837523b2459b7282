"""Alembic environment: uses the connection handed in by the CLI, else DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

import models
from config.settings import DEFAULT_INSTANCE_DIR
from models.db import make_engine
from models.renumbered_revisions import translate_stored_revision

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


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        # Before Alembic reads the stored revision, in the same transaction: a database stamped
        # under the old numbering (0004/0005/0007) gets the new id.
        translate_stored_revision(connection)
        context.run_migrations()


run_migrations_online()
