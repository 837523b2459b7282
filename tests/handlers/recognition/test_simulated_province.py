"""A simulated province (issue 12 §1, acceptance of the amended home rule).

One province with 5 departments, 3 cities, 9 counties and 18 grassroots unions, a brand at every
unit, one rating campaign per level (cohort), seeded neutral survey answers from members (W) and
the public (S), and 6 invited reviewers (G) per campaign. Every level must reach 正常 and a tier;
a brand-channel surge from the brand's own members stays capped at φ.

Before the amendment every city, county and grassroots brand was home-only here (its members
answered the roster inside its own subtree) and stayed 暂定.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from config.recognition import default_config
from handlers.measures import FOIL_NAMES, area_root
from handlers.recognition.campaigns import COHORT_LEVELS, brand_level, create_campaign
from handlers.recognition.recording import record_rating
from handlers.recognition.report import compute_report
from handlers.recognition.reviewer_codes import invite_reviewer, redeem_reviewer_code
from models import Brand, UnionKind
from models.recognition import Campaign, RecognitionEvent
from tests.factories import make_brand, make_union, make_user
from tests.handlers.recognition.conftest import T0

SEED = 2026
MEMBERS_PER_UNIT = 70  # neutral W respondents bound to each grassroots union (1,260 in all)
CADRES_PER_UNIT = 2  # cadres answer the neutral survey too: home for their own subtree
PUBLIC = 700  # neutral S respondents (every brand is in their roster)
REVIEWERS = 6
# P(a respondent in the brand's area knows it), by brand level: members, public.
AWARE_W = {"province": 0.6, "city": 0.6, "county": 0.7, "grassroots": 0.8}
AWARE_S = {"province": 0.5, "city": 0.3, "county": 0.2, "grassroots": 0.15}
OPENS = T0 - timedelta(days=30)
CFG = default_config()


def _score(rng: random.Random, mean: float, sd: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(rng.gauss(mean, sd))))


@dataclasses.dataclass
class Province:
    campaigns: dict[str, Campaign]
    brands: list[Brand]
    units: list[Any]  # grassroots unions
    quality: dict[int, float]


def build(session: Session) -> Province:
    rng = random.Random(SEED)
    prov = make_union(session, name="模拟省总工会", kind=UnionKind.PROVINCE)
    brands: list[Brand] = []
    units = []
    for d in range(5):
        dept = make_union(session, prov, name=f"省总第{d + 1}部", kind=UnionKind.PROVINCE_DEPT)
        brands.append(make_brand(session, dept, name=f"省级品牌{d + 1}"))
    for c in range(3):
        city = make_union(session, prov, name=f"第{c + 1}市总工会", kind=UnionKind.CITY)
        brands.append(make_brand(session, city, name=f"市级品牌{c + 1}"))
        for k in range(3):
            county = make_union(session, city, name=f"{c + 1}市第{k + 1}县总工会", kind=UnionKind.COUNTY)
            brands.append(make_brand(session, county, name=f"县级品牌{c + 1}-{k + 1}"))
            for g in range(2):
                unit = make_union(session, county, name=f"{c + 1}-{k + 1}-{g + 1}基层工会")
                units.append(unit)
                brands.append(make_brand(session, unit, name=f"基层品牌{c + 1}-{k + 1}-{g + 1}"))
    campaigns = {
        level: create_campaign(
            session, f"模拟{label}测评", "rating", "all", OPENS, union=prov, cohort_level=level
        )
        for level, label in COHORT_LEVELS.items()
    }
    quality = {b.id: rng.uniform(3.3, 4.5) for b in brands}
    province = Province(campaigns, brands, units, quality)
    _neutral_answers(session, province, rng)
    _reviewers(session, province, rng)
    return province


def _neutral_answers(session: Session, p: Province, rng: random.Random) -> None:
    """Survey answers as the sink records them: a roster ballot per campaign, ratings of ≤ 5 known."""
    level = {b.id: brand_level(b) for b in p.brands}
    campaign_of = {b.id: p.campaigns[level[b.id]].id for b in p.brands}
    roots = {b.id: area_root(b.union).path for b in p.brands}
    people: list[tuple[str, str | None, bool]] = []  # (group, union path, cadre)
    for unit in p.units:
        people += [("W", unit.path, False)] * MEMBERS_PER_UNIT + [("W", unit.path, True)] * CADRES_PER_UNIT
    people += [("S", None, False)] * PUBLIC
    rows: list[dict[str, Any]] = []
    for i, (grp, path, cadre) in enumerate(people):
        at = OPENS + timedelta(minutes=20 * i + rng.randint(0, 15))
        first_seen = at - timedelta(days=rng.randint(30, 400))
        area = [b.id for b in p.brands if path is None or path.startswith(roots[b.id])]
        odds = AWARE_W if grp == "W" else AWARE_S
        known = [b for b in area if rng.random() < odds[level[b]]]
        foil = rng.random() < 0.03
        base = {
            "identity_hash": f"sim-{i}",
            "grp": grp,
            "union_path": path,
            "cadre": cadre,
            "identity_first_seen_at": first_seen,
            "channel": "neutral_open",
            "src_brand_id": None,
            "started_at": at - timedelta(minutes=4),
            "submitted_at": at,
        }
        for c in p.campaigns.values():
            rows.append(
                {
                    **base,
                    "event_key": f"sim:{i}:c{c.id}:roster",
                    "campaign_id": c.id,
                    "kind": "roster_ballot",
                    "brand_id": None,
                    "payload": {"shown": area, "aware": known, "foil": foil, "foil_name": FOIL_NAMES[0]},
                    "q1": None,
                    "q2": None,
                    "q3": None,
                }
            )
        for b in rng.sample(known, min(5, len(known))):
            q = p.quality[b]
            rows.append(
                {
                    **base,
                    "event_key": f"sim:{i}:rating:{b}",
                    "campaign_id": campaign_of[b],
                    "kind": "rating",
                    "brand_id": b,
                    "payload": {},
                    "q1": _score(rng, q, 0.9, 1, 5),
                    "q2": _score(rng, q - 0.2, 0.9, 1, 5),
                    "q3": _score(rng, 2 * q, 1.8, 0, 10),
                }
            )
    # Bulk insert: 11,000 rows through the ORM one by one would dominate the test's time.
    session.execute(insert(RecognitionEvent), rows)
    session.flush()


def _reviewers(session: Session, p: Province, rng: random.Random) -> None:
    """Six invited reviewers per campaign score every candidate through the real path (G)."""
    for level, c in p.campaigns.items():
        for r in range(REVIEWERS):
            user = make_user(session)
            code = invite_reviewer(session, c, f"评议{r}", f"{level}厅局{r}")
            assert redeem_reviewer_code(session, user, code, OPENS) is not None
            for e in c.entries:
                score = _score(rng, p.quality[e.brand_id], 0.6, 1, 5)
                at = OPENS + timedelta(days=5, minutes=r * 60 + e.number)
                assert record_rating(
                    session, user, c, e.brand, score, f"g:{c.id}:{r}:{e.brand_id}", at
                ).status == ("recorded")


def table(p: Province, session: Session) -> list[tuple[str, int, Counter[str], Counter[str]]]:
    out = []
    for level, c in p.campaigns.items():
        report = compute_report(session, c, CFG)
        statuses = Counter(b["status"] for b in report["brands"])
        tiers = Counter(b["tier"] for b in report["brands"] if b["tier"])
        out.append((COHORT_LEVELS[level], len(report["brands"]), statuses, tiers))
    return out


def render(rows: list[tuple[str, int, Counter[str], Counter[str]]]) -> str:
    lines = [
        "| 层级 | 品牌 | 正常 / 暂定 / 样本不足 | 推荐推广 / 无显著差异 / 重点提升 |",
        "|---|---|---|---|",
    ]
    for label, n, st, tr in rows:
        lines.append(
            f"| {label} | {n} | {st['正常']} / {st['暂定']} / {st['样本不足']} | "
            f"{tr['推荐推广']} / {tr['与平均水平无显著差异']} / {tr['重点提升']} |"
        )
    return "\n".join(lines)


@pytest.fixture
def province(session: Session) -> Province:
    return build(session)


def test_every_level_reaches_ok_and_a_tier(session: Session, province: Province) -> None:
    rows = table(province, session)
    print("\n" + render(rows))
    assert [(label, n) for label, n, _, _ in rows] == [("省级", 5), ("市级", 3), ("县区级", 9), ("基层", 18)]
    for label, n, statuses, tiers in rows:
        assert statuses["正常"] == n, (label, statuses)
        assert sum(tiers.values()) == n, (label, tiers)
    # Members' neutral answers are away; only the cadres' are home, a small share.
    for c in province.campaigns.values():
        for b in compute_report(session, c, CFG)["brands"]:
            before, after = b["groups"]["W"]["reputation"]["home_share"]
            assert before < 0.2 and after == before


def test_brand_channel_surge_from_its_own_members_is_capped(session: Session, province: Province) -> None:
    county = province.campaigns["county"]
    target = county.entries[0].brand
    before = next(b for b in compute_report(session, county, CFG)["brands"] if b["brand"] == target.name)
    unit = next(u for u in province.units if u.path.startswith(target.union.path))
    for i in range(300):  # the brand's own members, through its QR code, all 5s
        member = make_user(session, union_id=unit.id, union_source="member")
        at = OPENS + timedelta(days=20, seconds=30 * i)
        assert record_rating(
            session, member, county, target, 5, f"surge-{i}", at, "brand", target.id
        ).status == ("recorded")
    after = next(b for b in compute_report(session, county, CFG)["brands"] if b["brand"] == target.name)
    share_before, share_after = after["groups"]["W"]["reputation"]["home_share"]
    assert share_before > 0.7
    assert share_after == pytest.approx(CFG.home_cap_phi, abs=1e-3)
    uncapped_cfg = dataclasses.replace(CFG, home_cap_phi=0.9999)
    uncapped = next(
        b for b in compute_report(session, county, uncapped_cfg)["brands"] if b["brand"] == target.name
    )
    # 300 fives are at most φ of the W reputation weight: its raw mean moves at most halfway to 100.
    raw_before = before["groups"]["W"]["reputation"]["raw"]
    raw_after = after["groups"]["W"]["reputation"]["raw"]
    phi = CFG.home_cap_phi
    assert raw_after <= phi * 100 + (1 - phi) * raw_before + 1.0
    assert after["index"] - before["index"] < uncapped["index"] - before["index"]
    assert after["status"] == "正常"
    print(
        f"\nsurge: RI {before['index']} → {after['index']} (uncapped {uncapped['index']}), "
        f"W home share {share_before} → {share_after}, R_W raw {raw_before} → {raw_after}"
    )
