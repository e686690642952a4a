"""Market makers: Avellaneda-Stoikov and its symmetric (inventory-blind) variant.

Source: M. Avellaneda and S. Stoikov (2008), "High-frequency trading in a limit
order book", Quantitative Finance 8(3), 217-224, equations (29)-(30) of the
approximate solution:

- reservation price ``r = s - q * gamma * sigma^2 * (T - t)``
- optimal total spread ``delta = gamma * sigma^2 * (T - t) + (2 / gamma) * ln(1 + gamma / k)``
- quotes: bid ``r - delta / 2``, ask ``r + delta / 2``.

Units with ``relative_units=False`` (absolute units, the paper's):

- ``s``: the mid price of the model, in quote units (USDT per contract); the
  reference price from the feed by default, or the book's mid.
- ``q``: inventory in *lots*, ``position / order_size`` (the paper's q counts
  shares and each fill is one share; here each fill is one quote of
  ``order_size`` contracts). Positive = long.
- ``sigma``: volatility of the price in quote units per square-root second (the
  paper's Brownian ``dS = sigma dW``), either given or estimated from the feed.
- ``T - t``: horizon in seconds; a rolling horizon (constant ``horizon_s``) for an
  open-ended simulation, or ``terminal_time_s - now`` (floored at 0).
- ``gamma``: risk aversion in 1/(quote unit) (per lot); ``k``: decay of the fill
  intensity ``lambda(delta) = A exp(-k delta)`` in 1/(quote unit).

With ``relative_units=True`` (the agent's default) ``gamma`` and ``k`` are instead
given per unit of *relative* price (per fraction of ``s``: ``k = 2000`` means the
fill intensity falls by e every 5 bps) and ``sigma`` (if given) is relative per
square-root second. They are converted to the absolute ones at the current ``s``
(``gamma_abs = gamma / s``, ``k_abs = k / s``, ``sigma_abs = sigma * s``), which
gives quotes that scale with the price level (``delta_abs = s * delta_rel``):
the same parameters fit BTC at 16,000 and at 69,000.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from defisim.prices import SECONDS_PER_YEAR

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


def avellaneda_stoikov_quotes(
    s: float, q: float, gamma: float, sigma: float, k: float, tau: float
) -> tuple[float, float, float, float]:
    """Avellaneda-Stoikov (2008) quotes, eqs. (29)-(30).

    Args:
        s: mid price (quote units).
        q: inventory (lots; > 0 long).
        gamma: risk aversion (> 0), 1/(quote unit).
        sigma: price volatility, quote units per square-root second.
        k: order-arrival decay (> 0), 1/(quote unit).
        tau: time left ``T - t`` in seconds (>= 0).

    Returns:
        ``(bid, ask, reservation price, total spread)``, unrounded, with
        ``r = s - q gamma sigma^2 tau``, ``delta = gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k)``,
        ``bid = r - delta/2``, ``ask = r + delta/2``.

    Raises:
        ValueError: non-positive ``gamma`` or ``k``, negative ``sigma`` or ``tau``.
    """
    if not gamma > 0 or not k > 0:
        raise ValueError(f"gamma and k must be > 0, got gamma={gamma!r}, k={k!r}")
    if sigma < 0 or tau < 0:
        raise ValueError(f"sigma and tau must be >= 0, got sigma={sigma!r}, tau={tau!r}")
    risk = gamma * sigma * sigma * tau
    r = s - q * risk
    delta = risk + (2.0 / gamma) * math.log1p(gamma / k)
    return r - delta / 2, r + delta / 2, r, delta


class AvellanedaStoikovMarketMaker(MarketAgent):
    """Quotes a bid and an ask each step at the Avellaneda-Stoikov prices.

    Behaviour, each step while the market accepts orders (opening auction
    included, with GTC limit orders that never cross each other):

    1. ``s`` = the feed's reference price (``price_source="reference"``) or the
       book's mid (``"mid"``, falling back to the reference when a side is empty
       or the market is in an auction); ``q = position / order_size``;
       ``sigma`` = the given value or the feed's realised volatility over the
       last ``vol_window`` points (before there are two points: the prior
       ``sigma_prior_annual * s / sqrt(365 days in s)``); ``tau`` = ``horizon_s``
       or ``terminal_time_s - now``.
    2. Quotes from :func:`avellaneda_stoikov_quotes`, the bid rounded down and the
       ask up to the tick (at least one tick apart).
    3. Inventory limit: the bids together are only quoted for
       ``max_inventory - position`` contracts and the asks for ``max_inventory +
       position``, so the side that would grow the inventory beyond
       ``max_inventory`` contracts shrinks and then stops.
    4. A resting quote at a wanted price and size is left alone (keeps its time
       priority); the others are cancelled and the missing ones placed.
    5. A quote rejected for margin or fees is retried at half the size (twice),
       then skipped for this step (:attr:`rejections` counts them).

    Args:
        name: agent and party name.
        market: market id.
        feed: the reference price feed.
        asset: settlement asset; ``collateral``: asset units minted at start.
        gamma: risk aversion (see the module doc for units).
        k: fill-intensity decay (see the module doc).
        sigma: price volatility (quote units per sqrt(s), or relative with
            ``relative_units``); ``None``: estimated from the feed.
        horizon_s: rolling horizon ``T - t`` in seconds.
        terminal_time_s: if set, ``T`` in seconds since the start (finite horizon).
        order_size: size of each quote, contracts.
        max_inventory: absolute inventory limit, contracts.
        vol_window: feed points used to estimate ``sigma``.
        sigma_prior_annual: annualised relative volatility used before the feed
            has two points.
        relative_units: ``gamma``, ``k`` (and ``sigma``) per fraction of the price.
        price_source: ``"reference"`` or ``"mid"``.
        symmetric: ignore the inventory in the prices (``r = s``; the limit still
            applies). :class:`SymmetricMarketMaker` sets it.
        post_only: send the quotes post-only (stopped instead of trading when they
            would cross the book).
        levels: quotes per side (1 = the paper's single bid and ask). Extra levels
            (an extension, not in the paper) sit ``level_spacing_bps`` basis points
            of the price further out each, ``order_size`` each, so that a slow
            requote (e.g. hourly steps) still leaves depth behind the touch.
        level_spacing_bps: distance between levels, basis points of the price.
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        gamma: float = 10.0,
        k: float = 2000.0,
        sigma: float | None = None,
        horizon_s: float = 3600.0,
        terminal_time_s: float | None = None,
        order_size: float = 0.25,
        max_inventory: float = 3.0,
        vol_window: int = 48,
        sigma_prior_annual: float = 0.6,
        relative_units: bool = True,
        price_source: Literal["reference", "mid"] = "reference",
        symmetric: bool = False,
        post_only: bool = False,
        levels: int = 1,
        level_spacing_bps: float = 10.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not gamma > 0 or not k > 0:
            raise ValueError(f"{name}: gamma and k must be > 0")
        if not order_size > 0 or max_inventory < 0 or horizon_s < 0:
            raise ValueError(f"{name}: order_size must be > 0, max_inventory and horizon_s >= 0")
        if price_source not in ("reference", "mid"):
            raise ValueError(f"{name}: price_source must be 'reference' or 'mid'")
        self.feed = feed
        self.gamma = gamma
        self.k = k
        self.sigma = sigma
        self.horizon_s = horizon_s
        self.terminal_time_s = terminal_time_s
        self.order_size = order_size
        self.max_inventory = max_inventory
        self.vol_window = vol_window
        self.sigma_prior_annual = sigma_prior_annual
        self.relative_units = relative_units
        self.price_source = price_source
        self.symmetric = symmetric
        self.post_only = post_only
        if levels < 1 or level_spacing_bps < 0:
            raise ValueError(f"{name}: levels must be >= 1 and level_spacing_bps >= 0")
        self.levels = levels
        self.level_spacing_bps = level_spacing_bps
        self.last_quotes: tuple[float | None, float | None] = (None, None)
        """The (bid, ask) quoted at the last step (``None`` for a side not quoted)."""

    # ------------------------------------------------------------------ model
    def reference(self, sim: Simulation) -> float:
        """``s`` of the model (quote units)."""
        if self.price_source == "mid" and not sim.futures.in_auction(self.market):
            mid = sim.futures.mid_price(self.market)
            if mid is not None:
                return mid
        return self.feed.price

    def sigma_abs(self, s: float) -> float:
        """Volatility in quote units per sqrt(second) at price ``s``."""
        if self.sigma is not None:
            return self.sigma * s if self.relative_units else self.sigma
        est = self.feed.volatility(self.vol_window)
        if est is None:
            return self.sigma_prior_annual * s / math.sqrt(SECONDS_PER_YEAR)
        return est

    def tau(self, now: float) -> float:
        """``T - t`` in seconds."""
        if self.terminal_time_s is None:
            return self.horizon_s
        return max(self.terminal_time_s - now, 0.0)

    def quotes(self, s: float, position: float, now: float) -> tuple[float, float]:
        """Unrounded ``(bid, ask)`` for price ``s``, ``position`` contracts, time ``now``."""
        q = 0.0 if self.symmetric else position / self.order_size
        gamma, k = self.gamma, self.k
        if self.relative_units:
            gamma, k = gamma / s, k / s
        bid, ask, _, _ = avellaneda_stoikov_quotes(s, q, gamma, self.sigma_abs(s), k, self.tau(now))
        return bid, ask

    # ------------------------------------------------------------------ agent
    def ladder(
        self, sim: Simulation, bid: float, ask: float, position: float
    ) -> list[tuple[str, float, float]]:
        """The wanted quotes ``(side, price, size)``: ``levels`` per side from the
        (rounded) AS prices outwards, each ``level_spacing_bps`` of ``s`` further,
        sizes capped so that a full fill keeps ``|position| <= max_inventory``."""
        m = self.market
        bid = sim.futures.round_price(m, bid, "buy")
        ask = sim.futures.round_price(m, ask, "sell")
        if bid >= ask:
            bid = sim.futures.round_price(m, ask - self._tick, "buy")
        gap = (bid + ask) / 2 * self.level_spacing_bps / 10_000
        out: list[tuple[str, float, float]] = []
        room = {"buy": self.max_inventory - position, "sell": self.max_inventory + position}
        for i in range(self.levels):
            for side, p0 in (("buy", bid - i * gap), ("sell", ask + i * gap)):
                sz = self.size(sim, min(self.order_size, room[side]))
                if sz <= 0 or p0 <= 0:
                    continue
                room[side] -= sz
                out.append((side, sim.futures.round_price(m, p0, side), sz))
        return out

    def step(self, sim: Simulation) -> None:
        m = self.market
        if not self.trading(sim, m):
            return
        s = self.reference(sim)
        pos = sim.futures.position(self.name, m)
        bid, ask = self.quotes(s, pos, sim.now)
        want = self.ladder(sim, bid, ask, pos)
        failed = self.sync_orders(sim, want, post_only=self.post_only)
        best = {"buy": None, "sell": None}
        for side, p, _ in want:
            if (side, p) not in failed and best[side] is None:
                best[side] = p
        self.last_quotes = (best["buy"], best["sell"])


class SymmetricMarketMaker(AvellanedaStoikovMarketMaker):
    """The symmetric strategy of Avellaneda-Stoikov (2008), section 4: quotes
    ``s -/+ delta / 2`` around ``s`` whatever the inventory (same spread
    ``delta`` as :class:`AvellanedaStoikovMarketMaker`); the inventory limit
    still stops the side that would grow the position beyond ``max_inventory``.
    Same arguments as :class:`AvellanedaStoikovMarketMaker` (without ``symmetric``).
    """

    def __init__(self, name: str, market: str, feed: ReferencePriceFeed, **kwargs) -> None:
        kwargs.pop("symmetric", None)
        super().__init__(name, market, feed, symmetric=True, **kwargs)
