"""Suggestions and surveys end to end: signed WeChat requests, commits, jobs, CLI exports."""

from __future__ import annotations

import itertools
import logging
import re
import threading
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import models
from handlers.clock import local_day
from handlers.suggestions import operations as sg
from handlers.suggestions.operations import user_actor
from handlers.surveys.templates import templates
from models import Role, Suggestion, SurveyResponse, Union, UnionKind, User, utcnow
from models.union import assign_path
from tests.wechat_chat import Chat
from tests.wechat_protocol import event_fields

_ids = itertools.count(5000)


@pytest.fixture
def chat(client, wechat):
    return Chat(client, wechat)


def _seed(engine: Engine) -> dict[str, int]:
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="省总工会", kind=UnionKind.PROVINCE)
        session.add(top)
        session.flush()
        assign_path(session, top)
        base = Union(code="BASE", name="机械厂工会", kind=UnionKind.GRASSROOTS, parent_id=top.id)
        session.add(base)
        session.flush()
        assign_path(session, base)
        return {"top": top.id, "base": base.id}


def _all_rows(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    rows = []
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                rows.append((table.name, dict(row._mapping)))
    return rows


def test_anonymous_suggestion_leaves_no_trace(app, chat, clean_db, caplog, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    _seed(clean_db)
    openid = "o-whistleblower-7f3a"
    content = "车间主任长期拖欠我们班组的加班费"
    chat.say(openid, "帮助")  # the author exists as a follower before
    chat.say(openid, "匿名建议")
    reply = chat.say(openid, content + "，而且")  # looks cut off → confirmation
    assert "请确认" in reply
    reply = chat.say(openid, "1")
    found = re.search(r"(JY\d{8}-\d{4})，查询码：([0-9A-Z]{4}-[0-9A-Z]{4})", reply)
    assert found is not None
    ticket, code = found.groups()
    assert chat.say(openid, f"查询 {ticket} {code}").count(content) == 1

    with Session(clean_db) as session:
        author = session.scalar(select(User).where(User.openid == openid))
        s = session.scalar(select(Suggestion).where(Suggestion.ticket == ticket))
        assert author is not None and s is not None and s.user_id is None and s.anonymous
        author_id = author.id
    for table, row in _all_rows(clean_db):
        text = repr(row)
        if openid in text:
            # Only the follower record and the unrelated greeting may carry the openid.
            assert table == "wechat_user" or (table == "inbound_message" and row["intent"] == "help")
            assert content not in text and ticket not in text
        if content in text or ticket in text:
            assert table in ("suggestion", "suggestion_event"), (table, row)
        if table in ("suggestion", "suggestion_event"):
            assert author_id not in (row.get("user_id"), row.get("actor_id")), (table, row)
        if table == "inbound_message" and row["intent"] in ("suggest", "flow:suggest", "status"):
            assert row["openid"] is None and row["content"] is None and row["redacted"]
        if table == "conversation":
            assert row["user_id"] != author_id or "suggestion" not in text
    assert openid not in caplog.text and content not in caplog.text and ticket not in caplog.text

    runner = app.test_cli_runner()
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"s.{fmt}"
        result = runner.invoke(args=["export", "suggestions", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            data = out.read_text(encoding="utf-8-sig")
        else:
            wb = openpyxl.load_workbook(out)
            data = repr([list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)])
        assert content in data and openid not in data and str(author_id) not in data.split(ticket)[1][:3]


def test_duplicate_deliveries_count_once(app, chat, clean_db) -> None:
    _seed(clean_db)
    openid = "o-dup-1"
    first = chat.say(openid, "建议：食堂饭菜太咸了，希望少放盐。", msg_id=777)
    again = chat.say(openid, "建议：食堂饭菜太咸了，希望少放盐。", msg_id=777)
    assert "单号" in first and again in (first, "")
    with Session(clean_db) as session:
        assert session.scalar(select(func.count(Suggestion.id))) == 1
    # Survey answers retried: recorded once.
    chat.say(openid, "问卷", msg_id=778)
    with Session(clean_db) as session:
        assert session.scalar(select(func.count(SurveyResponse.id))) == 1
    # No brands in the area: the roster is the foil (1) and "none" (2).
    chat.say(openid, "2", msg_id=779)
    chat.say(openid, "2", msg_id=779)
    chat.say(openid, "4", msg_id=780)
    with Session(clean_db) as session:
        resp = session.scalar(select(SurveyResponse))
        assert resp is not None
        assert resp.plan["history"] == ["aware", "union_service"]
        assert resp.answers == {"aware": [], "union_service": 4}


def test_escalate_and_deliver_commands(app, chat, clean_db, wechat_stub) -> None:
    ids = _seed(clean_db)
    assert "机械厂工会" in chat.post(event_fields("o-esc", "subscribe", "qrscene_BASE"))
    chat.say("o-esc", "建议：宿舍热水供应时间太短")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["suggestions", "escalate"])
    assert result.exit_code == 0 and "已上交 0 条" in result.output
    with Session(clean_db) as session, session.begin():
        s = session.scalar(select(Suggestion))
        assert s is not None
        s.due_at = utcnow().replace(year=2020)
        cadre = User(openid="o-cadre", role=Role.CADRE, union_id=ids["top"])
        session.add(cadre)
    result = runner.invoke(args=["suggestions", "escalate"])
    assert "已上交 1 条" in result.output and "省总工会" in result.output
    assert "已上交 0 条" in runner.invoke(args=["suggestions", "escalate"]).output
    # Answer through the operation; the push job goes through the WeChat stub.
    with Session(clean_db) as session, session.begin():
        s = session.scalar(select(Suggestion))
        assert s is not None
        cadre = session.scalars(select(User).where(User.openid == "o-cadre")).one()
        sg.accept(session, s, user_actor(cadre), utcnow())
        job = sg.answer(session, s, user_actor(cadre), "已延长热水供应时间。", utcnow())
    app.extensions["ghpp"].queue.enqueue(job)
    sent = wechat_stub.calls_to("message/custom/send")
    assert len(sent) == 1 and "已延长热水供应时间" in str(sent[0])
    assert "已安排补发 0 条" in runner.invoke(args=["suggestions", "deliver"]).output
    assert "感谢您的评价" in chat.say("o-esc", "满意")


@pytest.mark.postgres
def test_ticket_sequence_under_concurrency(clean_db) -> None:
    ids = _seed(clean_db)
    with Session(clean_db) as session, session.begin():
        users = [User(openid=f"o-conc-{i}", union_id=ids["base"]) for i in range(40)]
        session.add_all(users)
        session.flush()
        user_ids = [u.id for u in users]
    now = utcnow()
    tickets: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def worker(chunk: list[int]) -> None:
        try:
            barrier.wait()
            for uid in chunk:
                with Session(clean_db) as session, session.begin():
                    user = session.get_one(User, uid)
                    s = sg.submit(session, user, f"建议食堂改进第{uid}号", now)
                    with lock:
                        tickets.append(s.ticket)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(user_ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    day = local_day(now)
    assert sorted(tickets) == [f"JY{day}-{n:04d}" for n in range(1, 41)]


def test_templates_load() -> None:
    assert "brand_recognition" in templates()


def test_survey_by_qr_scene_sets_group(app, chat, clean_db) -> None:
    _seed(clean_db)
    reply = chat.post(event_fields("o-gov", "subscribe", "qrscene_survey:brand_recognition:S"))
    assert "欢迎关注" in reply and "以下品牌您听说过哪些" in reply
    reply = chat.say("o-gov", "2")  # no brands: the foil (1) and "none" (2)
    assert "所在工会的服务" in reply
    with Session(clean_db) as session:
        resp = session.scalar(select(SurveyResponse))
        assert resp is not None
        assert resp.respondent_group == "S" and resp.channel == "neutral_invited"
        assert resp.answers == {"aware": []}
