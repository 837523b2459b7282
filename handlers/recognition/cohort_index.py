"""The 社会认可度 index of a cohort (docs/method/estimators.md §7, ranking.md): priors, tiers, rank ranges.

Pure functions over the per-group components of ``estimators``: the cohort's priors, each
brand's group scores and index, the reference median, tiers and rank ranges.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from config.recognition import GROUPS, RecognitionConfig
from handlers.recognition.estimators import (
    INSUFFICIENT,
    OK,
    PROVISIONAL,
    TOL,
    UNDER_REVIEW,
    Cell,
    Component,
    Obs,
    awareness,
    component_state,
    raw_component,
    reputation,
)
from handlers.statistics import median, z_quantile

# Shortfall wording and order, as the method's worked example prints it.
SHORTFALL_ORDER = (("W", "R"), ("W", "A"), ("S", "A"), ("S", "R"), ("G", "R"))
SHORTFALL_LABELS = {
    ("W", "R"): "职工评价",
    ("W", "A"): "职工知晓",
    ("S", "A"): "公众知晓",
    ("S", "R"): "公众评价",
    ("G", "R"): "党政评议",
}


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


def cohort_priors(inputs: Sequence[BrandInput], config: RecognitionConfig) -> Priors:
    """Medians and pooled SD over the brands whose component is ``ok`` (docs/method/estimators.md §7)."""
    phi = config.home_cap_phi
    result: dict[str, GroupPrior] = {}
    for g in GROUPS:
        gc = config.groups[g]
        p_values: list[float] = []
        if g != "G":
            for inp in inputs:
                mean, _, ne, home_only = raw_component(inp.awareness.get(g, ()), phi)
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
            mean, s2, ne, home_only = raw_component(obs, phi)
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
        (SHORTFALL_LABELS[key], math.ceil(comps[key].rank_threshold - comps[key].n_eff - TOL))
        for key in SHORTFALL_ORDER
        if key in comps and comps[key].n_eff + TOL < comps[key].rank_threshold
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
