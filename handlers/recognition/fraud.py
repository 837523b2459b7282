"""Anti-brushing rules (docs/method/fraud.md, with its differences from the reference method in §12).

The rules live in ``detection.py`` (pure verdicts) and run incrementally through ``scan.py`` /
``scan_store.py``; ``detect`` and ``run_rules`` are their entry points. Human decisions are
never overwritten by a re-run of the same rule version; adjudication lives in
``handlers.recognition.adjudication``. The IP and device rules (F1, F2, F5, B4) need what
WeChat does not give the webhook: they judge H5 page submissions, whose web signals
(``web_signals.py``) are stored beside the event, and never chat events. B6 (follower surge)
needs the account's ``getusersummary`` counts per source, which the project does not collect:
not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.errors import OperationError
from handlers.recognition.detection import SUBMISSION_KINDS, Ev, Sig, Wanted, poisson_sf, robust_cv
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
    "Sig",
    "Wanted",
    "detect",
    "poisson_sf",
    "robust_cv",
    "run_rules",
]


class FraudError(OperationError):
    """An adjudication that cannot be recorded (Chinese message)."""


def detect(
    events: Sequence[Ev], brand_paths: dict[int, str], cfg: RecognitionConfig, signals: Sequence[Sig] = ()
) -> dict[tuple[int, str], Wanted]:
    """The flags the rules want now, by (event id, rule id): one full scan in memory (``signals``:
    the web signals of those events that came from an H5 page)."""
    return detect_all(events, brand_paths, cfg, signals)


def run_rules(
    session: Session,
    campaign: Campaign,
    now: datetime,
    cfg: RecognitionConfig | None = None,
    full: bool = False,
) -> dict[str, int]:
    """Apply every rule to the events since the last run (all with ``full``); write only
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
