"""Who is answering: the salted identity hash, and the group (W / S / G) a follower answers in.

The group comes from verification, never from what the follower says: G when invited as a
reviewer, W when bound to a union (a bound cadre marked as such), else S.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Role, Union, User
from models.recognition import Campaign, RecognitionSecret, ReviewerInvite

# The salt is written once by the migration and never changed: read once per database.
_salts: dict[str, str] = {}


def identity_hash(session: Session, openid: str) -> str:
    """Salted sha256 of the openid: what the index stores instead of the openid."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    salt = _salts.get(url)
    if salt is None:
        salt = session.scalar(select(RecognitionSecret.salt).where(RecognitionSecret.id == 1)) or ""
        _salts[url] = salt
    return hashlib.sha256(f"{salt}:{openid}".encode()).hexdigest()


@dataclass(frozen=True)
class Respondent:
    identity: str
    group: str  # W / S / G
    union_path: str | None
    first_seen_at: datetime | None
    recuse_path: str | None = None
    # A bound cadre of the union_path unit: home for its subtree's brands, never the public.
    cadre: bool = False
    # A G reviewer of another campaign still open: nothing they rate here may count
    # (docs/method/sampling.md §2).
    reviewer_of: str | None = None


def may_be_reviewer(session: Session, user: User) -> bool:
    """Whether this follower holds a G reviewer code; learnt once for rows from before 0018."""
    if user.reviewer is None:
        ident = identity_hash(session, user.openid)
        held = select(ReviewerInvite.id).where(ReviewerInvite.identity_hash == ident).limit(1)
        user.reviewer = session.scalar(held) is not None
    return bool(user.reviewer)


def reviewer_campaigns(session: Session, ident: str) -> list[Campaign]:
    """The not-yet-closed campaigns that invited this identity as a G reviewer."""
    return list(
        session.scalars(
            select(Campaign)
            .join(ReviewerInvite, ReviewerInvite.campaign_id == Campaign.id)
            .where(ReviewerInvite.identity_hash == ident, Campaign.closed_at.is_(None))
            .order_by(Campaign.id)
        )
    )


def is_bound_cadre(user: User) -> bool:
    """A union cadre (or admin) bound to a unit: answers as the union, not as the public."""
    return user.role in (Role.CADRE, Role.ADMIN) and user.union_id is not None and user.union is not None


def respondent(session: Session, user: User, campaign: Campaign) -> Respondent:
    """Group by verification, never self-declared: G invited, W bound to a union, else S.

    A bound cadre is W (a union person, docs/method/sampling.md §2) and marked, so the estimators count their
    answers for their own subtree's brands as home (capped), never as the public.
    """
    ident = identity_hash(session, user.openid)
    if may_be_reviewer(session, user):
        invite = session.scalar(
            select(ReviewerInvite).where(
                ReviewerInvite.campaign_id == campaign.id, ReviewerInvite.identity_hash == ident
            )
        )
        if invite is not None:
            recuse = session.get(Union, invite.recuse_union_id) if invite.recuse_union_id else None
            return Respondent(ident, "G", None, user.first_seen_at, recuse.path if recuse else None)
        invited = reviewer_campaigns(session, ident)
        if invited:
            # Their score belongs to the campaign that invited them, with its recusal; here it
            # would count as a public (W/S) rating and skip both.
            return Respondent(ident, "G", None, user.first_seen_at, reviewer_of=invited[0].name)
    if is_bound_cadre(user):
        assert user.union is not None
        return Respondent(ident, "W", user.union.path, user.first_seen_at, cadre=True)
    if user.union_id is not None and user.union_source in ("member", "qrcode") and user.union is not None:
        return Respondent(ident, "W", user.union.path, user.first_seen_at)
    return Respondent(ident, "S", None, user.first_seen_at)
