"""An insider with the database, the logs, Redis and the WeChat API call log tries to name the
authors of anonymous suggestions.

500 followers chat through the webhook (signed, encrypted): help, votes, ratings, named
suggestions, ticket queries. 50 of them each file one anonymous suggestion, interleaved with
everyone else, in the one-message form, the two-step form, and with the "1" confirmation; some
messages run over the reply budget so late replies happen. Then every join is tried:

- payloads: a ticket, an access code or the text of an anonymous suggestion in any row, log line,
  Redis value or API call that also names a follower;
- timestamps: every datetime tied to a follower against every datetime of the anonymous
  suggestions, their events and the redacted messages — equal (exact link) or in the same minute;
- counts: a follower's daily quota that exceeds their named suggestions;
- id adjacency: the follower of the message next to a redacted one.

Metric: exact links must be 0; the same-minute join must leave no author as the single
candidate; the adjacency guess must name no more authors than chance.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import models
from bot.pipeline import Pipeline, hashed_key
from bot.store import MemoryStore, RedisStore
from handlers.inbound import Inbound
from handlers.recognition.campaigns import create_campaign
from models import Brand, Union, UnionKind
from models.union import assign_path
from tests.wechat_chat import Chat

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
FOLLOWERS = 500
AUTHORS = 50
BRANDS = ("工惠乐学", "幸福驿站", "职工书屋", "劳模工作室")
_TICKET_CODE = re.compile(r"(JY\d{8}-\d{4})，查询码：([0-9A-Z]{4}(?:-[0-9A-Z]{4})?)")
_OPENID = re.compile(r"o-f\d{4}")
_ids = itertools.count(900_000)


class Clock:
    """The pipeline's clock: a fixed start, advanced by the schedule; optionally slow."""

    def __init__(self) -> None:
        self.now = T0
        self.slow = False

    def __call__(self) -> datetime:
        if self.slow and threading.current_thread().name.startswith("msg"):
            time.sleep(0.3)  # past the shrunk budget (the pipeline waits at least 0.1 s for any reply)
        return self.now


def _seed(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="市总工会", kind=UnionKind.CITY)
        session.add(top)
        session.flush()
        assign_path(session, top)
        base = Union(code="G1", name="机械厂工会", kind=UnionKind.GRASSROOTS, parent_id=top.id)
        session.add(base)
        session.flush()
        assign_path(session, base)
        for name in BRANDS:
            session.add(Brand(name=name, union=base))
        session.flush()
        create_campaign(session, "年度品牌评选", "vote", list(BRANDS), T0 - timedelta(days=1), max_choices=2)


def _plan(rng: random.Random) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
    """Each follower's messages; the authors' anonymous exchange sits among their other messages."""
    openids = [f"o-f{i:04d}" for i in range(FOLLOWERS)]
    authors = rng.sample(openids, AUTHORS)
    forms: dict[str, str] = {}
    scripts: list[tuple[str, list[str]]] = []
    for n, openid in enumerate(openids):
        msgs: list[str] = []
        for _ in range(rng.randint(2, 4)):
            msgs.append(
                rng.choice(
                    [
                        "帮助",
                        f"投票给{rng.choice(BRANDS)}",
                        f"建议：{rng.choice(BRANDS)}的活动时间能否{rng.choice(['提前', '延后', '加场'])}一些",
                        "我的建议",
                        "你好",
                    ]
                )
            )
        if openid in authors:
            k = authors.index(openid)
            text = f"食堂承包商第{k}号窗口克扣饭量，份量明显不足，希望工会过问"
            form = ("one", "two", "confirm")[k % 3]
            forms[openid] = form
            if form == "one":
                exchange = [f"匿名建议：{text}"]
            elif form == "two":
                exchange = ["匿名建议", text]
            else:  # ends like it was cut off: asked to confirm with "1"
                exchange = ["匿名建议", f"{text}，而且", "1"]
            # Some authors write for the first time with the anonymous suggestion itself.
            at = 0 if k % 10 == 0 else rng.randint(0, len(msgs))
            msgs[at:at] = exchange
            msgs.append("你好")  # a later message, which also fetches a held late reply
        scripts.append((openid, msgs))
        del n
    return scripts, forms


def _interleave(rng: random.Random, scripts: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """One global order keeping each follower's own order (a random merge)."""
    queues = {openid: list(msgs) for openid, msgs in scripts}
    order: list[tuple[str, str]] = []
    live = [o for o, m in scripts if m]
    weights = {o: len(m) for o, m in scripts}
    while live:
        openid = rng.choices(live, weights=[weights[o] for o in live])[0]
        order.append((openid, queues[openid].pop(0)))
        weights[openid] -= 1
        if not queues[openid]:
            live.remove(openid)
    return order


def _redis_items(store: Any) -> list[str]:
    if isinstance(store, MemoryStore):
        return [f"{k}={v[0]}" for k, v in store._data.items()]
    assert isinstance(store, RedisStore)
    out = []
    for key in store.client.scan_iter(f"{store.prefix}*"):
        value = store.client.get(key)
        out.append(f"{key!r}={value!r}")
    return out


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(t.select())]
            for t in models.Base.metadata.sorted_tables
        }


def _datetimes(row: dict[str, Any]) -> list[datetime]:
    return [v for v in row.values() if isinstance(v, datetime)]


def test_an_insider_cannot_link_anonymous_suggestions(
    app, client, wechat, wechat_stub, clean_db, store, caplog, monkeypatch
) -> None:
    caplog.set_level(logging.DEBUG)
    rng = random.Random(20261123)
    _seed(clean_db)
    clock = Clock()
    monkeypatch.setattr("bot.pipeline.utcnow", clock)
    pipeline: Pipeline = app.extensions["ghpp"].pipeline
    late_done: list[int] = []
    deliver = Pipeline._deliver_late

    def deliver_and_count(self: Pipeline, openid: str, future: Any) -> None:
        deliver(self, openid, future)
        late_done.append(1)

    monkeypatch.setattr(Pipeline, "_deliver_late", deliver_and_count)
    chat = Chat(client, wechat)
    scripts, forms = _plan(rng)
    order = _interleave(rng, scripts)
    filed: dict[str, tuple[str, str]] = {}  # author → (ticket, code)
    anon_texts: dict[str, str] = {}
    late = 0
    late_anonymous = 0
    sent: list[tuple[str, int]] = []
    budget = pipeline.budget_s
    for openid, text in order:
        clock.now += timedelta(seconds=rng.uniform(0.2, 2.4))  # ~45 messages a minute
        over = rng.random() < 0.03 or (
            openid in forms and text.startswith("匿名建议：") and rng.random() < 0.5
        )
        if over:
            pipeline.budget_s, clock.slow = 0.0, True
        msg_id = next(_ids)
        sent.append((openid, msg_id))
        reply = chat.say(openid, text, msg_id)
        if over:
            pipeline.budget_s, clock.slow = budget, False
            late += 1
            deadline = time.monotonic() + 5
            while len(late_done) < late and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(late_done) == late, "the late reply was not delivered"
            assert "已收到您的消息" in reply
        m = _TICKET_CODE.search(reply)
        if m and openid in forms and openid not in filed:
            filed[openid] = (m.group(1), m.group(2))
        if "克扣饭量" in text:
            anon_texts[openid] = text.removeprefix("匿名建议：").removesuffix("，而且")
        if over and openid in forms and text.startswith("匿名建议："):
            late_anonymous += 1
    # Every author got their ticket and code: at once, with their next message when it ran late,
    # or (what the insider must never be able to read) by a push.
    for call in wechat_stub.calls_to("message/custom/send"):
        m = _TICKET_CODE.search(str(call.body))
        if m and call.body.get("touser") in forms:
            filed.setdefault(call.body["touser"], (m.group(1), m.group(2)))
    assert len(filed) == AUTHORS, sorted(set(forms) - set(filed))
    assert late_anonymous >= 3 and late >= 10

    rows = _rows(clean_db)
    users = {r["id"]: r["openid"] for r in rows["wechat_user"]}
    anon = [r for r in rows["suggestion"] if r["anonymous"]]
    assert len(anon) == AUTHORS
    anon_ids = {r["id"] for r in anon}
    secrets_by_author = {a: (t, c, c.replace("-", ""), anon_texts[a]) for a, (t, c) in filed.items()}
    # (A 4-digit code would match hex digests by chance; 8-letter codes and tickets do not.)
    needles = [n for v in secrets_by_author.values() for n in v if len(n) >= 8]

    # --- payload joins: a secret beside an openid anywhere ---------------------------------
    blobs: list[str] = []
    for table, table_rows in rows.items():
        for r in table_rows:
            blob = repr(r)
            for col in ("user_id", "actor_id"):
                if r.get(col) in users:
                    blob += " " + users[r[col]]  # the insider joins the user id to its openid
            blobs.append(f"{table}: {blob}")
    blobs += [rec.getMessage() for rec in caplog.records]
    blobs += _redis_items(store)
    blobs += [f"{c.path} {c.query} {c.body}" for c in wechat_stub.state.calls]
    payload_links = [b for b in blobs if _OPENID.search(b) and any(n in b for n in needles)]
    assert payload_links == []
    # Redis holds replies for retried deliveries: those of anonymous exchanges are sealed.
    assert [v for v in _redis_items(store) if any(n in v for n in needles)] == []

    # --- timestamps ---------------------------------------------------------------------------
    tied: list[tuple[datetime, str]] = []  # (datetime, openid)
    for r in rows["wechat_user"]:
        tied += [(d, r["openid"]) for d in _datetimes(r)]
    for r in rows["inbound_message"]:
        if r["openid"] is not None:
            tied += [(d, r["openid"]) for d in _datetimes(r)]
    for table in ("conversation", "suggestion", "survey_response"):
        for r in rows.get(table, []):
            if r.get("user_id") in users:
                tied += [(d, users[r["user_id"]]) for d in _datetimes(r)]
    named_ids = {r["id"]: users[r["user_id"]] for r in rows["suggestion"] if r["user_id"] in users}
    for r in rows["suggestion_event"]:
        if r["suggestion_id"] in named_ids:
            tied += [(d, named_ids[r["suggestion_id"]]) for d in _datetimes(r)]
    secret_times: list[datetime] = [d for r in anon for d in _datetimes(r)]
    secret_times += [
        d for r in rows["suggestion_event"] if r["suggestion_id"] in anon_ids for d in _datetimes(r)
    ]
    redacted = [r for r in rows["inbound_message"] if r["redacted"]]
    secret_times += [d for r in redacted for d in _datetimes(r)]
    tied_exact = {d for d, _ in tied}
    assert [d for d in secret_times if d in tied_exact] == [], "an equal timestamp links an anonymous record"
    by_minute: dict[datetime, set[str]] = defaultdict(set)
    for d, openid in tied:
        by_minute[d.replace(second=0, microsecond=0)].add(openid)
    for author in filed:
        for d in secret_times:
            candidates = by_minute.get(d.replace(second=0, microsecond=0), set())
            assert candidates != {author}, "a same-minute join singles out the author"

    # --- counts: the named daily quota shows no anonymous filing ---------------------------------
    named_per_user: dict[int, int] = defaultdict(int)
    for r in rows["suggestion"]:
        if r["user_id"] is not None:
            named_per_user[r["user_id"]] += 1
    for q in rows["suggestion_quota"]:
        assert q["count"] == named_per_user[q["user_id"]], "a quota count reveals an anonymous filing"

    # --- id adjacency: the sender of the message next to a redacted one ---------------------------
    # The test knows whose each redacted message was (its keyed dedupe hash); the insider guesses
    # the sender of a neighbouring row. Chance: that sender's share of the rows around it.
    by_id = {r["id"]: r for r in rows["inbound_message"]}
    owner = {hashed_key_of(pipeline, o, m): o for o, m in sent}
    total = sum(1 for r in by_id.values() if r["openid"])
    share = {o: n / total for o, n in _count(r["openid"] for r in by_id.values() if r["openid"]).items()}
    hits, expected = 0, 0.0
    for r in redacted:
        author = owner[r["dedupe_key"]]
        for n in (r["id"] - 1, r["id"] + 1):
            if n in by_id and by_id[n]["openid"] is not None:
                hits += by_id[n]["openid"] == author
                expected += share.get(author, 0.0)
    assert hits <= max(4, 3 * expected), (hits, expected)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in items:
        out[item] += 1
    return out


def hashed_key_of(pipeline: Pipeline, openid: str, msg_id: int) -> str:
    inbound = Inbound(openid=openid, kind="text", created_at=T0, msg_id=str(msg_id), content="")
    return hashed_key(inbound, pipeline.dedupe_secret)


@pytest.mark.parametrize("n", [0])
def test_the_plan_is_deterministic(n: int) -> None:
    a = _plan(random.Random(1))
    b = _plan(random.Random(1))
    assert a == b and len(a[1]) == AUTHORS
