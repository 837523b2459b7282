"""What an account's subtree sees of campaigns: which campaigns, which rows, whose results, who
took part. Read models for the dashboard and its API (plain data, state codes).

The rule (docs/zh/admin-recognition.md): an account sees a campaign when its organising union is
in the subtree or when one of its candidate brands is, and then only the rows of brands in the
subtree. The rank range and tier stay the whole cohort's. The organiser's admins are the admins
of the organising union and of its ancestors (for a programme-wide campaign: of a top union).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from handlers.glossary import (
    CAMPAIGN_STATE_LABELS,
    FLAG_DECISION_LABELS,
    FLAG_STATUS_LABELS,
    SYSTEM_LABEL,
    group_label,
)
from models import Brand, Union
from models.admin import AdminRole
from models.recognition import (
    Campaign,
    CampaignBrand,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionFlagAudit,
)

CampaignState = str  # a key of glossary.CAMPAIGN_STATE_LABELS
SCHEDULED: CampaignState = "scheduled"
OPEN: CampaignState = "open"
CLOSED: CampaignState = "closed"


class Subtree(Protocol):
    """What these queries need of an account's scope (``bot.admin.scoping.Scope`` is one)."""

    @property
    def root_id(self) -> int: ...

    @property
    def root_path(self) -> str: ...

    @property
    def role(self) -> AdminRole: ...

    def union_ids(self) -> Select[tuple[int]]: ...


def brand_ids_in(sc: Subtree) -> Select[tuple[int]]:
    return select(Brand.id).where(Brand.union_id.in_(sc.union_ids()))


def campaigns_query(sc: Subtree) -> Select[tuple[Campaign]]:
    in_scope = select(CampaignBrand.campaign_id).where(CampaignBrand.brand_id.in_(brand_ids_in(sc)))
    return (
        select(Campaign)
        .where(Campaign.union_id.in_(sc.union_ids()) | Campaign.id.in_(in_scope))
        .order_by(Campaign.opens_at.desc(), Campaign.id.desc())
    )


def visible_campaign(session: Session, sc: Subtree, campaign_id: int) -> Campaign | None:
    """The campaign when the subtree may see it, else None (the page answers 404)."""
    campaign: Campaign | None = session.scalar(campaigns_query(sc).where(Campaign.id == campaign_id))
    return campaign


def is_organiser(session: Session, sc: Subtree, campaign: Campaign) -> bool:
    """An admin of the organising union or of one of its ancestors."""
    if sc.role is not AdminRole.ADMIN:
        return False
    if campaign.union_id is None:
        root = session.get(Union, sc.root_id)
        return root is not None and root.parent_id is None
    organiser = session.get(Union, campaign.union_id)
    return organiser is not None and organiser.path.startswith(sc.root_path)


def results_hidden(session: Session, sc: Subtree, campaign: Campaign) -> bool:
    return campaign.blind and campaign.closed_at is None and not is_organiser(session, sc, campaign)


def campaign_state(campaign: Campaign, now: datetime) -> CampaignState:
    if campaign.is_open(now):
        return OPEN
    if campaign.closed_at or (campaign.closes_at and campaign.closes_at <= now):
        return CLOSED
    return SCHEDULED


def scoped_report(session: Session, sc: Subtree, campaign: Campaign, full: dict[str, Any]) -> dict[str, Any]:
    """The CLI's JSON report ``full`` with only the rows of brands in the subtree."""
    report = dict(full)
    names = set(
        session.scalars(
            select(Brand.name)
            .join(CampaignBrand, CampaignBrand.brand_id == Brand.id)
            .where(CampaignBrand.campaign_id == campaign.id, Brand.id.in_(brand_ids_in(sc)))
        )
    )
    report["cohort_size"] = len(report["brands"])
    report["brands"] = [b for b in report["brands"] if b["brand"] in names]
    return report


@dataclass(frozen=True)
class CampaignRow:
    """One line of the campaign list (and of the API's /campaigns)."""

    id: int
    name: str
    kind: str  # the kind's label
    state: CampaignState
    organiser: str
    brands: int  # candidates in the subtree
    total: int  # all candidates
    opens_at: datetime
    closes_at: datetime | None
    blind: bool

    @property
    def state_label(self) -> str:
        return CAMPAIGN_STATE_LABELS[self.state]


def campaign_rows(session: Session, sc: Subtree, now: datetime) -> list[CampaignRow]:
    in_scope = set(session.scalars(brand_ids_in(sc)))
    unions = dict(session.execute(select(Union.id, Union.name)).tuples().all())
    return [
        CampaignRow(
            id=c.id,
            name=c.name,
            kind=c.kind.label,
            state=campaign_state(c, now),
            organiser=unions.get(c.union_id or 0, "全省（命令行创建）"),
            brands=sum(1 for e in c.entries if e.brand_id in in_scope),
            total=len(c.entries),
            opens_at=c.opens_at,
            closes_at=c.closes_at,
            blind=c.blind,
        )
        for c in session.scalars(campaigns_query(sc))
    ]


@dataclass(frozen=True)
class TrendRow:
    campaign: str
    date: str  # the report's data cut-off day
    brand: str
    index: float | None
    ci: tuple[float, float] | None


def trend_rows(
    session: Session,
    sc: Subtree,
    campaign: Campaign,
    report_of: Callable[[Campaign], dict[str, Any]],
) -> list[TrendRow] | None:
    """The page's brands in this and earlier closed campaigns (oldest first); None when there is
    only one campaign to show. ``report_of`` gives a campaign's stored report."""
    names = {b["brand"] for b in scoped_report(session, sc, campaign, report_of(campaign))["brands"]}
    others = [
        c
        for c in session.scalars(campaigns_query(sc).where(Campaign.closed_at.is_not(None)))
        if c.id != campaign.id and not results_hidden(session, sc, c)
    ]
    rows = []
    for c in sorted([*others, campaign], key=lambda c: c.opens_at):
        rep = report_of(c)
        for b in rep["brands"]:
            if b["brand"] in names:
                ci = (b["ci"][0], b["ci"][1]) if b["ci"] else None
                rows.append(TrendRow(c.name, rep["data_cutoff"][:10], b["brand"], b["index"], ci))
    if len({r.campaign for r in rows}) < 2:
        return None
    return rows


def events_by_campaign(session: Session, sc: Subtree, campaign_ids: list[int]) -> dict[int, int]:
    """Ratings and votes on the subtree's brands, per campaign."""
    return dict(
        session.execute(
            select(RecognitionEvent.campaign_id, func.count(RecognitionEvent.id))
            .where(
                RecognitionEvent.campaign_id.in_(campaign_ids),
                RecognitionEvent.brand_id.in_(brand_ids_in(sc)),
            )
            .group_by(RecognitionEvent.campaign_id)
        )
        .tuples()
        .all()
    )


def latest_flags(session: Session, sc: Subtree, campaign: Campaign) -> list[dict[str, Any]]:
    """The newest version of each (event, rule) flag on brands in the subtree, newest first.
    Opaque ids only: the flag id and the brand, never the respondent's identity hash."""
    rows = session.execute(
        select(
            RecognitionFlag, RecognitionEvent.brand_id, RecognitionEvent.grp, RecognitionEvent.submitted_at
        )
        .join(RecognitionEvent, RecognitionEvent.id == RecognitionFlag.event_id)
        .where(
            RecognitionEvent.campaign_id == campaign.id,
            RecognitionEvent.brand_id.in_(brand_ids_in(sc)),
        )
        .order_by(RecognitionFlag.id)
    ).all()
    latest: dict[tuple[int, str], Any] = {}
    for flag, brand_id, grp, at in rows:
        latest[(flag.event_id, flag.rule_id)] = (flag, brand_id, grp, at)
    names = dict(session.execute(select(Brand.id, Brand.name)).tuples().all())
    out = []
    # Pending opinions (one adjudicator so far) of the shown flag versions, in one query.
    opinions: dict[int, list[tuple[str, str]]] = {}
    shown_ids = {r[0].id for r in latest.values()}
    for flag_id, action, actor in session.execute(
        select(RecognitionFlagAudit.flag_id, RecognitionFlagAudit.action, RecognitionFlagAudit.actor)
        .join(RecognitionFlag, RecognitionFlag.id == RecognitionFlagAudit.flag_id)
        .join(RecognitionEvent, RecognitionEvent.id == RecognitionFlag.event_id)
        .where(RecognitionEvent.campaign_id == campaign.id, RecognitionFlagAudit.action.like("propose_%"))
        .order_by(RecognitionFlagAudit.id)
    ):
        if flag_id in shown_ids:
            opinions.setdefault(flag_id, []).append((action.removeprefix("propose_"), actor))
    for flag, brand_id, grp, at in sorted(latest.values(), key=lambda r: r[0].id, reverse=True):
        out.append(
            {
                "id": flag.id,
                "rule": flag.rule_id,
                "status": flag.status,
                "status_label": FLAG_STATUS_LABELS[flag.status],
                "brand": names.get(brand_id or 0, ""),
                "group": group_label(grp),
                "submitted_at": at,
                "reason": flag.reason,
                "decided_by": SYSTEM_LABEL if flag.decided_by == "system" else flag.decided_by,
                "pending": "；".join(f"{a}：{FLAG_DECISION_LABELS[d]}" for d, a in opinions.get(flag.id, [])),
                "brand_id": brand_id,
                "pair": flag.params.get("pair") if flag.rule_id == "B7_exchange_ring" else None,
            }
        )
    return out


# Distinct participants scan all of a campaign's events (a third of the overview's time at a
# million): counted at most once a minute per campaign and scope, per process.
PARTICIPANTS_TTL_S = 60.0
_participants: dict[tuple[int, str, bool], tuple[float, int]] = {}


def workers_taking_part(session: Session, sc: Subtree, campaign_id: int) -> int:
    """Distinct identities of group W whose union is in the subtree that voted or rated."""
    own_union_only = sc.role is AdminRole.CADRE
    where_union = (
        RecognitionEvent.union_path == sc.root_path
        if own_union_only
        else RecognitionEvent.union_path.startswith(sc.root_path)
    )
    key = (campaign_id, sc.root_path, own_union_only)
    hit = _participants.get(key)
    if hit is not None and time.monotonic() < hit[0]:
        return hit[1]
    n = int(
        session.scalar(
            select(func.count(func.distinct(RecognitionEvent.identity_hash))).where(
                RecognitionEvent.campaign_id == campaign_id, RecognitionEvent.grp == "W", where_union
            )
        )
        or 0
    )
    _participants[key] = (time.monotonic() + PARTICIPANTS_TTL_S, n)
    return n


def forget_participants() -> None:
    """Drop the cached counts (tests that add events and read the overview at once)."""
    _participants.clear()
