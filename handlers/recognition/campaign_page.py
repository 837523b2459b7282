"""What the H5 campaign page shows: brand cards, the worker's own votes and ratings, the rules.

The page records through the same operations as the chat (``record_vote``, ``record_rating``),
so scope, blindness, the one-vote and latest-rating rules and the events are the chat's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.clock import show_time
from handlers.context import Context
from handlers.recognition.campaign_scope import applies_to, open_campaigns_for
from handlers.recognition.chat import SCAN_EVERY
from handlers.recognition.live import ask_refresh
from handlers.recognition.recording import Outcome, record_rating, record_vote
from handlers.recognition.respondents import identity_hash
from models import Brand, User
from models.programme import Photo, PhotoStatus
from models.recognition import Campaign, CampaignKind, RecognitionEvent

DESCRIPTION_CHARS = 100
PHOTOS_PER_BRAND = 2


@dataclass(frozen=True)
class BrandCard:
    number: int
    brand_id: int
    name: str
    union_name: str
    stage: str
    description: str
    photo_ids: tuple[int, ...]
    my_score: int | None
    voted: bool
    # Participation so far (votes, or ratings); None while the campaign is blind.
    count: int | None


@dataclass(frozen=True)
class CampaignPage:
    campaign: Campaign
    is_open: bool
    in_scope: bool
    closes: str
    used_votes: int
    cards: tuple[BrandCard, ...]

    @property
    def rating(self) -> bool:
        return self.campaign.kind is CampaignKind.RATING

    @property
    def votes_left(self) -> int:
        return max(0, self.campaign.max_choices - self.used_votes)


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"


def gallery(session: Session, brand_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """The newest stored photos of each brand, duplicates left out (one statement)."""
    if not brand_ids:
        return {}
    rows = session.execute(
        select(Photo.brand_id, Photo.id)
        .where(
            Photo.brand_id.in_(brand_ids),
            Photo.status == PhotoStatus.STORED,
            Photo.storage_key.is_not(None),
            Photo.flag.is_(None),
        )
        .order_by(Photo.brand_id, Photo.captured_at.desc(), Photo.id.desc())
    ).all()
    out: dict[int, list[int]] = defaultdict(list)
    for brand_id, photo_id in rows:
        if brand_id is not None and len(out[brand_id]) < PHOTOS_PER_BRAND:
            out[brand_id].append(photo_id)
    return {k: tuple(v) for k, v in out.items()}


def is_gallery_photo(session: Session, photo_id: int) -> Photo | None:
    """A photo the H5 pages may show: stored, not a duplicate, of a brand that is a candidate."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.brand_id is None or photo.status != PhotoStatus.STORED or photo.flag:
        return None
    if not photo.storage_key:
        return None
    listed = session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.entries.any(brand_id=photo.brand_id))
    )
    return photo if listed else None


def campaign_page(session: Session, user: User, campaign: Campaign, now: datetime) -> CampaignPage:
    ident = identity_hash(session, user.openid)
    E = RecognitionEvent
    mine = session.execute(
        select(E.brand_id, E.kind, E.q1)
        .where(E.campaign_id == campaign.id, E.identity_hash == ident)
        .order_by(E.submitted_at, E.id)
    ).all()
    my_scores: dict[int, int] = {}
    my_votes: set[int] = set()
    for brand_id, kind, q1 in mine:
        if brand_id is None:
            continue
        if kind == "support_vote":
            my_votes.add(brand_id)
        elif kind in ("rating", "review_score") and q1 is not None:
            my_scores[brand_id] = q1  # in time order: the latest wins, as in the index
    counts: dict[int, int] = {}
    if not campaign.blind or campaign.closed_at is not None:
        kind = "support_vote" if campaign.kind is CampaignKind.VOTE else "rating"
        rows = session.execute(
            select(E.brand_id, func.count(func.distinct(E.identity_hash)))
            .where(E.campaign_id == campaign.id, E.kind == kind)
            .group_by(E.brand_id)
        ).all()
        counts = {brand_id: n for brand_id, n in rows if brand_id is not None}
    brand_ids = [e.brand_id for e in campaign.entries]
    photos = gallery(session, brand_ids)
    show_counts = not campaign.blind or campaign.closed_at is not None
    cards = tuple(
        BrandCard(
            number=e.number,
            brand_id=e.brand_id,
            name=e.brand.name,
            union_name=e.brand.union.name,
            stage=e.brand.stage.label,
            description=_short(e.brand.summary),
            photo_ids=photos.get(e.brand_id, ()),
            my_score=my_scores.get(e.brand_id),
            voted=e.brand_id in my_votes,
            count=counts.get(e.brand_id, 0) if show_counts else None,
        )
        for e in campaign.entries
    )
    return CampaignPage(
        campaign=campaign,
        is_open=campaign.is_open(now),
        in_scope=applies_to(session, campaign, user),
        closes=show_time(campaign.closes_at) if campaign.closes_at else "不限",
        used_votes=len(my_votes),
        cards=cards,
    )


def campaigns_for_visitor(session: Session, user: User, now: datetime) -> list[Campaign]:
    return open_campaigns_for(session, user, now)


def entry_brand(campaign: Campaign, brand_id: int) -> Brand | None:
    return next((e.brand for e in campaign.entries if e.brand_id == brand_id), None)


def submit(
    ctx: Context,
    campaign: Campaign,
    brand: Brand,
    key: str,
    score: int | None,
    started_at: datetime,
) -> Outcome:
    """Record a vote (``score`` None) or a rating from the page; the chat's rules, channel ``h5``."""
    # The event starts when the page was rendered: time on page, for the timing rules.
    if score is None:
        outcome = record_vote(
            ctx.session, ctx.user, campaign, brand, key, ctx.now, channel="h5", started_at=started_at
        )
    else:
        outcome = record_rating(
            ctx.session, ctx.user, campaign, brand, score, key, ctx.now, channel="h5", started_at=started_at
        )
    if outcome.event_id is not None:
        ask_refresh(ctx, campaign.id)
        if outcome.event_id % SCAN_EVERY == 0:
            ctx.enqueue("recognition_scan", campaign_id=campaign.id)
    return outcome
