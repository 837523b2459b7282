"""The burst-window rules (B2, B3, B5, B8; B1 fires the windows in ``scan``), as pure verdicts.

A window is judged on its own events against the brand's baseline before it (bursts left out)
and against its cohort in the same window, so later ordinary traffic never dilutes a burst.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from config.recognition import RecognitionConfig
from handlers.recognition.detection import Ev, Flags, Wanted, is_new, put, robust_cv
from handlers.statistics import median
from models.recognition import FlagStatus


@dataclass
class Baseline:
    """What the brand (and its cohort) looked like before the window, bursts left out."""

    rated: int = 0
    top: int = 0
    bottom: int = 0
    cohort_rated: int = 0
    cohort_top: int = 0
    cohort_bottom: int = 0
    cohort_new_share: float = 0.0  # others' new-identity share inside the window
    quiet_hours: frozenset[int] = frozenset()  # UTC hours the cohort is almost silent in
    quiet_share: float = 0.0  # the cohort's baseline share of traffic in those hours
    first_activity: dict[str, datetime] = field(default_factory=dict)


def judge_window(
    brand_id: int,
    inside: Sequence[Ev],
    start: datetime,
    base: Baseline,
    brand_paths: dict[int, str],
    cfg: RecognitionConfig,
    scale: str,
    out: Flags,
) -> None:
    """B1–B5 and B8 on one burst window's submissions for one brand (time-ordered)."""
    r = cfg.rules
    if not inside:
        return
    for e in inside:
        put(
            out,
            (e.id, "B1_burst"),
            Wanted(FlagStatus.WATCH, {"scale": scale, "p": r.burst_poisson_p}, "突发集中提交"),
        )
    machine_run = _machine_run(inside, cfg)
    for e in machine_run:
        put(
            out,
            (e.id, "B2_timing"),
            Wanted(FlagStatus.SUSPECT, {"cv_max": r.timing_cv_max}, "突发中提交间隔过于规律（疑似机器）"),
        )

    rated = [e for e in inside if e.q1 is not None]
    shift: dict[str, float] = {}
    if len(rated) >= r.shift_min_n:
        own = base.rated >= r.shift_min_n
        b_n = base.rated if own else base.cohort_rated
        for label, box, b_k in (
            ("高分", 5, base.top if own else base.cohort_top),
            ("低分", 1, base.bottom if own else base.cohort_bottom),
        ):
            if b_n <= 0:
                continue
            delta = 100.0 * (sum(e.q1 == box for e in rated) / len(rated) - b_k / b_n)
            if delta >= r.shift_delta_pts:
                shift[label] = delta
    affiliation: dict[int, int] = defaultdict(int)
    for e in rated:
        for other, path in brand_paths.items():
            if other != brand_id and e.union_path and e.union_path.startswith(path):
                affiliation[other] += 1
    for label, delta in sorted(shift.items()):
        params = {
            "delta_pts": round(delta, 1),
            "box": label,
            "baseline": "brand" if base.rated >= r.shift_min_n else "cohort",
            "affiliation": {str(k): v for k, v in sorted(affiliation.items())},
        }
        for e in rated:
            put(
                out,
                (e.id, "B5_score_shift"),
                Wanted(FlagStatus.WATCH, params, f"突发内{label}占比明显偏离平时"),
            )
    if "低分" in shift and affiliation:
        rival, n_rival = max(sorted(affiliation.items()), key=lambda kv: kv[1])
        if n_rival / len(rated) >= r.rival_share:
            path = brand_paths[rival]
            for e in rated:
                if e.q1 is not None and e.q1 <= 2 and e.union_path and e.union_path.startswith(path):
                    put(
                        out,
                        (e.id, "B8_rival_bottom"),
                        Wanted(
                            FlagStatus.SUSPECT,
                            {"rival": rival, "share": round(n_rival / len(rated), 3)},
                            "突发低分集中来自另一参评品牌的本单位成员（疑似恶意打压）",
                        ),
                    )

    new = [e for e in inside if is_new(e, cfg)]
    share_new = len(new) / len(inside)
    if not new or share_new < r.new_share or share_new < r.new_vs_cohort * base.cohort_new_share:
        return
    corroboration = []
    if machine_run:
        corroboration.append("timing")
    if shift:
        corroboration.append("score_shift")
    single = sum(1 for e in new if base.first_activity.get(e.identity, e.at) >= start)
    if single / len(new) >= r.single_purpose_share:
        corroboration.append("single_purpose")
    off = sum(1 for e in inside if e.at.hour in base.quiet_hours) / len(inside)
    if off >= r.off_hours_share and off >= r.off_hours_ratio * base.quiet_share:
        corroboration.append("off_hours")
    status = FlagStatus.SUSPECT if corroboration else FlagStatus.WATCH
    params = {"share": round(share_new, 3), "first_seen_h": r.new_first_seen_h, "with": corroboration}
    for e in new:
        put(out, (e.id, "B3_new_identity"), Wanted(status, params, "突发中新关注身份占比异常"))


def _machine_run(inside: Sequence[Ev], cfg: RecognitionConfig) -> list[Ev]:
    """B2 on one window: the regular run of arrivals, if the window's gaps are machine-like."""
    r = cfg.rules
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(inside)]
    if len(inside) < r.timing_min_arrivals or not gaps or robust_cv(gaps) >= r.timing_cv_max:
        return []
    # Only the regular run: a human arrival that falls between two bots splits a gap and
    # stays out. Band: median ± 3 robust SDs (at least 10 % of the median).
    mid = median(sorted(gaps))
    band = max(3 * robust_cv(gaps) * mid, 0.1 * mid)
    ok_gap = [abs(g - mid) <= band for g in gaps]
    return [e for i, e in enumerate(inside) if (i > 0 and ok_gap[i - 1]) or (i < len(ok_gap) and ok_gap[i])]
