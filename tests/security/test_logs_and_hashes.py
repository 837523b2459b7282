"""Findings on what leaks: SQL parameters in logged tracebacks, and the dedupe hash kept on
redacted inbound rows (an unkeyed SHA-256 of openid + MsgId could be brute-forced)."""

from __future__ import annotations

import hashlib
import logging

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from bot.pipeline import hashed_key
from bot.runtime import dedupe_secret
from handlers.inbound import Inbound
from models import InboundMessage, utcnow
from models.db import make_engine
from tests.wechat_protocol import WeChatServer, message_xml, text_fields

MARKER = "marker-5f3c-不应出现在日志里"


def test_a_database_error_logs_no_sql_parameters(
    database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    eng = make_engine(database_url)
    try:
        with pytest.raises(IntegrityError) as err, eng.begin() as conn:
            # A union that does not exist: the error names the key, never the other values.
            conn.execute(
                text(
                    "INSERT INTO admin_account (username, password_hash, union_id, role, active, created_at,"
                    " session_epoch) VALUES (:u, :p, :union, 'viewer', :a, :t, 0)"
                ),
                {"u": MARKER, "p": MARKER + "-hash", "union": 987654321, "a": True, "t": utcnow()},
            )
        with caplog.at_level(logging.ERROR):
            logging.getLogger("ghpp.test").exception("database fault", exc_info=err.value)
    finally:
        eng.dispose()
    assert "database fault" in caplog.text
    assert MARKER not in caplog.text and MARKER not in str(err.value)
    assert "hidden due to hide_parameters" in str(err.value)


def test_the_engine_used_by_the_app_hides_parameters(app: Flask) -> None:
    assert app.extensions["ghpp"].engine.hide_parameters


def test_the_dedupe_hash_is_keyed(app: Flask, client, wechat: WeChatServer) -> None:
    req = wechat.sign(message_xml(text_fields("o-hash", "帮助", 81_000_001)))
    assert client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml").status_code == 200
    with app.extensions["ghpp"].session_factory() as s:
        stored = s.scalar(select(InboundMessage.dedupe_key))
    # What a brute force over MsgIds would compute for a known openid, without the key:
    unkeyed = hashlib.sha256(b"m:o-hash:81000001").hexdigest()
    inbound = Inbound(openid="o-hash", kind="text", created_at=utcnow(), msg_id="81000001")
    assert inbound.dedupe_key == "m:o-hash:81000001" and stored != unkeyed
    secret = dedupe_secret(app.extensions["ghpp"].settings.secret_key)
    assert stored == hashed_key(inbound, secret)
    assert hashed_key(inbound, dedupe_secret("another-secret-key-0123456789")) != stored
