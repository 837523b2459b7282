"""The 社会认可度 index maths (docs/method/estimators.md): pure functions, no database, no clock.

Inputs are per-(brand, group, component) lists of observations; outputs are immutable
results. Everything that reads the database lives elsewhere (``loader``), so these functions
can be property-tested and re-run on a snapshot to reproduce it exactly.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from config.recognition import GROUPS, RecognitionConfig
from handlers.statistics import beta_ppf, median, t_ppf, wilson, z_quantile

INSUFFICIENT = "insufficient"
PROVISIONAL = "provisional"
OK = "ok"
UNDER_REVIEW = "under_review"

STATUS_LABELS = {
    INSUFFICIENT: "样本不足",
    PROVISIONAL: "暂定",
    OK: "正常",
    UNDER_REVIEW: "数据核查中",
}
TIER_LABELS = {"A": "推荐推广", "B": "与平均水平无显著差异", "C": "重点提升"}
GROUP_LABELS = {"W": "职工", "S": "公众", "G": "党政"}
# Shortfall wording and order, as the method's worked example prints it.
SHORTFALL_ORDER = (("W", "R"), ("W", "A"), ("S", "A"), ("S", "R"), ("G", "R"))
SHORTFALL_LABELS = {
    ("W", "R"): "职工评价",
    ("W", "A"): "职工知晓",
    ("S", "A"): "公众知晓",
    ("S", "R"): "公众评价",
    ("G", "R"): "党政评议",
}
# Float sums of weights may land a hair under an integer threshold.
_TOL = 1e-9


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
    s2 = pop_var * ne / (ne - 1.0) if ne > 1.0 + _TOL else None
    top = 100.0 * (lam * h.wtop + a.wtop) / w
    return Capped(cell.n, w, ne, mean, s2, top, lam, share, lam * h.w / w, h.w > 0 and a.w == 0)


def _cell(data: Sequence[Obs] | Cell, top: Sequence[bool] | None = None) -> Cell:
    return data if isinstance(data, Cell) else Cell.of(data, top)


def component_state(neff: float, show: float, rank: float, home_only: bool = False) -> str:
    if neff + _TOL < show:
        return INSUFFICIENT
    if neff + _TOL < rank or home_only:
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
    if mean is not None and ne > 1.0 + _TOL:
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


# --- cohort ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrandInput:
    brand_id: int
    name: str
    awareness: Mapping[str, Sequence[Obs] | Cell] = field(default_factory=dict)  # W, S
    reputation: Mapping[str, Sequence[Obs] | Cell] = field(default_factory=dict)  # W, S, G
    top_box: Mapping[str, Sequence[bool]] = field(default_factory=dict)
    under_review: bool = False


@dataclass(frozen=True)
class GroupPrior:
    p0: float | None  # 0–1; None for G
    mu0: float
    sigma: float
    m_reputation: float
    source: str  # "cohort" (median of ok brands) or "fallback"


@dataclass(frozen=True)
class Priors:
    groups: Mapping[str, GroupPrior]
    m_awareness: float

    def to_json(self) -> dict[str, object]:
        return {
            "m_awareness": self.m_awareness,
            "groups": {
                g: {
                    "p0": p.p0,
                    "mu0": p.mu0,
                    "sigma": p.sigma,
                    "m_reputation": p.m_reputation,
                    "source": p.source,
                }
                for g, p in sorted(self.groups.items())
            },
        }


@dataclass(frozen=True)
class BrandResult:
    brand_id: int
    name: str
    components: Mapping[tuple[str, str], Component]  # (group, "A"|"R")
    group_scores: Mapping[str, float]
    index: float  # computed even when not shown (status insufficient)
    variance: float
    ci: tuple[float, float]
    raw_index: float | None
    status: str
    shortfall: tuple[tuple[str, int], ...]
    tier: str | None = None
    rank_range: tuple[int, int] | None = None

    @property
    def shown(self) -> bool:
        return self.status != INSUFFICIENT


@dataclass(frozen=True)
class CohortResult:
    brands: tuple[BrandResult, ...]
    priors: Priors
    reference_median: float | None


def _raw_component(obs: Sequence[Obs] | Cell, phi: float) -> tuple[float | None, float | None, float, bool]:
    """(raw mean, weighted S², n_eff, home only) after the home cap, for the cohort priors."""
    c = capped(_cell(obs), phi)
    return c.mean, c.s2, c.n_eff, c.home_only


def cohort_priors(inputs: Sequence[BrandInput], config: RecognitionConfig) -> Priors:
    """Medians and pooled SD over the brands whose component is ``ok`` (docs/method/estimators.md §7)."""
    phi = config.home_cap_phi
    result: dict[str, GroupPrior] = {}
    for g in GROUPS:
        gc = config.groups[g]
        p_values: list[float] = []
        if g != "G":
            for inp in inputs:
                mean, _, ne, home_only = _raw_component(inp.awareness.get(g, ()), phi)
                if (
                    mean is not None
                    and component_state(ne, config.show_awareness, config.rank_awareness, home_only) == OK
                ):
                    p_values.append(mean)
        means: list[float] = []
        pooled_num = pooled_den = 0.0
        per_brand: list[tuple[float, float]] = []
        for inp in inputs:
            obs = inp.reputation.get(g, ())
            mean, s2, ne, home_only = _raw_component(obs, phi)
            state = component_state(ne, gc.show_reputation, gc.rank_reputation, home_only)
            if mean is not None and state == OK:
                means.append(mean)
                if s2 is not None:
                    pooled_num += (ne - 1.0) * s2
                    pooled_den += ne - 1.0
                per_brand.append((mean, ne))
        enough = config.min_ok_brands_for_centre
        p0 = gc.fallback_p0
        if g != "G" and len(p_values) >= enough:
            p0 = median(p_values)
        use_cohort = len(means) >= enough and pooled_den > 0
        mu0 = median(means) if use_cohort else gc.fallback_mu0
        sigma = math.sqrt(pooled_num / pooled_den) if use_cohort else gc.fallback_sigma
        m_rep = gc.m_reputation
        if config.prior_mode == "empirical_bayes" and g != "G" and len(per_brand) >= config.eb_min_ok_brands:
            xs = [x for x, _ in per_brand]
            mx = math.fsum(xs) / len(xs)
            var_b = math.fsum((x - mx) ** 2 for x in xs) / (len(xs) - 1)
            noise = math.fsum(sigma**2 / ne for _, ne in per_brand) / len(per_brand)
            tau2 = max(0.0, var_b - noise)
            lo, hi = config.eb_clamp
            m_rep = hi if tau2 == 0 else min(hi, max(lo, sigma**2 / tau2))
        source = "cohort" if use_cohort else "fallback"
        result[g] = GroupPrior(p0=p0, mu0=mu0, sigma=sigma, m_reputation=m_rep, source=source)
    return Priors(groups=result, m_awareness=config.m_awareness)


def compute_brand(
    inp: BrandInput, priors: Priors, config: RecognitionConfig, exact: bool = True
) -> BrandResult:
    phi, level = config.home_cap_phi, config.level
    comps: dict[tuple[str, str], Component] = {}
    for g in GROUPS:
        gc, gp = config.groups[g], priors.groups[g]
        if gc.alpha > 0 and gp.p0 is not None:
            comps[(g, "A")] = awareness(
                inp.awareness.get(g, ()),
                g,
                gp.p0,
                priors.m_awareness,
                config.show_awareness,
                config.rank_awareness,
                phi,
                level,
                exact=exact,
            )
        flags = inp.top_box.get(g)
        comps[(g, "R")] = reputation(
            inp.reputation.get(g, ()),
            g,
            gp.mu0,
            gp.sigma,
            gp.m_reputation,
            config.nu0,
            gc.show_reputation,
            gc.rank_reputation,
            phi if g != "G" else 1.0,
            level,
            top_box_flags=flags
            if flags is not None and _sized(inp.reputation.get(g, ())) == len(flags)
            else None,
            exact=exact,
        )
    scores: dict[str, float] = {}
    index = var = 0.0
    raw_index: float | None = 0.0
    for g in GROUPS:
        gc = config.groups[g]
        a_comp, r_comp = comps.get((g, "A")), comps[(g, "R")]
        alpha = gc.alpha if a_comp is not None else 0.0
        gs = (alpha * a_comp.estimate if a_comp else 0.0) + (1.0 - alpha) * r_comp.estimate
        scores[g] = gs
        index += gc.weight * gs
        var += gc.weight**2 * (
            (alpha**2 * a_comp.variance if a_comp else 0.0) + (1.0 - alpha) ** 2 * r_comp.variance
        )
        raw_parts = [(alpha, a_comp.raw if a_comp else 0.0), (1.0 - alpha, r_comp.raw)]
        if raw_index is not None and all(v is not None for w, v in raw_parts if w > 0):
            raw_index += gc.weight * math.fsum(w * (v or 0.0) for w, v in raw_parts if w > 0)
        else:
            raw_index = None
    z = z_quantile(0.5 + level / 2.0)
    half = z * math.sqrt(var)
    ci = (max(0.0, index - half), min(100.0, index + half))
    weighted = [c for (g, _), c in comps.items() if config.groups[g].weight > 0]
    if comps[("W", "R")].state == INSUFFICIENT:
        status = INSUFFICIENT
    elif all(c.state == OK for c in weighted):
        status = OK
    else:
        status = PROVISIONAL
    if inp.under_review and status != INSUFFICIENT:
        status = UNDER_REVIEW
    shortfall = tuple(
        (SHORTFALL_LABELS[key], math.ceil(comps[key].rank_threshold - comps[key].n_eff - _TOL))
        for key in SHORTFALL_ORDER
        if key in comps and comps[key].n_eff + _TOL < comps[key].rank_threshold
    )
    return BrandResult(
        brand_id=inp.brand_id,
        name=inp.name,
        components=comps,
        group_scores=scores,
        index=index,
        variance=var,
        ci=ci,
        raw_index=raw_index,
        status=status,
        shortfall=shortfall,
    )


def _sized(data: Sequence[Obs] | Cell) -> int:
    return data.n if isinstance(data, Cell) else len(data)


def tier_for(ci: tuple[float, float], reference: float) -> str:
    """Funnel-plot rule: A above the median, C below, B otherwise (docs/method/ranking.md §4)."""
    if ci[0] > reference:
        return "A"
    if ci[1] < reference:
        return "C"
    return "B"


def seed_from(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rank_ranges(
    results: Sequence[BrandResult], draws: int, seed: int, level: float = 0.95
) -> dict[int, tuple[int, int]]:
    """Percentile interval of each brand's rank over draws RI_b ~ N(RI_b, Var_b)."""
    import numpy as np  # imported here: only snapshots need it

    if not results:
        return {}
    rng = np.random.default_rng(seed)
    means = np.array([r.index for r in results])
    sds = np.sqrt(np.array([r.variance for r in results]))
    sample = rng.standard_normal((draws, len(results))) * sds + means
    # rank 1 = highest; ties are measure-zero for continuous draws
    order = np.argsort(-sample, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(draws)[:, None]
    ranks[rows, order] = np.arange(1, len(results) + 1)
    # Percentiles of each column from its rank histogram (one bincount instead of 500 sorts);
    # the same as numpy's "inverted_cdf" quantile.
    n = len(results)
    hist = np.bincount((np.arange(n) * (n + 1) + ranks).ravel(), minlength=n * (n + 1)).reshape(n, n + 1)
    cdf = np.cumsum(hist, axis=1)
    tail = (1.0 - level) / 2.0
    out: dict[int, tuple[int, int]] = {}
    for i, r in enumerate(results):
        lo = int(np.searchsorted(cdf[i], tail * draws, side="left"))
        hi = int(np.searchsorted(cdf[i], (1.0 - tail) * draws, side="left"))
        out[r.brand_id] = (lo, hi)
    return out


def compute_cohort(
    inputs: Sequence[BrandInput],
    config: RecognitionConfig,
    priors: Priors | None = None,
    seed_text: str = "",
    reference_median: float | None = None,
    light: bool = False,
) -> CohortResult:
    """Priors (unless frozen ones are given), every brand, the median, tiers and rank ranges."""
    ordered = sorted(inputs, key=lambda i: i.brand_id)
    pri = priors or cohort_priors(ordered, config)
    # light: the with-suspects sensitivity pass needs indices only (no exact beta CIs, no ranks).
    results = [compute_brand(i, pri, config, exact=not light) for i in ordered]
    ok_indices = [r.index for r in results if r.status == OK]
    reference = reference_median
    if reference is None and ok_indices:
        reference = median(ok_indices)
    shown = [r for r in results if r.shown]
    ranges = {} if light else rank_ranges(shown, config.rank_draws, seed_from(seed_text), config.level)
    final: list[BrandResult] = []
    for r in results:
        tier = tier_for(r.ci, reference) if r.status == OK and reference is not None else None
        final.append(
            BrandResult(
                **{**r.__dict__, "tier": tier, "rank_range": ranges.get(r.brand_id)},
            )
        )
    final.sort(key=lambda r: (not r.shown, -round(r.index, 9), -round(r.ci[0], 9), r.brand_id))
    return CohortResult(brands=tuple(final), priors=pri, reference_median=reference)


def pairwise_probability(a: BrandResult, b: BrandResult) -> float:
    """P(RI_a > RI_b) under the normal approximation (docs/method/ranking.md §6)."""
    from handlers.statistics import normal_cdf

    spread = math.sqrt(a.variance + b.variance)
    if spread == 0:
        return 0.5 if a.index == b.index else float(a.index > b.index)
    return normal_cdf((a.index - b.index) / spread)
