"""Writing what a scan changed: new flag versions with their audit rows, by the system.

A person's decision under the current rule version stands; only what changed inside the run's
scope is written, so a re-run that changes nothing writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig
from handlers.actor import SYSTEM
from handlers.recognition.detection import Flags
from models.recognition import FlagStatus, RecognitionEvent, RecognitionFlag, RecognitionFlagAudit

E = RecognitionEvent
CHUNK = 900  # ids per IN list (SQLite's variable limit is far above; PostgreSQL plans it fine)


def _latest(
    session: Session, ids: Sequence[int], campaign_id: int | None = None
) -> dict[tuple[int, str], RecognitionFlag]:
    latest: dict[tuple[int, str], RecognitionFlag] = {}
    if campaign_id is not None:  # everything: one query, not one per chunk of ids
        in_campaign = select(E.id).where(E.campaign_id == campaign_id)
        for flag in session.scalars(
            select(RecognitionFlag)
            .where(RecognitionFlag.event_id.in_(in_campaign))
            .order_by(RecognitionFlag.id)
        ):
            latest[(flag.event_id, flag.rule_id)] = flag
        return latest
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        for flag in session.scalars(
            select(RecognitionFlag)
            .where(RecognitionFlag.event_id.in_(ordered[i : i + CHUNK]))
            .order_by(RecognitionFlag.id)
        ):
            latest[(flag.event_id, flag.rule_id)] = flag
    return latest


def _write(
    pending: list[tuple[RecognitionFlag, str]],
    key: tuple[int, str],
    version: str,
    version_no: int,
    status: FlagStatus,
    params: dict[str, Any],
    reason: str,
    action: str,
    now: datetime,
) -> None:
    flag = RecognitionFlag(
        event_id=key[0],
        rule_id=key[1],
        rule_version=version,
        version_no=version_no,
        status=status,
        params=params,
        decided_by=SYSTEM.label,
        reason=reason,
        created_at=now,
    )
    pending.append((flag, action))


def _flush(session: Session, pending: list[tuple[RecognitionFlag, str]], now: datetime) -> None:
    """All new flag versions in one flush, then their audit rows (they need the flags' ids)."""
    session.add_all([f for f, _ in pending])
    session.flush()
    session.add_all(
        [
            RecognitionFlagAudit(flag_id=f.id, action=a, actor=SYSTEM.label, reason=f.reason, at=now)
            for f, a in pending
        ]
    )
    session.flush()


def apply_flags(
    session: Session,
    wanted: Flags,
    scope: dict[tuple[str, ...], set[int]],
    cfg: RecognitionConfig,
    now: datetime,
    campaign_id: int | None = None,
) -> dict[str, int]:
    """Write what changed inside the scope. A person's decision under the current rule version
    stands; a flag the system itself restored is raised again when the rule fires again."""
    ids = sorted(set().union(*scope.values()))
    latest = _latest(session, ids, campaign_id)
    written: dict[str, int] = defaultdict(int)
    pending: list[tuple[RecognitionFlag, str]] = []
    for rules, ids_in in sorted(scope.items()):
        keys = {k for k in wanted if k[1] in rules and k[0] in ids_in}
        for key in sorted(keys):
            w, cur = wanted[key], latest.get(key)
            version = cfg.rule_version(key[1])
            if cur is not None and cur.rule_version == version:
                human = cur.decided_by != SYSTEM.label
                same = cur.status == w.status and cur.params == w.params
                if human or same:
                    continue
            _write(
                pending,
                key,
                version,
                (cur.version_no + 1) if cur else 1,
                w.status,
                w.params,
                w.reason,
                "raise" if cur is None or cur.status == FlagStatus.RESTORED else "reflag",
                now,
            )
            written[key[1]] += 1
        for key, cur in sorted(latest.items()):
            if key[1] not in rules or key[0] not in ids_in or key in wanted:
                continue
            if cur.decided_by != SYSTEM.label and cur.rule_version == cfg.rule_version(key[1]):
                continue  # adjudicated under this version: the person's decision stands
            if cur.status == FlagStatus.RESTORED:
                continue
            _write(
                pending,
                key,
                cfg.rule_version(key[1]),
                cur.version_no + 1,
                FlagStatus.RESTORED,
                cur.params,
                "规则重判后不再命中",
                "reflag",
                now,
            )
            written[key[1]] += 1
    _flush(session, pending, now)
    return dict(written)
