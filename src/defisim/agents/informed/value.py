"""The value trader: the ABIDES ``ValueAgent`` (Byrd, Hybinette and Balch 2019): a
noisy private observation of the fundamental (here the reference feed), smoothed by an
exponentially weighted estimate, traded against the touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


class ValueTrader(MarketAgent):
    """Trades a noisy, smoothed private estimate of the fundamental against the touch.

    Each step in continuous trading (nothing in auctions), with ``P`` the feed's
    price (the fundamental), ``s = noise_bps / 10_000`` and ``Z ~ N(0, 1)`` from
    :attr:`rng`:

    - observation ``o = P (1 + s Z)``;
    - estimate ``e <- e + alpha (o - e)`` (the first observation starts ``e``), an
      exponentially weighted mean that reverts to the observations at rate
      ``alpha`` per step; with i.i.d. noise and a constant ``P`` its stationary
      standard deviation is ``P s sqrt(alpha / (2 - alpha))``;
    - with best bid ``b``, best ask ``a``, ``theta = threshold_bps / 10_000`` and
      position ``V``: if ``e > a (1 + theta)`` and ``V < position_limit`` it buys
      ``min(trade_size, position_limit - V)`` with an IOC limit at ``e / (1 + theta)``;
      else if ``e < b (1 - theta)`` and ``V > -position_limit`` the mirror sell, IOC
      limit at ``e / (1 - theta)``.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (the fundamental).
        noise_bps: standard deviation of the observation noise, basis points of ``P``.
        alpha: weight of a new observation in the estimate, in ``(0, 1]``.
        threshold_bps: edge needed to trade, basis points of the price.
        trade_size: contracts per order.
        position_limit: absolute position limit, contracts.

    Attributes:
        estimate: the current estimate ``e`` (``None`` before the first observation).
        buys, sells: orders sent on each side.
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        noise_bps: float = 20.0,
        alpha: float = 0.2,
        threshold_bps: float = 5.0,
        trade_size: float = 0.1,
        position_limit: float = 1.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if noise_bps < 0 or not 0 < alpha <= 1 or threshold_bps < 0:
            raise ValueError(f"{name}: need noise_bps >= 0, alpha in (0, 1], threshold_bps >= 0")
        if not trade_size > 0 or position_limit < 0:
            raise ValueError(f"{name}: need trade_size > 0 and position_limit >= 0")
        self.feed = feed
        self.noise_bps = noise_bps
        self.alpha = alpha
        self.threshold_bps = threshold_bps
        self.trade_size = trade_size
        self.position_limit = position_limit
        self.estimate: float | None = None
        self.buys = 0
        self.sells = 0

    def observe(self) -> float:
        """Draw one observation, update and return the estimate."""
        p = self.feed.price
        obs = p * (1 + self.noise_bps / 10_000 * float(self.rng.standard_normal()))
        if self.estimate is None:
            self.estimate = obs
        else:
            self.estimate += self.alpha * (obs - self.estimate)
        return self.estimate

    def step(self, sim: Simulation) -> None:
        m = self.market
        if sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        e = self.observe()
        bid, ask = sim.futures.best_prices(m)
        pos = sim.futures.position(self.name, m)
        th = self.threshold_bps / 10_000
        room_long = self.position_limit - pos
        room_short = self.position_limit + pos
        if ask is not None and e > ask * (1 + th) and room_long > 0:
            self.buys += 1
            self.send_with_retry(
                sim, "buy", min(self.trade_size, room_long), e / (1 + th), time_in_force="IOC"
            )
        elif bid is not None and e < bid * (1 - th) and room_short > 0:
            self.sells += 1
            self.send_with_retry(
                sim, "sell", min(self.trade_size, room_short), e / (1 - th), time_in_force="IOC"
            )
