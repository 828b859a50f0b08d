"""Mean and 95% confidence interval over seeds (Student's t), without scipy."""

from __future__ import annotations

import math
from typing import Iterable


def t_two_sided_coverage(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3-26.7.4, closed form)."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        series, term = 0.0, cos
        for k in range(1, (df - 1) // 2 + 1):  # cos + (2/3)cos^3 + (2*4)/(3*5)cos^5 + ... up to cos^(df-2)
            series += term
            term *= cos * cos * (2 * k) / (2 * k + 1)
        return (2 / math.pi) * (theta + sin * series) if df > 1 else 2 * theta / math.pi
    series, term = 0.0, 1.0
    for k in range(1, df // 2 + 1):  # 1 + (1/2)cos^2 + (1*3)/(2*4)cos^4 + ... up to cos^(df-2)
        series += term
        term *= cos * cos * (2 * k - 1) / (2 * k)
    return sin * series


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (half-width factor of a 95% CI)."""
    if df < 1:
        raise ValueError(f"df: expected at least 1, got {df}")
    low, high = 0.0, 1e3
    for _ in range(200):  # bisection on a monotone CDF; 200 halvings is far below float resolution
        middle = (low + high) / 2
        if t_two_sided_coverage(middle, df) < 0.95:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def mean_ci95(values: Iterable[float]) -> tuple[float, float, int]:
    """``(mean, half-width of the 95% CI, n)`` over the finite values; the half-width is NaN when n < 2."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(finite)
    if n == 0:
        return math.nan, math.nan, 0
    mean = sum(finite) / n
    if n < 2:
        return mean, math.nan, n
    variance = sum((v - mean) ** 2 for v in finite) / (n - 1)
    return mean, t_quantile_975(n - 1) * math.sqrt(variance / n), n
