"""Anti-brushing rules that apply to chat (RECOGNITION.md §4.5 and the project's decisions).

``detect`` is pure: events in, wanted flags out. ``run_rules`` writes the differences as new
flag versions with audit rows; adjudication lives in ``handlers.recognition.adjudication``. Human
decisions are never overwritten by a re-run of the same rule version. IP and device rules
(F1, F2, F5, B4) need data WeChat does not give the webhook and are not run on chat events.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.recognition import RecognitionConfig, default_config
from models.recognition import (
    Campaign,
    FlagStatus,
    RecognitionEvent,
    RecognitionFlag,
    RecognitionFlagAudit,
)

SUBMISSION_KINDS = ("rating", "support_vote", "review_score")


class FraudError(ValueError):
    """An adjudication that cannot be recorded (Chinese message)."""


@dataclass(frozen=True)
class Ev:
    id: int
    identity: str
    brand_id: int | None
    kind: str
    channel: str
    src_brand_id: int | None
    at: datetime
    first_seen_at: datetime | None
    q1: int | None
    union_path: str | None


@dataclass(frozen=True)
class Wanted:
    status: FlagStatus
    params: dict[str, Any]
    reason: str


def poisson_sf(c: int, lam: float) -> float:
    """P(X ≥ c) for X ~ Poisson(λ), summed in log space from c upward."""
    if c <= 0:
        return 1.0
    total = 0.0
    k = c
    log_term = -lam + c * math.log(lam) - math.lgamma(c + 1)
    while True:
        term = math.exp(log_term)
        total += term
        k += 1
        log_term += math.log(lam) - math.log(k)
        if k > lam and term <= total * 1e-16:
            break
    return min(1.0, total)


def robust_cv(gaps: Sequence[float]) -> float:
    """1.4826·MAD / median of the gaps: a CV that a few human arrivals inside a bot run cannot
    inflate (a plain CV jumps with one long gap). Poisson arrivals give ≈ 1.0, a 3 s ± 0.2 s bot ≈ 0.05."""
    ordered = sorted(gaps)
    mid = _median(ordered)
    if mid <= 0:
        return 0.0 if len(set(ordered)) == 1 else math.inf
    mad = _median(sorted(abs(g - mid) for g in ordered))
    return 1.4826 * mad / mid


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0


def _link_hopper(events: Sequence[Ev], cfg: RecognitionConfig, out: dict[tuple[int, str], Wanted]) -> None:
    r = cfg.rules
    window = timedelta(hours=r.link_hop_window_h)
    by_identity: dict[str, list[Ev]] = defaultdict(list)
    for e in events:
        if e.kind in ("rating", "review_score") and e.channel == "brand":
            by_identity[e.identity].append(e)
    for evs in by_identity.values():
        evs.sort(key=lambda e: (e.at, e.id))
        for i, first in enumerate(evs):
            inside = [e for e in evs[i:] if e.at - first.at <= window]
            if len({e.brand_id for e in inside}) >= r.link_hop_brands:
                for e in inside:
                    out[(e.id, "F3_link_hopper")] = Wanted(
                        FlagStatus.SUSPECT,
                        {"distinct_brands": r.link_hop_brands, "window_h": r.link_hop_window_h},
                        "同一身份 24 小时内经多个品牌专属链接评价（互助换票）",
                    )


def _bursts(
    events: Sequence[Ev], cfg: RecognitionConfig, n_candidates: int = 1
) -> dict[int, list[tuple[datetime, datetime]]]:
    """B1: windows (±margin) around 10-min bins that are improbable under the brand's baseline."""
    r = cfg.rules
    bin_s = r.burst_bin_min * 60
    baseline_bins = r.burst_baseline_days * 24 * 3600 // bin_s
    per_brand: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    cohort: dict[int, int] = defaultdict(int)
    for e in events:
        if e.brand_id is None or e.kind not in SUBMISSION_KINDS:
            continue
        b = int(e.at.timestamp()) // bin_s
        per_brand[e.brand_id][b] += 1
        cohort[b] += 1
    n_brands = max(len(per_brand), n_candidates, 1)
    windows: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    margin = timedelta(minutes=r.burst_margin_min)
    for brand_id, bins in per_brand.items():
        for b, c in bins.items():
            if c < r.burst_min_count:
                continue
            base_brand = sum(n for bb, n in bins.items() if b - baseline_bins <= bb < b)
            base_cohort = sum(n for bb, n in cohort.items() if b - baseline_bins <= bb < b)
            lam = max(r.burst_lambda_floor, base_brand / baseline_bins)
            if poisson_sf(c, lam) >= r.burst_poisson_p:
                continue
            share_now = c / cohort[b]
            share_base = (base_brand + 1.0) / (base_cohort + n_brands)  # smoothed for new brands
            if share_now < r.burst_share_ratio * share_base:
                continue
            start = datetime.fromtimestamp(b * bin_s, tz=events[0].at.tzinfo)
            windows[brand_id].append((start - margin, start + timedelta(seconds=bin_s) + margin))
    return windows


def _is_new(e: Ev, cut: timedelta) -> bool:
    return e.first_seen_at is not None and e.at - e.first_seen_at < cut


def _in(at: datetime, spans: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(lo <= at < hi for lo, hi in spans)


def detect(
    events: Sequence[Ev], brand_paths: dict[int, str], cfg: RecognitionConfig
) -> dict[tuple[int, str], Wanted]:
    """The flags the rules want now, by (event id, rule id)."""
    r = cfg.rules
    out: dict[tuple[int, str], Wanted] = {}
    if not events:
        return out
    _link_hopper(events, cfg, out)
    windows = _bursts(events, cfg, len(brand_paths))
    subs = [e for e in events if e.kind in SUBMISSION_KINDS and e.brand_id is not None]
    for brand_id, spans in windows.items():
        inside = sorted(
            (e for e in subs if e.brand_id == brand_id and _in(e.at, spans)), key=lambda e: (e.at, e.id)
        )
        for e in inside:
            out.setdefault(
                (e.id, "B1_burst"),
                Wanted(
                    FlagStatus.WATCH, {"bin_min": r.burst_bin_min, "p": r.burst_poisson_p}, "突发集中提交"
                ),
            )
        gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(inside)]
        machine = False
        machine_run: list[Ev] = []
        if len(inside) >= r.timing_min_arrivals and gaps:
            machine = robust_cv(gaps) < r.timing_cv_max
        if machine:
            # Only the regular run: a human arrival that falls between two bots splits a gap and
            # stays out. Band: median ± 3 robust SDs (at least 10 % of the median).
            mid = _median(sorted(gaps))
            band = max(3 * robust_cv(gaps) * mid, 0.1 * mid)

            ok_gap = [abs(g - mid) <= band for g in gaps]
            machine_run = [
                e
                for i, e in enumerate(inside)
                if (i > 0 and ok_gap[i - 1]) or (i < len(ok_gap) and ok_gap[i])
            ]
            for e in machine_run:
                out[(e.id, "B2_timing")] = Wanted(
                    FlagStatus.SUSPECT, {"cv_max": r.timing_cv_max}, "突发中提交间隔过于规律（疑似机器）"
                )
        new_cut = timedelta(hours=r.new_first_seen_h)

        others = [e for e in subs if e.brand_id != brand_id and _in(e.at, spans)]
        share_new = sum(_is_new(e, new_cut) for e in inside) / len(inside) if inside else 0.0
        share_cohort = sum(_is_new(e, new_cut) for e in others) / len(others) if others else 0.0
        if inside and share_new >= r.new_share and share_new >= r.new_vs_cohort * share_cohort:
            run_ids = {e.id for e in machine_run} if machine else set()
            for e in inside:
                status = FlagStatus.SUSPECT if e.id in run_ids else FlagStatus.WATCH
                if _is_new(e, new_cut):
                    out[(e.id, "B3_new_identity")] = Wanted(
                        status,
                        {"share": r.new_share, "first_seen_h": r.new_first_seen_h},
                        "突发中新关注身份占比异常",
                    )
        rated_in = [e for e in inside if e.q1 is not None]
        rated_out = [e for e in subs if e.brand_id == brand_id and e.q1 is not None and not _in(e.at, spans)]
        if len(rated_in) >= r.shift_min_n and len(rated_out) >= r.shift_min_n:
            for label, box in (("高分", 5), ("低分", 1)):
                delta = 100.0 * (
                    sum(e.q1 == box for e in rated_in) / len(rated_in)
                    - sum(e.q1 == box for e in rated_out) / len(rated_out)
                )
                if delta >= r.shift_delta_pts:
                    affiliation: dict[str, int] = defaultdict(int)
                    for e in rated_in:
                        for other, path in brand_paths.items():
                            if other != brand_id and e.union_path and e.union_path.startswith(path):
                                affiliation[str(other)] += 1
                    for e in rated_in:
                        out[(e.id, "B5_score_shift")] = Wanted(
                            FlagStatus.WATCH,
                            {
                                "delta_pts": round(delta, 1),
                                "box": label,
                                "affiliation": dict(sorted(affiliation.items())),
                            },
                            f"突发内{label}占比明显偏离平时",
                        )
    _exchange_ring(subs, brand_paths, cfg, out)
    return out


def _exchange_ring(
    subs: Sequence[Ev],
    brand_paths: dict[int, str],
    cfg: RecognitionConfig,
    out: dict[tuple[int, str], Wanted],
) -> None:
    """B7: home members of A rate B via B's link and home members of B rate A, within 48 h."""
    r = cfg.rules
    pair_events: dict[tuple[int, int], list[Ev]] = defaultdict(list)
    for e in subs:
        if e.channel != "brand" or e.union_path is None or e.brand_id is None or e.src_brand_id != e.brand_id:
            continue
        for home_brand, path in brand_paths.items():
            if home_brand != e.brand_id and e.union_path.startswith(path):
                pair_events[(home_brand, e.brand_id)].append(e)
    window = timedelta(hours=r.ring_window_h)
    for (a, b), ab in pair_events.items():
        if a > b:
            continue
        ba = pair_events.get((b, a), [])
        if len(ab) < r.ring_min_each or len(ba) < r.ring_min_each:
            continue
        both = sorted(ab + ba, key=lambda e: e.at)
        if both[-1].at - both[0].at > window:
            # Count within the densest 48 h span only.
            best: list[Ev] = []
            for i, first in enumerate(both):
                span = [e for e in both[i:] if e.at - first.at <= window]
                if len(span) > len(best):
                    best = span
            both = best
        n_ab = sum(1 for e in both if e in ab)
        n_ba = len(both) - n_ab
        if n_ab >= r.ring_min_each and n_ba >= r.ring_min_each:
            for e in both:
                out[(e.id, "B7_exchange_ring")] = Wanted(
                    FlagStatus.WATCH,
                    {"pair": [a, b], "min_each": r.ring_min_each},
                    "两个品牌的本单位成员互相评价（疑似换票圈）",
                )


def _load(session: Session, campaign: Campaign) -> list[Ev]:
    rows = session.execute(
        select(
            RecognitionEvent.id,
            RecognitionEvent.identity_hash,
            RecognitionEvent.brand_id,
            RecognitionEvent.kind,
            RecognitionEvent.channel,
            RecognitionEvent.src_brand_id,
            RecognitionEvent.submitted_at,
            RecognitionEvent.identity_first_seen_at,
            RecognitionEvent.q1,
            RecognitionEvent.union_path,
        )
        .where(RecognitionEvent.campaign_id == campaign.id)
        .order_by(RecognitionEvent.submitted_at, RecognitionEvent.id)
    )
    return [Ev(*row) for row in rows]


def _latest_flags(session: Session, campaign: Campaign) -> dict[tuple[int, str], RecognitionFlag]:
    ids = select(RecognitionEvent.id).where(RecognitionEvent.campaign_id == campaign.id)
    latest: dict[tuple[int, str], RecognitionFlag] = {}
    for flag in session.scalars(
        select(RecognitionFlag).where(RecognitionFlag.event_id.in_(ids)).order_by(RecognitionFlag.id)
    ):
        latest[(flag.event_id, flag.rule_id)] = flag
    return latest


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


def run_rules(
    session: Session, campaign: Campaign, now: datetime, cfg: RecognitionConfig | None = None
) -> dict[str, int]:
    """Apply every chat rule to the whole campaign; write only what changed. Returns counts by rule."""
    cfg = cfg or default_config()
    paths = {e.brand_id: e.brand.union.path for e in campaign.entries}
    wanted = detect(_load(session, campaign), paths, cfg)
    latest = _latest_flags(session, campaign)
    written: dict[str, int] = defaultdict(int)
    for (event_id, rule_id), w in sorted(wanted.items()):
        version = cfg.rule_version(rule_id)
        current = latest.get((event_id, rule_id))
        if current is not None and current.rule_version == version:
            continue  # unchanged, or already adjudicated by a person under this version
        _write(
            session,
            event_id,
            rule_id,
            version,
            (current.version_no + 1) if current else 1,
            w.status,
            w.params,
            "system",
            w.reason,
            "raise" if current is None else "reflag",
            now,
        )
        written[rule_id] += 1
    for (event_id, rule_id), current in sorted(latest.items()):
        if (
            (event_id, rule_id) in wanted
            or current.decided_by != "system"
            or current.status == FlagStatus.RESTORED
        ):
            continue
        # The rule (or its new version) no longer fires: the event counts again.
        _write(
            session,
            event_id,
            rule_id,
            cfg.rule_version(rule_id),
            current.version_no + 1,
            FlagStatus.RESTORED,
            current.params,
            "system",
            "规则重判后不再命中",
            "reflag",
            now,
        )
        written[rule_id] += 1
    return dict(written)
