"""The index wired into other domains: 「查询 品牌」, review scores, reviewer codes by text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.programme.lifecycle import recognition_for
from handlers.recognition.campaigns import invite_reviewer
from models.programme import BindAttempt
from tests.factories import make_user
from tests.handlers.recognition.conftest import T0, make_campaign


def test_reviewer_code_sent_as_text_makes_a_g_reviewer(session: Session, brands, say) -> None:  # type: ignore[no-untyped-def]
    campaign = make_campaign(session, "rating")
    code = invite_reviewer(session, campaign, "王评议", "市发改委")
    reviewer = make_user(session)
    assert "党政评议人" in (say(reviewer, f"评议 {code.lower()}").text or "")
    stranger = make_user(session)
    assert "无效" in (say(stranger, f"绑定 {code}").text or "")
    failures = session.scalar(select(func.count(BindAttempt.id)).where(BindAttempt.user_id == stranger.id))
    assert failures == 1  # a wrong code counts towards the bind rate limit like any other


def test_status_reply_and_review_score_come_from_the_index(session: Session, brands, say) -> None:  # type: ignore[no-untyped-def]
    make_campaign(session, "rating")
    union_id = brands[0].union_id
    assert recognition_for(session, brands[0]) is None
    assert "暂无数据" in (say(make_user(session), "查询 工惠乐学").text or "")
    for i in range(40):
        worker = make_user(
            session, union_id=union_id, union_source="member", first_seen_at=T0 - timedelta(days=90)
        )
        say(worker, f"投工惠乐学 {4 + i % 2}分", at=T0 + timedelta(minutes=7 * i))
    info = recognition_for(session, brands[0])
    assert info is not None and 0 < info.score <= 100
    reply = say(make_user(session), "查询 工惠乐学", at=T0 + timedelta(hours=6)).text or ""
    assert "社会认可度" in reply and "可信区间" in reply and f"{info.score:.1f}" in reply
