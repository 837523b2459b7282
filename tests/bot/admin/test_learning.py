"""路由标注: which messages are listed, who sees and labels them, the export, anonymity."""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.router_learning import FOLLOW_UP_WINDOW, Reason, note_follow_up, thresholds
from models import InboundLabel, InboundMessage, Union, User
from models.admin import AuditEntry
from nlp.examples import read_examples
from tests.bot.admin.conftest import World, csrf
from tests.wechat_chat import Chat

FIXED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
_keys = itertools.count(1)
ROW_RE = re.compile(r'<tr id="m(\d+)">')


@dataclass
class Log:
    """Messages written as the pipeline writes them (record, then ``note_follow_up``)."""

    db: Session
    openids: set[str] = field(default_factory=set)

    def user(self, openid: str, union: Union | None) -> str:
        self.db.add(User(openid=openid, union_id=union.id if union else None))
        self.db.flush()
        self.openids.add(openid)
        return openid

    def msg(
        self,
        openid: str | None,
        text: str | None,
        intent: str,
        conf: float | None = 1.0,
        at: timedelta = timedelta(0),
        kind: str = "text",
    ) -> InboundMessage:
        m = InboundMessage(
            dedupe_key=f"k{next(_keys)}",
            openid=openid,
            msg_type=kind,
            content=text,
            intent=intent,
            intent_confidence=conf,
            received_at=FIXED + at,
        )
        self.db.add(m)
        self.db.flush()
        note_follow_up(self.db, m)
        self.db.flush()
        return m


@dataclass
class Listed:
    """Ids (plain ints, read before the commit) of the messages the fixture wrote."""

    low: int
    unknown: int
    cancelled: int
    rephrased: int
    other_county: int
    unbound: int
    decoys: list[int]
    followed_by: dict[int, str | None]
    log: Log

    @property
    def in_county(self) -> set[int]:
        return {self.low, self.unknown, self.cancelled, self.rephrased}


def s(n: int) -> timedelta:
    return timedelta(seconds=n)


@pytest.fixture
def listed(world: World, db: Session) -> Listed:
    log = Log(db)
    a = log.user("oWkrA-9f8e7d6c5b4a3", world.grassroots)
    b = log.user("oWkrB-1a2b3c4d5e6f7", world.sibling)
    c = log.user("oWkrC-77aa88bb99cc0", world.county)
    far = log.user("oWkrZ-zp0000000000", world.other_county)
    nobody = log.user("oWkrN-unbound000000", None)
    act = thresholds().act
    low = log.msg(a, "驿站", "vote", 0.6, s(0))
    decoys = [log.msg(a, "投3号", "vote", 1.0, s(300))]  # confident, nothing follows within a minute
    unknown = log.msg(a, "今天食堂几点开门", "unknown", 0.2, s(600))
    cancelled = log.msg(b, "我要提建议", "suggest", 1.0, s(0))
    decoys.append(log.msg(b, "取消", "cancel", 1.0, s(20)))  # the cancel itself is no error
    rephrased = log.msg(c, "滨城幸福驿站怎么样了", "vote", 1.0, s(0))
    decoys += [
        log.msg(c, "查询滨城幸福驿站进度", "status", 1.0, s(30)),
        # Cancelled, but 90 s later: outside the window.
        log.msg(c, "给驿站点赞", "vote", 1.0, s(1000)),
        log.msg(c, "取消", "cancel", 1.0, s(1000) + FOLLOW_UP_WINDOW + s(30)),
        # Followed by a flow answer: the dialogue went on as intended.
        log.msg(a, "问卷", "survey", 1.0, s(2000)),
        log.msg(a, "3", "flow:survey", None, s(2010)),
        # The same request again is no rephrasing; neither is the next command after 帮助.
        log.msg(b, "投票", "vote", 1.0, s(3000)),
        log.msg(b, "投票", "vote", 1.0, s(3005)),
        log.msg(b, "帮助", "help", 1.0, s(4000)),
        log.msg(b, "投3号", "vote", 1.0, s(4010)),
        # Exactly at the act threshold: confident enough.
        log.msg(a, "驿站投票", "vote", act, s(5000)),
        # Another sender's 取消 is not this sender's.
        log.msg(a, "投5号", "vote", 1.0, s(6000)),
        log.msg(b, "取消", "cancel", 1.0, s(6010)),
        # Redacted (anonymous dialogue) and events: never listed.
        log.msg(None, None, "unknown", None, s(7000)),
        log.msg(a, "qrscene_1", "event:subscribe", None, s(7100), kind="event"),
    ]
    # Mentions anonymity but was not redacted (asked back before the suggestion handler ran):
    # neither listed nor taken as a rephrasing of the message before it.
    decoys.append(log.msg(c, "投5号", "vote", 1.0, s(9000)))
    decoys.append(log.msg(c, "我想匿名反映一下食堂的问题", "suggest", 0.5, s(9010)))
    redacted = log.msg(a, "匿名建议 车间主任克扣加班费", "suggest", 0.3, s(8000))
    redacted.redact()
    decoys.append(redacted)
    other = log.msg(far, "邹平纺织工匠", "vote", 0.5, s(0))
    unbound = log.msg(nobody, "有人吗", "unknown", 0.1, s(0))
    every = [low, unknown, cancelled, rephrased, other, unbound, *decoys]
    result = Listed(
        low.id,
        unknown.id,
        cancelled.id,
        rephrased.id,
        other.id,
        unbound.id,
        [d.id for d in decoys],
        {m.id: m.followed_by for m in every},
        log,
    )
    db.commit()
    db.close()  # the app writes next; SQLite allows one writer at a time
    return result


def listed_ids(client: FlaskClient, query: str = "") -> set[int]:
    html = client.get(f"/admin/learning/{query}").get_data(as_text=True)
    return {int(i) for i in ROW_RE.findall(html)}


def test_the_page_lists_exactly_the_three_kinds(as_user, listed: Listed) -> None:
    client = as_user("county")
    assert listed_ids(client) == listed.in_county
    assert listed_ids(client, "?reason=low") == {listed.low}
    assert listed_ids(client, "?reason=unknown") == {listed.unknown}
    assert listed_ids(client, "?reason=cancel") == {listed.cancelled}
    assert listed_ids(client, "?reason=rephrase") == {listed.rephrased}
    assert listed_ids(client, "?reason=bogus") == listed.in_county  # an unknown filter is ignored
    html = client.get("/admin/learning/").get_data(as_text=True)
    assert "置信度 0.60（需反问确认）" in html and "2026-11-20 10:00" in html  # Beijing time
    assert "随后改说：查询滨城幸福驿站进度" in html and "随后回复：取消" in html
    assert "投票/打分" in html and "一分钟内换了说法" in html


def test_follow_ups_are_recorded_on_the_previous_message(db: Session, listed: Listed) -> None:
    assert listed.followed_by[listed.cancelled] == Reason.CANCEL
    assert listed.followed_by[listed.rephrased] == Reason.REPHRASE
    assert all(listed.followed_by[d] is None for d in listed.decoys)
    cancelled = db.get(InboundMessage, listed.cancelled)
    assert cancelled is not None and cancelled.follow_up_id == listed.decoys[1]  # the 取消


def test_scope_follows_the_senders_union(as_user, client: FlaskClient, listed: Listed) -> None:
    everything = listed.in_county | {listed.other_county, listed.unbound}
    assert listed_ids(as_user("province"), "?page=1") == everything  # top level: unbound senders too
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert listed_ids(as_user("other")) == {listed.other_county}
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    viewer = as_user("viewer")
    assert listed_ids(viewer) == listed.in_county
    assert 'name="intent"' not in viewer.get("/admin/learning/").get_data(as_text=True)  # no buttons
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    cadre = as_user("cadre")
    assert cadre.get("/admin/learning/").status_code == 403
    assert cadre.get("/admin/learning/labels.txt").status_code == 403
    assert "路由标注" not in cadre.get("/admin/").get_data(as_text=True)


def test_pagination(as_user, db: Session, world: World) -> None:
    log = Log(db)
    who = log.user("oWkrP-pages0000000", world.grassroots)
    for i in range(35):
        log.msg(who, f"看不懂的话{i}", "unknown", 0.1, s(i * 120))
    db.commit()
    client = as_user("county")
    first, second = listed_ids(client), listed_ids(client, "?page=2")
    assert len(first) == 30 and len(second) == 5 and not first & second
    assert "第 1 / 2 页，共 35 条" in client.get("/admin/learning/").get_data(as_text=True)


def _label(client: FlaskClient, message_id: int, intent: str, token: str | None = None) -> int:
    data = {"intent": intent, "back": "/admin/learning/?reason=low"}
    if token is not None:
        data["csrf_token"] = token
    return client.post(f"/admin/learning/{message_id}/label", data=data).status_code


def test_one_click_stores_the_label_and_audits_it(as_user, db: Session, listed: Listed) -> None:
    client = as_user("county")
    token = csrf(client, "/admin/learning/")
    response = client.post(
        f"/admin/learning/{listed.rephrased}/label",
        data={"intent": "status", "csrf_token": token, "back": "/admin/learning/?reason=rephrase"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/learning/?reason=rephrase"
    label = db.scalar(select(InboundLabel).where(InboundLabel.inbound_id == listed.rephrased))
    assert label is not None and label.intent == "status" and label.labelled_by == "county"
    db.rollback()  # end the read before the app writes (SQLite locks the whole file)
    assert _label(client, listed.rephrased, "vote", token) == 302  # changed
    labels = db.scalars(select(InboundLabel).where(InboundLabel.inbound_id == listed.rephrased)).all()
    assert [x.intent for x in labels] == ["vote"]
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "inbound.label").order_by(AuditEntry.id)
    ).all()
    assert [
        (e.actor, e.target_id, (e.before or {})["intent"], (e.after or {})["intent"]) for e in entries
    ] == [
        ("county", str(listed.rephrased), None, "status"),
        ("county", str(listed.rephrased), "status", "vote"),
    ]
    db.rollback()
    html = client.get("/admin/learning/?labelled=yes").get_data(as_text=True)
    assert set(map(int, ROW_RE.findall(html))) == {listed.rephrased} and "已标注：<strong>投票/打分" in html
    assert listed.rephrased not in listed_ids(client, "?labelled=no")
    assert "标注消息意图" in client.get("/admin/audit/").get_data(as_text=True)


def test_labelling_needs_csrf_the_role_and_the_scope(
    as_user, client: FlaskClient, db: Session, listed: Listed
) -> None:
    admin = as_user("county")
    assert _label(admin, listed.low, "vote") == 400  # no CSRF token
    token = csrf(admin, "/admin/learning/")
    assert _label(admin, listed.low, "vote", "wrong") == 400
    assert _label(admin, listed.other_county, "vote", token) == 404  # other county's worker
    assert _label(admin, listed.unbound, "vote", token) == 404  # unbound sender: top level only
    for decoy in listed.decoys:
        assert _label(admin, decoy, "vote", token) == 404  # redacted, events, not for review
    assert _label(admin, listed.low, "flow:survey", token) == 302  # not an intent: refused
    assert "请选择一个有效的意图" in admin.get("/admin/learning/").get_data(as_text=True)
    for username in ("viewer", "cadre"):
        admin.post("/admin/logout", data={"csrf_token": csrf(admin, "/admin/")})
        user = as_user(username)
        assert _label(user, listed.low, "vote", csrf(user, "/admin/")) == 403
    assert db.scalar(select(InboundLabel)) is None
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "inbound.label")) is None


def _every_form_of(openid: str) -> list[bytes]:
    forms = [openid, hashlib.sha256(openid.encode()).hexdigest(), hashlib.md5(openid.encode()).hexdigest()]
    return [f.encode("utf-8") for f in forms]


def test_export_is_corpus_format_without_openids(
    app: Flask, as_user, db: Session, listed: Listed, world: World, tmp_path: Path
) -> None:
    tricky = listed.log.msg("oWkrA-9f8e7d6c5b4a3", "  投票给\n驿站 | 谢谢 ", "unknown", 0.1, s(9000))
    hashtag = listed.log.msg("oWkrA-9f8e7d6c5b4a3", "#投票#", "unknown", 0.1, s(9500))
    tricky_id, hashtag_id = tricky.id, hashtag.id
    db.commit()
    db.close()
    client = as_user("province")
    token = csrf(client, "/admin/learning/")
    for m, intent in (
        (listed.low, "vote"),
        (listed.unknown, "unknown"),
        (listed.rephrased, "status"),
        (listed.other_county, "vote"),
        (tricky_id, "vote"),
        (hashtag_id, "vote"),
    ):
        assert _label(client, m, intent, token) == 302
    body = client.get("/admin/learning/labels.txt")
    assert body.status_code == 200 and body.mimetype == "text/plain"
    data = body.get_data()
    page = client.get("/admin/learning/").get_data()
    for openid in listed.log.openids:
        for form in _every_form_of(openid):
            assert form not in data and form not in page, openid

    path = tmp_path / "labels.txt"
    path.write_bytes(data)
    examples, brands = read_examples(path)
    assert brands is None
    assert [(e.intent, e.message, e.brand) for e in examples] == [
        ("vote", "驿站", None),
        ("unknown", "今天食堂几点开门", None),
        ("status", "滨城幸福驿站怎么样了", None),
        ("vote", "邹平纺织工匠", None),
        ("vote", "投票给 驿站 | 谢谢", None),
    ]  # the "#…" message cannot be a corpus line and is left out
    assert data.decode("utf-8").startswith("# ")

    # The county admin downloads the labels of its own scope only.
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    county = as_user("county").get("/admin/learning/labels.txt").get_data(as_text=True)
    assert "滨城幸福驿站怎么样了" in county and "邹平纺织工匠" not in county

    out = tmp_path / "cli.txt"
    result = app.test_cli_runner().invoke(args=["inbound", "labels-export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出 5 条标注" in result.output and "1 条以 # 或 @ 开头" in result.output
    assert out.read_bytes() == data
    for openid in listed.log.openids:
        for form in _every_form_of(openid):
            assert form not in out.read_bytes()


def test_redaction_clears_what_the_review_uses(db: Session, listed: Listed) -> None:
    m = db.get(InboundMessage, listed.cancelled)
    assert m is not None and m.followed_by is not None
    m.redact()
    assert (m.intent_confidence, m.followed_by, m.follow_up_id, m.content, m.openid) == (None,) * 5  # type: ignore[comparison-overlap]  # redact() cleared what mypy saw asserted


# --- end to end through the webhook -----------------------------------------------------------


def test_anonymous_dialogue_never_reaches_the_page(
    app: Flask, client: FlaskClient, wechat, world: World, db: Session, as_user
) -> None:
    chat = Chat(client, wechat)
    named, anon = "oNamed-4d3c2b1a00", "oAnon-whistle-8e7f"
    secret = "车间主任长期克扣我们的加班费"
    chat.say(named, "我要提建议")
    assert "已退出" in chat.say(named, "取消")
    chat.say(anon, "匿名建议")
    chat.say(anon, secret + "，而且")
    assert "已退出" in chat.say(anon, "取消")  # breaks out of the anonymous dialogue
    chat.say(anon, "匿名建议")
    chat.say(anon, "食堂的饭菜一直很贵而且")
    chat.say(anon, "1")
    for openid in (named, anon):
        user = db.scalar(select(User).where(User.openid == openid))
        assert user is not None
        user.union_id = world.grassroots.id  # bound to a union in the county's scope
    db.commit()

    rows = db.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    by_sender = [r for r in rows if r.openid == named]
    assert [r.intent for r in by_sender] == ["suggest", "cancel"]
    assert by_sender[0].intent_confidence is not None and by_sender[0].followed_by == "cancel"
    assert not [r for r in rows if r.openid == anon]  # every message of the exchange, 取消 included
    assert all(r.intent_confidence is None and r.followed_by is None for r in rows if r.redacted)
    first_id = by_sender[0].id
    db.rollback()  # the login below writes; SQLite allows one writer at a time

    html = as_user("province").get("/admin/learning/").get_data()
    assert {int(i) for i in ROW_RE.findall(html.decode())} == {first_id}
    for text in (secret, "食堂的饭菜"):
        assert text.encode() not in html
    for openid in (named, anon):
        for form in _every_form_of(openid):
            assert form not in html


def test_every_intent_has_a_button_label() -> None:
    from handlers.router_learning import INTENT_LABELS
    from nlp import INTENTS

    assert list(INTENT_LABELS) == list(INTENTS)
