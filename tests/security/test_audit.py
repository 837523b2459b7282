"""Audit-log findings: entries are hash-chained (``flask audit verify`` names the first broken
one), the chain stays linear under concurrent writers, PostgreSQL refuses UPDATE/DELETE, and
an auditor reads the log but changes nothing."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.admin.accounts import create_account
from bot.admin.audit_log import record
from models.admin import AUDIT_GENESIS, AdminRole, AuditEntry, verify_audit_chain
from tests.bot.admin.conftest import PASSWORD, World, csrf, login


def _write_entries(app: Flask, n: int, tag: str = "t") -> None:
    with app.extensions["ghpp"].session_factory() as s, s.begin():
        for i in range(n):
            record(s, "test.write", "thing", f"{tag}{i}", None, {"n": i, "文字": "值"}, actor_name="测试")


def _tamper(engine: Engine, sql: str, **params: Any) -> None:
    """What someone with the database can do (on PostgreSQL after switching the guard off)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL ghpp.allow_audit_delete = 'on'"))
        conn.execute(text(sql), params)


def _ids(app: Flask) -> list[int]:
    with app.extensions["ghpp"].session_factory() as s:
        return list(s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def test_entries_are_chained_and_verify_passes(app: Flask, clean_db: Engine) -> None:
    _write_entries(app, 5)
    with app.extensions["ghpp"].session_factory() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert entries[0].prev_hash == AUDIT_GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "操作日志完好：共 5 条" in result.output and entries[-1].entry_hash in result.output


def test_verify_names_an_edited_entry(app: Flask, clean_db: Engine) -> None:
    _write_entries(app, 5)
    third = _ids(app)[2]
    _tamper(clean_db, "UPDATE audit_entry SET actor = 'someone-else' WHERE id = :id", id=third)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"第 {third} 号条目" in result.output and "内容被修改" in result.output
    assert "此前 2 条完好" in result.output


def test_verify_names_the_entry_after_a_deleted_one(app: Flask, clean_db: Engine) -> None:
    _write_entries(app, 5)
    ids = _ids(app)
    _tamper(clean_db, "DELETE FROM audit_entry WHERE id = :id", id=ids[1])
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"第 {ids[2]} 号条目" in result.output and "删除" in result.output


def test_a_cut_off_tail_is_found_with_the_noted_head(app: Flask, clean_db: Engine) -> None:
    _write_entries(app, 4)
    head = re.search(r"哈希 ([0-9a-f]{64})", app.test_cli_runner().invoke(args=["audit", "verify"]).output)
    assert head is not None
    _tamper(clean_db, "DELETE FROM audit_entry WHERE id = :id", id=_ids(app)[-1])
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0  # nothing else shows it
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--head", head.group(1)])
    assert result.exit_code != 0 and "已被删除" in result.output


def test_concurrent_writers_keep_one_linear_chain(app: Flask, clean_db: Engine) -> None:
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(4):
                with app.extensions["ghpp"].session_factory() as s, s.begin():
                    record(s, "test.write", "thing", f"{tag}{i}", None, {"i": i}, actor_name=tag)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.extensions["ghpp"].session_factory() as s:
        report = verify_audit_chain(s)
        hashes = list(s.scalars(select(AuditEntry.prev_hash)))
    assert report.first_break is None and report.checked == 24
    assert len(set(hashes)) == 24  # no two entries hang off the same predecessor


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_audit_entries(app: Flask, clean_db: Engine) -> None:
    _write_entries(app, 2)
    for sql in ("DELETE FROM audit_entry", "UPDATE audit_entry SET actor = 'x'", "TRUNCATE audit_entry"):
        with pytest.raises(DBAPIError, match="操作日志只能追加"), clean_db.begin() as conn:
            conn.execute(text(sql))
    assert len(_ids(app)) == 2


# --- the auditor role ------------------------------------------------------------------------------


@pytest.fixture
def auditor(world: World, db: Session) -> str:
    create_account(db, world.province, "auditor1", AdminRole.AUDITOR, PASSWORD, actor_name="测试")
    db.commit()
    return "auditor1"


def test_an_auditor_reads_the_audit_log(app: Flask, auditor: str) -> None:
    client = app.test_client()
    assert login(client, auditor).status_code == 302
    page = client.get("/admin/audit/")
    assert page.status_code == 200 and "auditor1" in page.get_data(as_text=True)  # its own login
    assert "登录" in page.get_data(as_text=True)
    assert client.get("/admin/audit/?format=csv").status_code == 200
    assert client.get("/admin/accounts/").status_code == 403


def _mutating_urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin") or rule.endpoint in (
            "admin.login",
            "admin.logout",
            "admin.password",
        ):
            continue
        if not ({"POST", "PUT", "PATCH", "DELETE"} & (rule.methods or set())):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", "1", url)
        urls.append(url)
    return urls


def test_an_auditor_changes_nothing(app: Flask, world: World, auditor: str) -> None:
    client = app.test_client()
    assert login(client, auditor).status_code == 302
    token = csrf(client, "/admin/")
    urls = _mutating_urls(app)
    assert len(urls) >= 15  # every write route of the dashboard, not a handful
    for url in urls:
        resp = client.post(url, data={"csrf_token": token, "active": "0", "union": str(world.county.id)})
        assert resp.status_code == 403, url
    with app.extensions["ghpp"].session_factory() as s:
        actions = set(s.scalars(select(AuditEntry.action)))
    assert actions <= {"account.create", "account.login"}  # nothing was written by the auditor
    assert not [r for r in app.url_map.iter_rules() if "DELETE" in (r.methods or set())]
