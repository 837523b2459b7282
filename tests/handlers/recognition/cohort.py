"""A small cohort written straight into the event store: three brands that each reach 正常 and a tier."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.recognition.campaigns import create_campaign
from handlers.recognition.fraud import _write
from models.recognition import Campaign, FlagStatus, RecognitionEvent, RecognitionFlag
from tests.factories import make_brand, make_union

NAMES = ("工惠乐学", "幸福驿站", "职工书屋")
# Per brand: the share of 4s and 5s, so the three brands differ and get different tiers.
MEANS = {0: (0.2, 0.7), 1: (0.5, 0.3), 2: (0.6, 0.1)}


def _ev(session: Session, c: Campaign, key: str, at: datetime, **kw: object) -> RecognitionEvent:
    fields: dict[str, object] = {
        "event_key": key,
        "campaign_id": c.id,
        "grp": "W",
        "union_path": None,
        "identity_first_seen_at": at - timedelta(days=300),
        "channel": "neutral_open",
        "src_brand_id": None,
        "payload": {},
        "started_at": at,
        "submitted_at": at,
    }
    fields.update(kw)
    ev = RecognitionEvent(**fields)
    session.add(ev)
    return ev


def build_cohort(session: Session, t0: datetime, name: str = "年度测评") -> tuple[Campaign, list[int]]:
    """Neutral ballots, W/S ratings and six G reviewers per brand, spread over the two days before t0."""
    city = make_union(session, name="滨州市总工会")
    brands = [make_brand(session, union=make_union(session, parent=city), name=n) for n in NAMES]
    c = create_campaign(session, name, "rating", "all", t0 - timedelta(days=3))
    ids = [b.id for b in brands]
    for i in range(120):
        grp = "W" if i % 2 else "S"
        at = t0 - timedelta(hours=48) + timedelta(minutes=20 * i)
        aware = [b for k, b in enumerate(ids) if (i + k) % 3]
        _ev(
            session,
            c,
            f"{name}-ballot-{i}",
            at,
            kind="roster_ballot",
            identity_hash=f"r{i}",
            grp=grp,
            payload={"shown": ids, "aware": aware, "foil": False},
        )
        for k, b in enumerate(ids):
            lo, hi = MEANS[k]
            q1 = 5 if (i * 7 + k) % 10 < hi * 10 else (4 if (i * 7 + k) % 10 < (hi + lo) * 10 else 3)
            _ev(
                session,
                c,
                f"{name}-rating-{i}-{k}",
                at + timedelta(minutes=k),
                kind="rating",
                identity_hash=f"r{i}",
                grp=grp,
                brand_id=b,
                q1=q1,
            )
    for g in range(6):
        for k, b in enumerate(ids):
            _ev(
                session,
                c,
                f"{name}-review-{g}-{k}",
                t0 - timedelta(hours=30),
                kind="review_score",
                identity_hash=f"g{g}",
                grp="G",
                brand_id=b,
                payload={"items": [4 + (k == 0 and g % 2 == 0)]},
            )
    session.flush()
    return c, ids


def bots(session: Session, c: Campaign, brand_id: int, at: datetime, n: int = 60, q1: int = 1) -> list[int]:
    """Detectable bots: regular 3 s gaps from identities first seen minutes before."""
    evs = [
        _ev(
            session,
            c,
            f"{c.name}-bot-{brand_id}-{i}",
            at + timedelta(seconds=3 * i),
            kind="rating",
            identity_hash=f"bot{brand_id}-{i}",
            grp="S",
            brand_id=brand_id,
            q1=q1,
            identity_first_seen_at=at - timedelta(minutes=5),
        )
        for i in range(n)
    ]
    session.flush()
    return [e.id for e in evs]


def flag(
    session: Session,
    event_ids: list[int],
    at: datetime,
    status: FlagStatus = FlagStatus.SUSPECT,
    rule: str = "B2_timing",
    params: dict[str, object] | None = None,
) -> list[RecognitionFlag]:
    """System flags as the rules write them (the rules themselves are tested elsewhere)."""
    return [
        _write(
            session,
            e,
            rule,
            default_config().rule_version(rule),
            1,
            status,
            params or {},
            "system",
            "突发中提交间隔过于规律（疑似机器）",
            "raise",
            at,
        )
        for e in event_ids
    ]
