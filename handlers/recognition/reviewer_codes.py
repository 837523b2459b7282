"""G reviewers' one-time codes: issued for a campaign, redeemed by one follower; only hashes are stored."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.recognition.campaigns import CampaignError
from handlers.recognition.respondents import identity_hash
from models import Role, Union, User
from models.recognition import Campaign, ReviewerInvite


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def invite_reviewer(
    session: Session,
    campaign: Campaign,
    reviewer_name: str,
    unit_name: str,
    recuse_union_code: str | None = None,
) -> str:
    """A one-time code for a party/government reviewer; only its hash is stored."""
    import secrets

    recuse_id = None
    if recuse_union_code:
        union = session.scalar(select(Union).where(Union.code == recuse_union_code))
        if union is None:
            raise CampaignError(f"回避单位的工会代码 {recuse_union_code} 不存在")
        recuse_id = union.id
    code = "PY" + secrets.token_hex(4).upper()
    session.add(
        ReviewerInvite(
            campaign_id=campaign.id,
            code_hash=_code_hash(code),
            reviewer_name=reviewer_name,
            unit_name=unit_name,
            recuse_union_id=recuse_id,
        )
    )
    session.flush()
    return code


def redeem_reviewer_code(session: Session, user: User, code: str, now: datetime) -> ReviewerInvite | None:
    """Bind the code's reviewer role to this follower; None when unknown or used by someone else."""
    invite = session.scalar(select(ReviewerInvite).where(ReviewerInvite.code_hash == _code_hash(code)))
    # Union staff cannot hold G codes (docs/method/sampling.md §2): G is the party/government view
    # from outside.
    if invite is None or user.role is not Role.WORKER:
        return None
    ident = identity_hash(session, user.openid)
    if invite.identity_hash is not None:
        return invite if invite.identity_hash == ident else None
    invite.identity_hash = ident
    invite.used_at = now
    user.reviewer = True
    session.flush()
    return invite
