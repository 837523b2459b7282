"""The attack matrix of issue 12, through the database (SQLite and PostgreSQL), seeded.

A province of 12 city brands, each with the neutral roster answers of 300-odd workers of its
own city plus province-wide public answers, spread over 14 days with a daytime profile. The
target sits around rank 7. Each attack is added on day 10; the rules run as in production and
the official index is read from the report. Each attack must move the attacked brand's index
by < 1.0 point and its rank by ≤ 1; legitimate mobilisation is never ``suspect``; negative
brushing never changes a tier.
"""

from __future__ import annotations

import itertools
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from handlers.recognition.fraud import run_rules
from handlers.recognition.report import compute_report
from models import UnionKind
from models.recognition import (
    Campaign,
    CampaignBrand,
    CampaignKind,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
)
from tests.factories import make_brand, make_union

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 14
ATTACK_AT = T0 + timedelta(days=10, hours=4)  # 12:00 Beijing time
N_BRANDS = 12
# Brand quality: mean of q1 among its own workers; the target (index 6) ranks about 7th.
QUALITY = [4.45, 4.35, 4.25, 4.15, 4.05, 3.95, 3.86, 3.76, 3.66, 3.56, 3.46, 3.36]
TARGET, RIVAL, PARTNER, LOW_A, LOW_B = 6, 5, 2, 10, 11
SEQ = itertools.count()


@dataclass
class Province:
    campaign: Campaign
    brand_ids: list[int]
    unit_paths: list[str]  # a grassroots unit of each city
    rows: list[dict[str, Any]]
    rng: random.Random

    def add(
        self,
        at: datetime,
        brand: int | None,
        ident: str,
        *,
        kind: str = "rating",
        grp: str = "S",
        path: str | None = None,
        channel: str = "neutral_open",
        src: int | None = None,
        q1: int | None = None,
        first: datetime | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.rows.append(
            {
                "event_key": f"m:{self.campaign.id}:{next(SEQ)}",
                "campaign_id": self.campaign.id,
                "kind": kind,
                "identity_hash": ident,
                "grp": grp,
                "union_path": path,
                "identity_first_seen_at": first or T0 - timedelta(days=self.rng.randint(30, 400)),
                "channel": channel,
                "src_brand_id": self.brand_ids[src] if src is not None else None,
                "brand_id": self.brand_ids[brand] if brand is not None else None,
                "q1": q1,
                "q2": None,
                "q3": None,
                "payload": payload or {},
                "started_at": at - timedelta(seconds=20),
                "submitted_at": at,
            }
        )

    def flush(self, session: Session) -> list[int]:
        """Insert the pending rows; returns their ids."""
        if not self.rows:
            return []
        first = (
            session.scalar(select(RecognitionEvent.id).order_by(RecognitionEvent.id.desc()).limit(1)) or 0
        ) + 1
        session.execute(insert(RecognitionEvent), self.rows)
        self.rows = []
        return list(
            session.scalars(
                select(RecognitionEvent.id).where(
                    RecognitionEvent.id >= first, RecognitionEvent.campaign_id == self.campaign.id
                )
            )
        )


def daytime(rng: random.Random, day: int) -> datetime:
    """A moment of a day, mostly 8:00–22:00 Beijing time (00–14 UTC), a few at night."""
    hour = rng.uniform(0, 14) if rng.random() < 0.95 else rng.uniform(14, 24)
    return T0 + timedelta(days=day, hours=hour)


def score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.8))))


def build(session: Session, seed: int = 12, flush: bool = True) -> Province:
    rng = random.Random(seed)
    province = make_union(session, name="模拟省总工会", kind=UnionKind.PROVINCE)
    brands, units = [], []
    for i in range(N_BRANDS):
        city = make_union(session, parent=province, name=f"模拟市{i}总工会", kind=UnionKind.CITY)
        units.append(make_union(session, parent=city, name=f"模拟市{i}基层工会"))
        brands.append(make_brand(session, union=city, name=f"模拟品牌{i:02d}"))
    campaign = Campaign(name=f"矩阵测评{seed}", kind=CampaignKind.RATING, opens_at=T0, max_choices=1)
    campaign.entries = [CampaignBrand(brand=b, number=i + 1) for i, b in enumerate(brands)]
    session.add(campaign)
    session.flush()
    p = Province(campaign, [b.id for b in brands], [u.path for u in units], [], rng)
    for i in range(N_BRANDS):  # workers: the roster shows their own city's brand
        aware_p = 0.68 + 0.02 * (N_BRANDS - i) / 2
        for w in range(420):
            ident, at = f"w{i}-{w}", daytime(rng, rng.randrange(DAYS))
            aware = rng.random() < aware_p
            shown = {"shown": [p.brand_ids[i]], "aware": [p.brand_ids[i]] if aware else [], "foil": False}
            p.add(at, None, ident, kind="roster_ballot", grp="W", path=p.unit_paths[i], payload=shown)
            if aware:
                p.add(
                    at + timedelta(seconds=30),
                    i,
                    ident,
                    grp="W",
                    path=p.unit_paths[i],
                    q1=score(rng, QUALITY[i]),
                )
    for s in range(900):  # the public: the whole province's roster, at most two follow-up ratings
        ident, at = f"s{s}", daytime(rng, rng.randrange(DAYS))
        known = [i for i in range(N_BRANDS) if rng.random() < 0.25 + 0.01 * (N_BRANDS - i)]
        payload = {"shown": list(p.brand_ids), "aware": [p.brand_ids[i] for i in known], "foil": False}
        p.add(at, None, ident, kind="roster_ballot", payload=payload)
        for k, i in enumerate(rng.sample(known, min(2, len(known)))):
            p.add(at + timedelta(seconds=30 * (k + 1)), i, ident, q1=score(rng, QUALITY[i] - 0.1))
    for r in range(6):  # invited party/government reviewers (G) score every brand
        for i in range(N_BRANDS):
            at = daytime(rng, rng.randrange(DAYS))
            items = [score(rng, QUALITY[i]) for _ in range(3)]
            p.add(
                at,
                i,
                f"g{r}",
                kind="review_score",
                grp="G",
                channel="review",
                q1=items[0],
                payload={"items": items},
            )
    if flush:
        p.flush(session)
    return p


def new_account(p: Province, at: datetime) -> datetime:
    return at - timedelta(hours=p.rng.uniform(0.1, 6))


def attack(p: Province, name: str) -> None:
    rng = p.rng
    if name == "new_regular":
        for i in range(200):
            at = ATTACK_AT + timedelta(seconds=3 * i + rng.uniform(-0.2, 0.2))
            p.add(at, TARGET, f"bot{i}", channel="self", q1=5, first=new_account(p, at))
    elif name in ("new_random_2min", "union_qr", "spread_24h"):
        span = 86400 if name == "spread_24h" else 120
        for i in range(200):
            at = ATTACK_AT + timedelta(seconds=rng.uniform(0, span))
            w: dict[str, Any] = {"grp": "W", "path": p.unit_paths[TARGET]} if name == "union_qr" else {}
            p.add(at, TARGET, f"bot{i}", channel="self", q1=5, first=new_account(p, at), **w)
    elif name == "negative":
        for i in range(200):
            at = ATTACK_AT + timedelta(seconds=rng.uniform(0, 600))
            p.add(at, RIVAL, f"w{TARGET}-neg{i}", grp="W", path=p.unit_paths[TARGET], channel="self", q1=1)
    elif name in ("hop_qr", "hop_typed"):
        for i in range(200):
            at = ATTACK_AT + timedelta(seconds=rng.uniform(0, 3600))
            for k, b in enumerate((TARGET, LOW_A, LOW_B)):
                t = at + timedelta(minutes=5 * k)
                if name == "hop_qr":
                    p.add(t, b, f"hop{i}", channel="brand", src=b, q1=5)
                else:
                    p.add(t, b, f"hop{i}", channel="self", q1=5)
    elif name == "ring":
        for i in range(25):
            at = ATTACK_AT + timedelta(hours=i)
            path_t, path_p = p.unit_paths[TARGET], p.unit_paths[PARTNER]
            p.add(at, PARTNER, f"ring-t{i}", grp="W", path=path_t, channel="brand", src=PARTNER, q1=5)
            p.add(
                at + timedelta(minutes=7),
                TARGET,
                f"ring-p{i}",
                grp="W",
                path=path_p,
                channel="brand",
                src=TARGET,
                q1=5,
            )
    elif name == "legit":
        t = ATTACK_AT
        for i in range(300):
            t += timedelta(seconds=rng.expovariate(300 / 3600))
            q1 = rng.choice([5, 5, 5, 4, 4, 3])
            p.add(
                t,
                TARGET,
                f"factory{i}",
                grp="W",
                path=p.unit_paths[TARGET],
                channel="brand",
                src=TARGET,
                q1=q1,
            )
    else:  # pragma: no cover
        raise AssertionError(name)


def official(session: Session, p: Province, now: datetime) -> dict[int, dict[str, Any]]:
    """Rules as in production, then the report: per brand index, rank, tier, status."""
    run_rules(session, p.campaign, now)
    report = compute_report(session, p.campaign, now=now)
    by_name = {b["brand"]: b for b in report["brands"]}
    ordered = sorted((b for b in report["brands"] if b["index"] is not None), key=lambda b: -b["index"])
    rank = {b["brand"]: r + 1 for r, b in enumerate(ordered)}
    out = {}
    for i in range(N_BRANDS):
        b = by_name[f"模拟品牌{i:02d}"]
        ci = b["ci"]
        shown = sorted(x["index"] for x in report["brands"] if x["index"] is not None)
        ref = report["reference_median"] or statistics.median(shown)
        # The tier the interval gives against the median, whatever the status (a 暂定 brand has
        # no published tier, but brushing must not move it across the median either way).
        would = None if ref is None or ci is None else "A" if ci[0] > ref else "B" if ci[1] < ref else "-"
        out[i] = {
            "index": b["index"],
            "rank": rank.get(b["brand"]),
            "tier": b["tier"],
            "would_tier": would,
            "status": b["status"],
        }
    return out


def statuses(session: Session, ids: list[int]) -> dict[int, set[str]]:
    latest: dict[tuple[int, str], str] = {}
    for f in session.scalars(
        select(RecognitionFlag).where(RecognitionFlag.event_id.in_(ids)).order_by(RecognitionFlag.id)
    ):
        latest[(f.event_id, f.rule_id)] = f.status.value
    out: dict[int, set[str]] = {}
    for (eid, _), st in latest.items():
        out.setdefault(eid, set()).add(st)
    return out


ATTACKS = {
    "new_regular": TARGET,
    "new_random_2min": TARGET,
    "union_qr": TARGET,
    "spread_24h": TARGET,
    "negative": RIVAL,
    "hop_qr": TARGET,
    "hop_typed": TARGET,
    "ring": TARGET,
}
END = T0 + timedelta(days=DAYS, hours=1)


def run_scenario(session: Session, name: str) -> tuple[dict[str, Any], dict[str, Any], dict[int, set[str]]]:
    p = build(session)
    before = official(session, p, END)
    attack(p, name)
    ids = p.flush(session)
    after = official(session, p, END)
    brand = ATTACKS.get(name, TARGET)
    return before[brand], after[brand], statuses(session, ids)


def test_province_places_the_target_around_rank_7(session: Session) -> None:
    p = build(session)
    res = official(session, p, END)
    assert 6 <= res[TARGET]["rank"] <= 8
    assert all(v["index"] is not None for v in res.values())
    flags = statuses(
        session,
        list(
            session.scalars(select(RecognitionEvent.id).where(RecognitionEvent.campaign_id == p.campaign.id))
        ),
    )
    assert not any("suspect" in s for s in flags.values())  # ordinary traffic is never suspect


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_moves_index_less_than_one_point(session: Session, name: str) -> None:
    before, after, flags = run_scenario(session, name)
    print(
        f"\nMATRIX {name}: {before['index']} ({before['rank']}) -> {after['index']} ({after['rank']}) "
        f"tier {before['tier']}/{before['would_tier']} -> {after['tier']}/{after['would_tier']} status {after['status']} "
        f"flags {sorted({s for v in flags.values() for s in v})} flagged {sum(bool(v) for v in flags.values())}/{len(flags) and len(flags)}"
    )
    assert abs(after["index"] - before["index"]) < 1.0
    assert abs(after["rank"] - before["rank"]) <= 1
    if name == "negative":
        assert after["tier"] == before["tier"] and after["would_tier"] == before["would_tier"]


def test_legitimate_mobilisation_is_never_suspect(session: Session) -> None:
    before, after, flags = run_scenario(session, "legit")
    print(
        f"\nMATRIX legit: {before['index']} ({before['rank']}) -> {after['index']} ({after['rank']}) "
        f"flags {sorted({s for v in flags.values() for s in v})}"
    )
    assert not any(FlagStatus.SUSPECT.value in s for s in flags.values())
    assert after["index"] > before["index"]  # mobilisation counts, within the home cap
