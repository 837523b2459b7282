"""The per-group estimators of the 社会认可度 index (docs/method/estimators.md §3–§5): pure functions.

One (brand, group, component) at a time: the home cap, awareness (a Beta-shrunk share) and
reputation (a normal-shrunk mean), each with its interval and state. The index over a cohort is
``cohort_index``; reading the database is ``loader``. No database, no clock, so these can be
property-tested and re-run on a snapshot to reproduce it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.statistics import beta_ppf, t_ppf, wilson, z_quantile

INSUFFICIENT = "insufficient"
PROVISIONAL = "provisional"
OK = "ok"
UNDER_REVIEW = "under_review"

# Float sums of weights may land a hair under an integer threshold.
TOL = 1e-9


@dataclass(frozen=True)
class Obs:
    """One respondent's answer to one component: y ∈ {0, 1} (awareness) or s ∈ [0, 100]."""

    value: float
    weight: float = 1.0
    home: bool = False


@dataclass(frozen=True)
class CapResult:
    weights: tuple[float, ...]
    lam: float
    home_share_before: float
    home_share_after: float
    home_only: bool


def n_eff(weights: Sequence[float]) -> float:
    """Kish effective sample size (Σw)² / Σw²."""
    s1 = math.fsum(weights)
    s2 = math.fsum(w * w for w in weights)
    return s1 * s1 / s2 if s2 > 0 else 0.0


def home_cap(obs: Sequence[Obs], phi: float) -> CapResult:
    """Scale home weights down so their share is at most φ (docs/method/estimators.md §3)."""
    home = math.fsum(o.weight for o in obs if o.home)
    away = math.fsum(o.weight for o in obs if not o.home)
    total = home + away
    share = home / total if total > 0 else 0.0
    lam = 1.0
    if away > 0 and share > phi:
        lam = phi * away / ((1.0 - phi) * home)
    weights = tuple(o.weight * lam if o.home else o.weight for o in obs)
    capped_home = home * lam
    after = capped_home / (capped_home + away) if total > 0 else 0.0
    return CapResult(weights, lam, share, after, home_only=home > 0 and away == 0)


@dataclass(frozen=True)
class Sums:
    """Weighted sums of one side (home or away) of a cell: all the estimators need."""

    n: int = 0
    w: float = 0.0
    w2: float = 0.0
    wx: float = 0.0
    wx2: float = 0.0
    wtop: float = 0.0


@dataclass(frozen=True)
class Cell:
    """Sufficient statistics of one (brand, group, component): home and away sums.

    The home cap multiplies every home weight by the same λ, so capped totals follow from
    these sums; the database can aggregate them without shipping a million rows.
    """

    home: Sums = Sums()
    away: Sums = Sums()

    @classmethod
    def of(cls, obs: Sequence[Obs], top: Sequence[bool] | None = None) -> Cell:
        flags = list(top) if top is not None and len(top) == len(obs) else [False] * len(obs)

        def side(is_home: bool) -> Sums:
            rows = [(o, f) for o, f in zip(obs, flags, strict=True) if o.home == is_home]
            return Sums(
                n=len(rows),
                w=math.fsum(o.weight for o, _ in rows),
                w2=math.fsum(o.weight * o.weight for o, _ in rows),
                wx=math.fsum(o.weight * o.value for o, _ in rows),
                wx2=math.fsum(o.weight * o.value * o.value for o, _ in rows),
                wtop=math.fsum(o.weight for o, f in rows if f),
            )

        return cls(side(True), side(False))

    @property
    def n(self) -> int:
        return self.home.n + self.away.n


@dataclass(frozen=True)
class Capped:
    n: int
    w: float
    n_eff: float
    mean: float | None
    s2: float | None  # weighted S² with the n_eff/(n_eff−1) correction
    top: float | None
    lam: float
    share_before: float
    share_after: float
    home_only: bool


def capped(cell: Cell, phi: float) -> Capped:
    h, a = cell.home, cell.away
    total = h.w + a.w
    share = h.w / total if total > 0 else 0.0
    lam = phi * a.w / ((1.0 - phi) * h.w) if a.w > 0 and share > phi else 1.0
    w = lam * h.w + a.w
    w2 = lam * lam * h.w2 + a.w2
    ne = w * w / w2 if w2 > 0 else 0.0
    if w <= 0:
        return Capped(cell.n, 0.0, 0.0, None, None, None, lam, share, 0.0, False)
    mean = (lam * h.wx + a.wx) / w
    pop_var = max(0.0, (lam * h.wx2 + a.wx2) / w - mean * mean)
    s2 = pop_var * ne / (ne - 1.0) if ne > 1.0 + TOL else None
    top = 100.0 * (lam * h.wtop + a.wtop) / w
    return Capped(cell.n, w, ne, mean, s2, top, lam, share, lam * h.w / w, h.w > 0 and a.w == 0)


def _cell(data: Sequence[Obs] | Cell, top: Sequence[bool] | None = None) -> Cell:
    return data if isinstance(data, Cell) else Cell.of(data, top)


def component_state(neff: float, show: float, rank: float, home_only: bool = False) -> str:
    if neff + TOL < show:
        return INSUFFICIENT
    if neff + TOL < rank or home_only:
        return PROVISIONAL
    return OK


@dataclass(frozen=True)
class Component:
    kind: str  # "A" awareness, "R" reputation
    group: str
    n: int
    n_eff: float
    raw: float | None  # 0–100
    raw_ci: tuple[float, float] | None
    raw_var: float | None  # weighted S² (reputation), for the pooled SD
    estimate: float
    variance: float
    ci: tuple[float, float]
    state: str
    show_threshold: float
    rank_threshold: float
    prior: float  # 0–100
    m: float
    lam: float = 1.0
    home_share_before: float = 0.0
    home_share_after: float = 0.0
    home_only: bool = False
    # Literal 美誉度: share of q1 ≥ 4 among the answers (reputation only), 0–100.
    top_box: float | None = None

    @property
    def shrink_weight(self) -> float:
        return self.n_eff / (self.n_eff + self.m) if self.n_eff + self.m > 0 else 0.0


def awareness(
    obs: Sequence[Obs] | Cell,
    group: str,
    p0: float,
    m: float,
    show: float,
    rank: float,
    phi: float,
    level: float,
    exact: bool = True,
) -> Component:
    """Beta-shrunk weighted share of respondents aware of the brand (docs/method/estimators.md §4).

    ``exact=False`` uses the normal approximation for the interval (sensitivity pass only).
    """
    c = capped(_cell(obs), phi)
    ne = c.n_eff
    p_hat = c.mean
    k_eff = (p_hat or 0.0) * ne
    a = k_eff + m * p0
    b = ne - k_eff + m * (1.0 - p0)
    if a > 0 and b > 0:
        est = 100.0 * a / (a + b)
        var = 100.0**2 * a * b / ((a + b) ** 2 * (a + b + 1.0))
        tail = (1.0 - level) / 2.0
        if exact:
            ci = (100.0 * beta_ppf(tail, a, b), 100.0 * beta_ppf(1.0 - tail, a, b))
        else:
            half = z_quantile(1.0 - tail) * math.sqrt(var)
            ci = (max(0.0, est - half), min(100.0, est + half))
    else:  # no data and no prior strength: the prior point, with the widest honest interval
        est, var, ci = 100.0 * p0, 100.0**2 / 12.0, (0.0, 100.0)
    raw_ci = None
    if p_hat is not None:
        lo, hi = wilson(p_hat, ne, level)
        raw_ci = (100.0 * lo, 100.0 * hi)
    return Component(
        kind="A",
        group=group,
        n=c.n,
        n_eff=ne,
        raw=100.0 * p_hat if p_hat is not None else None,
        raw_ci=raw_ci,
        raw_var=None,
        estimate=est,
        variance=var,
        ci=ci,
        state=component_state(ne, show, rank, c.home_only),
        show_threshold=show,
        rank_threshold=rank,
        prior=100.0 * p0,
        m=m,
        lam=c.lam,
        home_share_before=c.share_before,
        home_share_after=c.share_after,
        home_only=c.home_only,
    )


def reputation(
    obs: Sequence[Obs] | Cell,
    group: str,
    mu0: float,
    sigma: float,
    m: float,
    nu0: float,
    show: float,
    rank: float,
    phi: float,
    level: float,
    top_box_flags: Sequence[bool] | None = None,
    exact: bool = True,
) -> Component:
    """Normal-shrunk weighted mean composite with a variance blend (docs/method/estimators.md §5)."""
    c = capped(_cell(obs, top_box_flags), phi)
    ne = c.n_eff
    z = z_quantile(0.5 + level / 2.0)
    mean = c.mean
    s2 = c.s2 or 0.0
    dof = max(ne - 1.0, 0.0)
    sigma_blend2 = (nu0 * sigma**2 + dof * s2) / (nu0 + dof) if nu0 + dof > 0 else s2
    denom = ne + m
    if denom > 0:
        est = (ne * (mean or 0.0) + m * mu0) / denom
        var = sigma_blend2 / denom
    else:
        est, var = mu0, sigma**2
    half = z * math.sqrt(var)
    ci = (max(0.0, est - half), min(100.0, est + half))
    raw_ci = None
    if mean is not None and ne > 1.0 + TOL:
        q = t_ppf(0.5 + level / 2.0, ne - 1.0) if exact else z
        half_raw = q * math.sqrt(s2 / ne)
        raw_ci = (mean - half_raw, mean + half_raw)
    top = c.top if (top_box_flags is not None or isinstance(obs, Cell)) else None
    return Component(
        kind="R",
        group=group,
        n=c.n,
        n_eff=ne,
        raw=mean,
        raw_ci=raw_ci,
        raw_var=c.s2 if mean is not None else None,
        estimate=est,
        variance=var,
        ci=ci,
        state=component_state(ne, show, rank, c.home_only),
        show_threshold=show,
        rank_threshold=rank,
        prior=mu0,
        m=m,
        lam=c.lam,
        home_share_before=c.share_before,
        home_share_after=c.share_after,
        home_only=c.home_only,
        top_box=top,
    )


def raw_component(obs: Sequence[Obs] | Cell, phi: float) -> tuple[float | None, float | None, float, bool]:
    """(raw mean, weighted S², n_eff, home only) after the home cap, for the cohort priors."""
    c = capped(_cell(obs), phi)
    return c.mean, c.s2, c.n_eff, c.home_only
