"""The migrations build exactly the schema the models describe, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import models
from models.migrate import downgrade, upgrade


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(ctx, models.Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
    upgrade(eng)
    assert "brand" in inspect(eng).get_table_names()
    downgrade(eng, "base")
    assert "brand" not in inspect(eng).get_table_names()
    upgrade(eng)
    assert set(models.Base.metadata.tables) <= set(inspect(eng).get_table_names())
    eng.dispose()
