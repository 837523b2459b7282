"""Which campaigns are open, and for whom: a campaign is for the followers of its organiser's subtree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from handlers.recognition.respondents import identity_hash, may_be_reviewer
from models import Union, User
from models.recognition import Campaign, CampaignBrand, ReviewerInvite


def open_campaigns(session: Session, now: datetime) -> list[Campaign]:
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.closed_at.is_(None))
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())
        # Every caller looks at the candidates: campaigns, entries and brands in one query.
        .options(joinedload(Campaign.entries))
    ).unique()
    return [c for c in rows if c.is_open(now)]


def campaigns_for_brand(
    session: Session, brand_id: int, now: datetime, user: User | None = None
) -> list[Campaign]:
    found = open_campaigns(session, now) if user is None else open_campaigns_for(session, user, now)
    return [c for c in found if any(e.brand_id == brand_id for e in c.entries)]


# --- whom a campaign is for --------------------------------------------------------------------


def is_programme_wide(session: Session, campaign: Campaign) -> bool:
    """No organiser (made with the CLI) or a top-level organiser (the province): for everyone."""
    if campaign.union_id is None:
        return True
    owner = session.get(Union, campaign.union_id)
    return owner is None or owner.parent_id is None


def applies_to(session: Session, campaign: Campaign, user: User) -> bool:
    """A campaign is for the followers bound within its organiser's subtree.

    A programme-wide campaign is for everyone, unbound followers included; a follower bound to
    no union takes part only in those. A reviewer invited to a campaign keeps access to it
    wherever they are bound.
    """
    if is_programme_wide(session, campaign):
        return True
    owner = session.get(Union, campaign.union_id)
    assert owner is not None
    if user.union is not None and user.union.is_within(owner):
        return True
    if not may_be_reviewer(session, user):
        return False
    ident = identity_hash(session, user.openid)
    invited = select(ReviewerInvite.id).where(
        ReviewerInvite.campaign_id == campaign.id, ReviewerInvite.identity_hash == ident
    )
    return session.scalar(invited) is not None


def open_campaigns_for(session: Session, user: User, now: datetime) -> list[Campaign]:
    """The open campaigns this follower may vote or rate in, newest first."""
    return [c for c in open_campaigns(session, now) if applies_to(session, c, user)]


def entry_by_number(campaign: Campaign, number: int) -> CampaignBrand | None:
    return next((e for e in campaign.entries if e.number == number), None)
