"""Shared plumbing of the trading agents: the party, its collateral, order sizes,
position limits and keeping a set of resting quotes in place.

Every trading agent of the zoo trades one futures market through
:class:`~defisim.Simulation` only. :class:`MarketAgent` creates the agent's party
(party id = agent name) in :meth:`~MarketAgent.initialise` and mints its
collateral there, unless the scenario funds it (``collateral=0``, party created by
the scenario beforehand).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from .base import Agent

if TYPE_CHECKING:
    from defisim.numeric import UnitConverter
    from defisim.protocols.futures import OrderResult
    from defisim.service import Simulation

SizeDistribution = Literal["fixed", "exponential", "lognormal"]

#: Market states in which orders are accepted (spec section 9, 0043-MKTL).
TRADING_STATES = frozenset({"PENDING", "ACTIVE", "SUSPENDED"})

#: Rejection reasons that mean "not enough money" (margin or fees).
FUNDING_REASONS = frozenset({"MARGIN_CHECK_FAILED", "INSUFFICIENT_FUNDS_FOR_FEES"})


def draw_size(
    rng: np.random.Generator,
    mean: float,
    distribution: SizeDistribution = "exponential",
    sigma: float = 1.0,
) -> float:
    """One order size in contracts, before rounding to the market's position decimals.

    Args:
        rng: the agent's generator.
        mean: mean size in contracts (> 0).
        distribution: ``"fixed"`` (always ``mean``), ``"exponential"`` (mean
            ``mean``) or ``"lognormal"`` (``exp(N(mu, sigma^2))`` with
            ``mu = ln(mean) - sigma^2/2``, so that its mean is ``mean``).
        sigma: log-volatility of the lognormal distribution.

    Raises:
        ValueError: unknown distribution or non-positive mean.
    """
    if not mean > 0:
        raise ValueError(f"mean size must be > 0, got {mean!r}")
    if distribution == "fixed":
        return float(mean)
    if distribution == "exponential":
        return float(rng.exponential(mean))
    if distribution == "lognormal":
        return float(rng.lognormal(math.log(mean) - sigma * sigma / 2, sigma))
    raise ValueError(
        f"unknown size distribution {distribution!r}; use fixed, exponential or lognormal"
    )


_SIDE_SIGN = {"buy": 1, "b": 1, "bid": 1, "long": 1, "sell": -1, "s": -1, "ask": -1, "short": -1}

class MarketAgent(Agent):
    """An agent with a party and collateral in one futures market.

    Args:
        name: agent name, also its party id.
        market: id of the futures market it trades.
        asset: settlement asset of that market (its collateral).
        collateral: asset units minted to the party's general account in
            :meth:`initialise`; ``0`` when the scenario funds the party.

    Attributes:
        orders_sent: orders and amendments submitted (accepted or not).
        rejections: of those, how many were rejected.
    """

    def __init__(
        self, name: str, market: str, asset: str = "USDT", collateral: float = 0.0
    ) -> None:
        super().__init__(name)
        if collateral < 0:
            raise ValueError(f"{name}: collateral must be >= 0, got {collateral!r}")
        self.market = market
        self.asset = asset
        self.collateral = float(collateral)
        self.orders_sent = 0
        self.rejections = 0
        self._lot = 0.0
        self._tick = 0.0
        self._units: UnitConverter | None = None  # the market's, from initialise

    @property
    def party(self) -> str:
        """The agent's party id (its name)."""
        return self.name

    def initialise(self, sim: Simulation) -> None:
        """Create the party (unless it exists) and mint :attr:`collateral`.

        Raises:
            KeyError: the market does not exist.
        """
        if self.name not in sim.parties:
            sim.create_party(self.name)
        if self.collateral > 0:
            sim.mint(self.name, self.asset, self.collateral)
        units = sim.futures.units(self.market)  # a plain value: rounds with no round trip
        self._units = units
        self._lot = 1.0 / units.size_factor
        self._tick = units.tick_size

    # ------------------------------------------------------------- helpers
    @staticmethod
    def trading(sim: Simulation, market: str) -> bool:
        """True while ``market`` accepts orders (opening auction, active, suspended)."""
        return sim.futures.market_state(market) in TRADING_STATES

    def size(self, sim: Simulation, size: float) -> float:
        """``size`` rounded down to the market's position decimals (0 if below one lot)."""
        u = self._units or sim.futures.units(self.market)
        return u.round_size(max(size, 0.0))

    def send(
        self, sim: Simulation, side: str, size: float, price: float | None = None, **kwargs
    ) -> OrderResult | None:
        """Submit an order of ``size`` contracts (rounded to lots; nothing sent below a lot).

        ``price`` (if given) is moved onto the tick grid, down for buys and up for
        sells. Rejections are counted, never raised. Returns the result, or
        ``None`` when the rounded size was zero.
        """
        size = self.size(sim, size)
        if size <= 0:
            return None
        if price is not None:  # down for buys, up for sells (Simulation's side words)
            u = self._units or sim.futures.units(self.market)
            price = u.round_price(price, _SIDE_SIGN.get(side, 0) if isinstance(side, str) else
                                  (side if side in (1, -1) else 0))
        res = sim.futures.submit_order(self.name, self.market, side, size, price, **kwargs)
        self.orders_sent += 1
        if not res.accepted:
            self.rejections += 1
        return res

    def within_position_limit(
        self, sim: Simulation, side: str, size: float, limit: float | None
    ) -> bool:
        """True if a fill of ``size`` on ``side`` keeps ``|position| <= limit`` (or
        reduces ``|position|``); always true without a ``limit``."""
        if limit is None:
            return True
        pos = sim.futures.position(self.name, self.market)
        new = pos + size if side == "buy" else pos - size
        return abs(new) <= limit + 1e-12 or abs(new) < abs(pos)

    def sync_orders(
        self, sim: Simulation, want: list[tuple[str, float, float]], **kwargs
    ) -> set[tuple[str, float]]:
        """Make the agent's resting limit orders the list ``want`` of ``(side, price,
        size)``: orders already at a wanted price (half a tick) and size (half a lot)
        stay (time priority kept), the others are cancelled and the missing ones sent
        GTC with :meth:`send_with_retry` (``kwargs`` go to the order, e.g.
        ``post_only``). Returns the ``(side, price)`` of the orders sent and refused."""
        m = self.market
        todo = list(want)
        tick, lot = self._tick / 2, self._lot / 2
        for o in sim.futures.open_orders(self.name, m):
            for j, (side, p, sz) in enumerate(todo):
                if side == o.side and abs(o.price - p) < tick and abs(o.remaining - sz) < lot:
                    del todo[j]
                    break
            else:
                sim.futures.cancel_order(self.name, m, o.order_id)
        failed = set()
        for side, p, sz in todo:
            res = self.send_with_retry(sim, side, sz, p, time_in_force="GTC", **kwargs)
            if res is None or not res.accepted:
                failed.add((side, p))
        return failed

    def send_with_retry(
        self,
        sim: Simulation,
        side: str,
        size: float,
        price: float | None = None,
        retries: int = 2,
        **kwargs,
    ) -> OrderResult | None:
        """As :meth:`send`, halving the size up to ``retries`` times while the order is
        rejected for margin or fees (the agent stays within its means)."""
        res = self.send(sim, side, size, price, **kwargs)
        while (
            res is not None and not res.accepted and res.reason in FUNDING_REASONS and retries > 0
        ):
            size /= 2
            retries -= 1
            res = self.send(sim, side, size, price, **kwargs)
        return res
