"""Databases stamped under the old revision numbering get the new ids before Alembic reads them.

Three migrations were renumbered so that history reads in order (the chain used to be
0001 → 0002 → 0003 → 0005 → 0007 → 0004 → 0008 → … with no 0006):

    old 0005  admin dashboard          → new 0004
    old 0007  survey open/closed state → new 0005
    old 0004  recognition              → new 0006

0007 is now unused: 17 revisions, and 0018 keeps its id so that work chained on it needs no edit.
Ids up to 0003 and from 0008 on did not change, so a database stamped there needs nothing.

"0004" and "0005" exist in both numberings with different meanings, so the stored id alone
cannot say which one a database holds. Its tables can: each renumbered migration created its
own tables, and nothing between 0003 and 0008 dropped any. A stored id is rewritten only when
the tables match its old meaning; when they match neither meaning, nothing is changed and the
upgrade stops, rather than guess. Running it again finds the new id and does nothing.

Called from models/migrations/env.py, on the connection and inside the transaction Alembic
then migrates in, so every entry point (`flask db upgrade`, models.migrate, the `alembic` CLI)
translates first, and on PostgreSQL a failed upgrade rolls the translation back with it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, inspect, text

log = logging.getLogger(__name__)

OLD_TO_NEW: dict[str, str] = {"0005": "0004", "0007": "0005", "0004": "0006"}

# The tables each renumbered migration created, by new id, in chain order.
CREATED_BY: dict[str, frozenset[str]] = {
    "0004": frozenset({"admin_account", "api_token", "audit_entry"}),
    "0005": frozenset({"survey_schedule"}),
    "0006": frozenset(
        {
            "recognition_secret",
            "campaign",
            "campaign_brand",
            "recognition_event",
            "recognition_snapshot",
            "reviewer_invite",
            "recognition_flag",
            "recognition_flag_audit",
        }
    ),
}


class RevisionMismatch(RuntimeError):
    """The stored revision fits neither numbering: the schema was changed by hand or is damaged."""


def schema_revision(tables: set[str]) -> str | None:
    """The new id among 0004–0006 that these tables are at (None: before 0004).

    Migrations apply in order, so each one's tables are there completely, with all earlier ones'."""
    reached: str | None = None
    previous: str | None = None
    for revision, created in CREATED_BY.items():
        present = created & tables
        if present:
            if present != created or reached != previous:
                raise RevisionMismatch(
                    f"数据库表结构不完整：迁移 {revision} 建的表只有一部分（{'、'.join(sorted(present))}），"
                    "或缺少它之前的迁移建的表。请先检查数据库，不要直接升级。"
                )
            reached = revision
        previous = revision
    return reached


def translate_stored_revision(connection: Connection) -> str | None:
    """Rewrite an old-numbering id in alembic_version to the new one; the new id, or None if
    there was nothing to do (fresh database, already the new numbering, or an unchanged id)."""
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        return None
    stored = [v for (v,) in connection.execute(text("SELECT version_num FROM alembic_version"))]
    if len(stored) != 1 or stored[0] not in OLD_TO_NEW:
        return None  # the chain has no branches; 0001–0003, 0006 and 0008 on mean the same in both
    (old,) = stored
    actual = schema_revision(tables)
    if actual == old:
        return None  # new numbering already ("0004" or "0005" with exactly those tables)
    if actual != OLD_TO_NEW[old]:
        raise RevisionMismatch(
            f"数据库记录的迁移版本 {old} 与表结构（相当于新编号 {actual or '0003 或更早'}）不符，"
            "新旧编号都对不上。请先检查数据库，不要直接升级。"
        )
    connection.execute(
        text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
        {"new": actual, "old": old},
    )
    log.info("迁移版本号改为新编号：旧 %s → 新 %s", old, actual)
    return actual
