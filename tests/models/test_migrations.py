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


def test_downgrade_to_base_and_back(tmp_path) -> None:
    from models.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
    upgrade(eng)
    assert "brand" in inspect(eng).get_table_names()
    downgrade(eng, "base")
    assert "brand" not in inspect(eng).get_table_names()
    upgrade(eng)
    assert set(models.Base.metadata.tables) <= set(inspect(eng).get_table_names())
    eng.dispose()


def test_router_learning_migration_keeps_logged_messages(tmp_path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from models.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
    upgrade(eng, "0006")
    received = datetime(2026, 11, 20, 2, 0, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with eng.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inbound_message (dedupe_key, openid, msg_type, content, intent, received_at,"
                " redacted) VALUES ('k1', 'o1', 'text', '投3号', 'vote', :at, 0)"
            ),
            {"at": received},
        )
    upgrade(eng, "0008")
    columns = {c["name"] for c in inspect(eng).get_columns("inbound_message")}
    assert {"intent_confidence", "followed_by", "follow_up_id"} <= columns
    assert "inbound_label" in inspect(eng).get_table_names()
    with eng.begin() as conn:
        row = conn.execute(text("SELECT content, intent_confidence, followed_by FROM inbound_message")).one()
        assert tuple(row) == ("投3号", None, None)  # older messages: nothing known, nothing invented
        conn.execute(
            text(
                "INSERT INTO inbound_label (inbound_id, intent, labelled_by, labelled_at)"
                " SELECT id, 'vote', 'county', :at FROM inbound_message"
            ),
            {"at": received},
        )
    downgrade(eng, "0006")
    assert "inbound_label" not in inspect(eng).get_table_names()
    assert "intent_confidence" not in {c["name"] for c in inspect(eng).get_columns("inbound_message")}
    with eng.connect() as conn:
        assert conn.execute(text("SELECT content FROM inbound_message")).scalar_one() == "投3号"
    eng.dispose()


def test_data_rights_migration_hashes_chat_event_keys(tmp_path) -> None:
    """Chat events written before 0011 held the openid in their key; afterwards none does, and
    the rewritten key is the one the chat handlers now compute (a retry is still caught)."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from handlers.recognition.respondents import identity_hash
    from models.db import make_engine

    eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
    upgrade(eng, "0009")
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with eng.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO campaign (id, name, kind, opens_at, max_choices, blind, created_at)"
                " VALUES (1, 'c', 'vote', :at, 1, 0, :at)"
            ),
            {"at": at},
        )
        for i, key in enumerate(("chat:m:o-old:77", "chat:m:o-old:78:heat", "survey:s1:R1:c1:roster"), 1):
            conn.execute(
                text(
                    "INSERT INTO recognition_event (id, event_key, campaign_id, kind, identity_hash, grp,"
                    " channel, payload, started_at, submitted_at)"
                    " VALUES (:i, :k, 1, 'support_vote', 'h', 'S', 'self', '{}', :at, :at)"
                ),
                {"i": i, "k": key, "at": at},
            )
    upgrade(eng)
    with Session(eng) as session:
        keys = [k for (k,) in session.execute(text("SELECT event_key FROM recognition_event ORDER BY id"))]
        assert keys == [
            f"chat:{identity_hash(session, 'm:o-old:77')}",
            f"chat:{identity_hash(session, 'm:o-old:78')}:heat",
            "survey:s1:R1:c1:roster",
        ]
    assert not any("o-old" in k for k in keys)
    eng.dispose()
