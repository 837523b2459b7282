"""docs/method/example.md reproduced end to end (docs/method/tests.md case 12), to ±0.05."""

from __future__ import annotations

import math

import pytest

from config.recognition import default_config
from handlers.recognition.cohort_index import (
    BrandInput,
    GroupPrior,
    Priors,
    compute_brand,
    compute_cohort,
    pairwise_probability,
    tier_for,
)
from handlers.recognition.estimators import OK, PROVISIONAL, Obs


def sample(n: int, mean: float, sd: float, home: bool = False) -> list[Obs]:
    """n answers with exactly this mean and sample SD (an evenly spaced pattern, rescaled)."""
    pattern = [i - (n - 1) / 2 for i in range(n)]
    scale = math.sqrt(sum(p * p for p in pattern) / (n - 1))
    return [Obs(mean + sd * p / scale, 1.0, home) for p in pattern]


def ballots(aware: int, total: int) -> list[Obs]:
    return [Obs(1.0)] * aware + [Obs(0.0)] * (total - aware)


PRIORS = Priors(
    groups={
        "W": GroupPrior(p0=0.30, mu0=72, sigma=20, m_reputation=20, source="cohort"),
        "S": GroupPrior(p0=0.12, mu0=70, sigma=22, m_reputation=20, source="cohort"),
        "G": GroupPrior(p0=None, mu0=76, sigma=9, m_reputation=3, source="cohort"),
    },
    m_awareness=20,
)
M = 61.0

JIA = BrandInput(
    1,
    "甲",
    awareness={"W": ballots(232, 400), "S": ballots(60, 300)},
    reputation={
        "W": sample(1200, 88, 12, home=True) + sample(300, 78, 18),
        "S": sample(80, 76, 20),
        "G": sample(7, 80, 8),
    },
)
YI = BrandInput(
    2,
    "乙",
    awareness={"W": ballots(9, 45), "S": ballots(4, 40)},
    reputation={"W": sample(12, 94, 9), "S": sample(6, 96, 6), "G": sample(5, 86, 6)},
)
BING = BrandInput(
    3,
    "丙",
    awareness={"W": ballots(48, 150), "S": ballots(18, 120)},
    reputation={"W": sample(65, 75, 19), "S": sample(35, 71, 22), "G": sample(6, 77, 10)},
)


def close(value: float | None, expected: float, tol: float = 0.05) -> bool:
    return value is not None and abs(value - expected) <= tol


def test_home_cap_numbers_for_jia() -> None:
    comp = compute_brand(JIA, PRIORS, default_config()).components[("W", "R")]
    assert comp.lam == pytest.approx(0.25)
    assert comp.raw == pytest.approx(83.0)
    assert comp.n_eff == pytest.approx(960.0)
    assert comp.home_share_before == pytest.approx(0.8)
    assert comp.home_share_after == pytest.approx(0.5)
    assert math.sqrt(comp.raw_var or 0) == pytest.approx(16.1, abs=0.05)


@pytest.mark.parametrize(
    ("brand", "key", "raw", "raw_ci", "est", "ci"),
    [
        (JIA, ("W", "A"), 58.0, (53.1, 62.7), 56.7, (51.9, 61.4)),
        (JIA, ("W", "R"), 83.0, (82.0, 84.0), 82.8, (81.8, 83.8)),
        (JIA, ("S", "A"), 20.0, (15.9, 24.9), 19.5, (15.4, 24.0)),
        (JIA, ("S", "R"), 76.0, (71.5, 80.5), 74.8, (70.8, 78.8)),
        (JIA, ("G", "R"), 80.0, (72.6, 87.4), 78.8, (73.4, 84.2)),
        (YI, ("W", "A"), 20.0, (10.9, 33.8), 23.1, (13.8, 34.0)),
        (YI, ("W", "R"), 94.0, (88.3, 99.7), 80.2, (75.0, 85.5)),
        (YI, ("S", "A"), 10.0, (4.0, 23.1), 10.7, (4.2, 19.5)),
        (YI, ("S", "R"), 96.0, None, 76.0, (69.0, 83.0)),
        (YI, ("G", "R"), 86.0, (78.6, 93.4), 82.2, (76.5, 88.0)),
        (BING, ("W", "A"), 32.0, (25.1, 39.8), 31.8, (25.0, 38.9)),
        (BING, ("W", "R"), 75.0, (70.3, 79.7), 74.3, (70.2, 78.4)),
        (BING, ("S", "A"), 15.0, (9.7, 22.5), 14.6, (9.2, 20.9)),
        (BING, ("S", "R"), 71.0, (63.4, 78.6), 70.6, (64.8, 76.5)),
        (BING, ("G", "R"), 77.0, (66.5, 87.5), 76.7, (70.6, 82.8)),
    ],
)
def test_component_rows(brand, key, raw, raw_ci, est, ci) -> None:
    comp = compute_brand(brand, PRIORS, default_config()).components[key]
    assert close(comp.raw, raw)
    if raw_ci is not None:
        assert comp.raw_ci is not None, comp.raw_ci
        assert close(comp.raw_ci[0], raw_ci[0]) and close(comp.raw_ci[1], raw_ci[1]), comp.raw_ci
    assert close(comp.estimate, est), comp.estimate
    assert close(comp.ci[0], ci[0]) and close(comp.ci[1], ci[1]), comp.ci


@pytest.mark.parametrize(
    ("brand", "gs", "raw_index", "ri", "ci"),
    [
        (JIA, {"W": 72.3, "S": 52.7, "G": 78.8}, 69.3, 68.4, (66.4, 70.4)),
        (YI, {"W": 57.4, "S": 49.9, "G": 82.2}, 70.0, 62.6, (59.5, 65.7)),
        (BING, {"W": 57.3, "S": 48.2, "G": 76.7}, 60.8, 60.4, (57.7, 63.0)),
    ],
)
def test_index_rows(brand, gs, raw_index, ri, ci) -> None:
    result = compute_brand(brand, PRIORS, default_config())
    for g, value in gs.items():
        assert close(result.group_scores[g], value), (g, result.group_scores[g])
    assert close(result.raw_index, raw_index)
    assert close(result.index, ri)
    assert close(result.ci[0], ci[0]) and close(result.ci[1], ci[1])


def test_statuses_tiers_and_shortfall() -> None:
    cohort = compute_cohort(
        [JIA, YI, BING], default_config(), priors=PRIORS, reference_median=M, seed_text="ex"
    )
    by_name = {b.name: b for b in cohort.brands}
    assert [b.name for b in cohort.brands] == ["甲", "乙", "丙"]
    assert by_name["甲"].status == OK and by_name["甲"].tier == "A"
    assert by_name["乙"].status == PROVISIONAL and by_name["乙"].tier is None
    assert by_name["丙"].status == OK and by_name["丙"].tier == "B"
    assert by_name["乙"].shortfall == (("职工评价", 18), ("职工知晓", 5), ("公众知晓", 10), ("公众评价", 24))
    assert by_name["乙"].components[("S", "R")].state == "insufficient"
    assert tier_for(by_name["丙"].ci, M) == "B"


def test_pairwise_probabilities() -> None:
    cfg = default_config()
    jia, yi, bing = (compute_brand(b, PRIORS, cfg) for b in (JIA, YI, BING))
    assert pairwise_probability(jia, yi) == pytest.approx(0.999, abs=0.001)
    assert pairwise_probability(jia, bing) > 0.999
    assert pairwise_probability(yi, bing) == pytest.approx(0.855, abs=0.01)


def test_yi_with_enough_answers_becomes_recommended() -> None:
    yi_more = BrandInput(
        2,
        "乙",
        awareness={"W": ballots(24, 120), "S": ballots(10, 100)},
        reputation={"W": sample(60, 94, 9), "S": sample(30, 96, 6), "G": sample(5, 86, 6)},
    )
    result = compute_brand(yi_more, PRIORS, default_config())
    assert close(result.components[("W", "R")].estimate, 88.5)
    # The reference method's example printed R_S 85.0, but docs/method/estimators.md §5 gives
    # (30·96 + 20·70)/50 = 85.6 (example.md §5); the formula wins, which moves RI by
    # 0.3·0.6·0.6 ≈ 0.11 above the printed 65.9 [63.6, 68.2].
    assert close(result.components[("S", "R")].estimate, 85.6)
    assert close(result.index, 65.9, 0.12)
    assert close(result.ci[0], 63.6, 0.12) and close(result.ci[1], 68.2, 0.12)
    assert result.status == OK
    assert tier_for(result.ci, M) == "A"
