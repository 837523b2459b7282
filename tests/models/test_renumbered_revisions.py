"""A database built by the old migration chain (0004 after 0007, no 0006) upgrades to head with
its data, whatever old revision it stopped at; one in the new numbering is left alone.

The old chain is rebuilt from today's scripts by putting back the old ids (OLD_CHAIN, frozen from
commit 736e90d): the renumbering changed ids and file names only, never a migration's operations.
Runs on the suite's database: SQLite, or PostgreSQL in a scratch schema when DATABASE_URL says so.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    Integer,
    String,
    column,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeEngine

import models
from models.base import UTCDateTime
from models.db import make_engine
from models.migrate import alembic_config, upgrade
from models.renumbered_revisions import RevisionMismatch, schema_revision, translate_stored_revision

VERSIONS = Path(models.__file__).resolve().parent / "migrations" / "versions"
# The chain before the renumbering, in order: (old id, file name after the 4-digit prefix).
OLD_CHAIN: list[tuple[str, str]] = [
    ("0001", "foundation"),
    ("0002", "brand_programme"),
    ("0003", "suggestions_and_surveys"),
    ("0005", "admin_dashboard"),
    ("0007", "survey_open_closed_state"),
    ("0004", "recognition_campaigns_events_flags_"),
    ("0008", "router_learning_confidence_follow_ups_"),
    ("0009", "security"),
    ("0010", "job_outbox"),
    ("0011", "photo_uploader_nullable"),
    ("0012", "anonymity"),
    ("0013", "home_cadre_cohort"),
    ("0014", "recognition_scan_state"),
    ("0015", "adjudication_checks_snapshot_versions"),
    ("0016", "photo_phash"),
    ("0017", "live_report"),
    ("0018", "user_reviewer"),
]
OLD_ENV = """\
from alembic import context

context.configure(connection=context.config.attributes["connection"], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
"""
AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
# A little data in the tables that exist at each stage.
ROWS: dict[str, dict[str, Any]] = {
    "union_unit": {
        "id": 1,
        "code": "TOP",
        "name": "省总工会",
        "kind": "province",
        "path": "/1/",
        "created_at": AT,
    },
    "brand": {
        "id": 1,
        "name": "职工书屋",
        "union_id": 1,
        "stage": "proposed",
        "created_at": AT,
        "updated_at": AT,
    },
    "suggestion_ticket_counter": {"day": "20261120", "last": 3},
    "admin_account": {
        "id": 1,
        "username": "admin",
        "password_hash": "h",
        "union_id": 1,
        "role": "admin",
        "active": True,
        "created_at": AT,
    },
    "survey_schedule": {"key": "satisfaction", "open": False, "changed_at": AT, "changed_by": "admin"},
    "campaign": {
        "id": 1,
        "name": "2026 品牌评选",
        "kind": "vote",
        "opens_at": AT,
        "max_choices": 1,
        "blind": False,
        "created_at": AT,
    },
}


def typed_table(name: str, row: dict[str, Any]) -> TableClause:
    """The table's columns typed from the values, so that both databases take them as they are."""
    kinds: dict[type, TypeEngine[Any]] = {
        bool: Boolean(),
        int: Integer(),
        str: String(),
        datetime: UTCDateTime(),
    }
    return table(name, *(column(key, kinds[type(value)]) for key, value in row.items()))


TABLES = [typed_table(name, row) for name, row in ROWS.items()]
SALT = table("recognition_secret", column("id", Integer), column("salt", String))


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the suite's kind, dropped afterwards."""
    url = os.environ.get("DATABASE_URL") or ""
    if not url.startswith("postgresql"):
        eng = make_engine(f"sqlite:///{tmp_path / 'renumber.sqlite3'}")
        yield eng
        eng.dispose()
        return
    schema = f"renumber_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def old_scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Today's migration scripts with the old ids and file names put back."""
    root = tmp_path_factory.mktemp("old_chain")
    (root / "versions").mkdir()
    (root / "env.py").write_text(OLD_ENV, encoding="utf-8")
    (root / "script.py.mako").write_text((VERSIONS.parent / "script.py.mako").read_text(encoding="utf-8"))
    by_slug = {p.name[5:-3]: p for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")}
    old_slugs = {slug for _, slug in OLD_CHAIN}
    assert old_slugs <= set(by_slug)
    # Migrations written after the renumbering kept their ids and were never in the old chain.
    assert all(p.name[:4] > OLD_CHAIN[-1][0] for slug, p in by_slug.items() if slug not in old_slugs)
    previous: str | None = None
    for old_id, slug in OLD_CHAIN:
        source = by_slug[slug].read_text(encoding="utf-8")
        source = re.sub(r"^revision: str = .*$", f"revision: str = {old_id!r}", source, count=1, flags=re.M)
        source = re.sub(r"^(down_revision: [^=]*= ).*$", rf"\g<1>{previous!r}", source, count=1, flags=re.M)
        (root / "versions" / f"{old_id}_{slug}.py").write_text(source, encoding="utf-8")
        previous = old_id
    chain = [s.revision for s in reversed(list(ScriptDirectory(str(root)).walk_revisions()))]
    assert chain == [old_id for old_id, _ in OLD_CHAIN]
    return root


def run_old_chain(engine: Engine, scripts: Path, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    cfg.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        for tbl in TABLES:
            if tbl.name in present:
                conn.execute(insert(tbl), ROWS[tbl.name])


def snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    present = set(inspect(conn).get_table_names())
    return {t.name: [tuple(r) for r in conn.execute(select(t))] for t in [*TABLES, SALT] if t.name in present}


def stored_revision(conn: Connection) -> list[str]:
    return [v for (v,) in conn.execute(text("SELECT version_num FROM alembic_version"))]


def assert_at_head_matching_models(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    newest = max(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert head == newest  # one head: the newest migration
    with engine.connect() as conn:
        assert stored_revision(conn) == [head]
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        assert compare_metadata(ctx, models.Base.metadata) == []


@pytest.mark.parametrize("old_revision", [old_id for old_id, _ in OLD_CHAIN])
def test_database_built_by_the_old_chain_upgrades_with_its_data(
    scratch: Engine, old_scripts: Path, old_revision: str
) -> None:
    run_old_chain(scratch, old_scripts, old_revision)
    seed(scratch)
    with scratch.connect() as conn:
        assert stored_revision(conn) == [old_revision]
        before = snapshot(conn)
    upgrade(scratch)
    assert_at_head_matching_models(scratch)
    with scratch.connect() as conn:
        after = snapshot(conn)
    # What was there is unchanged (the recognition salt included: 0006 did not run again).
    assert {name: after[name] for name in before} == before
    assert after["union_unit"] == [(1, "TOP", "省总工会", "province", "/1/", AT)]
    upgrade(scratch)  # again: nothing to translate, nothing to run
    with scratch.connect() as conn:
        assert snapshot(conn) == after


@pytest.mark.parametrize("new_revision", ["0004", "0005", "0006"])
def test_database_in_the_new_numbering_is_not_translated(scratch: Engine, new_revision: str) -> None:
    """ "0004" and "0005" mean something else in the old numbering: the tables tell them apart."""
    upgrade(scratch, new_revision)
    seed(scratch)
    with scratch.begin() as conn:
        assert translate_stored_revision(conn) is None
        assert stored_revision(conn) == [new_revision]
        before = snapshot(conn)
    upgrade(scratch)
    assert_at_head_matching_models(scratch)
    with scratch.connect() as conn:
        after = snapshot(conn)
    assert {name: after[name] for name in before} == before


def test_old_stamp_is_translated_once(scratch: Engine, old_scripts: Path) -> None:
    run_old_chain(scratch, old_scripts, "0004")  # old 0004: the recognition tables
    with scratch.begin() as conn:
        assert translate_stored_revision(conn) == "0006"
        assert stored_revision(conn) == ["0006"]
        assert translate_stored_revision(conn) is None
        assert stored_revision(conn) == ["0006"]


def test_fresh_database_upgrades_from_nothing(scratch: Engine) -> None:
    with scratch.begin() as conn:
        assert translate_stored_revision(conn) is None
    upgrade(scratch)
    assert_at_head_matching_models(scratch)


def test_database_at_head_is_untouched(scratch: Engine) -> None:
    upgrade(scratch)
    seed(scratch)
    with scratch.connect() as conn:
        before = snapshot(conn)
        tables = set(inspect(conn).get_table_names())
    upgrade(scratch)
    assert_at_head_matching_models(scratch)
    with scratch.connect() as conn:
        assert snapshot(conn) == before
        assert set(inspect(conn).get_table_names()) == tables


def test_stamp_that_fits_neither_numbering_stops_the_upgrade(scratch: Engine) -> None:
    # Survey tables but no recognition tables: new 0005, or old 0007; never "0004" in either.
    upgrade(scratch, "0005")
    with scratch.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    with pytest.raises(RevisionMismatch, match="新旧编号都对不上"):
        upgrade(scratch)
    with scratch.connect() as conn:
        assert stored_revision(conn) == ["0004"]
        assert "campaign" not in inspect(conn).get_table_names()


def test_schema_revision_reads_the_marker_tables() -> None:
    base = {"union_unit", "brand", "suggestion"}
    admin = {"admin_account", "api_token", "audit_entry"}
    recognition = {
        "recognition_secret",
        "campaign",
        "campaign_brand",
        "recognition_event",
        "recognition_snapshot",
        "reviewer_invite",
        "recognition_flag",
        "recognition_flag_audit",
    }
    assert schema_revision(base) is None
    assert schema_revision(base | admin) == "0004"
    assert schema_revision(base | admin | {"survey_schedule"}) == "0005"
    assert schema_revision(base | admin | {"survey_schedule"} | recognition) == "0006"
    with pytest.raises(RevisionMismatch, match="只有一部分"):
        schema_revision(base | {"admin_account"})  # a migration half there
    with pytest.raises(RevisionMismatch):
        schema_revision(base | admin | recognition)  # a migration missing in the middle
