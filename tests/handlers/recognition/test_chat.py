"""Voting and rating in chat: lists, votes, ratings, flows, limits, scenes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.dispatch import handle
from handlers.inbound import Inbound
from handlers.recognition.campaigns import create_campaign
from handlers.recognition.chat import candidate_pages
from handlers.recognition.reviewer_codes import invite_reviewer
from models import Role
from models.recognition import RecognitionEvent
from tests.factories import make_brand, make_ctx, make_user, standard_registry
from tests.handlers.recognition.conftest import T0, make_campaign


def events(session: Session, kind: str | None = None) -> list[RecognitionEvent]:
    q = select(RecognitionEvent).order_by(RecognitionEvent.id)
    if kind:
        q = q.where(RecognitionEvent.kind == kind)
    return list(session.scalars(q))


def test_list_numbers_candidates(session, brands, say) -> None:
    make_campaign(session, "vote", k=2)
    reply = say(make_user(session), "候选名单")
    assert "1. 工惠乐学" in reply.text and "3. 职工书屋" in reply.text
    assert "最多支持 2 个" in reply.text


def test_no_campaign(session, brands, say) -> None:
    assert "没有正在进行" in say(make_user(session), "投票").text


def test_long_list_is_paged_within_2048_bytes(session) -> None:
    many = [make_brand(session, name=f"职工服务品牌第{i:03d}号示范项目") for i in range(150)]
    campaign = create_campaign(session, "大名单", "vote", [b.name for b in many], T0)
    pages = candidate_pages(campaign, [])
    assert len(pages) > 1
    assert all(len(p.encode()) <= 2048 for p in pages)
    joined = "\n".join(pages)
    assert all(b.name in joined for b in many)


def test_vote_by_number_and_second_vote_refused(session, brands, say) -> None:
    make_campaign(session, "vote", k=2)
    user = make_user(session)
    assert "已为「工惠乐学」投上一票" in say(user, "投1号").text
    again = say(user, "投票给工惠乐学")
    assert "已经为「工惠乐学」投过票" in again.text
    assert "已为「幸福驿站」投上一票" in say(user, "投2号").text
    full = say(user, "投3号")
    assert "已达上限" in full.text
    assert len(events(session, "support_vote")) == 2


def test_unknown_number(session, brands, say) -> None:
    make_campaign(session, "vote")
    assert "不在候选名单" in say(make_user(session), "投9号").text


def test_rating_with_score_and_change(session, brands, say) -> None:
    make_campaign(session, "rating")
    user = make_user(session)
    first = say(user, "投工惠乐学 5分")
    assert "「工惠乐学」5分" in first.text and "以最后一次为准" in first.text
    second = say(user, "投工惠乐学 3分", at=T0 + timedelta(minutes=1))
    assert "从 5分 改为 3分" in second.text
    assert [e.q1 for e in events(session, "rating")] == [5, 3]


def test_words_give_score(session, brands, say) -> None:
    make_campaign(session, "rating")
    user = make_user(session)
    reply = say(user, "对幸福驿站非常满意")
    assert "5分" in reply.text
    assert events(session, "rating")[0].q1 == 5


def test_vote_in_rating_campaign_asks_for_score(session, brands, say) -> None:
    make_campaign(session, "rating")
    user = make_user(session)
    ask = say(user, "投票给职工书屋")
    assert "请为「职工书屋」打分" in ask.text
    assert len(events(session, "support_vote")) == 1  # 参与热度 only
    again = say(user, "好的吧")
    assert "没看懂" in again.text
    done = say(user, "4")
    assert "「职工书屋」4分" in done.text
    rating = events(session, "rating")
    assert len(rating) == 1 and rating[0].channel == "self"


def test_identity_is_hashed_and_group_assigned(session, brands, say) -> None:
    make_campaign(session, "rating")
    worker = make_user(session, union_id=brands[0].union_id, union_source="member")
    public = make_user(session)
    say(worker, "投工惠乐学 4分")
    say(public, "投工惠乐学 4分")
    evs = events(session, "rating")
    assert [e.grp for e in evs] == ["W", "S"]
    assert all(worker.openid not in e.identity_hash and len(e.identity_hash) == 64 for e in evs)
    assert evs[0].union_path == brands[0].union.path


def test_rate_limit_31st_submission(session, brands, say) -> None:
    make_campaign(session, "rating")
    user = make_user(session)
    for i in range(30):
        reply = say(user, f"投工惠乐学 {i % 5 + 1}分", at=T0 + timedelta(seconds=i * 60))
        assert "频繁" not in reply.text
    reply = say(user, "投幸福驿站 4分", at=T0 + timedelta(seconds=30 * 60 + 5))
    assert "太频繁" in reply.text and "上限 30 次" in reply.text
    assert len(events(session)) == 30


def test_retry_with_same_msgid_counts_once(session, brands, say) -> None:
    make_campaign(session, "vote")
    user = make_user(session)
    say(user, "投1号", msg_id="777")
    say(user, "投1号", msg_id="777")
    assert len(events(session)) == 1


def test_brand_scene_opens_rating_with_brand_channel(session, brands) -> None:
    make_campaign(session, "rating")
    user = make_user(session)
    scan = Inbound(user.openid, "event", T0, event="SCAN", event_key=f"brand:{brands[1].id}")
    reply = handle(make_ctx(session, user, T0), scan)
    assert "请为「幸福驿站」打分" in (reply.text or "")
    handle(make_ctx(session, user, T0), Inbound(user.openid, "text", T0, msg_id="1", content="5"))
    ev = events(session, "rating")[0]
    assert (ev.channel, ev.src_brand_id, ev.q1) == ("brand", brands[1].id, 5)


def test_reviewer_invitation_makes_g_and_recuses(session, brands, say) -> None:
    campaign = make_campaign(session, "rating")
    code = invite_reviewer(session, campaign, "王评议", "市发改委", recuse_union_code=brands[2].union.code)
    user = make_user(session)
    scan = Inbound(user.openid, "event", T0, event="SCAN", event_key=f"review:{code}")
    assert "党政评议人" in (handle(make_ctx(session, user, T0), scan).text or "")
    say(user, "投工惠乐学 4分")
    assert events(session)[0].kind == "review_score" and events(session)[0].grp == "G"
    assert "回避" in say(user, "投职工书屋 5分").text
    other = make_user(session)
    scan2 = Inbound(other.openid, "event", T0, event="SCAN", event_key=f"review:{code}")
    assert "无效" in (handle(make_ctx(session, other, T0), scan2).text or "")


def test_union_staff_cannot_hold_g_code(session, brands) -> None:
    campaign = make_campaign(session, "rating")
    code = invite_reviewer(session, campaign, "李", "某局")
    cadre = make_user(session, role=Role.CADRE)
    scan = Inbound(cadre.openid, "event", T0, event="SCAN", event_key=f"review:{code}")
    assert "无效" in (handle(make_ctx(session, cadre, T0), scan).text or "")


def test_closed_campaign_refuses(session, brands, say) -> None:
    c = make_campaign(session, "vote")
    c.closed_at = T0 - timedelta(minutes=1)
    session.flush()
    assert "没有正在进行" in say(make_user(session), "投1号").text
    assert session.scalar(select(func.count(RecognitionEvent.id))) == 0


def test_rules_rerun_every_50_events(session, brands) -> None:
    from handlers.recognition.chat import SCAN_EVERY, scan_job
    from handlers.registry import JobContext

    campaign = make_campaign(session, "rating")
    jobs = []
    for i in range(SCAN_EVERY + 5):
        user = make_user(session)
        ctx = make_ctx(session, user, T0)
        handle(ctx, Inbound(user.openid, "text", T0, msg_id=str(i), content="投工惠乐学 4分"))
        jobs.extend(ctx.jobs)
    scans = [j for j in jobs if j.name == "recognition_scan"]
    assert len(scans) >= 1 and scans[0].kwargs == {"campaign_id": campaign.id}
    assert standard_registry().jobs["recognition_scan"] is scan_job
    scan_job(
        JobContext(
            session=session,
            api=None,  # type: ignore[arg-type]  # the scan sends nothing
            now=T0,
            options={},
            jobs=[],
            registry=standard_registry(),
        ),
        campaign.id,
    )
