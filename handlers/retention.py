"""Retention: inbound message content and H5 pages' web signals older than ``retention_months``.

Inbound messages: the row stays (type, intent, time, latency), so counts and intent statistics
over any period are unchanged; what the worker wrote (``content``) and the MsgId go. Web
signals (IP prefix, 省/市, device hash …, docs/method/closing.md §7: kept ``retention_months``
after the official snapshot) are deleted; the events and the flags raised on them stay, so
the index and every snapshot are unchanged. The months come from ``config/recognition.yaml``
(``anti_fraud.retention_months``). The audit log is never purged here: 等保 asks for at least
``AUDIT_MIN_RETENTION_MONTHS`` and it is append-only anyway.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session

from config.recognition import load_config
from handlers.registry import JobContext, Routes
from models import InboundMessage
from models.inbound import UsedNonce
from models.recognition import RecognitionSnapshot
from models.recognition_web import RecognitionWebSignal

routes = Routes()

PURGE_JOB = "retention.purge"
AUDIT_MIN_RETENTION_MONTHS = 6


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant ``months`` calendar months earlier (day clamped to the month's length)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    messages: int


def purge_inbound_content(
    session: Session, now: datetime, months: int | None = None, *, dry_run: bool = False
) -> PurgeResult:
    """Clear content and MsgId of inbound messages received before ``now - months``."""
    months = load_config().retention_months if months is None else months
    cutoff = months_before(now, months)
    due = (
        InboundMessage.received_at < cutoff,
        (InboundMessage.content.is_not(None)) | (InboundMessage.msg_id.is_not(None)),
    )
    if dry_run:
        count = session.scalar(select(func.count()).select_from(InboundMessage).where(*due))
        return PurgeResult(cutoff, int(count or 0))
    result = session.execute(
        update(InboundMessage)
        .where(*due)
        .values(content=None, msg_id=None)
        .execution_options(synchronize_session=False)
    )
    return PurgeResult(cutoff, int(getattr(result, "rowcount", 0) or 0))


def _web_signal_due(cutoff: datetime) -> ColumnElement[bool]:
    """Older than the cutoff, and so is the campaign's official snapshot (version 1) if it has
    one: a closed round's signals are kept for the whole period after its result."""
    w, snap = RecognitionWebSignal, RecognitionSnapshot
    recent_snapshot = exists().where(
        snap.campaign_id == w.campaign_id, snap.version == 1, snap.created_at >= cutoff
    )
    return and_(w.created_at < cutoff, ~recent_snapshot)


def purge_web_signals(
    session: Session, now: datetime, months: int | None = None, *, dry_run: bool = False
) -> int:
    """Delete the web signals due under the retention period (count them with ``dry_run``)."""
    months = load_config().retention_months if months is None else months
    due = _web_signal_due(months_before(now, months))
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(RecognitionWebSignal).where(due)) or 0)
    result = session.execute(
        delete(RecognitionWebSignal).where(due).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired_nonces(session: Session, now: datetime) -> int:
    """Delete the replay guard's database nonces past their expiry (used while Redis is down)."""
    result = session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


@routes.job(PURGE_JOB)
def purge_job(jctx: JobContext) -> None:
    """The scheduled form (daily): same as ``flask retention purge``."""
    purge_inbound_content(jctx.session, jctx.now)
    purge_web_signals(jctx.session, jctx.now)
    purge_expired_nonces(jctx.session, jctx.now)
