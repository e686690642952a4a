"""Risk models: the risk factors used by margins (spec section 3, 0018-RSKM)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from defisim.numeric.fixed import to_fixed


@dataclass(frozen=True)
class RiskFactors:
    """Risk factors as fixed-point integers (1e-18 units): ``long`` and ``short``."""

    long: int
    short: int


def lognormal_risk_factors(
    risk_aversion: float, tau: float, mu: float, r: float, sigma: float
) -> tuple[float, float]:
    """Expected-shortfall risk factors of the log-normal model.

    With ``m = (mu - sigma^2/2) tau`` and ``s = sigma sqrt(tau)`` (lambda the risk
    aversion):

    - ``RF_long  = 1 - (1/lambda) exp(m + s^2/2) Phi(Phi^-1(lambda) - s)``
    - ``RF_short = (1/lambda) exp(m + s^2/2) (1 - Phi(Phi^-1(1 - lambda) - s)) - 1``

    Source: ``../shared/specs/futures-market.md`` section 3 (Vega 0018-RSKM).
    ``r`` is accepted for completeness; like Vega core, the factors do not use it.
    Test vector lognormal-1: lambda 0.001, tau 0.0001, mu 0, sigma 1.5 gives
    (0.0493518, 0.0516933).

    Raises:
        ValueError: lambda outside (0, 1), negative tau or sigma.
    """
    if not 0 < risk_aversion < 1:
        raise ValueError(f"risk_aversion must be in (0, 1), got {risk_aversion}")
    if tau < 0 or sigma < 0:
        raise ValueError(f"tau and sigma must be >= 0, got tau={tau}, sigma={sigma}")
    lam = risk_aversion
    m = (mu - sigma * sigma / 2) * tau
    s = sigma * math.sqrt(tau)
    growth = math.exp(m + s * s / 2)
    rf_long = 1 - growth / lam * norm.cdf(norm.ppf(lam) - s)
    rf_short = growth / lam * (1 - norm.cdf(norm.ppf(1 - lam) - s)) - 1
    return float(rf_long), float(rf_short)


def risk_factors_for(model) -> RiskFactors:
    """Fixed-point :class:`RiskFactors` of a ``SimpleRiskModel`` or ``LogNormalRiskModel``."""
    if model.kind == "simple":
        return RiskFactors(to_fixed(model.factor_long), to_fixed(model.factor_short))
    rl, rs = lognormal_risk_factors(model.risk_aversion, model.tau, model.mu, model.r, model.sigma)
    return RiskFactors(to_fixed(rl), to_fixed(rs))
