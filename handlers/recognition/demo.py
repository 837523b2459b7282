"""Demo data for the recognition index: two rating cohorts and a vote, with a month of plausible answers.

Everything goes through the real operations (the survey sink, record_rating, record_vote,
reviewer codes), so the demo's index is computed exactly as production's would be. Seeded:
the same demo every time. Only for the demo (the CLI refuses outside demo mode).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.measures import BrandRatingAnswer, MeasuredResponse, RosterAnswer
from handlers.recognition.campaigns import create_campaign
from handlers.recognition.live import refresh
from handlers.recognition.recording import record_rating, record_vote
from handlers.recognition.reviewer_codes import invite_reviewer, redeem_reviewer_code
from handlers.recognition.roster import campaign_roster
from handlers.recognition.sink import record_measured_response
from models import Brand, Union, UnionKind, User
from models.recognition import Campaign

RATING_CAMPAIGN = "2026年度工作品牌满意度测评"
# Ranks compare like with like: the city unions' brands have a cohort (and campaign) of their own.
CITY_RATING_CAMPAIGN = "2026年度市级工作品牌满意度测评"
VOTE_CAMPAIGN = "2026年度最受欢迎工作品牌评选"
DEMO_PREFIX = "demo-recog-"
# (how widely known, mean satisfaction 1–5) per brand; others get a middling default.
PROFILE = {
    "查保促": (0.85, 4.4),
    "工惠乐学": (0.75, 4.5),
    "幸福驿站": (0.6, 4.1),
    "爱心妈妈小屋": (0.55, 4.3),
    "四季服务": (0.7, 3.9),
    "齐鲁工匠": (0.65, 4.0),
    "职工大讲堂": (0.35, 3.6),
    "1138工程": (0.3, 3.4),
}
DEFAULT_PROFILE = (0.3, 3.7)
REVIEWERS = (
    ("王评议", "市发改委"),
    ("李评议", "市人社局"),
    ("张评议", "市应急管理局"),
    ("赵评议", "市委组织部"),
    ("刘评议", "市委宣传部"),
    ("陈评议", "市卫健委"),
)


def _profile(name: str) -> tuple[float, float]:
    return PROFILE.get(name, DEFAULT_PROFILE)


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.8))))


def load_recognition_demo(session: Session, now: datetime, seed: int = 2026) -> dict[str, int]:
    """Add the demo campaigns and answers once; a second run adds nothing."""
    if session.scalar(select(Campaign.id).where(Campaign.name == RATING_CAMPAIGN)) is not None:
        return {"respondents": 0, "ratings": 0, "votes": 0}
    rng = random.Random(seed)
    opens = now - timedelta(days=30)
    until = now + timedelta(days=30)
    rating = create_campaign(
        session, RATING_CAMPAIGN, "rating", "all", now, opens, until, cohort_level="province"
    )
    city_rating = create_campaign(
        session, CITY_RATING_CAMPAIGN, "rating", "all", now, opens, until, cohort_level="city"
    )
    voting = create_campaign(
        session, VOTE_CAMPAIGN, "vote", "all", now, opens, until, max_choices=3, cohort_level="province"
    )
    in_vote = {e.brand_id for e in voting.entries}
    brands = list(session.scalars(select(Brand).order_by(Brand.id)))
    grassroots = list(session.scalars(select(Union).where(Union.kind == UnionKind.GRASSROOTS)))
    people: list[User] = []
    for i in range(240):
        union = grassroots[i % len(grassroots)] if i < 170 and grassroots else None  # 170 W, 70 S
        user = User(
            openid=f"{DEMO_PREFIX}{i:04d}",
            union_id=union.id if union else None,
            union_source="member" if union else None,
            first_seen_at=now - timedelta(days=200 + i % 30),
            subscribed_at=now - timedelta(days=200 + i % 30),
        )
        session.add(user)
        people.append(user)
    session.flush()

    ratings = votes = 0
    for n, user in enumerate(people):
        # Answers spread over the month, none closer than minutes apart: ordinary traffic.
        at = opens + timedelta(minutes=170 * n + rng.randint(0, 120))
        roster = campaign_roster(session, user, rng)  # the index's own roster and sink: no survey
        aware = [
            i for i in roster if not i.is_foil and rng.random() < PROFILE.get(i.name, DEFAULT_PROFILE)[0]
        ]
        rated = rng.sample(aware, min(5, len(aware)))
        answers = tuple(
            BrandRatingAnswer(
                brand_id=item.brand_id,
                q1_overall=_score(rng, _profile(item.name)[1]),
                q2_vs_expect=_score(rng, _profile(item.name)[1] - 0.3),
                q3_recommend=max(0, min(10, round(rng.gauss(_profile(item.name)[1] * 2, 1.5)))),
            )
            for item in rated
            if item.brand_id is not None
        )
        record_measured_response(
            session,
            MeasuredResponse(
                user_id=user.id,
                survey_key="brand_recognition",
                group=None,
                channel="neutral_open",
                started_at=at - timedelta(minutes=4),
                submitted_at=at,
                roster=RosterAnswer(
                    shown=tuple(roster),
                    aware_brand_ids=tuple(i.brand_id for i in aware if i.brand_id is not None),
                    foil_ticked=rng.random() < 0.03,
                ),
                ratings=answers,
                source_key=f"demo:{user.openid}",
            ),
        )
        ratings += len(answers)
        by_name = {b.name: b for b in brands}
        for item in rng.sample(aware, min(len(aware), rng.randint(0, 3))):
            brand = by_name.get(item.name)
            if brand is not None and brand.id in in_vote:
                outcome = record_vote(session, user, voting, brand, f"demo-vote:{user.openid}:{brand.id}", at)
                votes += outcome.status == "recorded"

    for k, (name, unit) in enumerate(REVIEWERS):
        reviewer = User(openid=f"{DEMO_PREFIX}g{k}", first_seen_at=now - timedelta(days=60))
        session.add(reviewer)
        session.flush()
        for campaign in (rating, city_rating):
            code = invite_reviewer(session, campaign, name, unit)
            redeem_reviewer_code(session, reviewer, code, now - timedelta(days=20))
            for j, entry in enumerate(campaign.entries):
                brand = entry.brand
                at = now - timedelta(days=19, hours=-j)
                score = _score(rng, _profile(brand.name)[1])
                record_rating(session, reviewer, campaign, brand, score, f"demo-g:{k}:{brand.id}", at)
                ratings += 1
    # The figures are there at once, not after the first refresh.
    for campaign in (rating, city_rating, voting):
        refresh(session, campaign, now)
    return {"respondents": len(people) + len(REVIEWERS), "ratings": ratings, "votes": votes}
