"""The suggestions inbox in the dashboard: roles, scoping, CSRF, escaping, anonymity, the push on
answer, exports against the CLI's, the topics page, the overview panel and the API."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.accounts import create_api_token
from handlers.suggestions import operations as ops
from models import Suggestion, User, utcnow
from models.admin import AdminAccount, AuditEntry
from tests.bot.admin.conftest import World, csrf
from tests.factories import make_user
from tests.wechat_stub import WeChatStub

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NAMED_OPENID = "o-named-author-7f3a"
ANON_OPENID = "o-anon-author-9c2e"
OTHER_OPENID = "o-other-county-11b"


@dataclass(frozen=True)
class Ref:
    id: int
    ticket: str


@dataclass
class Voice:
    named: Ref
    anonymous: Ref
    xss: Ref
    other: Ref
    anon_user_id: int


@dataclass(frozen=True)
class Ids:
    grassroots: int
    sibling: int
    other_county: int


def fetch(db: Session, ident: int) -> Suggestion:
    """Read a suggestion fresh, then end the read transaction: an open SQLite read would block
    the app's next commit ("database is locked")."""
    db.expire_all()
    s = db.get(Suggestion, ident)
    assert s is not None
    _ = (s.state, s.union_id, s.reason, s.answer, s.answer_delivered_at)
    db.expunge(s)
    db.rollback()
    return s


@pytest.fixture
def voice(world: World, db: Session) -> Voice:
    now = utcnow()
    named_author = make_user(db, openid=NAMED_OPENID, union_id=world.grassroots.id, last_message_at=now)
    anon_author = make_user(db, openid=ANON_OPENID, union_id=world.grassroots.id, last_message_at=now)
    other_author = make_user(db, openid=OTHER_OPENID, union_id=world.other_county.id, last_message_at=now)
    named = ops.submit(db, named_author, "食堂的饭菜品种太少，希望增加几个窗口", now)
    anonymous = ops.submit(db, anon_author, "车间夏天太热，防暑降温用品发放不及时", now, anonymous=True)
    xss = ops.submit(db, named_author, "建议改进 " + XSS, now)
    other = ops.submit(db, other_author, "邹平的职工书屋开放时间太短", now)
    db.commit()
    refs = [Ref(x.id, x.ticket) for x in (named, anonymous, xss, other)]
    voice = Voice(refs[0], refs[1], refs[2], refs[3], anon_user_id=anon_author.id)
    db.rollback()  # end the read transaction the attribute loads opened
    return voice


@pytest.fixture
def ids(world: World, db: Session) -> Ids:
    out = Ids(world.grassroots.id, world.sibling.id, world.other_county.id)
    db.rollback()
    return out


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def post(client: FlaskClient, url: str, **data: str) -> tuple[int, str]:
    token = csrf(client, "/admin/suggestions/")
    response = client.post(url, data={"csrf_token": token, **data})
    return response.status_code, response.get_data(as_text=True)


# --- access -------------------------------------------------------------------------------------


def test_inbox_is_scoped_and_filters(as_user, voice: Voice, ids: Ids) -> None:
    client = as_user("county")
    inbox = page(client, "/admin/suggestions/")
    assert voice.named.ticket in inbox and voice.anonymous.ticket in inbox
    assert voice.other.ticket not in inbox and "邹平" not in inbox
    assert "共 3 条建议" in inbox
    only_rejected = page(client, "/admin/suggestions/?state=rejected")
    assert voice.named.ticket not in only_rejected and "没有符合条件的建议" in only_rejected
    by_union = page(client, f"/admin/suggestions/?union={ids.grassroots}")
    assert "共 3 条建议" in by_union
    assert "共 0 条建议" in page(client, f"/admin/suggestions/?union={ids.sibling}")
    assert "共 0 条建议" in page(client, "/admin/suggestions/?overdue=1")
    today = utcnow().date()
    assert "共 0 条建议" in page(client, f"/admin/suggestions/?to={(today - timedelta(days=3)).isoformat()}")
    assert "共 3 条建议" in page(
        client, f"/admin/suggestions/?from={(today - timedelta(days=1)).isoformat()}"
    )
    bad = page(client, "/admin/suggestions/?from=2026-13-45")
    assert "开始日期格式应为 YYYY-MM-DD" in bad and "共 3 条建议" in bad
    assert "共 3 条建议" in page(client, "/admin/suggestions/?category=不存在的分类")


@pytest.mark.parametrize("username", ["county", "viewer", "cadre"])
def test_cross_county_by_id_is_404(as_user, voice: Voice, ids: Ids, username: str) -> None:
    client = as_user(username)
    for url in (
        f"/admin/suggestions/{voice.other.id}",
        f"/admin/suggestions/?union={ids.other_county}",
        f"/admin/suggestions/?union={ids.other_county}&format=xlsx",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "不在您的管辖范围内" in response.get_data(as_text=True)


def test_cross_county_writes_are_404_and_change_nothing(as_user, voice: Voice, ids: Ids, db: Session) -> None:
    client = as_user("county")
    for action in ("accept", "start", "answer", "transfer", "reject"):
        status, _ = post(client, f"/admin/suggestions/{voice.other.id}/{action}", answer="x", reason="x")
        assert status == 404, action
    # Transfer of an own suggestion to a union outside the scope: 404 as well.
    status, _ = post(client, f"/admin/suggestions/{voice.named.id}/transfer", union=str(ids.other_county))
    assert status == 404
    assert fetch(db, voice.other.id).state.value == "submitted"
    assert fetch(db, voice.named.id).union_id == ids.grassroots


@pytest.mark.parametrize("username", ["viewer", "cadre"])
def test_readers_get_403_on_writes_and_see_no_forms(as_user, voice: Voice, username: str) -> None:
    client = as_user(username)
    detail = page(client, f"/admin/suggestions/{voice.named.id}")
    assert voice.named.ticket in detail and "<textarea" not in detail
    for action in ("accept", "start", "answer", "transfer", "reject"):
        status, _ = post(client, f"/admin/suggestions/{voice.named.id}/{action}", answer="好", reason="不")
        assert status == 403, action


def test_writes_without_csrf_are_400(as_user, voice: Voice, db: Session) -> None:
    client = as_user("county")
    for action in ("accept", "start", "answer", "transfer", "reject"):
        response = client.post(
            f"/admin/suggestions/{voice.named.id}/{action}", data={"answer": "x", "reason": "y"}
        )
        assert response.status_code == 400, action
    assert fetch(db, voice.named.id).state.value == "submitted"


# --- the actions ------------------------------------------------------------------------------


def test_accept_start_answer_pushes_exactly_once(
    as_user, voice: Voice, db: Session, wechat_stub: WeChatStub
) -> None:
    client = as_user("county")
    url = f"/admin/suggestions/{voice.named.id}"
    assert post(client, url + "/accept")[0] == 302
    assert post(client, url + "/start")[0] == 302
    assert wechat_stub.calls_to("message/custom/send") == []
    status, _ = post(client, url + "/answer", answer="已协调食堂下周起增加两个窗口。")
    assert status == 302
    calls = wechat_stub.calls_to("message/custom/send")
    assert len(calls) == 1
    assert NAMED_OPENID in json.dumps(calls[0].body, ensure_ascii=False)
    assert "增加两个窗口" in json.dumps(calls[0].body, ensure_ascii=False)
    detail = page(client, url)
    assert "已答复" in detail and "已协调食堂下周起增加两个窗口。" in detail
    assert "受理" in detail and "开始办理" in detail  # the history
    s = fetch(db, voice.named.id)
    assert s.state.value == "answered" and s.answer_delivered_at is not None
    stmt = select(AuditEntry).where(AuditEntry.target_type == "suggestion").order_by(AuditEntry.id)
    actions = [e.action for e in db.scalars(stmt)]
    db.rollback()
    assert actions == ["suggestion.accept", "suggestion.start", "suggestion.answer"]
    # A second answer is refused by the operation, in Chinese, and pushes nothing more.
    status, body = post(client, url + "/answer", answer="再答一次")
    assert status == 400 and "当前状态为「已答复」，不能执行此操作" in body
    assert "再答一次" in body  # the typed text is shown back, not lost
    assert len(wechat_stub.calls_to("message/custom/send")) == 1


def test_operation_errors_are_shown_in_chinese(as_user, voice: Voice) -> None:
    client = as_user("county")
    url = f"/admin/suggestions/{voice.named.id}"
    status, body = post(client, url + "/reject", reason="   ")
    assert status == 400 and "不予受理必须填写原因。" in body
    status, body = post(client, url + "/answer", answer="未受理也可以答复吗")
    assert status == 400 and "当前状态为「已提交」，不能执行此操作。" in body
    status, body = post(client, url + "/transfer", union="")
    assert status == 400 and "请选择要转办到的工会。" in body
    assert post(client, url + "/accept")[0] == 302
    status, body = post(client, url + "/answer", answer="  ")
    assert status == 400 and "答复内容不能为空。" in body


def test_reject_and_transfer_within_scope(as_user, voice: Voice, ids: Ids, db: Session) -> None:
    client = as_user("county")
    status, _ = post(
        client, f"/admin/suggestions/{voice.named.id}/transfer", union=str(ids.sibling), note="医院负责"
    )
    assert status == 302
    assert post(client, f"/admin/suggestions/{voice.xss.id}/reject", reason="与工会职责无关")[0] == 302
    assert fetch(db, voice.named.id).union_id == ids.sibling
    rejected = fetch(db, voice.xss.id)
    assert rejected.reason == "与工会职责无关"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "suggestion.transfer"))
    assert entry is not None and entry.actor == "county"
    assert entry.before == {"ticket": voice.named.ticket, "state": "已提交", "union": "BZ-BC-001"}
    assert entry.after == {
        "ticket": voice.named.ticket,
        "state": "已提交",
        "union": "BZ-BC-002",
        "note": "医院负责",
    }
    db.rollback()  # the test session's read would block the app (SQLite)
    detail = page(client, f"/admin/suggestions/{voice.named.id}")
    assert "转办" in detail and "滨城区人民医院工会" in detail


# --- escaping and anonymity ---------------------------------------------------------------------


def test_xss_in_suggestion_and_answer_is_escaped(as_user, voice: Voice) -> None:
    client = as_user("county")
    url = f"/admin/suggestions/{voice.xss.id}"
    post(client, url + "/accept")
    post(client, url + "/answer", answer="答复 " + XSS)
    for html in (page(client, url), page(client, "/admin/suggestions/"), page(client, "/admin/audit/")):
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page(client, url)


def test_anonymous_author_appears_nowhere(
    as_user, voice: Voice, db: Session, client: FlaskClient, wechat_stub: WeChatStub
) -> None:
    client = as_user("county")
    url = f"/admin/suggestions/{voice.anonymous.id}"
    post(client, url + "/accept")
    status, _ = post(client, url + "/answer", answer="已安排防暑用品本周发放。")
    assert status == 302
    assert wechat_stub.calls_to("message/custom/send") == []  # nobody to push to
    anon_user = db.get(User, voice.anon_user_id)
    assert anon_user is not None
    anon_user_id = anon_user.id
    db.rollback()
    from bot.admin.feedback_common import respondent_label

    with client.application.test_request_context():
        label = respondent_label(anon_user_id)
    detail = page(client, url)
    assert "匿名建议，不显示提交人" in detail
    named_detail = page(client, f"/admin/suggestions/{voice.named.id}")
    assert "职工-" in named_detail and "滨州化工厂工会" in named_detail and NAMED_OPENID not in named_detail
    outputs = [
        detail,
        page(client, "/admin/suggestions/"),
        page(client, "/admin/audit/"),
        page(client, "/admin/audit/?format=csv"),
        page(client, "/admin/suggestions/?format=csv"),
    ]
    xlsx = client.get("/admin/suggestions/?format=xlsx").data
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    outputs.append(
        json.dumps([[c for c in row] for ws in book for row in ws.iter_rows(values_only=True)], default=str)
    )
    token = create_api_token(
        db,
        db.scalars(select(AdminAccount).where(AdminAccount.username == "county")).one(),
        "t",
        actor_name="测试",
    )
    db.commit()
    api = client.get("/api/v1/suggestions", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    outputs.append(api.get_data(as_text=True))
    for entry in db.scalars(select(AuditEntry)):
        outputs.append(json.dumps([entry.before, entry.after], ensure_ascii=False))
    for out in outputs:
        assert ANON_OPENID not in out
        assert label not in out
        assert f'"user_id": {voice.anon_user_id}' not in out
    body = api.json
    assert body is not None
    items = {i["ticket"]: i for i in body["items"]}
    anon = items[voice.anonymous.ticket]
    assert anon["anonymous"] is True
    forbidden = {"user_id", "user", "openid", "author", "access_code", "respondent"}
    assert not forbidden & set(anon) and not forbidden & set(items[voice.named.ticket])
    assert NAMED_OPENID not in api.get_data(as_text=True)


# --- exports against the CLI --------------------------------------------------------------------


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book}


def test_suggestion_exports_equal_the_cli_cell_by_cell(
    as_user, voice: Voice, app: Flask, tmp_path: Path
) -> None:
    client = as_user("province")
    post(client, f"/admin/suggestions/{voice.named.id}/accept")
    post(client, f"/admin/suggestions/{voice.named.id}/answer", answer="=1+1 已答复")
    runner = app.test_cli_runner()
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"cli.{fmt}"
        result = runner.invoke(args=["export", "suggestions", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        web = client.get(f"/admin/suggestions/?format={fmt}")
        assert web.status_code == 200
        if fmt == "csv":
            assert web.data == out.read_bytes()
            continue
        cli_cells, web_cells = _cells(out.read_bytes()), _cells(web.data)
        assert list(web_cells) == ["数据", "代码本"]
        for sheet, rows in cli_cells.items():
            assert len(web_cells[sheet]) == len(rows)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    assert web_cells[sheet][r][c] == value, (sheet, r, c)
        assert len(cli_cells["数据"]) == 5  # header + 4 suggestions (the province sees all)
    # A county's export has the same columns with its own rows only, filtered like the page.
    county = as_user("county")
    rows = _cells(county.get("/admin/suggestions/?format=xlsx&state=answered").data)["数据"]
    assert rows[0] == _cells((tmp_path / "cli.xlsx").read_bytes())["数据"][0]
    assert [r[0] for r in rows[1:]] == [voice.named.ticket]


# --- topics, overview ---------------------------------------------------------------------------


def test_topics_this_month_chart_and_table(as_user, voice: Voice) -> None:
    html = page(as_user("county"), "/admin/suggestions/topics")
    assert "本月共 3 条建议" in html
    found = re.search(r'id="topic-categories-data">(.*?)</script>', html, re.S)
    assert found is not None
    spec = json.loads(found.group(1))
    assert spec["type"] == "hbar" and sum(d["value"] for d in spec["data"]) == 3
    found = re.search(r'id="topic-keywords-data">(.*?)</script>', html, re.S)
    assert found is not None
    keywords = json.loads(found.group(1))
    names = [d["name"] for d in keywords["data"]]
    assert names and all(d["value"] >= 1 for d in keywords["data"])
    assert "邹平" not in names and "书屋" not in names  # the other county's suggestion
    # Without scripts the same numbers are in the tables.
    assert '<th scope="col">分类</th>' in html and '<th scope="col">关键词</th>' in html
    empty = page(as_user("county"), "/admin/suggestions/topics?month=2020-01")
    assert "本月共 0 条建议" in empty and "topic-categories-data" not in empty


def test_overview_overdue_panel(as_user, voice: Voice, db: Session) -> None:
    s = db.get(Suggestion, voice.named.id)
    assert s is not None
    s.due_at = utcnow() - timedelta(days=1)
    db.commit()
    html = page(as_user("county"), "/admin/")
    panel = html.split('id="panel-overdue_suggestions"')[1].split("</section>")[0]
    assert voice.named.ticket in panel and voice.anonymous.ticket not in panel
    assert voice.named.ticket not in page(as_user("other"), "/admin/")
    assert voice.named.ticket in page(as_user("county"), "/admin/suggestions/?overdue=1")


def test_api_suggestions_scoped_and_filtered(as_user, voice: Voice, ids: Ids, db: Session) -> None:
    account = db.scalar(select(AdminAccount).where(AdminAccount.username == "county"))
    assert account is not None
    token = create_api_token(db, account, "t", actor_name="测试")
    db.commit()
    client = as_user("county")
    headers = {"Authorization": f"Bearer {token}"}
    data = client.get("/api/v1/suggestions", headers=headers).json
    assert data["total"] == 3
    assert voice.other.ticket not in {i["ticket"] for i in data["items"]}
    assert client.get("/api/v1/suggestions?state=answered", headers=headers).json["total"] == 0
    assert client.get(f"/api/v1/suggestions?union={ids.other_county}", headers=headers).status_code == 404
    bad = client.get("/api/v1/suggestions?from=soon", headers=headers)
    assert bad.status_code == 400 and "日期格式" in bad.json["error"]


@pytest.mark.postgres
def test_two_admins_answering_at_once_push_once(
    app: Flask, world: World, voice: Voice, wechat_stub: WeChatStub
) -> None:
    import threading

    from tests.bot.admin.conftest import login

    clients = [app.test_client(), app.test_client()]
    for c in clients:
        assert login(c, "county").status_code == 302
    url = f"/admin/suggestions/{voice.named.id}"
    assert post(clients[0], url + "/accept")[0] == 302
    tokens = [csrf(c, "/admin/suggestions/") for c in clients]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def answer(i: int) -> None:
        barrier.wait()
        response = clients[i].post(url + "/answer", data={"csrf_token": tokens[i], "answer": f"答复{i}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [302, 400]
    assert len(wechat_stub.calls_to("message/custom/send")) == 1


def test_answer_push_is_written_to_the_outbox_with_the_answer(
    as_user, app: Flask, voice: Voice, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push job is staged in the answer's own transaction: a process that dies (or a queue
    that refuses) right after the commit cannot lose it."""
    from models import OutboxJob

    client = as_user("county")
    url = f"/admin/suggestions/{voice.named.id}"
    assert post(client, url + "/accept")[0] == 302
    queue = app.extensions["ghpp"].queue

    def gone(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the process died right after the commit")

    monkeypatch.setattr(queue, "enqueue", gone)  # a hand-off after the commit never happens
    monkeypatch.setattr(queue, "dispatch", lambda ids: None)
    status, _ = post(client, url + "/answer", answer="已安排。")
    assert status == 302
    db.rollback()
    jobs = db.scalars(select(OutboxJob).where(OutboxJob.name == "suggestion_answer")).all()
    assert [j.kwargs for j in jobs] == [{"suggestion_id": voice.named.id}]
    assert fetch(db, voice.named.id).state.value == "answered"
