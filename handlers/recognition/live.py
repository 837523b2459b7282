"""The live report of an open campaign: computed by a background job, only read by requests.

Computing the report reads every event of the campaign (seconds at a million ratings), so no
webhook or dashboard request does it. A recorded rating or vote asks for a refresh at most
every ``REFRESH_EVERY_S`` per process (through the outbox, on the low queue); the worker's
timetable also refreshes every open campaign once a minute, so the last ratings of a burst are
never left out. One refresh runs per campaign at a time (a row lock; a second one skips), and a
refresh whose campaign has no new event or flag since the stored one does nothing.
Requests read the stored row and say how old it is.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from handlers.clock import SHANGHAI
from handlers.context import Context
from handlers.recognition.report import canonical, compute_report
from handlers.registry import JobContext, Routes
from models.recognition import (
    Campaign,
    CampaignBrand,
    LiveReport,
    RecognitionCheck,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionSnapshot,
)

routes = Routes()

REFRESH_JOB = "recognition_live_refresh"
REFRESH_OPEN_JOB = "recognition_live_refresh_open"
# A burst of ratings asks for at most one refresh per campaign per process in this time.
REFRESH_EVERY_S = 10.0
# Older than this, a reply says when the figures were computed.
STALE_AFTER = timedelta(seconds=60)

_asked_lock = threading.Lock()
_asked: dict[int, float] = {}


@dataclass(frozen=True)
class StoredResults:
    report: dict[str, Any]
    computed_at: datetime | None  # None: the official snapshot (final, never stale)

    def freshness(self, now: datetime) -> str | None:
        """A Chinese note on the live figures' age when they are older than ``STALE_AFTER``."""
        if self.computed_at is None or now - self.computed_at < STALE_AFTER:
            return None
        minutes = max(1, int((now - self.computed_at).total_seconds() // 60))
        at = self.computed_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")
        return f"（实时数据更新于 {at}，约 {minutes} 分钟前，稍后会更新。）"


def stored_results(session: Session, campaign: Campaign) -> StoredResults | None:
    """The official snapshot when closed, else the live report as last stored; None before the
    first refresh. Never computes. The parsed body is kept per process while the stored row is
    unchanged (parsing 500 brands' JSON costs more than the query)."""
    snap_id = session.scalar(
        select(RecognitionSnapshot.id).where(RecognitionSnapshot.campaign_id == campaign.id)
    )
    if snap_id is not None:
        return StoredResults(_parsed(session, ("snapshot", snap_id)), None)
    stamp = session.execute(
        select(
            LiveReport.computed_at,
            LiveReport.event_watermark,
            LiveReport.flag_watermark,
            LiveReport.check_watermark,
        ).where(LiveReport.campaign_id == campaign.id)
    ).first()
    if stamp is None:
        return None
    key = ("live", campaign.id, stamp[0].isoformat(), stamp[1], stamp[2], stamp[3])
    return StoredResults(_parsed(session, key), stamp[0])


_parsed_lock = threading.Lock()
_parsed_bodies: dict[tuple[object, ...], dict[str, Any]] = {}


def _parsed(session: Session, key: tuple[Any, ...]) -> dict[str, Any]:
    with _parsed_lock:
        hit = _parsed_bodies.get(key)
    if hit is not None:
        return hit
    if key[0] == "snapshot":
        body = session.scalar(select(RecognitionSnapshot.body).where(RecognitionSnapshot.id == key[1]))
    else:
        body = session.scalar(select(LiveReport.body).where(LiveReport.campaign_id == key[1]))
    data: dict[str, Any] = json.loads(body or "{}")
    with _parsed_lock:
        if len(_parsed_bodies) > 64:  # a few campaigns at a time: drop the old versions
            _parsed_bodies.clear()
        _parsed_bodies[key] = data
    return data


def watermarks(session: Session, campaign: Campaign) -> tuple[int, int, int]:
    """The newest event, flag and brand check: a report that includes them all is current."""
    ev = session.scalar(
        select(func.max(RecognitionEvent.id)).where(RecognitionEvent.campaign_id == campaign.id)
    )
    fl = session.scalar(select(func.max(RecognitionFlag.id)))
    ck = session.scalar(
        select(func.max(RecognitionCheck.id)).where(RecognitionCheck.campaign_id == campaign.id)
    )
    return (ev or 0, fl or 0, ck or 0)


def refresh(
    session: Session, campaign: Campaign, now: datetime, cfg: RecognitionConfig | None = None
) -> bool:
    """Recompute and store the live report; False when another refresh holds the campaign, the
    stored one is current, or the campaign has its snapshot."""
    cfg = cfg or default_config()
    if session.scalar(select(RecognitionSnapshot.id).where(RecognitionSnapshot.campaign_id == campaign.id)):
        return False
    lock = select(LiveReport).where(LiveReport.campaign_id == campaign.id).with_for_update(skip_locked=True)
    row = session.scalar(lock)
    if row is None:
        if session.get(LiveReport, campaign.id) is not None:
            return False  # another refresh holds it: that one includes our events or follows them
        row = LiveReport(campaign_id=campaign.id, body="", config_digest="", computed_at=now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            return False  # a concurrent first refresh created it
        row = session.scalar(lock) or row
    marks = watermarks(session, campaign)
    current = (row.event_watermark, row.flag_watermark, row.check_watermark)
    if row.body and current == marks and row.config_digest == cfg.digest:
        return False
    report = compute_report(session, campaign, cfg, now=now)
    row.body = canonical(report)
    row.event_watermark, row.flag_watermark, row.check_watermark = marks
    row.config_digest = cfg.digest
    row.computed_at = now
    session.flush()
    return True


def refresh_missing(session: Session, brand_id: int, now: datetime) -> None:
    """Dashboard pages: the open campaigns of a brand never refreshed yet get their first live
    report now (once); later requests read it."""
    stmt = (
        select(Campaign)
        .join(CampaignBrand, CampaignBrand.campaign_id == Campaign.id)
        .outerjoin(LiveReport, LiveReport.campaign_id == Campaign.id)
        .where(
            CampaignBrand.brand_id == brand_id, Campaign.closed_at.is_(None), LiveReport.campaign_id.is_(None)
        )
    )
    for campaign in session.scalars(stmt).all():
        refresh(session, campaign, now)


@routes.job(REFRESH_JOB)
def refresh_job(jctx: JobContext, campaign_id: int) -> None:
    campaign = jctx.session.get(Campaign, campaign_id)
    if campaign is not None and campaign.closed_at is None:
        refresh(jctx.session, campaign, jctx.now)


@routes.job(REFRESH_OPEN_JOB)
def refresh_open_job(jctx: JobContext) -> None:
    """The timetable's sweep: every open campaign's refresh, as its own job."""
    ids = jctx.session.scalars(select(Campaign.id).where(Campaign.closed_at.is_(None))).all()
    for cid in ids:
        jctx.enqueue(REFRESH_JOB, campaign_id=cid)


def ask_refresh(ctx: Context, campaign_id: int) -> None:
    """After a recorded event: a refresh job, at most once per ``REFRESH_EVERY_S`` per process."""
    moment = time.monotonic()
    with _asked_lock:
        last = _asked.get(campaign_id)
        if last is not None and moment - last < REFRESH_EVERY_S:
            return
        _asked[campaign_id] = moment
    ctx.enqueue(REFRESH_JOB, campaign_id=campaign_id)


def forget_asked() -> None:
    """Tests: the next recorded event asks for a refresh again, and stored bodies are parsed
    again (a reset database reuses campaign ids and watermarks)."""
    with _asked_lock:
        _asked.clear()
    with _parsed_lock:
        _parsed_bodies.clear()
