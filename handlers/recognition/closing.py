"""Closing a campaign and correcting its official result: the operations the CLI and the dashboard call.

Closed means closed: once the snapshot exists no decision, flag or check changes it (they are
refused, and every snapshot version re-runs from the flag and check ids it froze). A correction
is the one way to change the official result: two adjudicators, a reason, optional flag
decisions, and a new snapshot version; the earlier versions stay and still reproduce.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.actor import Actor
from handlers.recognition.adjudication import (
    DECISIONS,
    AdjudicationError,
    apply_decision,
    flag_campaign,
    locked_open,
    newest_flag,
)
from handlers.recognition.campaigns import CampaignError
from handlers.recognition.fraud import run_rules
from handlers.recognition.report import latest_snapshot
from handlers.recognition.snapshots import take_snapshot
from models.recognition import Campaign, RecognitionSnapshot


def close_campaign(session: Session, campaign: Campaign, actor: Actor, now: datetime) -> RecognitionSnapshot:
    """Mark the campaign closed, re-run the rules over the whole round, write the immutable snapshot
    (version 1, created by ``actor``)."""
    # The row lock makes a scan or a decision in flight finish first, or see the close.
    if not locked_open(session, campaign) or campaign.closed_at is not None:
        raise CampaignError(f"活动「{campaign.name}」已经结束")
    campaign.closed_at = min(now, campaign.closes_at) if campaign.closes_at else now
    session.flush()
    # The rules run once more over the whole round, so the official numbers exclude every
    # current suspect; adjudicate (recognition decide) before closing.
    run_rules(session, campaign, now)
    return take_snapshot(session, campaign, actor=actor.label)


def _published(body: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(body)
    data.pop("correction", None)
    return data


def correct_snapshot(
    session: Session,
    campaign: Campaign,
    reason: str,
    actors: Sequence[Actor],
    decisions: Sequence[tuple[int, str]],
    now: datetime,
) -> RecognitionSnapshot:
    """A new official snapshot version for a closed campaign, with its reason (docs/method/closing.md §5)."""
    cfg = default_config()
    reason = reason.strip()[:500]
    if not reason:
        raise AdjudicationError("更正必须填写理由")
    names = tuple(dict.fromkeys(a.label.strip() for a in actors if a.label.strip()))
    if len(names) < cfg.adjudicators:
        raise AdjudicationError(
            f"更正正式结果需要 {cfg.adjudicators} 位不同的复核人（两位复核人各填一次 --by）"
        )
    locked_open(session, campaign)  # only for the row lock: corrections are serialised too
    previous = latest_snapshot(session, campaign)
    if previous is None:
        raise AdjudicationError(
            f"活动「{campaign.name}」还没有正式结果；结束前请直接复核（recognition decide）"
        )
    for flag_id, decision in decisions:
        if decision not in DECISIONS:
            raise AdjudicationError("复核结果只能是 confirm（确认排除）或 restore（恢复计入）")
        flag = newest_flag(session, flag_id)
        if flag_campaign(session, flag).id != campaign.id:
            raise AdjudicationError(f"标记 {flag_id} 不属于活动「{campaign.name}」")
        apply_decision(session, flag, decision, "、".join(names), reason, "correct", now)
    snap = take_snapshot(session, campaign, cfg, reason=reason, actor="、".join(names))
    if _published(snap.body) == _published(previous.body):
        raise AdjudicationError("更正后的结果与现行正式结果相同，未生成新版本")
    return snap


def snapshot_versions(session: Session, campaign: Campaign) -> list[RecognitionSnapshot]:
    return list(
        session.scalars(
            select(RecognitionSnapshot)
            .where(RecognitionSnapshot.campaign_id == campaign.id)
            .order_by(RecognitionSnapshot.version)
        )
    )
