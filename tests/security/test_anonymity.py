"""Anonymous means anonymous: each way an insider (database, logs, Redis, job payloads, API call
log) or a guessing follower could tie an anonymous suggestion to its author."""

from __future__ import annotations

import itertools
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import models
from bot.pipeline import Pipeline
from config.suggestions import default_config
from handlers.actor import SYSTEM
from handlers.anonymity import CODE_ALPHABET, code_matches, day_stamp, legacy_hash
from handlers.suggestions import chat as suggestion_chat
from handlers.suggestions import flows, queries
from handlers.suggestions import operations as sg
from handlers.suggestions.operations import user_actor
from models import Conversation, InboundMessage, Suggestion, SuggestionState, Union, UnionKind, User
from models.recognition import RecognitionEvent
from models.union import assign_path
from models.voice import SuggestionQuota
from tests.bot.chat_world import seed as seed_world
from tests.factories import make_union, make_user
from tests.factories_voice import say
from tests.wechat_chat import Chat

MONDAY = datetime(2026, 11, 23, 2, 17, 33, 123456, tzinfo=UTC)  # 10:17 in Shanghai
CODE_RE = re.compile(r"(JY\d{8}-\d{4})，查询码：([0-9A-Z]{4}(?:-[0-9A-Z]{4})?)")
_ids = itertools.count(700_000)


@pytest.fixture
def tree(session):
    top = make_union(session, name="省总工会")
    base = make_union(session, top, name="机械厂工会")
    return top, base


def _seed(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="省总工会", kind=UnionKind.PROVINCE)
        session.add(top)
        session.flush()
        assign_path(session, top)


def _file_anonymously(session: Session, user: User, now: datetime = MONDAY) -> tuple[Suggestion, str]:
    reply, _ = say(session, user, "匿名建议：食堂承包商克扣饭量，份量明显不足", now)
    found = CODE_RE.search(reply.text or "")
    assert found is not None
    ticket, code = found.groups()
    s = queries.find_ticket(session, ticket)
    assert s is not None
    return s, code


# --- time: the day, not the instant ------------------------------------------------------------


def test_anonymous_suggestion_stores_its_day_not_its_instant(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    s, _ = _file_anonymously(session, user)
    day = day_stamp(MONDAY)
    assert day == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 2026-11-23 00:00 in Shanghai
    assert s.created_at == day and s.updated_at == day
    assert [e.at for e in s.events] == [day]
    # The deadline counts from the day: the end of the fifth working day (Monday 30th).
    assert default_config().accept_working_days == 5
    assert s.due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    cadre = make_user(session, role=models.Role.CADRE, union_id=tree[1].id)
    later = MONDAY + timedelta(hours=3, minutes=7)
    sg.accept(session, s, user_actor(cadre), later)
    sg.answer(session, s, user_actor(cadre), "已约谈承包商。", later)
    assert s.answered_at == day and s.updated_at == day and all(e.at == day for e in s.events)
    # Named suggestions keep their instant.
    say(session, user, "建议：食堂增加夜班餐", MONDAY)
    named = session.scalar(select(Suggestion).where(Suggestion.user_id == user.id))
    assert named is not None and named.created_at == MONDAY


def test_status_shows_the_day_of_an_anonymous_suggestion(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, user)
    reply, _ = say(session, user, f"查询 {s.ticket} {code}", MONDAY)
    assert "2026-11-23" in (reply.text or "") and "00:00" not in (reply.text or "")
    assert "办理时限：2026-11-30" in (reply.text or "")  # due by the end of that Monday


def test_the_quota_of_a_user_shows_no_anonymous_filing(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    _file_anonymously(session, user)
    rows = session.scalars(select(SuggestionQuota).where(SuggestionQuota.user_id == user.id)).all()
    assert rows == []
    # Still one daily limit over both kinds.
    for i in range(default_config().per_day - 1):
        say(session, user, f"建议：第{i}条关于食堂窗口的建议", MONDAY)
    reply, _ = say(session, user, "匿名建议：再提一条关于宿舍热水的建议", MONDAY)
    assert "今天" in (reply.text or "") or "上限" in (reply.text or "")


def test_anonymous_exchange_does_not_touch_last_message_at_and_is_day_stamped(
    app, client, wechat, clean_db, store, monkeypatch
) -> None:
    _seed(clean_db)
    clock = {"now": MONDAY}
    monkeypatch.setattr("bot.pipeline.utcnow", lambda: clock["now"])
    chat = Chat(client, wechat)
    openid = "o-canteen-1"
    chat.say(openid, "帮助")
    clock["now"] = MONDAY + timedelta(minutes=3)
    chat.say(openid, "匿名建议")
    clock["now"] = MONDAY + timedelta(minutes=4)
    assert "请确认" in chat.say(openid, "食堂承包商克扣饭量，份量明显不足，而且")
    clock["now"] = MONDAY + timedelta(minutes=5)
    reply = chat.say(openid, "1", msg_id=4_242_424)  # the confirmation
    m = CODE_RE.search(reply)
    assert m
    # The dedupe cache (Redis) replays replies to retried deliveries: this one is sealed there.
    assert not [v for v in store_values(store) if m.group(1) in v or m.group(2) in v]
    assert chat.say(openid, "1", msg_id=4_242_424) == reply  # a retried delivery still gets it
    with Session(clean_db) as session:
        user = session.scalar(select(User).where(User.openid == openid))
        assert user is not None and user.last_message_at == MONDAY  # the greeting, not the exchange
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [r.redacted for r in rows] == [False, True, True, True]
        for r in rows[1:]:
            assert r.openid is None and r.content is None and r.msg_id is None
            assert r.received_at == day_stamp(MONDAY) and r.latency_ms is None
        tied = {user.first_seen_at, user.last_message_at, rows[0].received_at}
        s = session.scalar(select(Suggestion))
        assert s is not None
        stamps = {s.created_at, s.updated_at, *(e.at for e in s.events), *(r.received_at for r in rows[1:])}
        assert not tied & stamps
        assert session.scalar(select(Conversation)) is None


def test_conversation_of_an_anonymous_step_holds_nothing_readable(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    say(session, user, "匿名建议", MONDAY)
    say(session, user, "食堂承包商克扣饭量，份量明显不足，而且", MONDAY)
    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
    assert conv is not None and set(conv.data) == {"sealed"}
    assert "克扣" not in repr(conv.data) and "anonymous" not in repr(conv.data)
    assert flows.flow_data(conv)["text"].startswith("食堂承包商")
    reply, _ = say(session, user, "1", MONDAY)
    assert CODE_RE.search(reply.text or "")


# --- late replies ---------------------------------------------------------------------------------


def test_late_anonymous_reply_is_held_not_pushed(
    app, client, wechat, wechat_stub, clean_db, store, caplog, monkeypatch
) -> None:
    _seed(clean_db)
    pipeline: Pipeline = app.extensions["ghpp"].pipeline
    done = threading.Event()
    deliver = Pipeline._deliver_late

    def deliver_and_signal(self: Pipeline, openid: str, future: Any) -> None:
        deliver(self, openid, future)
        done.set()

    monkeypatch.setattr(Pipeline, "_deliver_late", deliver_and_signal)
    real_handle = suggestion_chat.suggest_intent

    def slow(ctx, inbound, intent):
        time.sleep(0.3)
        return real_handle(ctx, inbound, intent)

    monkeypatch.setitem(app.extensions["ghpp"].registry.intents, "suggest", slow)
    pipeline.budget_s = 0.1
    chat = Chat(client, wechat)
    openid = "o-canteen-late"
    first = chat.say(openid, "匿名建议：食堂承包商克扣饭量，份量明显不足")
    assert "已收到您的消息" in first and not CODE_RE.search(first)
    assert done.wait(5)
    pipeline.budget_s = 4.0
    with Session(clean_db) as session:
        s = session.scalar(select(Suggestion))
        assert s is not None and s.anonymous
        ticket = s.ticket
    # No push, no job payload, no log line with the ticket; the next message fetches it.
    calls = repr([c.body for c in wechat_stub.state.calls])
    assert ticket not in calls and openid not in calls
    assert ticket not in caplog.text
    for value in store_values(store):
        assert openid not in value
    reply = chat.say(openid, "你好")
    m = CODE_RE.search(reply)
    assert m and m.group(1) == ticket and "上一条消息" in reply
    with Session(clean_db) as session:
        last = session.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()))
        assert last is not None and last.redacted
        assert session.scalar(select(models.inbound.HeldReply)) is None
    assert not CODE_RE.search(chat.say(openid, "帮助"))  # fetched once


def store_values(store: Any) -> list[str]:
    from bot.store import MemoryStore

    if isinstance(store, MemoryStore):
        return [f"{k}={v[0]}" for k, v in store._data.items()]
    return [f"{k!r}={store.client.get(k)!r}" for k in store.client.scan_iter(f"{store.prefix}*")]


def test_answer_to_an_anonymous_author_is_never_pushed(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    s, _ = _file_anonymously(session, user)
    cadre = make_user(session, role=models.Role.CADRE, union_id=tree[1].id)
    sg.accept(session, s, user_actor(cadre), MONDAY)
    assert sg.answer(session, s, user_actor(cadre), "已处理。", MONDAY) is None
    assert queries.pending_deliveries(session, MONDAY + timedelta(minutes=1)) == []


# --- rating events ---------------------------------------------------------------------------------


def test_rating_and_vote_events_keep_no_openid(app, client, wechat, clean_db) -> None:
    seed_world(clean_db)
    chat = Chat(client, wechat)
    openid = "o-voter-visible-42"
    chat.say(openid, "投票给工惠乐学")
    chat.say(openid, "投3号 5分")
    with Session(clean_db) as session:
        events = session.scalars(select(RecognitionEvent)).all()
        assert events
        for e in events:
            assert openid not in e.event_key and "o-voter" not in e.event_key


# --- access codes ----------------------------------------------------------------------------------


def test_access_code_has_40_bits_and_is_stored_only_as_a_keyed_hash(session, tree) -> None:
    user = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, user)
    clear = code.replace("-", "")
    assert len(clear) == 8 and set(clear) <= set(CODE_ALPHABET) and len(CODE_ALPHABET) == 32
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert s.access_code_hash and clear not in s.access_code_hash and len(s.access_code_hash) == 64
    for table in models.Base.metadata.sorted_tables:
        for row in session.execute(table.select()):
            assert clear not in repr(tuple(row)), table.name
    # Typed back in lower case, without the hyphen, with O for 0: still the code.
    reply, _ = say(session, user, f"查询 {s.ticket} {clear.lower().replace('0', 'o')}", MONDAY)
    assert "克扣" in (reply.text or "")


def _wrong(code: str, k: int) -> str:
    clear = code.replace("-", "")
    alternatives = [c for c in CODE_ALPHABET if c != clear[-1]]
    return clear[:-1] + alternatives[k % len(alternatives)]


def test_five_wrong_codes_per_follower_then_a_clear_message(session, tree) -> None:
    author = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, author)
    other, _ = _file_anonymously(session, make_user(session, union_id=tree[1].id), MONDAY)
    guesser = make_user(session)
    for k in range(5):
        reply, ctx = say(session, guesser, f"查询 {s.ticket} {_wrong(code, k)}", MONDAY)
        assert "查询码不对" in (reply.text or "") and ctx.redact_inbound
    # The sixth: refused without being checked, even on another ticket, even if it were right.
    reply, _ = say(session, guesser, f"查询 {other.ticket} {_wrong(code, 9)}", MONDAY)
    assert "输错次数过多" in (reply.text or "") and "分钟后再试" in (reply.text or "")
    # An hour later the follower may try again.
    reply, _ = say(session, guesser, f"查询 {s.ticket} {code}", MONDAY + timedelta(hours=1, seconds=1))
    assert "克扣" in (reply.text or "")


def test_per_ticket_limit_stops_many_guessers_but_expires_within_the_hour(session, tree) -> None:
    author = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, author)
    for k in range(5):
        say(session, make_user(session), f"查询 {s.ticket} {_wrong(code, k)}", MONDAY)
    reply, _ = say(session, make_user(session), f"查询 {s.ticket} {_wrong(code, 7)}", MONDAY)
    assert "输错次数过多" in (reply.text or "")
    # The author is locked out of this ticket for the hour, not for good.
    reply, _ = say(session, author, f"查询 {s.ticket} {code}", MONDAY + timedelta(minutes=30))
    assert "克扣" not in (reply.text or "")
    reply, _ = say(session, author, f"查询 {s.ticket} {code}", MONDAY + timedelta(hours=1, seconds=1))
    assert "克扣" in (reply.text or "")


def test_a_wrong_code_cannot_rate_or_reopen(session, tree) -> None:
    author = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, author)
    cadre = make_user(session, role=models.Role.CADRE, union_id=tree[1].id)
    sg.accept(session, s, user_actor(cadre), MONDAY)
    sg.answer(session, s, user_actor(cadre), "已约谈承包商。", MONDAY)
    guesser = make_user(session)
    reply, _ = say(session, guesser, f"查询 {s.ticket} {_wrong(code, 1)}", MONDAY)
    assert "已约谈" not in (reply.text or "")
    say(session, guesser, "3", MONDAY)  # 不满意, without a rating step opened by the right code
    assert (s.state, s.reopen_count) == (SuggestionState.ANSWERED, 0)
    say(session, author, f"查询 {s.ticket} {code}", MONDAY)
    reply, _ = say(session, author, "3", MONDAY)
    assert s.state == SuggestionState.IN_PROGRESS and s.reopen_count == 1


def test_legacy_four_digit_codes_still_verify() -> None:
    stored = legacy_hash("JY20261101-0007", "0420")
    assert stored.startswith("legacy:")
    assert code_matches("JY20261101-0007", "0420", stored)
    assert not code_matches("JY20261101-0007", "0421", stored)
    assert not code_matches("JY20261101-0008", "0420", stored)


def test_brute_force_takes_longer_than_a_ticket_lives() -> None:
    # 32**8 codes at 5 guesses per ticket per hour: far beyond any retention period.
    hours = len(CODE_ALPHABET) ** 8 / 2 / 5
    assert hours / 24 / 365 > 10_000_000


def test_day_stamp_is_the_shanghai_day_start() -> None:
    late_evening = datetime(2026, 11, 23, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert day_stamp(late_evening) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert day_stamp(late_evening + timedelta(minutes=1)) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_an_anonymous_suggestion_asked_back_is_sealed(session, tree) -> None:
    from handlers.asking_back import ask_back
    from handlers.inbound import Inbound
    from handlers.understanding import option
    from tests.factories import make_ctx

    user = make_user(session, union_id=tree[1].id)
    ctx = make_ctx(session, user, MONDAY)
    ctx.redact_inbound = True
    text = "匿名投诉食堂承包商克扣饭量"
    inbound = Inbound(openid=user.openid, kind="text", created_at=MONDAY, msg_id="ab1", content=text)
    ask_back(ctx, inbound, [option("suggest", text=text, anonymous=True)], confirm=True)
    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
    assert conv is not None and set(conv.data) == {"sealed"} and "克扣" not in repr(conv.data)
    reply, ctx = say(session, user, "1", MONDAY)
    assert ctx.redact_inbound and CODE_RE.search(reply.text or "")
    s = session.scalar(select(Suggestion))
    assert s is not None and s.anonymous and s.user_id is None


def test_anonymous_quota_and_attempts_are_purged(session, tree) -> None:
    from models.voice import AnonymousQuota, CodeAttempt

    user = make_user(session, union_id=tree[1].id)
    s, code = _file_anonymously(session, user)
    say(session, make_user(session), f"查询 {s.ticket} {_wrong(code, 3)}", MONDAY)
    assert session.scalars(select(AnonymousQuota)).all() and session.scalars(select(CodeAttempt)).all()
    sg.escalate_overdue(session, SYSTEM, MONDAY + timedelta(days=1))
    assert session.scalars(select(AnonymousQuota)).all() == []
    assert session.scalars(select(CodeAttempt)).all() == []


def test_held_replies_are_sealed_keyed_and_expire(session) -> None:
    from handlers.held_replies import HOLD_TTL, hold_reply, take_held
    from models.inbound import HeldReply

    hold_reply(session, "o-held-1", "单号 JY20261123-0001，查询码：7K2M-9QXA", MONDAY)
    hold_reply(session, "o-held-2", "单号 JY20261123-0002", MONDAY)
    for row in session.scalars(select(HeldReply)):
        assert "o-held" not in row.key_hash and "JY2026" not in row.sealed and "7K2M" not in row.sealed
    assert take_held(session, "o-held-1", MONDAY) == ["单号 JY20261123-0001，查询码：7K2M-9QXA"]
    assert take_held(session, "o-held-1", MONDAY) == []
    assert take_held(session, "o-held-2", MONDAY + HOLD_TTL) == []  # expired: dropped unread
    assert session.scalars(select(HeldReply)).all() == []


def test_migration_0010_keeps_legacy_codes_only_as_hashes(tmp_path) -> None:
    from sqlalchemy import inspect, text

    from models.db import make_engine
    from models.migrate import downgrade, upgrade

    eng = make_engine(f"sqlite:///{tmp_path / 'mig.sqlite3'}")
    upgrade(eng, "0009")
    at = MONDAY.strftime("%Y-%m-%d %H:%M:%S.%f")
    with eng.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO union_unit (id, code, name, kind, path, created_at)"
                " VALUES (1, 'TOP', '省总工会', 'province', '/1/', :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO suggestion (ticket, anonymous, access_code, content, category, union_id, state,"
                " reopen_count, escalations, created_at, updated_at)"
                " VALUES ('JY20261101-0007', 1, '0420', '旧的匿名建议', '其他', 1, 'submitted', 0, 0, :at, :at)"
            ),
            {"at": at},
        )
    upgrade(eng, "0012")
    assert "access_code" not in {c["name"] for c in inspect(eng).get_columns("suggestion")}
    with eng.connect() as conn:
        stored = conn.execute(text("SELECT access_code_hash FROM suggestion")).scalar_one()
    assert stored == legacy_hash("JY20261101-0007", "0420")
    assert code_matches("JY20261101-0007", "0420", stored)
    downgrade(eng, "0011")
    assert "held_reply" not in inspect(eng).get_table_names()
    eng.dispose()
