"""A campaign is for the workers of its organiser's subtree, end to end through the webhook:
signed, encrypted messages, then the database checked for what was recorded where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import bot.pipeline
from handlers.recognition.campaigns import create_campaign
from models import Brand, Union, UnionKind, User
from models.recognition import Campaign, RecognitionEvent
from models.union import assign_path
from tests.wechat_chat import Chat

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
COUNTY_A, COUNTY_B, PROVINCE_WORKER, UNBOUND = "o-scope-a", "o-scope-b", "o-scope-p", "o-scope-free"


@pytest.fixture
def chat(client, wechat, monkeypatch):
    monkeypatch.setattr(bot.pipeline, "utcnow", lambda: NOW)
    return Chat(client, wechat)


def _union(session: Session, code: str, kind: UnionKind, parent: Union | None = None) -> Union:
    u = Union(code=code, name=code, kind=kind, parent_id=parent.id if parent else None)
    session.add(u)
    session.flush()
    assign_path(session, u)
    return u


def world(engine: Engine, *, second_province_rating: bool = False) -> None:
    """A province with two counties, one brand each; a county-A rating campaign and a
    province-wide one; workers bound in A, in B, at the province, and one not bound."""
    with Session(engine) as session, session.begin():
        prov = _union(session, "PROV", UnionKind.PROVINCE)
        a = _union(session, "CTY-A", UnionKind.COUNTY, prov)
        b = _union(session, "CTY-B", UnionKind.COUNTY, prov)
        session.add_all([Brand(name="甲县驿站", union=a), Brand(name="乙县书屋", union=b)])
        session.flush()
        since = NOW - timedelta(days=1)
        until = NOW + timedelta(days=7)
        # The county campaign is the newer one: before, it became everyone's default.
        create_campaign(
            session, "省级测评", "rating", ["甲县驿站", "乙县书屋"], since, closes_at=until, union=prov
        )
        if second_province_rating:
            create_campaign(
                session,
                "省级测评二",
                "rating",
                ["乙县书屋", "甲县驿站"],
                since + timedelta(hours=1),
                closes_at=until,
                union=prov,
            )
        create_campaign(
            session, "甲县测评", "rating", ["甲县驿站"], since + timedelta(hours=2), closes_at=until, union=a
        )
        for openid, union in ((COUNTY_A, a), (COUNTY_B, b), (PROVINCE_WORKER, prov)):
            session.add(User(openid=openid, union_id=union.id, union_source="qrcode", first_seen_at=since))


def ratings(engine: Engine) -> list[tuple[str, str, int | None]]:
    """(campaign, brand, score) of every rating, oldest first."""
    with Session(engine) as session:
        camp = {c.id: c.name for c in session.scalars(select(Campaign))}
        brand = {b.id: b.name for b in session.scalars(select(Brand))}
        rows = session.scalars(
            select(RecognitionEvent).where(RecognitionEvent.kind == "rating").order_by(RecognitionEvent.id)
        )
        return [(camp[e.campaign_id], brand[e.brand_id or 0], e.q1) for e in rows]


def test_a_county_campaign_never_captures_a_worker_of_another_county(app, chat, clean_db) -> None:
    world(clean_db)
    # County B's worker: the newer county-A campaign is not theirs; the province's is.
    assert "省级测评" in chat.say(COUNTY_B, "甲县驿站 5分")
    listing = chat.say(COUNTY_B, "候选")
    assert "【省级测评】" in listing and "甲县测评" not in listing
    chat.say(COUNTY_B, "投1号 4分")
    # An unbound follower takes part only in the province-wide campaign.
    chat.say(UNBOUND, "甲县驿站 2分")
    assert ratings(clean_db) == [
        ("省级测评", "甲县驿站", 5),
        ("省级测评", "甲县驿站", 4),
        ("省级测评", "甲县驿站", 2),
    ]


def test_a_brand_qr_code_opens_only_campaigns_that_apply(app, chat, clean_db) -> None:
    world(clean_db)
    with Session(clean_db) as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.name == "甲县驿站"))
    scan = {
        "FromUserName": COUNTY_B,
        "CreateTime": int(NOW.timestamp()),
        "MsgType": "event",
        "Event": "SCAN",
        "EventKey": f"brand:{brand_id}",
    }
    assert "甲县驿站" in chat.post(scan)
    chat.say(COUNTY_B, "3")
    assert ratings(clean_db) == [("省级测评", "甲县驿站", 3)]


def test_a_county_worker_with_two_applicable_campaigns_is_asked_which(app, chat, clean_db) -> None:
    world(clean_db)
    reply = chat.say(COUNTY_A, "甲县驿站 5分")
    assert "1. 在「甲县测评」中" in reply and "2. 在「省级测评」中" in reply
    assert ratings(clean_db) == []  # a question never records
    chat.say(COUNTY_A, "2")
    assert ratings(clean_db) == [("省级测评", "甲县驿站", 5)]


def test_a_province_worker_with_two_rating_campaigns_is_asked_and_1_rates_in_the_first_only(
    app, chat, clean_db
) -> None:
    world(clean_db, second_province_rating=True)
    reply = chat.say(PROVINCE_WORKER, "投1号 4分")
    # Newest first; the county campaign is not the province worker's.
    assert "1. 在「省级测评二」中给1号「乙县书屋」打4分" in reply
    assert "2. 在「省级测评」中给1号「甲县驿站」打4分" in reply
    assert "甲县测评" not in reply
    assert ratings(clean_db) == []
    chat.say(PROVINCE_WORKER, "1")
    assert ratings(clean_db) == [("省级测评二", "乙县书屋", 4)]
    # "2" after the answer is no longer a choice: nothing more is recorded.
    chat.say(PROVINCE_WORKER, "2")
    assert ratings(clean_db) == [("省级测评二", "乙县书屋", 4)]


def test_a_reviewer_invited_to_a_county_campaign_keeps_access(app, chat, clean_db) -> None:
    from handlers.recognition.campaigns import find_campaign
    from handlers.recognition.reviewer_codes import invite_reviewer

    world(clean_db)
    with Session(clean_db) as session, session.begin():
        code = invite_reviewer(session, find_campaign(session, "甲县测评"), "张三", "某局")
    assert "甲县测评" in chat.say("o-reviewer", f"绑定 {code}")
    # Both campaigns apply, but a reviewer's score belongs to the one that invited them (issue 12
    # §5): recorded there as G at once, never asked about, never a public rating in the other.
    reply = chat.say("o-reviewer", "甲县驿站 4分")
    assert "甲县测评" in reply and "省级测评" not in reply
    with Session(clean_db) as session:
        events = session.scalars(select(RecognitionEvent)).all()
        assert [(e.kind, e.grp, e.q1) for e in events] == [("review_score", "G", 4)]
        assert events[0].campaign_id == find_campaign(session, "甲县测评").id


def test_recording_outside_a_campaigns_scope_is_refused_whatever_the_path(clean_db) -> None:
    """A stale flow or a crafted call: record_rating itself refuses a worker outside the subtree."""
    from handlers.recognition.campaigns import find_campaign
    from handlers.recognition.recording import record_rating, record_vote

    world(clean_db)
    with Session(clean_db) as session, session.begin():
        user = session.scalar(select(User).where(User.openid == COUNTY_B))
        brand = session.scalar(select(Brand).where(Brand.name == "甲县驿站"))
        county = find_campaign(session, "甲县测评")
        assert user is not None and brand is not None
        assert record_rating(session, user, county, brand, 5, "k-out-1", NOW).status == "outside"
        assert record_vote(session, user, county, brand, "k-out-2", NOW).status == "outside"
    assert ratings(clean_db) == []


def test_a_brand_qr_code_with_two_applicable_rating_campaigns_asks_which_first(app, chat, clean_db) -> None:
    world(clean_db)
    with Session(clean_db) as session:
        brand_id = session.scalar(select(Brand.id).where(Brand.name == "甲县驿站"))
    scan = {
        "FromUserName": COUNTY_A,
        "CreateTime": int(NOW.timestamp()),
        "MsgType": "event",
        "Event": "SCAN",
        "EventKey": f"brand:{brand_id}",
    }
    reply = chat.post(scan)
    assert "1. 在「甲县测评」中" in reply and "2. 在「省级测评」中" in reply
    assert "甲县驿站" in chat.say(COUNTY_A, "1")  # now asked for the score
    assert ratings(clean_db) == []
    chat.say(COUNTY_A, "4")
    assert ratings(clean_db) == [("甲县测评", "甲县驿站", 4)]
    with Session(clean_db) as session:
        assert [e.channel for e in session.scalars(select(RecognitionEvent))] == ["brand"]
