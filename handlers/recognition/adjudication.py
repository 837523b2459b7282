"""Adjudication of flags (docs/method/adjudication.md): one adjudicator's decision, and when it counts.

- A flag decision counts only when ``adjudicators`` (2) different people agree on it. Until then
  each opinion is an audit row (``propose_confirm`` / ``propose_restore``) on the flag's newest
  version and the flag keeps its status; disagreement leaves it open for a further adjudicator.
- Brand-level checks, their deadlines and appeals are ``brand_checks``.
- Nothing here changes a closed campaign: its official result changes only by a correction
  (``handlers.recognition.closing.correct_snapshot``), a new snapshot version with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.actor import Actor
from handlers.recognition.fraud import FraudError, _write
from models.recognition import (
    Campaign,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionFlagAudit,
    RecognitionSnapshot,
)

DECISIONS = {"confirm": FlagStatus.EXCLUDED_FRAUD, "restore": FlagStatus.RESTORED}


class AdjudicationError(FraudError):
    """A decision, appeal or escalation that cannot be recorded (Chinese message)."""


@dataclass(frozen=True)
class Decision:
    effective: bool  # False: recorded as one adjudicator's opinion, waiting for agreement
    flag: RecognitionFlag | None  # the new flag version when effective, else the flag decided on
    agreed: tuple[str, ...] = ()


def closed_message(campaign: Campaign) -> str:
    return (
        f"活动「{campaign.name}」已结束，正式结果不能再改动。如需更正，请由两位复核人执行 "
        "recognition correct，生成带理由的新版本正式结果。"
    )


def locked_open(session: Session, campaign: Campaign) -> bool:
    """Lock the campaign row, then tell whether it is still open for flags and decisions.

    Close takes the same lock, so a scan or decision either finishes before close or sees it.
    """
    closed_at = session.scalar(select(Campaign.closed_at).where(Campaign.id == campaign.id).with_for_update())
    if closed_at is not None:
        return False
    return (
        session.scalar(select(RecognitionSnapshot.id).where(RecognitionSnapshot.campaign_id == campaign.id))
        is None
    )


def ensure_open(session: Session, campaign: Campaign) -> None:
    if not locked_open(session, campaign):
        raise AdjudicationError(closed_message(campaign))


def required_reason(reason: str, what: str = "复核") -> str:
    if not reason.strip():
        raise AdjudicationError(f"{what}必须填写理由")
    return reason.strip()[:500]


def newest_flag(session: Session, flag_id: int) -> RecognitionFlag:
    flag = session.get(RecognitionFlag, flag_id)
    if flag is None:
        raise AdjudicationError(f"标记 {flag_id} 不存在")
    newest = session.scalar(
        select(RecognitionFlag)
        .where(RecognitionFlag.event_id == flag.event_id, RecognitionFlag.rule_id == flag.rule_id)
        .order_by(RecognitionFlag.version_no.desc())
        .limit(1)
    )
    assert newest is not None
    if newest.id != flag.id:
        raise AdjudicationError(f"标记 {flag_id} 已有更新的版本 #{newest.id}，请对最新版本复核")
    return flag


def flag_campaign(session: Session, flag: RecognitionFlag) -> Campaign:
    campaign = session.scalar(
        select(Campaign)
        .join(RecognitionEvent, RecognitionEvent.campaign_id == Campaign.id)
        .where(RecognitionEvent.id == flag.event_id)
    )
    assert campaign is not None
    return campaign


def proposals(session: Session, flag_id: int) -> list[tuple[str, str]]:
    """(decision, actor) of the opinions recorded on this flag version, in order."""
    rows = session.execute(
        select(RecognitionFlagAudit.action, RecognitionFlagAudit.actor)
        .where(RecognitionFlagAudit.flag_id == flag_id, RecognitionFlagAudit.action.like("propose_%"))
        .order_by(RecognitionFlagAudit.id)
    )
    return [(action.removeprefix("propose_"), actor) for action, actor in rows]


def apply_decision(
    session: Session,
    flag: RecognitionFlag,
    decision: str,
    decided_by: str,
    reason: str,
    action: str,
    now: datetime,
) -> RecognitionFlag:
    """Write the decision as the flag's next version (with its audit row)."""
    return _write(
        session,
        flag.event_id,
        flag.rule_id,
        flag.rule_version,
        flag.version_no + 1,
        DECISIONS[decision],
        flag.params,
        decided_by[:64],
        reason,
        action,
        now,
    )


def decide_flag(
    session: Session,
    flag_id: int,
    decision: str,
    actor: Actor,
    reason: str,
    now: datetime,
    cfg: RecognitionConfig | None = None,
) -> Decision:
    """One adjudicator's confirm (excluded_fraud) or restore on a flag's newest version."""
    cfg = cfg or default_config()
    reason = required_reason(reason)
    if decision not in DECISIONS:
        raise AdjudicationError("复核结果只能是 confirm（确认排除）或 restore（恢复计入）")
    name = actor.label.strip()
    if not name:
        raise AdjudicationError("请填写复核人")
    named = session.get(RecognitionFlag, flag_id)
    if named is None:
        raise AdjudicationError(f"标记 {flag_id} 不存在")
    ensure_open(session, flag_campaign(session, named))  # closed comes first: nothing else matters
    flag = newest_flag(session, flag_id)
    earlier = proposals(session, flag.id)
    if any(a == name for _, a in earlier):
        raise AdjudicationError(f"{name} 已对标记 {flag_id} 提出过复核意见，需由另一位复核人复核")
    agreeing = tuple(dict.fromkeys(a for d, a in earlier if d == decision))
    if len(agreeing) + 1 >= cfg.adjudicators:
        agreed = (*agreeing, name)
        new = apply_decision(session, flag, decision, "、".join(agreed), reason, decision, now)
        return Decision(True, new, agreed)
    session.add(
        RecognitionFlagAudit(flag_id=flag.id, action=f"propose_{decision}", actor=name, reason=reason, at=now)
    )
    session.flush()
    return Decision(False, flag, (name,))
