"""docs/method/tests.md cases 1–11 and 13–14: properties of the estimators (Hypothesis)."""

from __future__ import annotations

import copy
import random

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from config.recognition import CONFIG_FILE, RecognitionConfigError, default_config, parse_config
from handlers.recognition.cohort_index import BrandInput, compute_brand, compute_cohort
from handlers.recognition.estimators import (
    INSUFFICIENT,
    OK,
    PROVISIONAL,
    Obs,
    awareness,
    component_state,
    home_cap,
    n_eff,
    reputation,
)
from handlers.recognition.report import canonical
from handlers.statistics import beta_ppf, median, wilson
from tests.handlers.recognition.test_worked_example import BING, JIA, PRIORS, YI

scores = st.lists(st.floats(0, 100, allow_nan=False), min_size=0, max_size=60)
weights = st.floats(0.1, 5.0)


def rep(values, mu0=70.0, m=20.0, **kw):
    return reputation([Obs(v) for v in values], "W", mu0, 20.0, m, 10.0, 10, 30, 0.5, 0.95, **kw)


def aw(ys, p0=0.3):
    return awareness([Obs(float(y)) for y in ys], "W", p0, 20.0, 20, 50, 0.5, 0.95)


@given(scores, st.floats(0, 100))
def test_shrinkage_bounds(values, mu0) -> None:
    c = rep(values, mu0)
    if not values:
        assert c.estimate == pytest.approx(mu0) and c.state == INSUFFICIENT
    else:
        lo, hi = sorted((mu0, c.raw))
        assert lo - 1e-9 <= c.estimate <= hi + 1e-9


@given(st.lists(st.booleans(), max_size=80), st.floats(0.01, 0.99))
def test_awareness_bounds(ys, p0) -> None:
    c = aw(ys, p0)
    raw = c.raw if c.raw is not None else 100 * p0
    lo, hi = sorted((100 * p0, raw))
    assert lo - 1e-9 <= c.estimate <= hi + 1e-9
    assert 0 <= c.ci[0] <= c.estimate <= c.ci[1] <= 100


def test_limits() -> None:
    assert rep([80.0] * 100_000).estimate == pytest.approx(80.0, abs=0.02)
    empty = aw([])
    assert empty.estimate == pytest.approx(30.0) and empty.state == INSUFFICIENT


@given(scores, st.floats(0, 100))
def test_monotonicity(values, extra) -> None:
    before = rep(values)
    after = rep([*values, extra])
    if extra > before.estimate:
        assert after.estimate >= before.estimate - 1e-9


@given(st.lists(st.booleans(), max_size=60))
def test_awareness_monotone(ys) -> None:
    base = aw(ys).estimate
    assert aw([*ys, True]).estimate >= base - 1e-9
    assert aw([*ys, False]).estimate <= base + 1e-9


@given(scores)
def test_interval_sanity(values) -> None:
    c = rep(values)
    assert 0 <= c.ci[0] <= c.estimate <= c.ci[1] <= 100
    assert c.ci[1] - c.ci[0] > 0
    same = rep([90.0] * 3)
    assert same.ci[1] - same.ci[0] > 1.0  # the ν0 blend: no zero-width interval


def test_width_non_increasing_in_n() -> None:
    widths = []
    for n in (10, 20, 40, 80, 160):
        vals = [60.0, 80.0] * (n // 2)
        c = rep(vals)
        widths.append(c.ci[1] - c.ci[0])
    assert widths == sorted(widths, reverse=True)


@settings(deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), weights, st.booleans()), min_size=1, max_size=40), st.randoms())
def test_invariances(rows, rnd) -> None:
    obs = [Obs(v, w, h) for v, w, h in rows]
    ref = reputation(obs, "W", 70, 20, 20, 10, 10, 30, 0.5, 0.95)
    shuffled = list(obs)
    rnd.shuffle(shuffled)
    perm = reputation(shuffled, "W", 70, 20, 20, 10, 10, 30, 0.5, 0.95)
    assert perm.estimate == pytest.approx(ref.estimate) and perm.n_eff == pytest.approx(ref.n_eff)
    scaled = reputation(
        [Obs(o.value, o.weight * 3.7, o.home) for o in obs], "W", 70, 20, 20, 10, 10, 30, 0.5, 0.95
    )
    assert scaled.estimate == pytest.approx(ref.estimate) and scaled.variance == pytest.approx(ref.variance)


@given(st.lists(weights, min_size=1, max_size=50))
def test_kish(ws) -> None:
    ne = n_eff(ws)
    assert 1 - 1e-9 <= ne <= len(ws) + 1e-9
    assert n_eff([2.0] * len(ws)) == pytest.approx(len(ws))


@given(st.integers(0, 300), st.integers(0, 100), st.floats(0.1, 0.9))
def test_home_cap(home, away, phi) -> None:
    obs = [Obs(90.0, 1.0, True)] * home + [Obs(60.0, 1.0, False)] * away
    cap = home_cap(obs, phi)
    if away > 0 and home > 0:
        assert cap.home_share_after <= phi + 1e-9
    if away == 0 and home > 0:
        assert cap.home_only
        c = reputation(obs, "W", 70, 20, 20, 10, 10, 30, phi, 0.95)
        assert c.state in (INSUFFICIENT, PROVISIONAL)


@settings(deadline=None)
@given(st.integers(0, 5000))
def test_group_isolation(flood) -> None:
    cfg = default_config()
    base = compute_brand(JIA, PRIORS, cfg)
    flooded_rep = dict(JIA.reputation)
    s_obs = JIA.reputation["S"]
    assert isinstance(s_obs, list)  # the worked example holds raw observations, not cells
    flooded_rep["S"] = list(s_obs) + [Obs(0.0)] * flood
    flooded = compute_brand(BrandInput(1, "甲", JIA.awareness, flooded_rep), PRIORS, cfg)
    assert abs(flooded.index - base.index) <= 0.30 * 100
    assert flooded.group_scores["W"] == base.group_scores["W"]
    assert flooded.group_scores["G"] == base.group_scores["G"]


@given(st.lists(st.floats(0, 100), min_size=3, max_size=20), st.floats(-1000, 1000), st.integers(0, 19))
def test_prior_robustness(values, new, idx) -> None:
    idx %= len(values)
    before = median(values)
    changed = list(values)
    changed[idx] = new
    after = median(changed)
    ordered = sorted(values)
    span = ordered[-1] - ordered[0]
    assert abs(after - before) <= span + 1e-9


def test_status_boundaries() -> None:
    assert component_state(9.999, 10, 30) == INSUFFICIENT
    assert component_state(10, 10, 30) == PROVISIONAL
    assert component_state(29.999, 10, 30) == PROVISIONAL
    assert component_state(30, 10, 30) == OK


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["recognition_index"]["groups"]["W"].__setitem__("weight", 0.5), "权重之和必须等于 1"),
        (lambda d: d["recognition_index"]["groups"]["S"].__setitem__("alpha_awareness", 1.5), "不能大于 1"),
        (lambda d: d["recognition_index"]["thresholds"]["show"].__setitem__("awareness", 80), "show ≤ rank"),
        (lambda d: d["recognition_index"].__setitem__("support_votes_in_index", True), "不得计入指数"),
        (lambda d: d["recognition_index"].pop("home_cap_phi"), "缺少字段"),
    ],
)
def test_config_validation(mutate, message) -> None:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    parse_config(copy.deepcopy(data))
    mutate(data)
    with pytest.raises(RecognitionConfigError, match=message):
        parse_config(data)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (9, 45), (232, 400)])
def test_wilson_against_statsmodels(k, n) -> None:
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    ours = wilson(k / n, n)
    assert ours == pytest.approx((lo, hi), abs=1e-9)


@settings(max_examples=50)
@given(st.floats(0.5, 500), st.floats(0.5, 500), st.floats(0.001, 0.999))
def test_beta_quantiles_against_scipy(a, b, p) -> None:
    assert beta_ppf(p, a, b) == pytest.approx(sps.beta.ppf(p, a, b), abs=1e-8)


def test_closed_form_interval_matches_monte_carlo() -> None:
    rng = random.Random(7)
    result = compute_brand(BING, PRIORS, default_config())
    draws = []
    comps = result.components
    cfg = default_config()
    for _ in range(100_000):
        total = 0.0
        for g in ("W", "S", "G"):
            gc = cfg.groups[g]
            r = rng.gauss(comps[(g, "R")].estimate, comps[(g, "R")].variance ** 0.5)
            a = 0.0
            if (g, "A") in comps:
                c = comps[(g, "A")]
                m = c.estimate / 100
                conc = m * (1 - m) / (c.variance / 100**2) - 1
                a = 100 * rng.betavariate(m * conc, (1 - m) * conc)
            total += gc.weight * (gc.alpha * a + (1 - gc.alpha) * r)
        draws.append(total)
    draws.sort()
    assert draws[2500] == pytest.approx(result.ci[0], abs=0.3)
    assert draws[97500 - 1] == pytest.approx(result.ci[1], abs=0.3)


def test_determinism_byte_identical() -> None:
    cfg = default_config()
    one = compute_cohort([JIA, YI, BING], cfg, seed_text="snap-1")
    two = compute_cohort([BING, JIA, YI], cfg, seed_text="snap-1")
    dump = lambda r: canonical({"b": [(b.name, b.index, b.ci, b.rank_range, b.status) for b in r.brands]})  # noqa: E731
    assert dump(one) == dump(two)
    assert all(b.rank_range is not None for b in one.brands if b.shown)


def test_cronbach_alpha_reference() -> None:
    from handlers.statistics import cronbach_alpha

    rows = [(4, 4, 8), (5, 4, 9), (2, 3, 4), (3, 3, 6), (5, 5, 10), (1, 2, 3), (4, 3, 7)]
    items = list(zip(*rows, strict=True))
    k = len(items)
    var = lambda xs: sum((x - sum(xs) / len(xs)) ** 2 for x in xs) / (len(xs) - 1)  # noqa: E731
    expected = k / (k - 1) * (1 - sum(var(i) for i in items) / var([sum(r) for r in rows]))
    got = cronbach_alpha([(tuple(float(x) for x in r), 1) for r in rows])
    assert got == pytest.approx(expected)
    assert cronbach_alpha([((4.0, 4.0, 8.0), 2)]) is None


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(5, 120), st.floats(40, 95)), min_size=3, max_size=12),
    st.integers(0, 10**6),
)
def test_tiers_agree_with_intervals(brands, seed) -> None:
    rng = random.Random(seed)
    inputs = []
    for i, (n, mean) in enumerate(brands):
        vals = [Obs(min(100.0, max(0.0, rng.gauss(mean, 15)))) for _ in range(n)]
        aw = [Obs(float(rng.random() < 0.4)) for _ in range(n)]
        g = [Obs(min(100.0, max(0.0, rng.gauss(mean, 8)))) for _ in range(6)]
        inputs.append(BrandInput(i + 1, f"b{i}", {"W": aw, "S": aw}, {"W": vals, "S": vals, "G": g}))
    result = compute_cohort(inputs, default_config(), seed_text=str(seed))
    m = result.reference_median
    for b in result.brands:
        if b.status != OK:
            assert b.tier is None
        else:
            assert m is not None
            expected = "A" if b.ci[0] > m else "C" if b.ci[1] < m else "B"
            assert b.tier == expected


def test_rank_ranges_match_numpy_quantiles() -> None:
    import numpy as np

    from handlers.recognition.cohort_index import rank_ranges, seed_from

    result = compute_cohort([JIA, YI, BING], default_config(), seed_text="r")
    shown = [b for b in result.brands if b.shown]
    ours = rank_ranges(shown, 4000, seed_from("q"))
    rng = np.random.default_rng(seed_from("q"))
    sample = rng.standard_normal((4000, len(shown))) * np.sqrt([b.variance for b in shown]) + [
        b.index for b in shown
    ]
    ranks = np.argsort(np.argsort(-sample, axis=1), axis=1) + 1
    lo = np.quantile(ranks, 0.025, axis=0, method="inverted_cdf")
    hi = np.quantile(ranks, 0.975, axis=0, method="inverted_cdf")
    assert ours == {b.brand_id: (int(lo[i]), int(hi[i])) for i, b in enumerate(shown)}
    assert ours[1] == (1, 1)  # 甲 is first in (almost) every draw
