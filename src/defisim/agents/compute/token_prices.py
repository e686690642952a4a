"""Token prices in USD: correlated GBM for ETH and the L2 token, the payment token (spec 6).

Defaults (spec section 6, "Token prices"): ETH S0 = 3000, mu = 0, sigma = 0.8; the
L2 token S0 = 2.0, mu = 0, sigma = 1.0; correlation 0.7. The payment token (USDC)
is fixed at 1 USD, or ``1 + X`` with ``X`` an optional Ornstein-Uhlenbeck depeg
(floored at 0). Any token can replay a file instead (:mod:`.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .replay import ReplaySeries
from .stochastic import CorrelatedGBM, CorrelatedOU, equicorrelation

__all__ = ["DepegParams", "GbmToken", "TokenPrices", "DEFAULT_TOKENS"]


@dataclass(frozen=True)
class GbmToken:
    """One GBM-driven token: symbol, first price (USD, > 0), annual drift and volatility."""

    symbol: str
    s0: float
    mu: float = 0.0
    sigma: float = 0.0


DEFAULT_TOKENS = (GbmToken("ETH", 3000.0, 0.0, 0.8), GbmToken("L2", 2.0, 0.0, 1.0))
"""Spec section 6 defaults: ETH (L1) and the L2 token."""


@dataclass(frozen=True)
class DepegParams:
    """The payment token's optional depeg: price ``max(0, 1 + X)``, X an OU process.

    Attributes:
        kappa: mean-reversion rate per second (> 0); default a 1 h half-life.
        s: stationary standard deviation of X (>= 0).
        x0: starting X.
    """

    kappa: float = math.log(2) / 3600
    s: float = 0.0
    x0: float = 0.0


class TokenPrices:
    """USD prices of the chain's tokens, advanced per runner step.

    Args:
        rng: named stream for the GBM shocks (2 normals per step by default).
        tokens: the GBM tokens (default :data:`DEFAULT_TOKENS`).
        rho: correlation between every pair of GBM shocks (default 0.7), or give
            ``corr``, a full correlation matrix.
        payment_symbol: the payment token (fixed at 1 USD unless ``depeg``).
        depeg: optional :class:`DepegParams`; then ``depeg_rng`` (its own named
            stream) is required.
        replay: symbol -> :class:`ReplaySeries`; a replayed token takes the file's
            value at each time instead of its generated one (the draws still
            happen, so replaying one token does not change another's path).

    Raises:
        ValueError: duplicate or unknown symbols, bad parameters (see
            :class:`~.stochastic.CorrelatedGBM`), ``depeg`` without ``depeg_rng``.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        tokens: tuple[GbmToken, ...] = DEFAULT_TOKENS,
        rho: float = 0.7,
        corr=None,
        payment_symbol: str = "USDC",
        depeg: DepegParams | None = None,
        depeg_rng: np.random.Generator | None = None,
        replay: Mapping[str, ReplaySeries] | None = None,
    ) -> None:
        symbols = [t.symbol for t in tokens] + [payment_symbol]
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"token symbols must be distinct, got {symbols}")
        n = len(tokens)
        if corr is None:
            corr = equicorrelation(n, rho)
        self.symbols = tuple(t.symbol for t in tokens)
        self.payment_symbol = payment_symbol
        self.gbm = CorrelatedGBM(
            [t.s0 for t in tokens], [t.mu for t in tokens], [t.sigma for t in tokens], corr, rng
        )
        self.depeg: CorrelatedOU | None = None
        if depeg is not None:
            if depeg_rng is None:
                raise ValueError("depeg needs its own named stream: pass depeg_rng")
            self.depeg = CorrelatedOU([depeg.x0], depeg.kappa, [depeg.s], [[1.0]], depeg_rng)
        self.replay = dict(replay or {})
        unknown = set(self.replay) - set(symbols)
        if unknown:
            raise ValueError(f"replay for unknown token(s) {sorted(unknown)}; known: {symbols}")
        self.t_s = 0.0

    def step(self, dt_s: float) -> dict[str, float]:
        """Advance every process by ``dt_s`` seconds; return :meth:`prices`."""
        self.gbm.step(dt_s)
        if self.depeg is not None:
            self.depeg.step(dt_s)
        self.t_s += float(dt_s)
        return self.prices()

    def prices(self) -> dict[str, float]:
        """Symbol -> USD price now (replayed tokens from their file)."""
        out = {sym: float(p) for sym, p in zip(self.symbols, self.gbm.s, strict=True)}
        out[self.payment_symbol] = (
            1.0 if self.depeg is None else max(0.0, 1.0 + float(self.depeg.x[0]))
        )
        for sym, series in self.replay.items():
            out[sym] = series.at(self.t_s)
        return out
