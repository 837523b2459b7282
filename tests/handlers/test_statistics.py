"""The shared statistics: quantiles against SciPy, means and their t intervals, the median."""

from __future__ import annotations

import math
import statistics

import pytest
from scipy import stats as sps

from handlers.statistics import mean, mean_interval, median, t_ppf


@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995])
def test_t_quantiles_match_scipy_for_df_1_to_200(p: float) -> None:
    for df in range(1, 201):
        assert t_ppf(p, df) == pytest.approx(float(sps.t.ppf(p, df)), rel=1e-9), df


@pytest.mark.parametrize("n", [2, 3, 31, 121])
def test_mean_interval_is_the_student_t_interval(n: int) -> None:
    values = [1 + (i * 7) % 5 for i in range(n)]
    centre = statistics.fmean(values)
    half = float(sps.t.ppf(0.975, n - 1)) * statistics.stdev(values) / math.sqrt(n)
    interval = mean_interval(values)
    assert mean(values) == centre
    assert interval is not None
    assert interval[0] == pytest.approx(centre - half, rel=1e-9)
    assert interval[1] == pytest.approx(centre + half, rel=1e-9)


def test_no_mean_without_values_and_no_interval_below_two() -> None:
    assert mean([]) is None and mean_interval([]) is None
    assert mean([4]) == 4.0 and mean_interval([4]) is None


def test_median_of_odd_even_and_unsorted() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
