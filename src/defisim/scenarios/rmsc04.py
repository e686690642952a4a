"""``rmsc04``: an order-book day shaped like ABIDES' RMSC04 reference configuration.

ABIDES (Byrd, Hybinette, Balch 2019; ``abides-markets`` ``configs/rmsc04.py``) runs
one stock for one trading day, 09:30-16:00, with 1,000 noise agents, 102 value
agents, 12 momentum agents and 2 adaptive (percent-of-volume) market makers
around a sparse mean-reverting fundamental. Here the same population trades one
cash-settled futures market ``RMSC04`` (USD, price ``P`` in dollars with a 0.01
tick, so one tick is one ABIDES cent; whole-share sizes,
``position_decimal_places=0``), settled at the fundamental at the end.

Time: one step is ``step_seconds`` (default 1 s), so the day is 23,400 steps.
Every agent except the fundamental feed schedules its own wake-ups through
:meth:`~defisim.agents.Agent.next_wakeup`, so an idle agent costs nothing and a
step in which nobody is due only pays the block (``end_block``). 1 s is the
coarsest step that keeps the 10 s / 20 s wake grids of the makers and momentum
traders exact; arrivals of the Poisson value agents and the noise agents are
rounded up to the next whole second (ABIDES uses nanoseconds).

Mapping of the ABIDES agents (ABIDES values are those of the RMSC04 config as
given in the brief; where our agent differs the difference is stated):

- fundamental: ABIDES' ``SparseMeanRevertingOracle`` with ``r_bar = 100_000``
  cents, ``kappa = 1.67e-16`` per ns, ``sigma_s = 0`` and ``fund_vol = 5e-5``
  cents per sqrt(ns) becomes an exact Ornstein-Uhlenbeck path sampled every step
  (:func:`defisim.prices.ou_path`) with mean ``r_bar / 100`` dollars, ``theta =
  kappa * 1e9 * SECONDS_PER_YEAR`` (per year) and ``sigma = fund_vol * sqrt(1e9 *
  SECONDS_PER_YEAR) / 100`` (dollars per sqrt(year)); the megashocks are left out.
  It is read by :class:`~defisim.agents.ReferencePriceFeed` (phase 0, every step).
- 1,000 noise agents (:class:`RMSCNoiseTrader`): each wakes once at a uniform
  random time of the continuous session and sends one order: a random side and a
  uniform whole size in ``[noise_min_size, noise_max_size]``, a limit at the
  opposite touch (a buy at the best ask, a sell at the best bid; the fundamental
  when that side is empty), GTC, so it takes what is there and rests the rest.
- 102 value agents (:class:`RMSCValueTrader`, a
  :class:`~defisim.agents.ValueTrader` woken by a Poisson process of rate
  ``value_rate_per_s``, default ``5.7e-12 * 1e9`` per s, a mean gap of 175 s). ABIDES
  filters noisy observations with a Bayesian OU update (``kappa = 1.67e-15``,
  ``sigma_n = r_bar / 100``); ours keeps an exponentially weighted mean
  (``value_alpha``) of observations with ``value_noise_bps`` noise and trades IOC
  ``value_trade_size`` shares when the estimate beats the touch by
  ``value_threshold_bps``.
- 12 momentum agents (:class:`RMSCMomentumTrader`): every ``momentum_wake_s``
  (default 20 s) they read the mid and compare its ``momentum_short`` (20) and
  ``momentum_long`` (50) sample moving averages, as ABIDES' ``MomentumAgent``;
  short above long buys, below sells, a marketable IOC limit at the touch of
  ``momentum_size`` shares, within ``momentum_position_limit``.
- 2 adaptive market makers (:class:`RMSCMarketMaker`, an
  :class:`~defisim.agents.ExponentialBookMarketMaker` woken every ``mm_wake_s``,
  default 10 s): ABIDES' ``AdaptiveMarketMakerAgent`` posts ``num_ticks = 10``
  levels per side around the mid, ``level_spacing`` apart, sized at a fraction
  (POV) of recent volume with an adaptive spread. Ours posts ``mm_levels`` levels
  per side around the mid (the fundamental while a side is empty), the first
  ``mm_first_bps`` from it, ``mm_spacing_bps`` apart, ``mm_total_size`` shares per
  side shaped ``exp(-d / mm_scale_bps)`` (fixed size and spread: no POV or spread
  adaptation), keeping unchanged orders in place.

The market opens with a short opening auction (``opening_auction_s``) that an
:class:`~defisim.agents.OpeningAuctionTrader` crosses at the fundamental.

KPIs: ``orders`` (cumulative orders sent by all agents), ``trades`` (cumulative
trades), ``mid`` and ``spread`` (dollars; NaN while a side is empty),
``fundamental`` (dollars).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import (
    ExponentialBookMarketMaker,
    OpeningAuctionTrader,
    ReferencePriceFeed,
    ValueTrader,
)
from defisim.agents.trading import MarketAgent
from defisim.prices import SECONDS_PER_YEAR, ou_path

from ._zoo import lognormal_risk_model, settle_or_terminate
from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.service import Simulation

ASSET = "USD"
MARKET_ID = "RMSC04"
DAY_SECONDS = 23_400
NAN = float("nan")


class OrderCounter:
    """A shared tally of orders sent (one integer add per order, no per-step sums)."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class _Counted(MarketAgent):
    """A market agent that also adds each order it sends to a shared counter."""

    counter: OrderCounter

    def send(self, sim, side, size, price=None, **kwargs):  # type: ignore[override]
        res = super().send(sim, side, size, price, **kwargs)
        if res is not None:
            self.counter.n += 1
        return res


class RMSCNoiseTrader(_Counted):
    """ABIDES' noise agent: wakes once at ``wake_s`` and sends one order (module doc).

    Attributes:
        wakes: times it acted (1 after its wake-up, 0 before).
    """

    phase = 2

    def __init__(self, name: str, market: str, feed: ReferencePriceFeed, wake_s: float, *,
                 counter: OrderCounter, min_size: int, max_size: int,
                 collateral: float) -> None:
        super().__init__(name, market, ASSET, collateral)
        self.feed = feed
        self.wake_s = wake_s
        self.counter = counter
        self.min_size = min_size
        self.max_size = max_size
        self.wakes = 0
        self._done = False

    def next_wakeup(self, now: float) -> float | None:
        return math.inf if self._done else self.wake_s

    def step(self, sim: Simulation) -> None:
        if self._done or sim.now < self.wake_s - 1e-9:
            return
        self._done = True
        self.wakes += 1
        m = self.market
        if sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        rng = self.rng
        side = "buy" if rng.random() < 0.5 else "sell"
        size = int(rng.integers(self.min_size, self.max_size + 1))
        bid, ask = sim.futures.best_prices(m)
        touch = ask if side == "buy" else bid
        price = self.feed.price if touch is None else touch
        self.send(sim, side, size, price, time_in_force="GTC")


class RMSCValueTrader(ValueTrader, _Counted):
    """A :class:`~defisim.agents.ValueTrader` woken by a Poisson process (module doc)."""

    def __init__(self, *args, rate_per_s: float, counter: OrderCounter, start_s: float,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rate_per_s = rate_per_s
        self.counter = counter
        self.start_s = start_s
        self.wakes = 0
        self._next: float | None = None

    def next_wakeup(self, now: float) -> float | None:
        if self._next is None or self._next <= now:
            base = self.start_s if self._next is None else now
            self._next = base + float(self.rng.exponential(1 / self.rate_per_s))
        return self._next

    def step(self, sim: Simulation) -> None:
        if self._next is None or sim.now < self._next - 1e-9:
            return  # step 0 (everybody wakes) or woken early: not an arrival
        self.wakes += 1
        super().step(sim)


class RMSCMomentumTrader(_Counted):
    """ABIDES' momentum agent: short vs long moving average of the mid (module doc)."""

    phase = 2

    def __init__(self, name: str, market: str, *, counter: OrderCounter, wake_s: float,
                 start_s: float, short: int, long: int, size: int, position_limit: int,
                 collateral: float) -> None:
        super().__init__(name, market, ASSET, collateral)
        if not 1 <= short < long:
            raise ValueError(f"{name}: need 1 <= short < long")
        self.counter = counter
        self.wake_s = wake_s
        self.start_s = start_s
        self.short = short
        self.long = long
        self.trade_size = size
        self.position_limit = position_limit
        self.wakes = 0
        self.buys = 0
        self.sells = 0
        self._mids: deque[float] = deque(maxlen=long)
        self._next: float | None = None

    def next_wakeup(self, now: float) -> float | None:
        if self._next is None:
            # stagger the agents across one wake period
            self._next = self.start_s + float(self.rng.uniform(0, self.wake_s))
        while self._next <= now + 1e-9:
            self._next += self.wake_s
        return self._next

    def step(self, sim: Simulation) -> None:
        if self._next is None or sim.now < self._next - 1e-9:
            return
        self.wakes += 1
        m = self.market
        if sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        bid, ask = sim.futures.best_prices(m)
        if bid is None or ask is None:
            return
        mids = self._mids
        mids.append((bid + ask) / 2)
        if len(mids) < self.long:
            return
        long_ma = sum(mids) / self.long
        short_ma = sum(mids[i] for i in range(self.long - self.short, self.long)) / self.short
        pos = sim.futures.position(self.name, m)
        if short_ma > long_ma and pos < self.position_limit:
            self.buys += 1
            self.send(sim, "buy", min(self.trade_size, self.position_limit - pos), ask,
                      time_in_force="IOC")
        elif short_ma < long_ma and pos > -self.position_limit:
            self.sells += 1
            self.send(sim, "sell", min(self.trade_size, self.position_limit + pos), bid,
                      time_in_force="IOC")


class RMSCMarketMaker(ExponentialBookMarketMaker, _Counted):
    """An exponential-book maker around the mid, woken every ``wake_s`` (module doc)."""

    def __init__(self, *args, counter: OrderCounter, wake_s: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.counter = counter
        self.wake_s = wake_s
        self.wakes = 0
        self._next = 0.0

    def centre(self, sim: Simulation) -> float:
        mid = sim.futures.mid_price(self.market)
        return self.feed.price if mid is None else mid  # type: ignore[union-attr]

    def next_wakeup(self, now: float) -> float | None:
        while self._next <= now + 1e-9:
            self._next += self.wake_s
        return self._next

    def step(self, sim: Simulation) -> None:
        self.wakes += 1
        super().step(sim)


class RMSC04Params(ScenarioParams):
    """Parameters of ``rmsc04`` (dollars, shares, seconds; module doc)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default: one 23,400 s day of ``step_seconds`` steps)."""
    step_seconds: float = Field(1.0, gt=0)
    r_bar: float = Field(100_000.0, gt=0)
    """Mean of the fundamental, cents (ABIDES ``r_bar``)."""
    kappa: float = Field(1.67e-16, ge=0)
    """Mean reversion of the fundamental, per ns (ABIDES oracle ``kappa``)."""
    fund_vol: float = Field(5e-5, ge=0)
    """Volatility of the fundamental, cents per sqrt(ns) (ABIDES ``fund_vol``)."""
    opening_auction_s: float = Field(1.0, ge=0)
    mark_price_frequency_s: float = Field(5.0, ge=0)
    """Seconds between mark-to-market settlements (the futures market's; Vega's
    default 5 s). ABIDES' exchange has no margin or mark-to-market at all: every
    settlement pays or collects every open position, so this sets most of the cost
    of a day with ~700 positioned parties (see ``benchmarks/bench_rmsc04.py``)."""
    collateral: float = Field(10_000_000.0, gt=0)
    """USD minted to every trading party."""

    noise_count: int = Field(1000, ge=0)
    noise_min_size: int = Field(20, ge=1)
    noise_max_size: int = Field(50, ge=1)

    value_count: int = Field(102, ge=0)
    value_rate_per_s: float = Field(5.7e-12 * 1e9, gt=0)
    """Wake-ups per second (ABIDES ``lambda_a`` = 5.7e-12 per ns: a mean gap of 175 s)."""
    value_noise_bps: float = Field(10.0, ge=0)
    value_alpha: float = Field(0.2, gt=0, le=1)
    value_threshold_bps: float = Field(1.0, ge=0)
    value_trade_size: float = Field(50.0, gt=0)
    value_position_limit: float = Field(500.0, ge=0)

    momentum_count: int = Field(12, ge=0)
    momentum_wake_s: float = Field(20.0, gt=0)
    momentum_short: int = Field(20, ge=1)
    momentum_long: int = Field(50, ge=2)
    momentum_size: int = Field(10, ge=1)
    momentum_position_limit: int = Field(200, ge=1)

    mm_count: int = Field(2, ge=0)
    mm_wake_s: float = Field(10.0, gt=0)
    mm_levels: int = Field(10, ge=1)
    mm_first_bps: float = Field(1.0, ge=0)
    mm_spacing_bps: float = Field(0.5, gt=0)
    mm_scale_bps: float = Field(5.0, gt=0)
    mm_total_size: float = Field(500.0, gt=0)
    mm_max_inventory: float | None = 5_000.0


@register
class RMSC04(Scenario):
    """ABIDES' RMSC04 population on one market for one day (module doc)."""

    name = "rmsc04"
    description = (
        "ABIDES' RMSC04 reference day: 1000 noise, 102 value, 12 momentum traders and "
        "2 adaptive market makers around a mean-reverting fundamental, 09:30-16:00."
    )
    Params = RMSC04Params

    def __init__(self, params: RMSC04Params | None = None) -> None:
        super().__init__(params)
        self.counter = OrderCounter()
        self.feed: ReferencePriceFeed | None = None
        self.noise: list[RMSCNoiseTrader] = []
        self.value: list[RMSCValueTrader] = []
        self.momentum: list[RMSCMomentumTrader] = []
        self.makers: list[RMSCMarketMaker] = []

    def total_steps(self) -> int:
        if self.params.steps is not None:
            return int(self.params.steps)
        return max(1, round(DAY_SECONDS / float(self.params.step_seconds)))

    @property
    def markets(self) -> list[str]:
        return [MARKET_ID]

    def build(self, sim: Simulation) -> list[Agent]:
        p: RMSC04Params = self.params  # type: ignore[assignment]
        if p.noise_max_size < p.noise_min_size:
            raise ValueError("noise_max_size must be >= noise_min_size")
        sim.create_asset(ASSET, 2)
        sim.futures.create_market(
            market_id=MARKET_ID,
            asset=ASSET,
            decimal_places=2,
            tick_size=1,
            position_decimal_places=0,
            risk_model=lognormal_risk_model(0.01, 1.0 / 365.25 / 24, 0.3),
            opening_auction_duration_s=p.opening_auction_s,
            mark_price_frequency_s=p.mark_price_frequency_s,
        )
        dt = float(p.step_seconds)
        n_steps = self.total_steps()
        horizon = n_steps * dt
        ns_year = 1e9 * SECONDS_PER_YEAR
        r_bar = p.r_bar / 100
        path = ou_path(max(n_steps + 1, 2), dt, r_bar, r_bar, p.kappa * ns_year,
                       p.fund_vol * math.sqrt(ns_year) / 100, sim.rng("fundamental"),
                       floor=0.01)
        self.feed = feed = ReferencePriceFeed("fundamental", path)
        self.counter = c = OrderCounter()
        open_s = p.opening_auction_s + dt  # first step of continuous trading (at latest)
        agents: list[Agent] = [feed, OpeningAuctionTrader("auctioneer", MARKET_ID, feed,
                                                          asset=ASSET, size=100)]
        self.makers = [
            RMSCMarketMaker(
                f"mm_{i}", MARKET_ID, feed, asset=ASSET, collateral=p.collateral,
                total_size=p.mm_total_size, levels=p.mm_levels, first_bps=p.mm_first_bps,
                spacing_bps=p.mm_spacing_bps, scale_bps=p.mm_scale_bps,
                max_inventory=p.mm_max_inventory, counter=c, wake_s=p.mm_wake_s,
            )
            for i in range(p.mm_count)
        ]
        self.value = [
            RMSCValueTrader(
                f"value_{i}", MARKET_ID, feed, asset=ASSET, collateral=p.collateral,
                noise_bps=p.value_noise_bps, alpha=p.value_alpha,
                threshold_bps=p.value_threshold_bps, trade_size=p.value_trade_size,
                position_limit=p.value_position_limit, rate_per_s=p.value_rate_per_s,
                counter=c, start_s=open_s,
            )
            for i in range(p.value_count)
        ]
        self.momentum = [
            RMSCMomentumTrader(
                f"momentum_{i}", MARKET_ID, counter=c, wake_s=p.momentum_wake_s,
                start_s=open_s, short=p.momentum_short, long=p.momentum_long,
                size=p.momentum_size, position_limit=p.momentum_position_limit,
                collateral=p.collateral,
            )
            for i in range(p.momentum_count)
        ]
        wake_rng = sim.rng("noise_wakeups")
        last = max(open_s, horizon - dt)  # the last step of the run
        wakes = wake_rng.uniform(open_s, last, size=p.noise_count) if p.noise_count else []
        self.noise = [
            RMSCNoiseTrader(
                f"noise_{i}", MARKET_ID, feed, float(w), counter=c,
                min_size=p.noise_min_size, max_size=p.noise_max_size, collateral=p.collateral,
            )
            for i, w in enumerate(wakes)
        ]
        return [*agents, *self.makers, *self.value, *self.momentum, *self.noise]

    def kpis(self, sim: Simulation) -> dict[str, float]:
        b, a = sim.futures.best_prices(MARKET_ID, raw=True)
        f = sim.futures.units(MARKET_ID).price_factor
        if b is None or a is None:
            mid = spread = NAN
        else:
            mid, spread = (a + b) / (2 * f), (a - b) / f
        return {
            "orders": float(self.counter.n),
            "trades": float(sim.futures.trade_count(MARKET_ID)),
            "mid": mid,
            "spread": spread,
            "fundamental": self.feed.price if self.feed is not None else NAN,
        }

    def finish(self, sim: Simulation) -> None:
        """Settle at the last fundamental (cancel a market that never opened)."""
        settle_or_terminate(sim, MARKET_ID, self.feed)
