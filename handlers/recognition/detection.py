"""The detection rules of docs/method/fraud.md §5–§8 as pure verdicts on one window or one identity.

Every verdict is local in time: a burst window is judged on its own events against the brand's
own baseline *before* the window (bursts left out) and against its cohort in the same window.
Later ordinary traffic can therefore never dilute an earlier burst, and the incremental scan
(``scan.py``) only has to re-judge windows near new events.

Outcomes: ``watch`` for a signal alone (B1, B5, B7, B3 without corroboration); ``suspect`` for
fakery (B2 machine timing; B3 new identities with a corroborating signal; B8 a bottom-box burst
carried by a rival brand's members; F3/F3T link hopping). Mobilised real members (old identities
through their brand's channel) never reach ``suspect``: the home cap dampens them instead.

The web rules (F1 device_multi, F2 idc_ip, F5 geo_jump: ``suspect``; B4 concentration: ``watch``)
judge only events that carry an H5 page's web signal (``Sig``); chat events have none.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from config.recognition import RecognitionConfig
from handlers.statistics import median
from models.recognition import FlagStatus

SUBMISSION_KINDS = ("rating", "support_vote", "review_score")
WINDOW_RULES = ("B1_burst", "B2_timing", "B3_new_identity", "B5_score_shift", "B8_rival_bottom")
IDENTITY_RULES = ("F3_link_hopper", "F3T_typed_hopper")
RING_RULES = ("B7_exchange_ring",)


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


T = TypeVar("T", bound=_Timed)
# One family per web rule: each has its own scope (a device, an identity's hour, a brand).
DEVICE_RULES = ("F1_device_multi",)
IDC_RULES = ("F2_idc_ip",)
GEO_RULES = ("F5_geo_jump",)
CONCENTRATION_RULES = ("B4_concentration",)
WEB_FAMILIES = (DEVICE_RULES, IDC_RULES, GEO_RULES, CONCENTRATION_RULES)


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
class Sig:
    """An event with an H5 page's web signal: what the web rules need of both."""

    id: int
    identity: str
    brand_id: int | None
    kind: str
    channel: str
    src_brand_id: int | None
    union_path: str | None
    cadre: bool
    at: datetime
    ip_prefix: str | None
    province: str | None
    idc: bool
    device_hash: str | None


@dataclass(frozen=True)
class Wanted:
    status: FlagStatus
    params: dict[str, Any]
    reason: str


Flags = dict[tuple[int, str], Wanted]


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
    mid = median(ordered)
    if mid <= 0:
        return 0.0 if len(set(ordered)) == 1 else math.inf
    mad = median(sorted(abs(g - mid) for g in ordered))
    return 1.4826 * mad / mid


def is_new(e: Ev, cfg: RecognitionConfig) -> bool:
    cut = timedelta(hours=cfg.rules.new_first_seen_h)
    return e.first_seen_at is not None and e.at - e.first_seen_at < cut


def put(out: Flags, key: tuple[int, str], wanted: Wanted) -> None:
    """Several windows may judge one event: suspect wins over watch, then the first verdict."""
    cur = out.get(key)
    if cur is None or (cur.status != FlagStatus.SUSPECT and wanted.status == FlagStatus.SUSPECT):
        out[key] = wanted


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


def runs_with_distinct(
    items: Sequence[T], key: Callable[[T], object], window: timedelta, n: int
) -> Iterator[list[T]]:
    """Each run that starts at one of ``items`` (time-ordered, with ``.at``) and holds the items
    within ``window`` of it, when the run has at least ``n`` distinct keys (F3's brands, F5's
    provinces)."""
    for i, first in enumerate(items):
        inside = [first]
        for later in items[i + 1 :]:
            if later.at - first.at > window:
                break
            inside.append(later)
        if len({key(x) for x in inside}) >= n:
            yield inside


def link_hops(evs: Sequence[Ev], cfg: RecognitionConfig, out: Flags) -> None:
    """F3 on one identity's events (time-ordered): brand-channel ratings for ≥ 3 brands in 24 h."""
    r = cfg.rules
    window = timedelta(hours=r.link_hop_window_h)
    mine = [e for e in evs if e.kind in ("rating", "review_score") and e.channel == "brand"]
    for inside in runs_with_distinct(mine, lambda e: e.brand_id, window, r.link_hop_brands):
        for e in inside:
            put(
                out,
                (e.id, "F3_link_hopper"),
                Wanted(
                    FlagStatus.SUSPECT,
                    {"distinct_brands": r.link_hop_brands, "window_h": r.link_hop_window_h},
                    "同一身份 24 小时内经多个品牌专属链接评价（互助换票）",
                ),
            )


def typed_hop_sets(evs: Sequence[Ev], cfg: RecognitionConfig) -> list[tuple[int, frozenset[int], list[Ev]]]:
    """One identity's typed hops: (box, brands, events) where it typed the same extreme score for
    ≥ 3 brands within 24 h. Alone this is an enthusiast; in a group it is a 互助 list."""
    r = cfg.rules
    window = timedelta(hours=r.typed_hop_window_h)
    typed = [e for e in evs if e.kind == "rating" and e.channel == "self" and e.q1 in (1, 5)]
    found: list[tuple[int, frozenset[int], list[Ev]]] = []
    for box in (5, 1):
        mine = [e for e in typed if e.q1 == box]
        for i, first in enumerate(mine):
            inside = [e for e in mine[i:] if e.at - first.at <= window]
            brands = frozenset(e.brand_id for e in inside if e.brand_id is not None)
            if len(brands) >= r.typed_hop_brands:
                found.append((box, brands, inside))
    return found


def typed_groups(
    hops: dict[str, list[tuple[int, frozenset[int], list[Ev]]]], cfg: RecognitionConfig, out: Flags
) -> None:
    """F3T: identities whose typed hops share ≥ 3 brands and the box, ≥ min_group of them within
    48 h of each other, are a coordinated list: their hop ratings are suspect."""
    r = cfg.rules
    span = timedelta(hours=2 * r.typed_hop_window_h)
    flat = sorted(
        ((ident, box, brands, evs) for ident, items in hops.items() for box, brands, evs in items),
        key=lambda x: (x[3][0].at, x[0]),
    )
    for ident, box, brands, evs in flat:
        t = evs[0].at
        peers = {
            other
            for other, b2, brands2, evs2 in flat
            if b2 == box and len(brands & brands2) >= r.typed_hop_brands and abs(evs2[0].at - t) <= span
        }
        if len(peers) < r.typed_hop_min_group:
            continue
        params = {"group": len(peers), "distinct_brands": r.typed_hop_brands, "box": box}
        for e in evs:
            put(
                out,
                (e.id, "F3T_typed_hopper"),
                Wanted(
                    FlagStatus.SUSPECT,
                    params,
                    "多人在 24 小时内以同样的极端分数手动评价同一组品牌（互助换票）",
                ),
            )
        del ident


def ring_flags(
    pair_events: dict[tuple[int, int], list[Ev]],
    cfg: RecognitionConfig,
    out: Flags,
    scope: set[int] | None = None,
) -> None:
    """B7: an event of home members of A rating B via B's link is in a ring when, within 48 h of
    it, both A→B and B→A reach min_each (a local test, so new events never move old verdicts
    outside their 48 h)."""
    r = cfg.rules
    window = timedelta(hours=r.ring_window_h)
    for (a, b), ab in sorted(pair_events.items()):
        ba = pair_events.get((b, a), [])
        if len(ab) < r.ring_min_each or len(ba) < r.ring_min_each:
            continue
        for e in ab:
            if scope is not None and e.id not in scope:
                continue
            n_ab = sum(1 for x in ab if abs(x.at - e.at) <= window)
            n_ba = sum(1 for x in ba if abs(x.at - e.at) <= window)
            if n_ab >= r.ring_min_each and n_ba >= r.ring_min_each:
                put(
                    out,
                    (e.id, "B7_exchange_ring"),
                    Wanted(
                        FlagStatus.WATCH,
                        {"pair": sorted([a, b]), "min_each": r.ring_min_each},
                        "两个品牌的本单位成员互相评价（疑似换票圈）",
                    ),
                )


def ring_pairs(subs: Sequence[Ev], brand_paths: dict[int, str]) -> dict[tuple[int, int], list[Ev]]:
    """(home brand of the rater, rated brand) → brand-link ratings."""
    pairs: dict[tuple[int, int], list[Ev]] = defaultdict(list)
    for e in subs:
        if e.channel != "brand" or e.union_path is None or e.brand_id is None or e.src_brand_id != e.brand_id:
            continue
        for home_brand, path in brand_paths.items():
            if home_brand != e.brand_id and e.union_path.startswith(path):
                pairs[(home_brand, e.brand_id)].append(e)
    return pairs


# --- web rules: events with an H5 page's signal only ---------------------------------------------


def is_home(row: Any, brand_id: int, brand_path: str) -> bool:
    """The amended home rule of 2026-12-01 (docs/method/home.md §3).

    Home for brand b: arrived through b's own ``brand`` channel, or given by a bound cadre of b's
    owning unit or a unit in its subtree. A member's neutral answer inside the service area is
    the target population, so it is away. ``loader._aggregate_ratings`` states the same rule in SQL.
    """
    if row.channel == "brand" and row.src_brand_id == brand_id:
        return True
    path = row.union_path
    return bool(getattr(row, "cadre", False)) and path is not None and path.startswith(brand_path)


def device_multi(sigs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F1 on every signal of some devices in one campaign: identities are numbered in the order
    they first used the device; events on it of the (max + 1)th and later are suspect."""
    most = cfg.rules.device_max_identities
    by_device: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.device_hash is not None:
            by_device[s.device_hash].append(s)
    for _, evs in sorted(by_device.items()):
        nth: dict[str, int] = {}
        for s in sorted(evs, key=lambda s: (s.at, s.id)):
            n = nth.setdefault(s.identity, len(nth) + 1)
            if n > most:
                put(
                    out,
                    (s.id, "F1_device_multi"),
                    Wanted(
                        FlagStatus.SUSPECT,
                        {"max_identities": most, "nth": n},
                        f"同一设备在本轮活动中出现第 {n} 个身份（上限 {most} 个）",
                    ),
                )


def idc_ip(sigs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F2: a submission from a data-centre / cloud / proxy address (decided on the full address
    when the page recorded it)."""
    if not cfg.rules.idc_enabled:
        return
    for s in sigs:
        if s.idc:
            put(out, (s.id, "F2_idc_ip"), Wanted(FlagStatus.SUSPECT, {}, "提交来自数据中心或云服务器地址"))


def geo_jumps(evs: Sequence[Sig], cfg: RecognitionConfig, out: Flags) -> None:
    """F5 on one identity's signals (time-ordered): submissions from ≥ 3 provinces within 60
    minutes are suspect (those with a known province inside such a window)."""
    r = cfg.rules
    window = timedelta(minutes=r.geo_window_min)
    located = [s for s in evs if s.province is not None]
    for inside in runs_with_distinct(located, lambda s: s.province, window, r.geo_provinces):
        for s in inside:
            put(
                out,
                (s.id, "F5_geo_jump"),
                Wanted(
                    FlagStatus.SUSPECT,
                    {"provinces": r.geo_provinces, "window_min": r.geo_window_min},
                    f"同一身份 {r.geo_window_min:g} 分钟内从 {r.geo_provinces} 个以上省份提交",
                ),
            )


def _device_clusters(sigs: Sequence[Sig]) -> list[list[Sig]]:
    """Devices joined by an identity seen on both: one operator's phones form one cluster."""
    parent: dict[str, str] = {}

    def root(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    first_device: dict[str, str] = {}
    for s in sigs:
        if s.device_hash is None:
            continue
        parent.setdefault(s.device_hash, s.device_hash)
        other = first_device.setdefault(s.identity, s.device_hash)
        a, b = root(other), root(s.device_hash)
        if a != b:
            parent[max(a, b)] = min(a, b)
    clusters: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.device_hash is not None:
            clusters[root(s.device_hash)].append(s)
    return [clusters[k] for k in sorted(clusters)]


def concentration(sigs: Sequence[Sig], part: str, cfg: RecognitionConfig, out: Flags) -> None:
    """B4 on one set of submissions with a web signal (a burst window's, or a brand's away
    answers): an IP prefix or a device cluster holding more than max_share of them, with at
    least min_n in the set, puts its submissions on watch."""
    r = cfg.rules
    n = len(sigs)
    if n < r.concentration_min_n:
        return
    by_prefix: dict[str, list[Sig]] = defaultdict(list)
    for s in sigs:
        if s.ip_prefix is not None:
            by_prefix[s.ip_prefix].append(s)
    groups = [("ip_prefix", by_prefix[k]) for k in sorted(by_prefix)]
    groups += [("device", c) for c in _device_clusters(sigs)]
    for by, members in groups:
        if len(members) / n <= r.concentration_max_share:
            continue
        what = "同一网段" if by == "ip_prefix" else "同一设备群"
        where = "突发时段" if part == "burst" else "非本单位答卷"
        params = {
            "by": by,
            "part": part,
            "max_share": r.concentration_max_share,
            "min_n": r.concentration_min_n,
        }
        for s in members:
            put(
                out,
                (s.id, "B4_concentration"),
                Wanted(FlagStatus.WATCH, params, f"{what}的提交在该品牌{where}中占比过高"),
            )


def brand_concentration(
    brand_id: int,
    brand_path: str | None,
    subs: Sequence[Sig],
    windows: Sequence[tuple[datetime, datetime]],
    cfg: RecognitionConfig,
    out: Flags,
) -> None:
    """B4 for one brand: its away answers over the whole round, then each of its burst windows
    ([start, end) from B1), always in this order so an event's verdict never depends on a run."""
    away = [s for s in subs if brand_path is None or not is_home(s, brand_id, brand_path)]
    concentration(away, "away", cfg, out)
    for lo, hi in sorted(set(windows)):
        concentration([s for s in subs if lo <= s.at < hi], "burst", cfg, out)
