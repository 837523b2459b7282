"""Results of a campaign: the report in its JSON shape, and the live view (cached until new data).

The official snapshot versions are ``snapshots``; the CSV and text renderings are ``report_text``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.recognition import GROUPS, RecognitionConfig, default_config
from handlers.clock import show_day
from handlers.glossary import GROUP_LABELS, TIER_LABELS
from handlers.glossary import RECOGNITION_STATUS_LABELS as STATUS_LABELS
from handlers.recognition.campaigns import check_cohort
from handlers.recognition.cohort_index import BrandResult, CohortResult, Priors, compute_cohort
from handlers.recognition.estimator_inputs import AsOf, Loaded
from handlers.recognition.estimators import UNDER_REVIEW, Component
from handlers.recognition.loader import load_both
from models.recognition import (
    Campaign,
    RecognitionCheck,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionSnapshot,
)

DISCLOSURE = (
    "本指数基于职工和公众自愿参与的线上评价及党政评议，非随机抽样调查。括号内为模型可信区间（95%），"
    "反映样本量带来的不确定性，不代表抽样误差；样本不足的品牌已向同级平均水平调整。"
    "方法版本 v{version}，数据截至 {date}。"
)
HEAT_TITLE = "参与热度（不计入社会认可度）"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x + 0.0, 1)


def _ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_r(ci[0]), _r(ci[1])]


def _component_json(c: Component) -> dict[str, Any]:
    shown = c.state != "insufficient"
    return {
        "n": c.n,
        "n_eff": _r(c.n_eff),
        "state": c.state,
        "display": f"{c.estimate:.1f}" if shown else f"样本不足 ({c.n_eff:.0f}/{c.show_threshold:.0f})",
        "value": _r(c.estimate) if shown else None,
        "ci": _ci(c.ci) if shown else None,
        "raw": _r(c.raw) if shown else None,
        "prior": _r(c.prior),
        "m": c.m,
        "shrink_weight": round(c.shrink_weight, 3),
        "home_share": [round(c.home_share_before, 3), round(c.home_share_after, 3)],
        "top_box": _r(c.top_box) if shown else None,
    }


def _groups_json(b: BrandResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for g in GROUPS:
        entry: dict[str, Any] = {"label": GROUP_LABELS[g], "score": _r(b.group_scores[g])}
        if (g, "A") in b.components:
            entry["awareness"] = _component_json(b.components[(g, "A")])
        entry["reputation"] = _component_json(b.components[(g, "R")])
        out[g] = entry
    return out


def data_date(loaded_cutoff: datetime | None, now: datetime) -> str:
    return show_day(loaded_cutoff or now)


def build_report(
    campaign: Campaign,
    result: CohortResult,
    loaded: Loaded,
    without: CohortResult,
    cfg: RecognitionConfig,
    cutoff: datetime,
    live: bool,
    correction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report in the issue's JSON shape (plus disclosure, priors and sensitivity figures)."""
    with_all = {b.brand_id: b for b in without.brands}
    brands = []
    for b in result.brands:
        c = loaded.counts[b.brand_id]
        alt = with_all[b.brand_id]
        brands.append(
            {
                "brand": b.name,
                "index": _r(b.index) if b.shown else None,
                "ci": _ci(b.ci) if b.shown else None,
                "status": STATUS_LABELS[b.status],
                "tier": TIER_LABELS[b.tier] if b.tier else None,
                "ratings": c.ratings,
                "heat": c.heat,
                "suspect": c.suspect,
                "excluded": c.excluded,
                "watch": c.watch,
                "groups": _groups_json(b),
                "rank_range": list(b.rank_range) if b.rank_range else None,
                "raw_index": _r(b.raw_index),
                "index_with_suspects": _r(alt.index) if alt.shown else None,
                "shortfall": "需补充：" + "、".join(f"{k} {v} 份" for k, v in b.shortfall)
                if b.shortfall
                else None,
            }
        )
    out: dict[str, Any] = {
        "campaign": campaign.name,
        "method_version": cfg.version,
        "anti_fraud_version": cfg.anti_fraud_version,
        "config_digest": cfg.digest,
        "live": live,
        "label": "实时（未定稿）" if live else "正式结果",
        "data_cutoff": cutoff.astimezone(UTC).isoformat(),
        "reference_median": _r(result.reference_median),
        "priors": _priors_json(result.priors),
        "disclosure": DISCLOSURE.format(version=cfg.version, date=data_date(cutoff, cutoff)),
        "heat_title": HEAT_TITLE,
        "reliability": {
            g: {
                "alpha": None if a is None else round(a, 3),
                "warn": a is not None and a < cfg.reliability_alpha_warn,
            }
            for g, a in sorted(loaded.reliability.items())
        },
        "brands": brands,
    }
    if correction is not None:  # versions ≥ 2 only, so version 1 keeps its original bytes
        out["correction"] = correction
    return out


def _priors_json(p: Priors) -> dict[str, Any]:
    return {
        "m_awareness": p.m_awareness,
        "groups": {
            g: {
                "p0": gp.p0,
                "mu0": round(gp.mu0, 6),
                "sigma": round(gp.sigma, 6),
                "m_reputation": round(gp.m_reputation, 6),
                "source": gp.source,
            }
            for g, gp in sorted(p.groups.items())
        },
    }


def seed_text(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}:{campaign.name}"


def compute_report(
    session: Session,
    campaign: Campaign,
    cfg: RecognitionConfig | None = None,
    now: datetime | None = None,
    priors: Priors | None = None,
    as_of: AsOf | None = None,
    correction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    cfg = cfg or default_config()
    check_cohort(session, campaign)  # ranks compare like with like, or not at all
    loaded, loaded_all = load_both(session, campaign, cfg, as_of)
    result = compute_cohort(loaded.inputs, cfg, priors=priors, seed_text=seed_text(campaign))
    if loaded_all is not loaded:
        with_suspects = compute_cohort(
            loaded_all.inputs, cfg, priors=result.priors, seed_text=seed_text(campaign), light=True
        )
    else:  # nothing excluded: the sensitivity pass would recompute the same numbers
        with_suspects = result
    victims = _brushed_down(result, with_suspects, loaded.checked)
    if victims:
        # Suspects that only pull a brand down are someone else's brushing: the official index
        # already leaves them out, so the brand is ranked on what remains instead of frozen.
        inputs = [replace(i, under_review=False) if i.brand_id in victims else i for i in loaded.inputs]
        result = compute_cohort(inputs, cfg, priors=priors, seed_text=seed_text(campaign))
    last = session.scalar(
        select(func.max(RecognitionEvent.submitted_at)).where(RecognitionEvent.campaign_id == campaign.id)
    )
    cutoff = campaign.closed_at or last or now or campaign.opens_at
    if campaign.closed_at is not None and last is not None:
        cutoff = min(campaign.closed_at, max(last, campaign.opens_at))
    return build_report(
        campaign,
        result,
        loaded,
        with_suspects,
        cfg,
        cutoff,
        live=campaign.closed_at is None,
        correction=correction,
    )


def _brushed_down(result: CohortResult, with_suspects: CohortResult, checked: frozenset[int]) -> set[int]:
    """Brands held 数据核查中 only by the pending-suspect share, whose suspects lower their index."""
    alt = {b.brand_id: b for b in with_suspects.brands}
    return {
        b.brand_id
        for b in result.brands
        if b.status == UNDER_REVIEW
        and b.brand_id not in checked
        and b.brand_id in alt
        and alt[b.brand_id].index <= b.index
    }


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def campaign_has_snapshot(session: Session, campaign: Campaign) -> bool:
    return latest_snapshot(session, campaign) is not None


def latest_snapshot(session: Session, campaign: Campaign) -> RecognitionSnapshot | None:
    """The official result in force: the highest version."""
    snap: RecognitionSnapshot | None = session.scalar(
        select(RecognitionSnapshot)
        .where(RecognitionSnapshot.campaign_id == campaign.id)
        .order_by(RecognitionSnapshot.version.desc())
        .limit(1)
    )
    return snap


# --- live view --------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_live_cache: dict[int, tuple[tuple[int, int, int, str, datetime | None], dict[str, Any]]] = {}


def data_version(session: Session, campaign: Campaign) -> tuple[int, int, int]:
    """Monotone counters that change whenever a rating, a flag or a brand-level check arrives."""
    ev = session.scalar(
        select(func.max(RecognitionEvent.id)).where(RecognitionEvent.campaign_id == campaign.id)
    )
    fl = session.scalar(select(func.max(RecognitionFlag.id)))
    ck = session.scalar(
        select(func.max(RecognitionCheck.id)).where(RecognitionCheck.campaign_id == campaign.id)
    )
    return (ev or 0, fl or 0, ck or 0)


def results(session: Session, campaign: Campaign, cfg: RecognitionConfig | None = None) -> dict[str, Any]:
    """The official snapshot when closed, else the live view, cached until new data arrives."""
    cfg = cfg or default_config()
    snap = latest_snapshot(session, campaign)
    if snap is not None:
        data: dict[str, Any] = json.loads(snap.body)
        return data
    key = (*data_version(session, campaign), cfg.digest, campaign.closed_at)
    with _cache_lock:
        hit = _live_cache.get(campaign.id)
        if hit is not None and hit[0] == key:
            return hit[1]
    report = compute_report(session, campaign, cfg)
    with _cache_lock:
        _live_cache[campaign.id] = (key, report)
    return report
