"""The statistics the survey results and the recognition index share, in plain Python (no SciPy).

The one place for quantiles and intervals: survey means and their t intervals, the index's
shares (Wilson), quantiles and Cronbach's α. Never a table of quantiles.

Regularised incomplete beta by Lentz's continued fraction, its inverse by safeguarded Newton
steps, Student-t quantiles through the beta relation, the Wilson interval. Tests compare them
with SciPy and statsmodels.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from statistics import NormalDist

_EPS = 1e-15
_TINY = 1e-300


def z_quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


def normal_cdf(x: float) -> float:
    return NormalDist().cdf(x)


def _betacf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def beta_ppf(p: float, a: float, b: float) -> float:
    """Inverse of beta_cdf in x, to ~1e-12."""
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    # Start from the normal approximation: Newton then needs a handful of steps, not dozens.
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    x = min(max(mean + z_quantile(p) * sd, 1e-12), 1.0 - 1e-12)
    log_b = _log_beta(a, b)
    for _ in range(200):
        f = beta_cdf(x, a, b) - p
        if abs(f) < 1e-13:
            return x
        if f > 0:
            hi = x
        else:
            lo = x
        pdf = math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_b) if 0 < x < 1 else 0.0
        step = x - f / pdf if pdf > 0 else -1.0
        # Newton when it stays inside the bracket, bisection otherwise.
        x = step if lo < step < hi else (lo + hi) / 2.0
        if hi - lo < 1e-15:
            break
    return x


def t_ppf(p: float, df: float) -> float:
    """Student-t quantile for any real df > 0 (via the incomplete beta)."""
    if p == 0.5:
        return 0.0
    tail = min(p, 1.0 - p)
    x = beta_ppf(2.0 * tail, df / 2.0, 0.5)
    t = math.sqrt(df * (1.0 - x) / x)
    return t if p > 0.5 else -t


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None without values."""
    return statistics.fmean(values) if values else None


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval for the mean (exact quantile at every df); None below two values."""
    n = len(values)
    if n < 2:
        return None
    centre = statistics.fmean(values)
    half = t_ppf(0.5 + level / 2.0, n - 1) * statistics.stdev(values) / math.sqrt(n)
    return (centre - half, centre + half)


def wilson(p_hat: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a share p̂ observed on (effective) n."""
    if n <= 0:
        return (0.0, 1.0)
    z = z_quantile(0.5 + level / 2.0)
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p_hat + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(max(p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n), 0.0))
    return (max(0.0, centre - half), min(1.0, centre + half))


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def cronbach_alpha(patterns: list[tuple[tuple[float, ...], int]]) -> float | None:
    """Cronbach's α from (item vector, count) pairs; None below 3 answers or without variance."""
    n = sum(c for _, c in patterns)
    if n < 3 or not patterns:
        return None
    k = len(patterns[0][0])

    def var(values: list[tuple[float, int]]) -> float:
        mean = sum(v * c for v, c in values) / n
        return sum(c * (v - mean) ** 2 for v, c in values) / (n - 1)

    item_var = sum(var([(x[j], c) for x, c in patterns]) for j in range(k))
    total_var = var([(sum(x), c) for x, c in patterns])
    if total_var <= 0 or k < 2:
        return None
    return k / (k - 1) * (1.0 - item_var / total_var)
