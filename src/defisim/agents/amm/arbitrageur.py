"""Arbitrageurs around AMM pools: :class:`AmmArbitrageur` trades a pool back to a
reference price; :class:`AmmFuturesArbitrageur` trades a pool against a futures book.

The closed forms (:func:`v2_arbitrage`, :func:`v3_arbitrage`) give the trade that moves
a pool's marginal price *after the fee* to the reference price ``p``: with fee ``f``
and ``gamma = 1 - f``, a pool whose price ``P`` (token0 in token1) lies outside the
no-arbitrage band ``[gamma p, p / gamma]`` is moved to its nearer edge (``gamma p``
when it buys token0, ``p / gamma`` when it sells token0), where the next unit traded
would earn exactly the fee. Sources: Angeris, Kao, Chiang, Noyes, Chitra (2019), "An
analysis of Uniswap markets", section 3 (optimal arbitrage of a constant-product
market with fee: ``(y + gamma Delta)^2 = gamma k p``); Milionis, Moallemi,
Roughgarden, Zhang (2022), "Automated Market Making and Loss-Versus-Rebalancing",
section 6 (the band ``[gamma p, p / gamma]``); Uniswap v3 whitepaper (Adams et al.
2021), equations 6.13-6.16 (amounts within one range: ``Delta y = L Delta sqrtP``,
``Delta x = L Delta (1 / sqrtP)``).

Agents read and act through :class:`~defisim.Simulation` only (``sim.amm``,
``sim.futures``, ``sim.balance``, ``sim.receipt``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from ..base import Agent
from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation
    from defisim.service.amm import AmmPoolView

_Q96 = float(1 << 96)


class PriceSource(Protocol):
    """Anything with a ``price`` attribute (quote units per base unit), e.g.
    :class:`~defisim.agents.ReferencePriceFeed`."""

    price: float


Reference = PriceSource | Callable[["Simulation"], float | None]
"""A reference price: an object with ``.price`` (a feed) or a callable ``sim -> price``
(``None``: no price now), quote units per base unit."""


def balance_units(sim: Simulation, party: str, asset: str) -> Decimal:
    """``party``'s general balance of ``asset`` exactly, in asset units (a ``Decimal``:
    a float may round above the balance and make a whole-balance transaction fail)."""
    raw = sim.balance(party, asset, raw=True)
    decimals = round(-math.log10(sim.money(asset, 1)))
    return Decimal(raw).scaleb(-decimals)


def reference_price(ref: Reference, sim: Simulation) -> float | None:
    """The price of ``ref`` now (quote per base), or ``None`` when it has none (or it is
    not a finite positive number)."""
    p = ref(sim) if callable(ref) else ref.price
    if p is None or not math.isfinite(p) or p <= 0:
        return None
    return float(p)


class FuturesMarkReference:
    """A reference price read from a futures market's mark price
    (``sim.futures.market_view(market).mark_price``; ``None`` before the market has one).

    Args:
        market: the futures market id (its price is quote per base).
    """

    def __init__(self, market: str) -> None:
        self.market = market

    def __call__(self, sim: Simulation) -> float | None:
        mark = sim.futures.market_view(self.market).mark_price
        return None if mark is None else float(mark)


# ----------------------------------------------------------------- closed forms
@dataclass(frozen=True, slots=True)
class ArbTrade:
    """An arbitrage trade in token0/token1 terms.

    ``zero_for_one``: pays token0 (sells token0, price falls); ``amount_in`` /
    ``amount_out``: asset units paid (fee included) / received; ``target_price``: the
    pool price (token0 in token1, asset units) the trade moves it to."""

    zero_for_one: bool
    amount_in: float
    amount_out: float
    target_price: float


def v2_arbitrage(reserve0: float, reserve1: float, p: float, fee: float) -> ArbTrade | None:
    """The optimal arbitrage of a constant-product pool (Angeris et al. 2019, section 3).

    Args:
        reserve0, reserve1: reserves ``x``, ``y`` (asset units).
        p: reference price of token0 in token1 (asset units).
        fee: the pool's fee ``f`` (fraction; ``gamma = 1 - f``).

    With ``k = x y``: if ``y / x < gamma p`` pay ``Delta = (sqrt(gamma k p) - y) / gamma``
    of token1 for ``x gamma Delta / (y + gamma Delta)`` of token0; if ``y / x > p / gamma``
    pay ``Delta = (sqrt(gamma k / p) - x) / gamma`` of token0 for ``y gamma Delta / (x +
    gamma Delta)`` of token1. After it the marginal price net of the fee is ``p``
    (``target_price``: ``gamma p`` resp. ``p / gamma``, the invariant's price; the
    reserves' ratio ends a little inside the band since the fee stays in the pool).
    ``None`` inside the band ``[gamma p, p / gamma]`` or for an empty pool.

    Raises:
        ValueError: ``p <= 0`` or ``fee`` not in ``[0, 1)``.
    """
    if not p > 0 or not 0 <= fee < 1:
        raise ValueError(f"need p > 0 and 0 <= fee < 1, got p={p!r}, fee={fee!r}")
    x, y = reserve0, reserve1
    if x <= 0 or y <= 0:
        return None
    g = 1.0 - fee
    k = x * y
    if y / x < g * p:
        d = (math.sqrt(g * k * p) - y) / g
        return ArbTrade(False, d, x * g * d / (y + g * d), g * p)
    if y / x > p / g:
        d = (math.sqrt(g * k / p) - x) / g
        return ArbTrade(True, d, y * g * d / (x + g * d), p / g)
    return None


def v3_arbitrage(liquidity: int, sqrt_price_x96: int, p: float, fee: float, decimals0: int,
                 decimals1: int) -> ArbTrade | None:
    """The arbitrage of a concentrated-liquidity pool within its current range
    (Uniswap v3 whitepaper, eqs. 6.13-6.16).

    Args:
        liquidity: the active liquidity ``L`` (raw).
        sqrt_price_x96: ``sqrt(P)`` in Q64.96 (raw token1 per raw token0).
        p: reference price of token0 in token1 (asset units).
        fee: the pool's fee (fraction).
        decimals0, decimals1: the tokens' decimals.

    In raw units with ``s = sqrt_price_x96 / 2^96``: buying token0 moves ``s`` to
    ``s_t = sqrt(gamma p 10^(d1 - d0))`` for ``L (s_t - s) / gamma`` token1 in and
    ``L (1 / s - 1 / s_t)`` token0 out; selling token0 moves it to ``s_t = sqrt(p / gamma
    10^(d1 - d0))`` for ``L (1 / s_t - 1 / s) / gamma`` token0 in and ``L (s - s_t)``
    token1 out. Exact while no initialised tick is crossed (beyond one the pool's
    liquidity changes; the swap itself, sent with the target as ``price_limit``, stops
    at the right place regardless). Amounts in asset units. ``None`` inside the band or
    with no liquidity.
    """
    if not p > 0 or not 0 <= fee < 1:
        raise ValueError(f"need p > 0 and 0 <= fee < 1, got p={p!r}, fee={fee!r}")
    if liquidity <= 0:
        return None
    g = 1.0 - fee
    scale = 10.0 ** (decimals1 - decimals0)
    s = sqrt_price_x96 / _Q96
    price = s * s / scale
    L = float(liquidity)
    if price < g * p:
        st = math.sqrt(g * p * scale)
        a_in = L * (st - s) / g / 10.0**decimals1
        a_out = L * (1 / s - 1 / st) / 10.0**decimals0
        return ArbTrade(False, a_in, a_out, g * p)
    if price > p / g:
        st = math.sqrt(p / g * scale)
        a_in = L * (1 / st - 1 / s) / g / 10.0**decimals0
        a_out = L * (s - st) / 10.0**decimals1
        return ArbTrade(True, a_in, a_out, p / g)
    return None


def pool_arbitrage(view: AmmPoolView, p01: float) -> ArbTrade | None:
    """:func:`v2_arbitrage` or :func:`v3_arbitrage` for a pool view, ``p01`` the
    reference price of token0 in token1 (asset units). Decimals of a V3 pool are
    recovered from its raw and human reserves (``None`` if it holds nothing)."""
    if view.kind == "V2":
        return v2_arbitrage(view.reserves[0], view.reserves[1], p01, view.fee)
    if view.liquidity is None or view.sqrt_price_x96 is None:
        raise ValueError(f"{view.pool_id}: {view.kind} pools are not supported")
    d = _decimals(view)
    if d is None:
        return None
    return v3_arbitrage(view.liquidity, view.sqrt_price_x96, p01, view.fee, d[0], d[1])


def _decimals(view: AmmPoolView) -> tuple[int, int] | None:
    out = []
    for raw, human in zip(view.reserves_raw, view.reserves, strict=True):
        if raw <= 0 or human <= 0:
            return None
        out.append(round(math.log10(raw / human)))
    return out[0], out[1]


def to_token0_price(view: AmmPoolView, base: str, price: float) -> float:
    """``price`` (quote per ``base``) as the pool's token0-in-token1 price.

    Raises:
        ValueError: ``base`` is not in the pool."""
    if base == view.assets[0]:
        return price
    if base == view.assets[1]:
        return 1.0 / price
    raise ValueError(f"{view.pool_id} holds {view.assets}, not {base!r}")


# ----------------------------------------------------------------- the agent
@dataclass
class _Pending:
    tx_id: int
    price: float
    asset_in: str
    asset_out: str
    gas_estimate: float


class AmmArbitrageur(Agent):
    """Trades one pool (V2 or V3) back towards a reference price when the gap pays the
    pool's fee and the gas.

    Each wake-up, with ``p`` the reference (quote per base) and the pool's fee ``f``:
    outside the no-arbitrage band ``[(1-f) p, p / (1-f)]`` it computes the trade that
    brings the pool's marginal price after the fee to ``p`` (:func:`v2_arbitrage`,
    :func:`v3_arbitrage`: module docstring), its profit at ``p`` (what it receives minus
    what it pays, both valued at ``p``, in quote units) and trades only when that
    profit exceeds the gas cost plus ``min_profit``:

    - V2: exactly the closed-form input (capped by its balance), with ``limit`` = the
      break-even output (so a trade that no longer pays when it executes is rejected);
    - V3: an exact-in swap of its whole balance of the input asset (capped by
      ``max_in``) with ``price_limit`` = the band's edge, so the swap loop stops there
      even across ticks and pays only what is needed.

    Gas: with a fee market (mempool mode, ``priority`` ordering) the estimate is
    ``gas_units x (base fee + tip)`` native units, valued at ``native_price`` (quote per
    native unit; ``None``: the reference price, i.e. the base asset is the native
    asset, as WETH/ETH), and the cost booked is the receipt's ``fee_burned + tip``;
    without one it is the ``gas_cost`` parameter (quote units per trade, booked
    notionally: nothing is paid on the chain).

    In mempool mode the swap executes at the block's close; the agent books it at its
    next wake-up from ``sim.receipt``.

    Args:
        name: agent and party name.
        pool_id: the pool (``"V2:..."`` or ``"V3:..."``).
        reference: a feed (``.price``) or a callable ``sim -> price`` (e.g.
            :class:`FuturesMarkReference`), quote per base.
        base, quote: the pool's two assets (prices are quote per base).
        inventory_base, inventory_quote: asset units minted to the party at
            :meth:`initialise` (>= 0; 0: the scenario funds it).
        gas_cost: quote units per trade without a fee market (>= 0).
        gas_units: gas of one swap for the fee-market estimate (default the plug-in's
            120,000).
        tip: priority fee per gas (native units) set with ``sim.set_gas_price`` when
            there is a fee market.
        native_price: quote units per native unit (``None``: the reference price).
        native_asset: the fee market's native asset (receipts' gas is in its base units).
        min_profit: extra profit required, quote units (>= 0).
        max_in: cap on the input amount, asset units of the input asset (``None``: the
            balance).

    Attributes (quote units at the reference price of the trade's step):
        trades, skipped (gaps that did not pay), rejected; gross_profit (before gas),
        gas_spent, profit (= gross_profit - gas_spent), fees_paid (the pool fee on
        the input), volume (quote value of the input).

    Raises:
        ValueError: bad parameters (at construction); the pool does not hold ``base``
        and ``quote`` (at :meth:`initialise`).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        pool_id: str,
        reference: Reference,
        *,
        base: str,
        quote: str,
        inventory_base: float = 0.0,
        inventory_quote: float = 0.0,
        gas_cost: float = 0.0,
        gas_units: int = 120_000,
        tip: float = 0.0,
        native_price: float | None = None,
        native_asset: str = "ETH",
        min_profit: float = 0.0,
        max_in: float | None = None,
    ) -> None:
        super().__init__(name)
        if base == quote:
            raise ValueError(f"{name}: base and quote must differ, got {base!r}")
        for k, v in (("inventory_base", inventory_base), ("inventory_quote", inventory_quote),
                     ("gas_cost", gas_cost), ("tip", tip), ("min_profit", min_profit)):
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name}: {k} must be a finite number >= 0, got {v!r}")
        if gas_units < 0 or (native_price is not None and not native_price > 0):
            raise ValueError(f"{name}: need gas_units >= 0 and native_price > 0 (or None)")
        if max_in is not None and not max_in > 0:
            raise ValueError(f"{name}: max_in must be > 0 (or None), got {max_in!r}")
        self.pool_id = pool_id
        self.reference = reference
        self.base, self.quote = base, quote
        self.inventory_base, self.inventory_quote = float(inventory_base), float(inventory_quote)
        self.gas_cost = float(gas_cost)
        self.gas_units = int(gas_units)
        self.tip = float(tip)
        self.native_price = native_price
        self.native_asset = native_asset
        self.min_profit = float(min_profit)
        self.max_in = max_in
        self.trades = 0
        self.skipped = 0
        self.rejected = 0
        self.gross_profit = 0.0
        self.gas_spent = 0.0
        self.fees_paid = 0.0
        self.volume = 0.0
        self._pending: list[_Pending] = []
        self._fee = 0.0

    @property
    def profit(self) -> float:
        """Net profit: :attr:`gross_profit` - :attr:`gas_spent` (quote units)."""
        return self.gross_profit - self.gas_spent

    def initialise(self, sim: Simulation) -> None:
        """Create the party (unless it exists), mint the inventory, set the gas tip."""
        view = sim.amm.pool_view(self.pool_id)
        if set(view.assets) != {self.base, self.quote}:
            raise ValueError(f"{self.name}: {self.pool_id} holds {view.assets}, not "
                             f"{self.base}/{self.quote}")
        self._fee = view.fee
        if self.name not in sim.parties:
            sim.create_party(self.name)
        if self.inventory_base > 0:
            sim.mint(self.name, self.base, self.inventory_base)
        if self.inventory_quote > 0:
            sim.mint(self.name, self.quote, self.inventory_quote)
        if self.tip > 0 and sim.base_fee() > 0:
            sim.set_gas_price(self.name, self.tip)

    # ------------------------------------------------------------------ helpers
    def gas_estimate(self, sim: Simulation, p: float) -> float:
        """Gas cost of one swap now, quote units (class docstring)."""
        base_fee = sim.base_fee()
        if base_fee > 0:
            native = self.native_price if self.native_price is not None else p
            return self.gas_units * (base_fee + self.tip) * native
        return self.gas_cost

    def _value(self, asset: str, amount: float, p: float) -> float:
        return amount * p if asset == self.base else amount

    def _book(self, asset_in: str, asset_out: str, a_in: float, a_out: float, p: float,
              gas: float) -> None:
        v_in = self._value(asset_in, a_in, p)
        self.trades += 1
        self.gross_profit += self._value(asset_out, a_out, p) - v_in
        self.fees_paid += v_in * self._fee
        self.volume += v_in
        self.gas_spent += gas

    def _settle_pending(self, sim: Simulation) -> None:
        still = []
        for pend in self._pending:
            r = sim.receipt(pend.tx_id)
            if r is None or r.status == "PENDING":
                still.append(pend)
                continue
            native = self.native_price if self.native_price is not None else pend.price
            paid = r.fee_burned + r.tip
            gas = (sim.money(self.native_asset, paid) * native if paid
                   else (self.gas_cost if sim.base_fee() == 0 else 0.0))
            if r.accepted and r.value is not None:
                a_in = sim.money(pend.asset_in, int(r.value[0]))
                a_out = sim.money(pend.asset_out, int(r.value[1]))
                self._book(pend.asset_in, pend.asset_out, a_in, a_out, pend.price, gas)
            else:
                self.rejected += 1
                self.gas_spent += gas
        self._pending = still

    # ------------------------------------------------------------------- step
    def step(self, sim: Simulation) -> None:
        if self._pending:
            self._settle_pending(sim)
        p = reference_price(self.reference, sim)
        if p is None:
            return
        view = sim.amm.pool_view(self.pool_id)
        p01 = to_token0_price(view, self.base, p)
        trade = pool_arbitrage(view, p01)
        if trade is None:
            return
        t0, t1 = view.assets
        a_in, a_out = (t0, t1) if trade.zero_for_one else (t1, t0)
        have = balance_units(sim, self.name, a_in)
        cap = have if self.max_in is None else min(have, Decimal(str(self.max_in)))
        gas = self.gas_estimate(sim, p)
        if view.kind == "V2":
            amount = min(trade.amount_in, float(cap))
            if amount <= 0:
                self.skipped += 1
                return
            try:
                out = sim.amm.quote(self.pool_id, a_in, amount)
            except ValueError:
                self.skipped += 1
                return
        else:
            amount, out = trade.amount_in, trade.amount_out
            if amount > cap:
                out *= float(cap) / amount
                amount = float(cap)
        expected = self._value(a_out, out, p) - self._value(a_in, amount, p)
        if amount <= 0 or expected <= gas + self.min_profit:
            self.skipped += 1
            return
        if view.kind == "V2":
            # break-even output at p (plus gas): a stale trade is rejected, not a loss
            v_out_unit = self._value(a_out, 1.0, p)
            min_out = (self._value(a_in, amount, p) + gas) / v_out_unit
            r = sim.amm.swap(self.name, self.pool_id, a_in, amount, limit=min_out)
        else:
            r = sim.amm.swap(self.name, self.pool_id, a_in, cap, price_limit=trade.target_price)
        if not r.accepted:
            self.rejected += 1
            return
        if r.status == "PENDING":
            self._pending.append(_Pending(r.tx_id, p, a_in, a_out, gas))
            return
        self._book(a_in, a_out, r.value[0], r.value[1], p, gas)

    def finalise(self, sim: Simulation) -> None:
        """Book the swaps executed since the last wake-up."""
        if self._pending:
            self._settle_pending(sim)


# ------------------------------------------------------- pool against futures book
class AmmFuturesArbitrageur(MarketAgent):
    """Arbitrage between a V3 pool and a futures order book on the same underlying.

    Each wake-up, with the pool's price ``P`` (quote per base), its fee ``f``
    (``gamma = 1 - f``), the book's best bid ``b`` and ask ``a``, the futures taker
    fee ``phi`` (the market's ``total_fee``) and ``theta = threshold_bps / 10^4``:

    - pool cheap, ``P / gamma < b (1 - phi) (1 - theta)``: buy base on the pool with
      ``price_limit`` at ``gamma b (1 - phi) (1 - theta)`` (the pool stops where buying
      more no longer pays; :func:`v3_arbitrage` sizes it within the range), at most
      ``max_trade`` base and the position room (``position_limit + position``), then
      sell what it got on the futures market (IOC market order, whole lots);
    - pool rich, ``P gamma > a (1 + phi) (1 + theta)``: the mirror (sell base on the pool,
      buy futures), limited by its base inventory.

    The futures position hedges the base inventory the pool legs build up, so the
    agent is (up to a lot) delta-neutral; ``position_limit`` bounds both. Needs
    ``execution="immediate"`` (the hedge is sized from the swap's receipt).

    Args:
        name: agent and party name.
        pool_id: a V3 pool of ``base``/``quote``.
        market: the futures market; its settlement asset must be ``quote``.
        base, quote: the pool's assets (prices quote per base).
        collateral: quote units minted (pool budget and futures margin).
        inventory_base: base units minted (for selling on the pool).
        max_trade: most base per pool leg (> 0).
        position_limit: largest absolute futures position, base units (> 0).
        threshold_bps: extra edge required, basis points (>= 0).

    Attributes:
        trades (pool legs), volume (base traded on the pool), volume_quote (quote
        value of the pool legs), profit (quote units locked in by hedged round trips:
        futures proceeds minus futures fees minus the pool cost of the hedged size,
        or the mirror), futures_fees.
    """

    phase = 2

    def __init__(self, name: str, pool_id: str, market: str, *, base: str, quote: str,
                 collateral: float = 1_000_000.0, inventory_base: float = 0.0,
                 max_trade: float = 1.0, position_limit: float = 10.0,
                 threshold_bps: float = 0.0) -> None:
        super().__init__(name, market, quote, collateral)
        if not max_trade > 0 or not position_limit > 0 or threshold_bps < 0:
            raise ValueError(f"{name}: need max_trade > 0, position_limit > 0, threshold_bps >= 0")
        if not (math.isfinite(inventory_base) and inventory_base >= 0):
            raise ValueError(f"{name}: inventory_base must be >= 0, got {inventory_base!r}")
        self.pool_id = pool_id
        self.base, self.quote = base, quote
        self.inventory_base = float(inventory_base)
        self.max_trade = float(max_trade)
        self.position_limit = float(position_limit)
        self.threshold_bps = float(threshold_bps)
        self.trades = 0
        self.volume = 0.0
        self.volume_quote = 0.0
        self.profit = 0.0
        self.futures_fees = 0.0

    def initialise(self, sim: Simulation) -> None:
        """Create the party, mint collateral and base inventory; check the venues."""
        if sim.execution != "immediate":
            raise ValueError(f"{self.name}: needs execution='immediate'")
        view = sim.amm.pool_view(self.pool_id)
        if view.kind != "V3" or set(view.assets) != {self.base, self.quote}:
            raise ValueError(f"{self.name}: {self.pool_id} is not a V3 pool of "
                             f"{self.base}/{self.quote}")
        super().initialise(sim)
        if sim.futures.market_view(self.market).asset != self.quote:
            raise ValueError(f"{self.name}: {self.market} does not settle in {self.quote}")
        if self.inventory_base > 0:
            sim.mint(self.name, self.base, self.inventory_base)

    def step(self, sim: Simulation) -> None:
        m = self.market
        mv = sim.futures.market_view(m)
        if mv.in_auction or mv.state != "ACTIVE" or mv.best_bid is None or mv.best_ask is None:
            return
        view = sim.amm.pool_view(self.pool_id)
        P = view.price_of(self.base)
        g = 1.0 - view.fee
        phi = mv.total_fee
        th = self.threshold_bps / 10_000
        pos = sim.futures.position(self.name, m)
        sell_at = mv.best_bid * (1 - phi) * (1 - th)  # what a futures sale nets
        buy_at = mv.best_ask * (1 + phi) * (1 + th)  # what a futures purchase costs
        if P / g < sell_at:
            room = self.position_limit + pos
            self._leg(sim, view, buy_base=True, target=sell_at, room=room)
        elif P * g > buy_at:
            room = min(self.position_limit - pos, sim.balance(self.name, self.base))
            self._leg(sim, view, buy_base=False, target=buy_at, room=room)

    def _leg(self, sim: Simulation, view: AmmPoolView, *, buy_base: bool, target: float,
             room: float) -> None:
        size = self.size(sim, min(self.max_trade, room))
        if size <= 0:
            return
        p01 = to_token0_price(view, self.base, target)
        trade = pool_arbitrage(view, p01)
        if trade is None:
            return
        t0 = view.assets[0]
        base_is_0 = self.base == t0
        est_base = trade.amount_out if buy_base else trade.amount_in
        if trade.zero_for_one != (base_is_0 != buy_base):  # buying token0 is not zero-for-one
            return
        size = self.size(sim, min(size, est_base))
        if size <= 0:
            return
        if buy_base:
            r = sim.amm.swap(self.name, self.pool_id, self.quote, size, exact="out",
                             price_limit=trade.target_price)
        else:
            r = sim.amm.swap(self.name, self.pool_id, self.base, size,
                             price_limit=trade.target_price)
        if not r.accepted:
            return
        a_in, a_out = r.value
        got_base = a_out if buy_base else a_in
        pool_quote = a_in if buy_base else a_out
        self.trades += 1
        self.volume += got_base
        self.volume_quote += pool_quote
        hedge = self.size(sim, got_base)
        if hedge <= 0:
            return
        res = self.send(sim, "sell" if buy_base else "buy", hedge, None, order_type="MARKET",
                        time_in_force="IOC")
        if res is None or not res.accepted or not res.trades:
            return
        u = self._units or sim.futures.units(self.market)
        filled = sum(u.size(t.size) for t in res.trades)
        notional = sum(u.price(t.price) * u.size(t.size) for t in res.trades)
        fees = sum(u.money(t.seller_fee if buy_base else t.buyer_fee) for t in res.trades)
        self.futures_fees += fees
        share = filled / got_base
        if buy_base:
            self.profit += notional - fees - pool_quote * share
        else:
            self.profit += pool_quote * share - notional - fees
