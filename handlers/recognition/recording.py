"""Recording votes and ratings: every submission is an append-only ``RecognitionEvent``.

Each event is keyed by its inbound message (or survey response), so WeChat's retries and
concurrent deliveries are counted once by the database's unique keys, not by luck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.recognition.campaign_scope import applies_to
from handlers.recognition.campaigns import CampaignError
from handlers.recognition.respondents import Respondent, respondent
from models import Brand, User
from models.recognition import Campaign, CampaignKind, RecognitionEvent


def submissions_last_hour(session: Session, ident: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(RecognitionEvent.id)).where(
                RecognitionEvent.identity_hash == ident,
                RecognitionEvent.submitted_at > now - timedelta(hours=1),
                RecognitionEvent.submitted_at <= now,
            )
        )
        or 0
    )


def _closed_at_locked(campaign_id: int) -> Any:
    # A shared lock on the campaign row: events never wait for each other, but close (which
    # locks the row for update) waits for events in flight, and later events see it closed.
    return select(Campaign.closed_at).where(Campaign.id == campaign_id).with_for_update(read=True)


def _closed_under_lock(session: Session, campaign_id: int) -> bool:
    return session.scalar(_closed_at_locked(campaign_id)) is not None


def _insert(session: Session, event: RecognitionEvent, locked: bool = False) -> bool:
    """Insert one event; False when its key (or the one-vote rule) already holds one, or when
    the campaign has closed meanwhile (an answer delivered late, or racing the close).

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: one statement, no savepoint. The event is
    written by the statement, not added to the session; ``event.id`` is set from it.
    ``locked``: the caller's guard already took the campaign row's shared lock and saw it open.
    """
    if not locked and _closed_under_lock(session, event.campaign_id):
        return False
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {k: v for k, v in vars(event).items() if not k.startswith("_")}
    stmt = insert(RecognitionEvent).values(**values).on_conflict_do_nothing().returning(RecognitionEvent.id)
    new_id = session.scalar(stmt)
    if new_id is None:
        return False
    event.id = new_id
    return True


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    # recorded / replaced / same / duplicate / already / full / limited / closed / recused / outside /
    # reviewer_elsewhere
    status: str
    brand: str
    campaign: str
    score: int | None = None
    previous: int | None = None
    used: int = 0
    limit: int = 0
    voted: tuple[str, ...] = ()
    event_id: int | None = None
    invited: str = ""  # reviewer_elsewhere: the campaign whose reviewer this is


def _base_event(
    rsp: Respondent,
    campaign: Campaign,
    brand_id: int,
    key: str,
    now: datetime,
    channel: str,
    src: int | None,
    started_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "event_key": key,
        "campaign_id": campaign.id,
        "identity_hash": rsp.identity,
        "grp": rsp.group,
        "union_path": rsp.union_path,
        "cadre": rsp.cadre,
        "identity_first_seen_at": rsp.first_seen_at,
        "channel": channel,
        "src_brand_id": src if channel == "brand" else None,
        "brand_id": brand_id,
        "payload": {},
        # A page's form starts when the page was shown (time on page); a chat message, now.
        "started_at": started_at if started_at is not None and started_at <= now else now,
        "submitted_at": now,
    }


def _guard(
    session: Session,
    user: User,
    rsp: Respondent,
    campaign: Campaign,
    brand: Brand,
    key: str,
    now: datetime,
    cfg: RecognitionConfig,
    rating: bool = False,
) -> tuple[Outcome | None, int | None]:
    """(why not to record, or None; for a rating, the score of the respondent's latest rating of
    the brand). The three look-ups are one statement: every rating makes them."""
    E = RecognitionEvent
    duplicate = select(E.id).where(E.event_key == key).limit(1).scalar_subquery()
    recent = (
        select(func.count(E.id))
        .where(
            E.identity_hash == rsp.identity, E.submitted_at > now - timedelta(hours=1), E.submitted_at <= now
        )
        .scalar_subquery()
    )
    # The campaign row's shared lock rides on the same statement (see _closed_at_locked).
    columns = [duplicate, recent, _closed_at_locked(campaign.id).scalar_subquery()]
    if rating:
        columns.append(
            select(E.q1)
            .where(
                E.campaign_id == campaign.id,
                E.identity_hash == rsp.identity,
                E.brand_id == brand.id,
                E.kind.in_(("rating", "review_score")),
            )
            .order_by(E.submitted_at.desc(), E.id.desc())
            .limit(1)
            .scalar_subquery()
        )
    row = session.execute(select(*columns)).one()
    previous = row[3] if rating else None
    if row[0] is not None:
        return Outcome("duplicate", brand.name, campaign.name), previous
    if not applies_to(session, campaign, user):
        # Whatever path led here (a stale flow, a brand QR code): never recorded outside its scope.
        return Outcome("outside", brand.name, campaign.name), previous
    if row[2] is not None or not campaign.is_open(now):
        return Outcome("closed", brand.name, campaign.name), previous
    limit = cfg.submissions_per_hour
    if (row[1] or 0) >= limit:
        return Outcome("limited", brand.name, campaign.name, limit=limit), previous
    return None, previous


def record_vote(
    session: Session,
    user: User,
    campaign: Campaign,
    brand: Brand,
    key: str,
    now: datetime,
    channel: str = "self",
    src: int | None = None,
    config: RecognitionConfig | None = None,
    started_at: datetime | None = None,
) -> Outcome:
    """A support vote (参与热度): once per brand, at most K brands per campaign."""
    cfg = config or default_config()
    rsp = respondent(session, user, campaign)
    blocked, _ = _guard(session, user, rsp, campaign, brand, key, now, cfg)
    if blocked is not None:
        return blocked
    voted_ids = list(
        session.scalars(
            select(RecognitionEvent.brand_id).where(
                RecognitionEvent.campaign_id == campaign.id,
                RecognitionEvent.identity_hash == rsp.identity,
                RecognitionEvent.kind == "support_vote",
            )
        )
    )
    if brand.id in voted_ids:
        return Outcome("already", brand.name, campaign.name)
    if campaign.kind is CampaignKind.VOTE and len(voted_ids) >= campaign.max_choices:
        names = tuple(b.name for b in session.scalars(select(Brand).where(Brand.id.in_(voted_ids))))
        return Outcome("full", brand.name, campaign.name, limit=campaign.max_choices, voted=names)
    event = RecognitionEvent(
        kind="support_vote", **_base_event(rsp, campaign, brand.id, key, now, channel, src, started_at)
    )
    if not _insert(session, event, locked=True):
        # Same key (a retry) or the one-vote index (a concurrent duplicate): nothing counted twice.
        return Outcome("already", brand.name, campaign.name)
    return Outcome(
        "recorded",
        brand.name,
        campaign.name,
        used=len(voted_ids) + 1,
        limit=campaign.max_choices,
        event_id=event.id,
    )


def latest_rating(session: Session, campaign: Campaign, ident: str, brand_id: int) -> RecognitionEvent | None:
    return session.scalar(
        select(RecognitionEvent)
        .where(
            RecognitionEvent.campaign_id == campaign.id,
            RecognitionEvent.identity_hash == ident,
            RecognitionEvent.brand_id == brand_id,
            RecognitionEvent.kind.in_(("rating", "review_score")),
        )
        .order_by(RecognitionEvent.submitted_at.desc(), RecognitionEvent.id.desc())
        .limit(1)
    )


def record_rating(
    session: Session,
    user: User,
    campaign: Campaign,
    brand: Brand,
    score: int,
    key: str,
    now: datetime,
    channel: str = "self",
    src: int | None = None,
    config: RecognitionConfig | None = None,
    started_at: datetime | None = None,
) -> Outcome:
    """A 1–5 rating (q1 overall satisfaction); a later one replaces the earlier in the index."""
    if not 1 <= score <= 5:
        raise CampaignError("评分只能是 1–5 分")
    cfg = config or default_config()
    rsp = respondent(session, user, campaign)
    blocked, previous = _guard(session, user, rsp, campaign, brand, key, now, cfg, rating=True)
    if blocked is not None:
        return blocked
    if rsp.reviewer_of is not None:
        return Outcome("reviewer_elsewhere", brand.name, campaign.name, invited=rsp.reviewer_of)
    if rsp.recuse_path is not None and brand.union.path.startswith(rsp.recuse_path):
        return Outcome("recused", brand.name, campaign.name)
    if previous is not None and previous == score:
        return Outcome("same", brand.name, campaign.name, score=score)
    kind = "review_score" if rsp.group == "G" else "rating"
    fields = _base_event(rsp, campaign, brand.id, key, now, channel, src, started_at)
    if kind == "review_score":
        fields["payload"] = {"items": [score]}
    event = RecognitionEvent(kind=kind, q1=score, **fields)
    if not _insert(session, event, locked=True):
        return Outcome("duplicate", brand.name, campaign.name, score=score)
    if previous is not None:
        return Outcome(
            "replaced", brand.name, campaign.name, score=score, previous=previous, event_id=event.id
        )
    return Outcome("recorded", brand.name, campaign.name, score=score, event_id=event.id)
