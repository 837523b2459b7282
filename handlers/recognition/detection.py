"""The detection rules of docs/method/fraud.md §5–§8 as pure verdicts on one window or one identity.

This module holds what every rule shares (the event and signal rows, a verdict, the home rule);
the rules are one module per family: ``burst_rules`` (B2, B3, B5, B8), ``hop_rules`` (F3, F3T),
``ring_rules`` (B7) and ``web_rules`` (F1, F2, F5, B4).

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

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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
