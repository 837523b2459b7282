"""A worker's rights over their data, end to end through the webhook (signed, encrypted): what
「我的信息」 shows, and what 「删除我的信息」 deletes, anonymises and keeps, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import bot.pipeline
from handlers.actor import Actor
from handlers.programme.binding import hash_card
from handlers.recognition.campaigns import create_campaign, find_campaign
from handlers.recognition.closing import close_campaign
from handlers.recognition.respondents import identity_hash
from handlers.recognition.snapshots import reproduce_snapshot
from models import Base, Brand, Suggestion, SurveyResponse, User
from models.programme import Invitation, MemberCard, Photo
from models.recognition import RecognitionEvent, RecognitionSnapshot
from tests.bot.chat_world import BRANDS, seed
from tests.wechat_chat import Chat

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
ME, OTHER = "o-rights-me", "o-rights-other"


@pytest.fixture
def chat(client, wechat, monkeypatch):
    monkeypatch.setattr(bot.pipeline, "utcnow", lambda: NOW)
    return Chat(client, wechat)


def world(engine: Engine, chat: Chat) -> None:
    """ME and OTHER: a member card, votes, ratings in a campaign since closed (with its
    snapshot), named and anonymous suggestions, survey responses, a photo, an invitation."""
    seed(engine, vote=None, rating=False)  # unions and brands; campaigns relative to NOW
    with Session(engine) as session, session.begin():
        create_campaign(session, "上年度测评", "rating", ["幸福驿站", "职工书屋"], NOW - timedelta(days=3))
        create_campaign(session, "年度品牌评选", "vote", list(BRANDS), NOW - timedelta(days=1), max_choices=2)
        g0 = session.scalar(select(Brand).where(Brand.name == "工惠乐学"))
        assert g0 is not None
        g0_union = g0.union_id
        session.add(MemberCard(card_hash=hash_card("62220001"), union_id=g0_union))
    assert "验证成功" in chat.say(ME, "绑定 会员卡号 62220001")
    assert "4分" in chat.say(ME, "幸福驿站 4分")
    assert "5分" in chat.say(OTHER, "幸福驿站 5分")
    with Session(engine) as session, session.begin():
        close_campaign(session, find_campaign(session, "上年度测评"), Actor.admin("管理员"), NOW)
    assert "投上一票" in chat.say(ME, "投1号")
    assert "投上一票" in chat.say(OTHER, "投2号")
    assert "JY" in chat.say(ME, "建议：食堂的饭菜太咸了，希望改进")
    assert "JY" in chat.say(OTHER, "建议：希望增加篮球场开放时间")
    assert "JY" in chat.say(ME, "我要匿名投诉：车间通风太差，夏天很闷")
    with Session(engine) as session, session.begin():
        me = session.scalar(select(User).where(User.openid == ME))
        other = session.scalar(select(User).where(User.openid == OTHER))
        assert me is not None and other is not None
        for user, code in ((me, "RME00001"), (other, "ROT00001")):
            session.add(
                SurveyResponse(survey_key="s1", user_id=user.id, respondent_code=code, status="complete")
            )
        session.add(Photo(media_id="m-me", uploader_id=me.id, captured_at=NOW))
        session.add(
            Invitation(code_hash="x" * 64, union_id=g0_union, expires_at=NOW, used_at=NOW, used_by_id=me.id)
        )


def dump(engine: Engine, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (as text), for "nothing changed" and "appears nowhere"."""
    with Session(engine) as session:
        return {
            t.name: sorted(tuple(str(v) for v in row) for row in session.execute(t.select()))
            for t in Base.metadata.sorted_tables
            if t.name not in skip
        }


def mentions(engine: Engine, needle: str) -> list[str]:
    return [name for name, rows in dump(engine).items() if any(needle in v for row in rows for v in row)]


def test_my_information_lists_what_is_stored_and_nothing_of_others(app, chat, clean_db) -> None:
    world(clean_db, chat)
    reply = chat.say(ME, "我的信息")
    assert len(reply.encode()) <= 2048
    assert "基层工会0（会员卡绑定）" in reply and "会员卡：已绑定" in reply and "62220001" not in reply
    assert "「年度品牌评选」：投票1次，评分0次" in reply
    assert "「上年度测评」：投票0次，评分1次" in reply
    assert "食堂的饭菜太咸了" in reply and "已提交" in reply
    assert "问卷答卷：1份" in reply
    assert "2026-06-01 10:00" in reply  # first and last message, Beijing time
    assert "匿名建议不与您的账号关联" in reply
    # Nothing of the other worker's, nothing of the anonymous suggestion.
    assert "篮球场" not in reply and "通风" not in reply and OTHER not in reply
    for variant in ("查看我的信息", "我的个人信息", "查看我的个人信息。"):
        assert "「年度品牌评选」：投票1次" in chat.say(ME, variant)


def test_my_information_from_inside_a_flow_leaves_it_first(app, chat, clean_db) -> None:
    world(clean_db, chat)
    assert "请直接输入您的建议" in chat.say(ME, "我要提建议")
    reply = chat.say(ME, "我的个人信息")
    assert reply.startswith("（已退出「提建议」。）") and "【您的个人信息】" in reply
    # The flow is gone: the next message is not taken as a suggestion's content.
    with Session(clean_db) as session:
        before = session.scalar(select(Suggestion.id).order_by(Suggestion.id.desc()).limit(1))
    chat.say(ME, "帮助")
    with Session(clean_db) as session:
        assert session.scalar(select(Suggestion.id).order_by(Suggestion.id.desc()).limit(1)) == before


def test_a_long_export_is_cut_into_pages(app, chat, clean_db) -> None:
    world(clean_db, chat)
    with Session(clean_db) as session, session.begin():
        me = session.scalars(select(User).where(User.openid == ME)).one()
        existing = session.scalar(select(Suggestion))
        assert existing is not None
        g = existing.union_id
        for i in range(40):
            session.add(
                Suggestion(
                    ticket=f"JY2026060{i:04d}",
                    user_id=me.id,
                    content="很长的建议" * 10,
                    category="other",
                    union_id=g,
                )
            )
    first = chat.say(ME, "我的信息")
    assert len(first.encode()) <= 2048 and "回复「我的信息2」查看第2页" in first
    pages = [first]
    n = 2
    while f"回复「我的信息{n}」" in pages[-1]:
        pages.append(chat.say(ME, f"我的信息{n}"))
        assert len(pages[-1].encode()) <= 2048
        n += 1
    text = "\n".join(pages)
    assert all(f"JY2026060{i:04d}" in text for i in range(40))
    assert "没有第99页" in chat.say(ME, "我的信息99")


def test_deletion_asks_first_and_2_changes_nothing(app, chat, clean_db) -> None:
    world(clean_db, chat)
    before = dump(clean_db, skip=("inbound_message",))
    reply = chat.say(ME, "删除我的信息")
    assert "确定要删除" in reply and "回复1确认删除我的信息，回复2取消" in reply
    assert "好的，已取消" in chat.say(ME, "2")
    assert dump(clean_db, skip=("inbound_message",)) == before
    assert mentions(clean_db, ME)  # still stored


def test_deletion_with_1_deletes_and_anonymises_exactly_what_is_documented(app, chat, clean_db) -> None:
    world(clean_db, chat)
    with Session(clean_db) as session:
        me = session.scalar(select(User).where(User.openid == ME))
        assert me is not None
        me_id, ident = me.id, identity_hash(session, ME)
        events_before = [
            (e.id, e.identity_hash, e.kind, e.q1) for e in session.scalars(select(RecognitionEvent))
        ]
        snap = session.scalar(select(RecognitionSnapshot))
        assert snap is not None
        snap_sha, snap_body = snap.sha256, snap.body
        assert reproduce_snapshot(session, snap) == snap_body
    other_rows = {k: v for k, v in dump(clean_db).items() if k in ("suggestion",)}
    assert "确定要删除" in chat.say(ME, "删除我的信息")
    reply = chat.say(ME, "1")
    assert "已删除" in reply and "加密编号保留在统计中" in reply and "2条投票和评分" in reply

    # The openid is in no table; the other worker's still is (the check can fail).
    assert mentions(clean_db, ME) == []
    assert mentions(clean_db, OTHER)
    with Session(clean_db) as session:
        # No row anywhere still points at the erased follower.
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if any(fk.column.table.name == "wechat_user" for fk in col.foreign_keys):
                    assert session.scalar(select(col).where(col == me_id).limit(1)) is None, col
        assert session.get(User, me_id) is None
        assert session.scalar(select(User).where(User.openid == OTHER)) is not None
        card = session.scalar(select(MemberCard))
        assert card is not None and card.user_id is None and card.bound_at is None
        named = session.scalar(select(Suggestion).where(Suggestion.content.like("%食堂%")))
        assert named is not None and named.user_id is None and not named.anonymous  # kept, unsigned
        court = session.scalar(select(Suggestion).where(Suggestion.content.like("%篮球场%")))
        assert court is not None and court.user_id is not None
        assert session.scalar(select(Suggestion).where(Suggestion.content.like("%通风%"))) is not None
        assert [r.respondent_code for r in session.scalars(select(SurveyResponse))] == ["ROT00001"]
        photo = session.scalar(select(Photo))
        assert photo is not None and photo.uploader_id is None
        invitation = session.scalar(select(Invitation))
        assert invitation is not None and invitation.used_by_id is None
        # Votes and ratings stay, under the same keyed hash only; the closed snapshot is unchanged.
        after = [(e.id, e.identity_hash, e.kind, e.q1) for e in session.scalars(select(RecognitionEvent))]
        assert after == events_before and sum(1 for e in after if e[1] == ident) == 2
        snap = session.scalar(select(RecognitionSnapshot))
        assert snap is not None and snap.sha256 == snap_sha
        assert reproduce_snapshot(session, snap) == snap_body
    assert other_rows["suggestion"]  # the other worker's suggestion was there all along


def test_deleting_twice_votes_no_second_time(app, chat, clean_db) -> None:
    world(clean_db, chat)
    chat.say(ME, "删除我的信息")
    chat.say(ME, "1")
    # Writing again starts afresh, but the kept hash still holds the earlier vote.
    assert "已经" in chat.say(ME, "投1号")
    with Session(clean_db) as session:
        votes = session.scalars(select(RecognitionEvent).where(RecognitionEvent.kind == "support_vote")).all()
        assert len(votes) == 2


def test_withdrawal_of_consent_asks_then_erases(app, chat, clean_db) -> None:
    world(clean_db, chat)
    assert "撤回" in chat.say(ME, "撤回同意")
    assert "已撤回您的同意" in chat.say(ME, "1")
    assert mentions(clean_db, ME) == []
