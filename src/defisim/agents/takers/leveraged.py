"""The leveraged ("degen") trader: a position sized to a fraction of the maximum leverage.

The maximum position a margin account allows follows from the margin rules (spec
``../shared/specs/futures-market.md`` section 4): an open position ``V`` at mark
price ``P`` needs maintenance ``MM = P V (f1 + RF)`` (linear slippage factor
``f1``, risk factor ``RF`` of the side, no quadratic term) and initial margin
``s_i MM`` (``s_i`` the initial scaling, 1.2 by default). With equity ``E``
(general plus margin account) the largest position is therefore

    V_max = E / (P (f1 + RF) s_i)

and the leverage ``P V / E`` at ``V_max`` is ``1 / ((f1 + RF) s_i)``. A trader at
a fraction ``phi`` of ``V_max`` is closed out after a price move against it of
about ``(1 - phi) / (phi s_i)`` times ``(f1 + RF)``: at ``phi = 0.9`` with
``f1 + RF = 5 %`` that is 1.1 %. These traders are the fuel of closeout
cascades (0012-POSR).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed


def max_leverage_size(
    sim: Simulation, market: str, side: int, equity: float, price: float
) -> float:
    """Largest position (contracts) that ``equity`` (asset units) can hold on ``side``
    (+1 long, -1 short) at ``price``: ``E / (P (f1 + RF_side) s_initial)`` (module doc).

    Reads the market's parameters (risk factors, slippage, margin scaling); 0 when
    ``equity`` or ``price`` is not positive.
    """
    if equity <= 0 or price <= 0:
        return 0.0
    view = sim.futures.market_view(market)
    cfg = sim.futures.market_config(market)
    rf = view.risk_factor_long if side > 0 else view.risk_factor_short
    f1 = float(cfg.linear_slippage_factor)
    scaling = float(cfg.margin_scaling.initial)
    per_contract = price * (f1 + rf) * scaling
    return equity / per_contract if per_contract > 0 else 0.0


class LeveragedTrader(MarketAgent):
    """Builds one leveraged position from ``entry_s`` on and holds it until closed out.

    Entry: from its first wake-up at or after ``entry_s``, in continuous trading
    only (orders that take liquidity are refused in auctions), each wake-up it
    sends an IOC limit order for ``min(max_order_size, target - |position|)``
    contracts, ``target`` being ``leverage_fraction`` of :func:`max_leverage_size`
    at the mark price (the reference price before there is one) for its current
    equity, priced ``max_slippage_bps`` beyond the best opposite price (the
    reference price, or the mark without a feed, when that side is empty), so a
    thin book is not swept. It holds once ``|position|`` is
    within one order of ``target`` or after ``max_entry_orders`` orders. An order
    rejected for margin or fees is retried at half the size (twice).

    Holding: no stop loss, no take profit. When its position is found at 0
    without it having closed it, it was closed out (:attr:`closed_out` counts
    it); with ``reenter`` it builds a position again ``reentry_delay_s`` later,
    sized on what is left (nothing below ``min_equity``).

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: reference price feed (order prices, price before the first mark), or ``None``.
        side: ``"long"`` or ``"short"``.
        leverage_fraction: ``phi`` in (0, 1], the fraction of the maximum position.
        entry_s: earliest entry time, seconds since the start.
        max_order_size: contracts per entry order (> 0).
        max_slippage_bps: limit price distance beyond the touch, basis points.
        max_entry_orders: entry orders at most per position (>= 1).
        reenter: build a position again after a closeout.
        reentry_delay_s: seconds between a detected closeout and the next entry.
        min_equity: asset units under which it does not enter.
        check_interval_s: seconds between wake-ups while holding (0: every step).

    Attributes:
        entries: positions opened; closed_out: closeouts suffered;
        entry_price, entry_size: of the current position (``None`` when flat).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None = None,
        *,
        asset: str = "USDT",
        collateral: float = 10_000.0,
        side: Literal["long", "short"] = "long",
        leverage_fraction: float = 0.8,
        entry_s: float = 0.0,
        max_order_size: float = 0.25,
        max_slippage_bps: float = 20.0,
        max_entry_orders: int = 40,
        reenter: bool = False,
        reentry_delay_s: float = 3600.0,
        min_equity: float = 100.0,
        check_interval_s: float = 0.0,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if side not in ("long", "short"):
            raise ValueError(f"{name}: side must be 'long' or 'short'")
        if not 0 < leverage_fraction <= 1:
            raise ValueError(f"{name}: leverage_fraction must be in (0, 1]")
        if not max_order_size > 0 or max_slippage_bps < 0 or max_entry_orders < 1:
            raise ValueError(
                f"{name}: need max_order_size > 0, max_slippage_bps >= 0, max_entry_orders >= 1"
            )
        if entry_s < 0 or reentry_delay_s < 0 or min_equity < 0 or check_interval_s < 0:
            raise ValueError(f"{name}: times and min_equity must be >= 0")
        self.feed = feed
        self.side = side
        self.leverage_fraction = float(leverage_fraction)
        self.entry_s = float(entry_s)
        self.max_order_size = float(max_order_size)
        self.max_slippage_bps = float(max_slippage_bps)
        self.max_entry_orders = int(max_entry_orders)
        self.reenter = reenter
        self.reentry_delay_s = float(reentry_delay_s)
        self.min_equity = float(min_equity)
        self.check_interval_s = float(check_interval_s)
        self.entries = 0
        self.closed_out = 0
        self.entry_price: float | None = None
        self.entry_size: float | None = None
        self.state: Literal["waiting", "entering", "holding", "done"] = "waiting"
        self._next_entry = self.entry_s
        self._orders_this_entry = 0
        self._raw_size = 0
        self._raw_value = 0

    def equity(self, sim: Simulation) -> float:
        """General plus margin account in this market (asset units)."""
        return sim.balance(self.name, self.asset) + sim.balance(
            self.name, self.asset, "margin", self.market
        )

    def target_size(self, sim: Simulation, price: float) -> float:
        """``leverage_fraction x`` the maximum position at ``price`` (contracts, unrounded)."""
        s = 1 if self.side == "long" else -1
        return self.leverage_fraction * max_leverage_size(
            sim, self.market, s, self.equity(sim), price
        )

    def step(self, sim: Simulation) -> None:
        m = self.market
        if self.state == "done" or not self.trading(sim, m):
            return
        pos = sim.futures.position(self.name, m)
        if self.state in ("entering", "holding") and self._raw_size and pos == 0:
            self._closed_out(sim)  # the network party took the position
            if self.state == "done":
                return
        if self.state == "holding":
            return
        if sim.now + 1e-9 < self._next_entry or sim.futures.in_auction(m):
            return
        if self.state == "waiting":
            if self.equity(sim) < self.min_equity:
                self.state = "done"
                return
            self.state = "entering"
            self._orders_this_entry = 0
        self._enter(sim, pos)

    def _enter(self, sim: Simulation, pos: float) -> None:
        m = self.market
        mark = sim.futures.mark_price(m)
        ref = self.feed.price if self.feed is not None else (float(mark) if mark else 0.0)
        price = float(mark) if mark else ref
        target = self.target_size(sim, price)
        want = min(self.max_order_size, target - abs(pos))
        if want < self._lot or self._orders_this_entry >= self.max_entry_orders:
            self.state = "holding" if pos != 0 else "done"
            return
        buy = self.side == "long"
        slip = self.max_slippage_bps / 10_000
        bid, ask = sim.futures.best_prices(m)
        touch = (ask if buy else bid) or ref
        limit = touch * (1 + slip) if buy else touch * (1 - slip)
        self._orders_this_entry += 1
        res = self.send_with_retry(sim, "buy" if buy else "sell", want, limit, time_in_force="IOC")
        if res is not None and res.trades:
            if self._raw_size == 0:
                self.entries += 1
            self._raw_size += sum(t.size for t in res.trades)
            self._raw_value += sum(t.size * t.price for t in res.trades)
            self.entry_size = sim.futures.raw_to_size(m, self._raw_size)
            self.entry_price = sim.futures.raw_to_price(m, self._raw_value / self._raw_size)
        if target - abs(sim.futures.position(self.name, m)) < self.max_order_size / 2:
            self.state = "holding"

    def _closed_out(self, sim: Simulation) -> None:
        self.closed_out += 1
        self.entry_price = self.entry_size = None
        self._raw_size = self._raw_value = 0
        if not self.reenter:
            self.state = "done"
            return
        self.state = "waiting"
        self._next_entry = sim.now + self.reentry_delay_s

    def next_wakeup(self, now: float) -> float | None:
        if self.state == "done":
            return math.inf
        if self.state == "waiting" and now + 1e-9 < self._next_entry:
            return self._next_entry
        if self.state == "holding" and self.check_interval_s > 0:
            return now + self.check_interval_s
        return None
