"""Brand-level checks (docs/method/adjudication.md): a brand under check (数据核查中), its deadline, appeals.

- A brand is under a check while its pending suspects reach the configured share of its
  submissions and would raise its index (derived from the flags; suspects that only pull it
  down are someone else's brushing, see ``report._brushed_down``), or while an escalated
  exchange ring or an appeal is open (``RecognitionCheck`` rows). Confirmed fraud is excluded
  and no longer pending, so it never freezes the brand it was aimed at.
- Every check has a deadline (``check_deadline_days`` after it opened, the adjudication period
  before the official snapshot); past it the dashboard shows it as overdue.
- A manual check ends when two adjudicators agree (``close_check``); nothing here changes a
  closed campaign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.actor import SYSTEM, Actor
from handlers.recognition.adjudication import AdjudicationError, Decision, ensure_open, required_reason
from models.recognition import (
    Campaign,
    CampaignBrand,
    FlagStatus,
    RecognitionCheck,
    RecognitionEvent,
    RecognitionFlag,
)

TRIGGER_LABELS = {
    "suspect_share": "可疑答卷占比达到核查线",
    "ring": "换票圈升级核查",
    "appeal": "工会申诉复核",
}
_OPENING = {"escalate": "ring", "appeal": "appeal"}


@dataclass(frozen=True)
class CheckView:
    brand_id: int
    trigger: str  # suspect_share / ring / appeal
    opened_at: datetime
    deadline: datetime
    overdue: bool
    reason: str
    proposed_by: tuple[str, ...] = ()

    @property
    def trigger_label(self) -> str:
        return TRIGGER_LABELS[self.trigger]


@dataclass
class _Stored:
    opened: RecognitionCheck | None = None
    proposed: list[str] = field(default_factory=list)
    decided_at: datetime | None = None


def _fold(rows: list[RecognitionCheck]) -> dict[int, _Stored]:
    state: dict[int, _Stored] = defaultdict(_Stored)
    for row in rows:
        s = state[row.brand_id]
        if row.action in _OPENING:
            if s.opened is None:
                s.opened, s.proposed = row, []
        elif row.action == "propose" and s.opened is not None:
            s.proposed.append(row.actor)
        elif row.action == "decide":
            s.opened, s.proposed, s.decided_at = None, [], row.at
    return state


def _stored(session: Session, campaign_id: int, cutoff_check_id: int | None = None) -> dict[int, _Stored]:
    query = select(RecognitionCheck).where(RecognitionCheck.campaign_id == campaign_id)
    if cutoff_check_id is not None:
        query = query.where(RecognitionCheck.id <= cutoff_check_id)
    return _fold(list(session.scalars(query.order_by(RecognitionCheck.id))))


def open_check_brands(session: Session, campaign_id: int, cutoff_check_id: int | None = None) -> set[int]:
    """Brands with an escalated or appealed check still open (the loader adds the derived one)."""
    return {b for b, s in _stored(session, campaign_id, cutoff_check_id).items() if s.opened is not None}


def _pending_by_brand(
    session: Session, campaign: Campaign
) -> tuple[dict[int, int], dict[int, list[datetime]]]:
    """Submissions per brand, and the raise times of each brand's pending suspects."""
    E, F = RecognitionEvent, RecognitionFlag
    subs: dict[int, int] = {
        b: n
        for b, n in session.execute(
            select(E.brand_id, func.count())
            .where(E.campaign_id == campaign.id, E.brand_id.is_not(None))
            .group_by(E.brand_id)
        ).tuples()
        if b is not None
    }
    latest: dict[tuple[int, str], tuple[FlagStatus, datetime, int]] = {}
    for event_id, rule_id, status, at, brand_id in session.execute(
        select(F.event_id, F.rule_id, F.status, F.created_at, E.brand_id)
        .join(E, E.id == F.event_id)
        .where(E.campaign_id == campaign.id, E.brand_id.is_not(None))
        .order_by(F.id)
    ):
        latest[(event_id, rule_id)] = (status, at, brand_id)
    per_event: dict[int, list[tuple[FlagStatus, datetime, int]]] = defaultdict(list)
    for (event_id, _), v in latest.items():
        per_event[event_id].append(v)
    pending: dict[int, list[datetime]] = defaultdict(list)
    hard = {FlagStatus.EXCLUDED_FRAUD, FlagStatus.QUALITY_EXCLUDED}
    for versions in per_event.values():
        statuses = {s for s, _, _ in versions}
        if FlagStatus.SUSPECT in statuses and not statuses & hard:
            pending[versions[0][2]].append(min(at for s, at, _ in versions if s == FlagStatus.SUSPECT))
    return subs, pending


def brand_checks(
    session: Session, campaign: Campaign, now: datetime, cfg: RecognitionConfig | None = None
) -> list[CheckView]:
    """The open brand-level checks of a campaign with their deadlines, by brand."""
    cfg = cfg or default_config()
    days = timedelta(days=cfg.check_deadline_days)
    out: list[CheckView] = []
    subs, pending = _pending_by_brand(session, campaign)
    for brand_id, times in sorted(pending.items()):
        if subs.get(brand_id) and len(times) / subs[brand_id] >= cfg.brand_review_suspect_share:
            opened = min(times)
            out.append(
                CheckView(
                    brand_id,
                    "suspect_share",
                    opened,
                    opened + days,
                    now > opened + days,
                    f"待复核可疑答卷 {len(times)} 份，占提交的 {100.0 * len(times) / subs[brand_id]:.0f}%",
                )
            )
    for brand_id, s in sorted(_stored(session, campaign.id).items()):
        if s.opened is not None:
            at = s.opened.at
            out.append(
                CheckView(
                    brand_id,
                    _OPENING[s.opened.action],
                    at,
                    at + days,
                    now > at + days,
                    s.opened.reason,
                    tuple(s.proposed),
                )
            )
    return sorted(out, key=lambda c: (c.opened_at, c.brand_id, c.trigger))


def _entry(session: Session, campaign: Campaign, brand_id: int) -> None:
    if (
        session.scalar(
            select(CampaignBrand.id).where(
                CampaignBrand.campaign_id == campaign.id, CampaignBrand.brand_id == brand_id
            )
        )
        is None
    ):
        raise AdjudicationError(f"品牌 {brand_id} 不是活动「{campaign.name}」的候选品牌")


def _has_ring(session: Session, campaign: Campaign, a: int, b: int) -> bool:
    E, F = RecognitionEvent, RecognitionFlag
    rows = session.execute(
        select(F.event_id, F.status, F.params)
        .join(E, E.id == F.event_id)
        .where(E.campaign_id == campaign.id, F.rule_id == "B7_exchange_ring")
        .order_by(F.id)
    )
    latest = {event_id: (status, params) for event_id, status, params in rows}
    return any(
        status == FlagStatus.WATCH and sorted((params or {}).get("pair", [])) == [a, b]
        for status, params in latest.values()
    )


def escalate_ring(
    session: Session, campaign: Campaign, pair: tuple[int, int], actor: Actor, reason: str, now: datetime
) -> list[RecognitionCheck]:
    """An adjudicator turns a B7 exchange ring (watch) into a brand-level check on both brands."""
    reason = required_reason(reason, "升级核查")
    a, b = sorted(pair)
    if a == b:
        raise AdjudicationError("换票圈涉及两个不同的品牌")
    ensure_open(session, campaign)
    for brand_id in (a, b):
        _entry(session, campaign, brand_id)
    if not _has_ring(session, campaign, a, b):
        raise AdjudicationError("这两个品牌之间没有换票圈（B7）观察标记，不能升级核查")
    rows = [
        RecognitionCheck(
            campaign_id=campaign.id,
            brand_id=brand_id,
            action="escalate",
            actor=actor.label[:64],
            reason=reason,
            params={"rule": "B7_exchange_ring", "pair": [a, b]},
            at=now,
        )
        for brand_id in (a, b)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def last_decision_at(session: Session, campaign: Campaign, brand_id: int) -> datetime | None:
    """When the brand's check was last decided: a closed check, or a person's flag decision."""
    stored = _stored(session, campaign.id).get(brand_id)
    E, F = RecognitionEvent, RecognitionFlag
    flag_at = session.scalar(
        select(func.max(F.created_at))
        .join(E, E.id == F.event_id)
        .where(E.campaign_id == campaign.id, E.brand_id == brand_id, F.decided_by != SYSTEM.label)
    )
    times = [t for t in (stored.decided_at if stored else None, flag_at) if t is not None]
    return max(times) if times else None


def appeal(
    session: Session,
    campaign: Campaign,
    brand_id: int,
    actor: Actor,
    reason: str,
    now: datetime,
    cfg: RecognitionConfig | None = None,
) -> RecognitionCheck:
    """The owning union contests a decided check within ``appeal_days``: the check reopens."""
    cfg = cfg or default_config()
    reason = required_reason(reason, "申诉")
    ensure_open(session, campaign)
    _entry(session, campaign, brand_id)
    if any(c.brand_id == brand_id for c in brand_checks(session, campaign, now, cfg)):
        raise AdjudicationError("该品牌的核查尚未结束，请等待复核结论后再申诉")
    decided = last_decision_at(session, campaign, brand_id)
    if decided is None:
        raise AdjudicationError("该品牌没有可申诉的核查结论")
    if now > decided + timedelta(days=cfg.appeal_days):
        raise AdjudicationError(f"申诉期已过：须在核查结论作出后 {cfg.appeal_days} 天内提出")
    row = RecognitionCheck(
        campaign_id=campaign.id,
        brand_id=brand_id,
        action="appeal",
        actor=actor.label[:64],
        reason=reason,
        params={"decided_at": decided.isoformat()},
        at=now,
    )
    session.add(row)
    session.flush()
    return row


def close_check(
    session: Session,
    campaign: Campaign,
    brand_id: int,
    actor: Actor,
    reason: str,
    now: datetime,
    cfg: RecognitionConfig | None = None,
) -> Decision:
    """An adjudicator's vote to end an escalated or appealed check; it ends when two agree."""
    cfg = cfg or default_config()
    reason = required_reason(reason)
    ensure_open(session, campaign)
    state = _stored(session, campaign.id).get(brand_id)
    if state is None or state.opened is None:
        raise AdjudicationError(
            "该品牌没有待结束的人工核查（可疑答卷占比引起的核查在答卷全部复核后自动结束）"
        )
    name = actor.label
    if name in state.proposed:
        raise AdjudicationError(f"{name} 已提出过结束核查的意见，需由另一位复核人复核")
    agreed = (*dict.fromkeys(state.proposed), name)
    action = "decide" if len(agreed) >= cfg.adjudicators else "propose"
    session.add(
        RecognitionCheck(
            campaign_id=campaign.id,
            brand_id=brand_id,
            action=action,
            actor=actor.label[:64],
            reason=reason,
            params={"agreed": list(agreed)} if action == "decide" else {},
            at=now,
        )
    )
    session.flush()
    return Decision(action == "decide", None, agreed)
