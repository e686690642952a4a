"""Zero-intelligence, value and noisy-informed traders.

- :class:`ZeroIntelligenceTrader`: the zero-intelligence limit/cancel trader of Gode
  and Sunder (1993, "Allocative efficiency of markets with zero-intelligence
  traders"), in the event-driven form of the ABIDES noise / ZI agents (Byrd, Hybinette
  and Balch 2019, "ABIDES: Towards high-fidelity market simulation for AI research"):
  Poisson arrivals, each a cancel or a random limit order with a random time in force.
- :class:`ValueTrader`: the ABIDES ``ValueAgent``: a noisy private observation of the
  fundamental (here the reference feed), smoothed by an exponentially weighted
  estimate, traded against the touch.
- :class:`NoisyInformedTrader`: :class:`~defisim.agents.informed.InformedTrader`
  whose look-ahead signal is right only with probability ``accuracy``.

Every random draw comes from the agent's :attr:`~defisim.agents.Agent.rng`; every
action goes through :class:`~defisim.Simulation`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from .informed import InformedTrader
from .trading import MarketAgent, SizeDistribution, draw_size

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed

Anchor = Literal["mid", "reference"]

#: Times in force a :class:`ZeroIntelligenceTrader` draws, in the order of its probabilities.
ZI_TIFS = ("GTC", "GTT", "IOC")


class ZeroIntelligenceTrader(MarketAgent):
    """Poisson arrivals of random cancels and random limit orders.

    Arrivals form a Poisson process of intensity ``rate_per_s`` (exponential gaps,
    drawn from :attr:`rng`; :meth:`next_wakeup` returns the next arrival, and every
    arrival due at or before ``sim.now`` is handled when the agent wakes). Each
    arrival, while the market trades continuously (arrivals during auctions or
    outside trading states are dropped without a draw):

    1. with probability ``cancel_prob`` it is a *cancel*: one of the agent's resting
       orders, chosen uniformly, is cancelled (nothing happens when it has none);
    2. otherwise a *limit order*: buy with probability ``buy_prob``; log offset
       ``ln(X) ~ N(offset_mu, offset_sigma^2)`` with ``X`` in basis points, so ``X``
       is lognormal (median ``exp(offset_mu)`` bps); price ``c * exp(-X / 10_000)``
       for a buy and ``c * exp(+X / 10_000)`` for a sell (rounded onto the tick grid
       away from the centre), with ``c`` the book's mid (``anchor="mid"``, the
       reference price when a side is empty) or the reference price
       (``anchor="reference"``); time in force GTC, GTT or IOC with probabilities
       ``tif_probs``; a GTT order lives ``max(1, Exponential(mean_lifetime_s))``
       seconds; size from ``size_distribution`` with mean ``mean_size`` contracts.
       The order is drawn in full and then skipped (counted in :attr:`skipped`)
       when the agent already rests ``max_open_orders`` orders or it could take
       ``|position|`` above ``max_position``.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        rate_per_s: arrival intensity, arrivals per second (> 0).
        cancel_prob: probability that an arrival is a cancel.
        offset_mu, offset_sigma: mean and standard deviation of ``ln(X)``, ``X``
            the price offset in basis points.
        tif_probs: probabilities of GTC, GTT and IOC (non-negative, sum 1).
        mean_lifetime_s: mean GTT lifetime, seconds.
        buy_prob: probability of a buy.
        mean_size: mean size, contracts; ``size_distribution``: as
            :func:`~defisim.agents.trading.draw_size`.
        anchor: ``"mid"`` or ``"reference"`` (the centre ``c``).
        max_open_orders: cap on its resting orders.
        max_position: absolute position limit, contracts (``None``: none).
        start_s: time of the start of the arrival process, seconds since the start.

    Attributes:
        arrivals: arrivals handled; cancel_arrivals: of those, cancels; cancels:
            orders actually cancelled; placed: limit orders submitted; skipped:
            limit orders drawn but not sent.
        tif_counts: limit orders drawn per time in force.
        log_offset_sum, log_offset_sumsq: sums of ``ln(X)`` and ``ln(X)^2`` over the
            drawn limit orders (their sample moments).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 500_000.0,
        rate_per_s: float = 1 / 300,
        cancel_prob: float = 0.3,
        offset_mu: float = math.log(20.0),
        offset_sigma: float = 0.8,
        tif_probs: tuple[float, float, float] = (0.4, 0.4, 0.2),
        mean_lifetime_s: float = 3600.0,
        buy_prob: float = 0.5,
        mean_size: float = 0.05,
        size_distribution: SizeDistribution = "exponential",
        anchor: Anchor = "mid",
        max_open_orders: int = 20,
        max_position: float | None = 2.0,
        start_s: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not rate_per_s > 0 or not 0 <= cancel_prob <= 1 or not 0 <= buy_prob <= 1:
            raise ValueError(f"{name}: need rate_per_s > 0, cancel_prob and buy_prob in [0, 1]")
        if offset_sigma < 0 or not mean_size > 0 or not mean_lifetime_s > 0:
            raise ValueError(
                f"{name}: need offset_sigma >= 0, mean_size > 0 and mean_lifetime_s > 0"
            )
        if (
            len(tif_probs) != 3
            or min(tif_probs) < 0
            or not math.isclose(sum(tif_probs), 1.0, abs_tol=1e-9)
        ):
            raise ValueError(f"{name}: tif_probs must be 3 non-negative numbers summing to 1")
        if anchor not in ("mid", "reference"):
            raise ValueError(f"{name}: anchor must be 'mid' or 'reference', got {anchor!r}")
        self.feed = feed
        self.rate_per_s = rate_per_s
        self.cancel_prob = cancel_prob
        self.offset_mu = offset_mu
        self.offset_sigma = offset_sigma
        self.tif_probs = tuple(float(p) for p in tif_probs)
        self.mean_lifetime_s = mean_lifetime_s
        self.buy_prob = buy_prob
        self.mean_size = mean_size
        self.size_distribution: SizeDistribution = size_distribution
        self.anchor: Anchor = anchor
        self.max_open_orders = max_open_orders
        self.max_position = max_position
        self.start_s = start_s
        self.arrivals = 0
        self.cancel_arrivals = 0
        self.cancels = 0
        self.placed = 0
        self.skipped = 0
        self.tif_counts = dict.fromkeys(ZI_TIFS, 0)
        self.log_offset_sum = 0.0
        self.log_offset_sumsq = 0.0
        self._next: float | None = None

    def next_wakeup(self, now: float) -> float | None:
        """The time of the next arrival (seconds since the start)."""
        return self._next

    def step(self, sim: Simulation) -> None:
        now = sim.now
        if self._next is None:
            self._next = self.start_s + float(self.rng.exponential(1 / self.rate_per_s))
        while self._next <= now + 1e-9:
            self._next += float(self.rng.exponential(1 / self.rate_per_s))
            if sim.futures.in_auction(self.market) or not self.trading(sim, self.market):
                continue
            self._arrival(sim, now)

    def _arrival(self, sim: Simulation, now: float) -> None:
        rng, m = self.rng, self.market
        self.arrivals += 1
        if rng.random() < self.cancel_prob:
            self.cancel_arrivals += 1
            mine = sim.futures.open_orders(self.name, m)
            if mine:
                o = mine[int(rng.integers(len(mine)))]
                if sim.futures.cancel_order(self.name, m, o.order_id).accepted:
                    self.cancels += 1
            return
        side = "buy" if rng.random() < self.buy_prob else "sell"
        log_x = float(rng.normal(self.offset_mu, self.offset_sigma))
        tif = ZI_TIFS[int(rng.choice(3, p=self.tif_probs))]
        life = max(1.0, float(rng.exponential(self.mean_lifetime_s))) if tif == "GTT" else None
        size = self.size(sim, draw_size(rng, self.mean_size, self.size_distribution))
        self.log_offset_sum += log_x
        self.log_offset_sumsq += log_x * log_x
        self.tif_counts[tif] += 1
        mid = sim.futures.mid_price(m) if self.anchor == "mid" else None
        centre = self.feed.price if mid is None else mid
        x = math.exp(log_x) / 10_000
        price = centre * (math.exp(-x) if side == "buy" else math.exp(x))
        if (
            size <= 0
            or len(sim.futures.open_orders(self.name, m)) >= self.max_open_orders
            or not self._room(sim, side, size)
        ):
            self.skipped += 1
            return
        kwargs = {"time_in_force": tif}
        if life is not None:
            kwargs["expires_at"] = now + life
        self.send(sim, side, size, price, **kwargs)
        self.placed += 1

    def _room(self, sim: Simulation, side: str, size: float) -> bool:
        if self.max_position is None:
            return True
        pos = sim.futures.position(self.name, self.market)
        new = pos + size if side == "buy" else pos - size
        return abs(new) <= self.max_position + 1e-12 or abs(new) < abs(pos)


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


class _NoisySignalFeed:
    """The feed as a :class:`NoisyInformedTrader` sees it: ``price_ahead`` is its signal."""

    def __init__(self, feed: ReferencePriceFeed, owner: NoisyInformedTrader) -> None:
        self._feed = feed
        self._owner = owner

    def price_ahead(self, k_steps: int) -> float:
        return self._owner.signal(k_steps)

    def __getattr__(self, attr: str):
        return getattr(self._feed, attr)


class NoisyInformedTrader(InformedTrader):
    """An :class:`~defisim.agents.informed.InformedTrader` whose signal is sometimes wrong.

    Whenever the trader reads its look-ahead signal (each step in continuous
    trading), with ``P`` the reference price now and ``f`` the true price
    ``lookahead`` points ahead, it draws ``U ~ Uniform(0, 1)`` from :attr:`rng`: if
    ``U < accuracy`` the signal is ``f``, otherwise the wrong one ``2 P - f`` (the
    price moved the other way by the same amount). It then trades on the signal
    exactly as :class:`~defisim.agents.informed.InformedTrader`. With
    ``accuracy=1`` no draw is made and it behaves exactly like the parent.

    Args:
        accuracy: probability that the signal is the true future price, in ``[0, 1]``.
        the rest: see :class:`~defisim.agents.informed.InformedTrader`.

    Attributes:
        true_feed: the real feed (``feed`` is the view that yields the signal).
        signals: signals read; wrong_signals: of those, replaced by the wrong one.
    """

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        accuracy: float = 0.7,
        **kwargs,
    ) -> None:
        super().__init__(name, market, feed, **kwargs)
        if not 0 <= accuracy <= 1:
            raise ValueError(f"{name}: accuracy must be in [0, 1], got {accuracy!r}")
        self.accuracy = accuracy
        self.true_feed = feed
        self.feed = _NoisySignalFeed(feed, self)  # type: ignore[assignment]
        self.signals = 0
        self.wrong_signals = 0

    def signal(self, k_steps: int) -> float:
        """The signal for ``k_steps`` ahead: the truth with probability ``accuracy``."""
        f = self.true_feed.price_ahead(k_steps)
        self.signals += 1
        if self.accuracy >= 1 or self.rng.random() < self.accuracy:
            return f
        self.wrong_signals += 1
        return 2 * self.true_feed.price - f
