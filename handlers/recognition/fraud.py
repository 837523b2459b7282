"""Anti-brushing rules that apply to chat (RECOGNITION.md §4.5 and the project's decisions).

The rules live in ``detection.py`` (pure verdicts) and run incrementally through ``scan.py`` /
``scan_store.py``; ``detect`` and ``run_rules`` are their entry points. ``decide_flag`` is the
adjudicator's confirm/restore. Human decisions are never overwritten by a re-run of the same
rule version. IP and device rules (F1, F2, F5, B4) need data WeChat does not give the webhook
and are not run on chat events. B6 (follower surge) needs the account's ``getusersummary``
counts per source, which the project does not collect: not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.recognition.detection import SUBMISSION_KINDS, Ev, Wanted, poisson_sf, robust_cv
from handlers.recognition.scan import detect_all
from handlers.recognition.scan_store import run_scan
from models.recognition import (
    Campaign,
    FlagStatus,
    RecognitionFlag,
    RecognitionFlagAudit,
)

__all__ = [
    "SUBMISSION_KINDS",
    "Ev",
    "FraudError",
    "Wanted",
    "decide_flag",
    "detect",
    "poisson_sf",
    "robust_cv",
    "run_rules",
]


class FraudError(ValueError):
    """An adjudication that cannot be recorded (Chinese message)."""


def detect(
    events: Sequence[Ev], brand_paths: dict[int, str], cfg: RecognitionConfig
) -> dict[tuple[int, str], Wanted]:
    """The flags the rules want now, by (event id, rule id): one full scan in memory."""
    return detect_all(events, brand_paths, cfg)


def run_rules(
    session: Session,
    campaign: Campaign,
    now: datetime,
    cfg: RecognitionConfig | None = None,
    full: bool = False,
) -> dict[str, int]:
    """Apply every chat rule to the events since the last run (all with ``full``); write only
    what changed. Returns counts by rule."""
    return run_scan(session, campaign, now, cfg or default_config(), full=full)


def _write(
    session: Session,
    event_id: int,
    rule_id: str,
    rule_version: str,
    version_no: int,
    status: FlagStatus,
    params: dict[str, Any],
    actor: str,
    reason: str,
    action: str,
    now: datetime,
) -> RecognitionFlag:
    flag = RecognitionFlag(
        event_id=event_id,
        rule_id=rule_id,
        rule_version=rule_version,
        version_no=version_no,
        status=status,
        params=params,
        decided_by=actor,
        reason=reason,
        created_at=now,
    )
    session.add(flag)
    session.flush()
    session.add(RecognitionFlagAudit(flag_id=flag.id, action=action, actor=actor, reason=reason, at=now))
    return flag


def decide_flag(
    session: Session, flag_id: int, decision: str, actor: str, reason: str, now: datetime
) -> RecognitionFlag:
    """Adjudication: confirm (excluded_fraud) or restore; always a new version with an audit row."""
    if not reason.strip():
        raise FraudError("复核必须填写理由")
    if decision not in ("confirm", "restore"):
        raise FraudError("复核结果只能是 confirm（确认排除）或 restore（恢复计入）")
    flag = session.get(RecognitionFlag, flag_id)
    if flag is None:
        raise FraudError(f"标记 {flag_id} 不存在")
    newest = session.scalar(
        select(RecognitionFlag)
        .where(RecognitionFlag.event_id == flag.event_id, RecognitionFlag.rule_id == flag.rule_id)
        .order_by(RecognitionFlag.version_no.desc())
        .limit(1)
    )
    assert newest is not None
    if newest.id != flag.id:
        raise FraudError(f"标记 {flag_id} 已有更新的版本 #{newest.id}，请对最新版本复核")
    status = FlagStatus.EXCLUDED_FRAUD if decision == "confirm" else FlagStatus.RESTORED
    return _write(
        session,
        flag.event_id,
        flag.rule_id,
        flag.rule_version,
        flag.version_no + 1,
        status,
        flag.params,
        actor,
        reason.strip(),
        decision,
        now,
    )
