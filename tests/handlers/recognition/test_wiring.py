"""The index wired into other domains: 「查询 品牌」, review scores, reviewer codes by text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.recognition.reviewer_codes import invite_reviewer
from models.programme import BindAttempt
from tests.factories import make_user, standard_registry
from tests.handlers.recognition.conftest import T0, make_campaign


def test_reviewer_code_sent_as_text_makes_a_g_reviewer(session: Session, brands, say) -> None:
    campaign = make_campaign(session, "rating")
    code = invite_reviewer(session, campaign, "王评议", "市发改委")
    reviewer = make_user(session)
    assert "党政评议人" in (say(reviewer, f"评议 {code.lower()}").text or "")
    stranger = make_user(session)
    assert "无效" in (say(stranger, f"绑定 {code}").text or "")
    failures = session.scalar(select(func.count(BindAttempt.id)).where(BindAttempt.user_id == stranger.id))
    assert failures == 1  # a wrong code counts towards the bind rate limit like any other


def test_status_reply_and_review_score_come_from_the_index(session: Session, brands, say) -> None:
    from handlers.recognition.live import refresh

    campaign = make_campaign(session, "rating")
    union_id = brands[0].union_id
    recognition_for = standard_registry().recognition  # the index, as the service registers it
    assert recognition_for(session, brands[0]) is None
    assert "暂无数据" in (say(make_user(session), "查询 工惠乐学").text or "")
    for i in range(40):
        worker = make_user(
            session, union_id=union_id, union_source="member", first_seen_at=T0 - timedelta(days=90)
        )
        say(worker, f"投工惠乐学 {4 + i % 2}分", at=T0 + timedelta(minutes=7 * i))
    refresh(session, campaign, T0 + timedelta(hours=6))  # the background job (not run by ``say``)
    info = recognition_for(session, brands[0])
    assert info is not None and 0 < info.score <= 100
    reply = say(make_user(session), "查询 工惠乐学", at=T0 + timedelta(hours=6)).text or ""
    assert "社会认可度" in reply and "可信区间" in reply and f"{info.score:.1f}" in reply


def test_score_goes_to_the_rating_campaign_and_support_to_the_vote_campaign(
    session: Session, brands, say
) -> None:
    from models.recognition import RecognitionEvent

    rating = make_campaign(session, "rating", name="满意度测评")
    voting = make_campaign(session, "vote", name="最受欢迎评选")
    worker = make_user(session, union_id=brands[0].union_id, union_source="member")
    assert "满意度测评" in (say(worker, "工惠乐学 5分").text or "")
    assert "最受欢迎评选" in (say(worker, "投票给工惠乐学").text or "")
    kinds = {
        (e.campaign_id, e.kind)
        for e in session.scalars(select(RecognitionEvent).where(RecognitionEvent.brand_id == brands[0].id))
    }
    assert kinds == {(rating.id, "rating"), (voting.id, "support_vote")}


def test_recognition_demo_loads_once(session: Session) -> None:
    from handlers.demo import load_demo
    from handlers.recognition.demo import load_recognition_demo
    from handlers.recognition.queries import brand_recognition
    from models import Brand
    from models.recognition import CampaignKind

    load_demo(session)
    first = load_recognition_demo(session, T0)
    assert first["ratings"] > 500 and first["votes"] > 100
    assert load_recognition_demo(session, T0)["respondents"] == 0
    brand = session.scalar(select(Brand).where(Brand.name == "查保促"))
    assert brand is not None
    found = brand_recognition(session, brand.id, kind=CampaignKind.RATING)
    assert found is not None and found.index is not None
