"""Liquidity providers (LPs) of AMM pools: :class:`PassiveLiquidityProvider` deposits
once and holds; :class:`RecenteringLiquidityProvider` keeps a concentrated range
around the price on a V3 pool.

Accounting (quote units, at a mark price ``p``: the LP's reference when it has one,
else the pool's price), for initial deposit ``(b0, q0)`` of base / quote:

- ``hold_value = b0 p + q0``: the portfolio had it not deposited;
- ``fees``: what the position earned in fees. V3: the position's owed fees (plus
  those already collected). V2: fees are reinvested as liquidity, so they are the
  liquidity the LP's share gained since its deposit, ``(L_now - L_0)`` valued at the
  pool price ``P`` (holdings ``(dL / sqrt(P), dL sqrt(P))``, with ``L = share x
  sqrt(x y)``): the position minus the same position in a fee-less pool;
- ``impermanent_loss = hold_value - (value - fees)``: the loss versus holding from
  the price move alone (>= 0 for a passive position; Pintail 2019, "Uniswap: a good
  deal for liquidity providers?"; for ranges, Uniswap v3 whitepaper section 6).

Agents act through :class:`~defisim.Simulation` only (``sim.amm``, ``sim.balance``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..base import Agent
from .arbitrageur import Reference, balance_units, reference_price

if TYPE_CHECKING:
    from defisim.service import Simulation
    from defisim.service.amm import AmmPoolView

MAX_TICK = 887272
"""Uniswap v3's largest tick (TickMath.MAX_TICK)."""


def full_range_ticks(tick_spacing: int) -> tuple[int, int]:
    """The widest usable range of a V3 pool: ``(-m, m)`` with ``m`` the largest multiple
    of ``tick_spacing`` not above :data:`MAX_TICK` (what the Uniswap interface mints as
    "full range"). Raises ``ValueError`` for a spacing < 1."""
    if tick_spacing < 1:
        raise ValueError(f"tick_spacing must be >= 1, got {tick_spacing!r}")
    m = MAX_TICK // tick_spacing * tick_spacing
    return -m, m


def range_ticks(sim: Simulation, pool_id: str, base: str, lower: float,
                upper: float) -> tuple[int, int]:
    """Usable ticks ``(tick_lower, tick_upper)`` of the range ``[lower, upper]`` (quote
    per ``base``; ``0 < lower < upper``) of a V3 pool, each rounded down to the
    spacing (``sim.amm.price_to_tick``), widened by one spacing when both round to the
    same tick. Raises ``ValueError`` (bad prices, ``base`` not in the pool)."""
    if not 0 < lower < upper or not math.isfinite(upper):
        raise ValueError(f"need 0 < lower < upper, got {lower!r}, {upper!r}")
    view = sim.amm.pool_view(pool_id)
    if base == view.assets[0]:
        lo, up = lower, upper
    elif base == view.assets[1]:
        lo, up = 1 / upper, 1 / lower
    else:
        raise ValueError(f"{pool_id} holds {view.assets}, not {base!r}")
    tl, tu = sim.amm.price_to_tick(pool_id, lo), sim.amm.price_to_tick(pool_id, up)
    if tu <= tl:
        tu = tl + view.tick_spacing
    return tl, tu


def range_deposit(sim: Simulation, pool_id: str, base: str, lower: float, upper: float,
                  capital: float) -> tuple[float, float]:
    """``(amount_base, amount_quote)`` worth ``capital`` quote units at the pool's price
    in the proportion a V3 position on ``[lower, upper]`` (quote per ``base``, the ticks
    of :func:`range_ticks`) takes now: per unit of liquidity ``x = 1/sqrt(P) -
    1/sqrt(P_b)`` token0 and ``y = sqrt(P) - sqrt(P_a)`` token1 with the pool's prices
    ``P`` (token1 per token0) clamped to the range (Uniswap V3 whitepaper eqs. 6.29-6.30).
    A range above or below the price takes one asset only. Raises ``ValueError`` (bad
    prices or capital, ``base`` not in the pool)."""
    if not (math.isfinite(capital) and capital > 0):
        raise ValueError(f"capital must be a finite number > 0, got {capital!r}")
    tl, tu = range_ticks(sim, pool_id, base, lower, upper)
    view = sim.amm.pool_view(pool_id)
    pa, pb = sim.amm.tick_to_price(pool_id, tl), sim.amm.tick_to_price(pool_id, tu)
    pc = min(max(view.price, pa), pb)
    x = 1 / math.sqrt(pc) - 1 / math.sqrt(pb)
    y = math.sqrt(pc) - math.sqrt(pa)
    base_is_0 = base == view.assets[0]
    b, q = (x, y) if base_is_0 else (y, x)
    scale = capital / (b * view.price_of(base) + q)
    return b * scale, q * scale


def _base_price(view: AmmPoolView, base: str) -> float:
    return view.price_of(base)


class _PoolLP(Agent):
    """Shared state of the LPs: the party, the deposit and the value accounting."""

    phase = 1

    def __init__(self, name: str, pool_id: str, *, base: str, quote: str, amount_base: float,
                 amount_quote: float, reference: Reference | None = None) -> None:
        super().__init__(name)
        if base == quote:
            raise ValueError(f"{name}: base and quote must differ, got {base!r}")
        for k, v in (("amount_base", amount_base), ("amount_quote", amount_quote)):
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name}: {k} must be a finite number >= 0, got {v!r}")
        if amount_base <= 0 and amount_quote <= 0:
            raise ValueError(f"{name}: deposit something (amount_base or amount_quote > 0)")
        self.pool_id = pool_id
        self.base, self.quote = base, quote
        self.amount_base, self.amount_quote = float(amount_base), float(amount_quote)
        self.reference = reference
        self.kind = ""

    def _setup(self, sim: Simulation) -> AmmPoolView:
        view = sim.amm.pool_view(self.pool_id)
        if set(view.assets) != {self.base, self.quote}:
            raise ValueError(f"{self.name}: {self.pool_id} holds {view.assets}, not "
                             f"{self.base}/{self.quote}")
        self.kind = view.kind
        if self.name not in sim.parties:
            sim.create_party(self.name)
        sim.mint(self.name, self.base, self.amount_base)
        sim.mint(self.name, self.quote, self.amount_quote)
        return view

    def mark_price(self, sim: Simulation) -> float:
        """The price the accounting uses: the reference if any (and it has a price),
        else the pool's price of ``base`` (quote per base)."""
        if self.reference is not None:
            p = reference_price(self.reference, sim)
            if p is not None:
                return p
        return _base_price(sim.amm.pool_view(self.pool_id), self.base)

    def hold_value(self, sim: Simulation, price: float | None = None) -> float:
        """Value of the initial deposit had it been held (quote units)."""
        p = self.mark_price(sim) if price is None else price
        return self.amount_base * p + self.amount_quote

    def wallet_value(self, sim: Simulation, price: float | None = None) -> float:
        """Value of the LP's base and quote outside the pool (quote units)."""
        p = self.mark_price(sim) if price is None else price
        return sim.balance(self.name, self.base) * p + sim.balance(self.name, self.quote)

    def value(self, sim: Simulation, price: float | None = None) -> float:
        """Everything the LP owns (wallet + position + fees owed), quote units."""
        raise NotImplementedError

    def fees(self, sim: Simulation, price: float | None = None) -> float:
        """Fees earned so far (quote units; module docstring)."""
        raise NotImplementedError

    def impermanent_loss(self, sim: Simulation, price: float | None = None) -> float:
        """``hold_value - (value - fees)``, quote units (> 0: a loss versus holding)."""
        p = self.mark_price(sim) if price is None else price
        return self.hold_value(sim, p) - (self.value(sim, p) - self.fees(sim, p))

    def _v3_amounts(self, view: AmmPoolView, pos) -> tuple[float, float, float, float]:
        """(base, quote, fee base, fee quote) of a V3 position view."""
        if self.base == view.assets[0]:
            return pos.amount0, pos.amount1, pos.fees0, pos.fees1
        return pos.amount1, pos.amount0, pos.fees1, pos.fees0


class PassiveLiquidityProvider(_PoolLP):
    """Deposits once at :meth:`initialise` and holds.

    Position: V2: ``add_liquidity`` of ``amount_base``/``amount_quote`` (the router
    deposits the largest amounts at the pool's ratio; the rest stays in the wallet).
    V3: ``mint_position`` on the full range (:func:`full_range_ticks`, default), on
    ``price_range=(lower, upper)`` (quote per base), or on ``range_pct=r``: ``[P (1 - r),
    P (1 + r)]`` around the pool's price ``P`` at deposit; the largest liquidity the
    amounts allow (the rest stays in the wallet).

    Args:
        name: agent and party name; the agent mints its deposit to the party.
        pool_id: the pool.
        base, quote: its assets (prices are quote per base).
        amount_base, amount_quote: the deposit, asset units (>= 0, not both 0).
        price_range: V3 range ``(lower, upper)``, quote per base.
        range_pct: V3 range as a fraction around the price (0 < r < 1).
        reference: mark price for :meth:`value` (else the pool's price).

    Attributes:
        deposited_base, deposited_quote: what the pool took (asset units).
        tick_lower, tick_upper: V3 range (None on V2).
        liquidity: V2 LP units or V3 raw liquidity received.

    Raises:
        ValueError: bad parameters, a range on a V2 pool, a rejected deposit.
    """

    def __init__(self, name: str, pool_id: str, *, base: str, quote: str, amount_base: float,
                 amount_quote: float, price_range: tuple[float, float] | None = None,
                 range_pct: float | None = None, reference: Reference | None = None) -> None:
        super().__init__(name, pool_id, base=base, quote=quote, amount_base=amount_base,
                         amount_quote=amount_quote, reference=reference)
        if price_range is not None and range_pct is not None:
            raise ValueError(f"{name}: give price_range or range_pct, not both")
        if range_pct is not None and not 0 < range_pct < 1:
            raise ValueError(f"{name}: range_pct must be in (0, 1), got {range_pct!r}")
        if price_range is not None and not 0 < price_range[0] < price_range[1]:
            raise ValueError(f"{name}: price_range must be (lower, upper), 0 < lower < upper")
        self.price_range = price_range
        self.range_pct = range_pct
        self.tick_lower: int | None = None
        self.tick_upper: int | None = None
        self.deposited_base = 0.0
        self.deposited_quote = 0.0
        self.liquidity: float = 0
        self._l0 = 0.0  # V2: share x sqrt(x y) at deposit (asset units)

    def initialise(self, sim: Simulation) -> None:
        """Create the party, mint the deposit and add it to the pool (immediate mode:
        now; mempool mode: at the block's close, booked at the first wake-up)."""
        view = self._setup(sim)
        if view.kind == "V2":
            if self.price_range is not None or self.range_pct is not None:
                raise ValueError(f"{self.name}: a V2 pool has no ranges")
            r = sim.amm.add_liquidity(self.name, self.base, self.quote, self.amount_base,
                                      self.amount_quote)
        else:
            if self.price_range is not None:
                self.tick_lower, self.tick_upper = range_ticks(sim, self.pool_id, self.base,
                                                               *self.price_range)
            elif self.range_pct is not None:
                p = view.price_of(self.base)
                self.tick_lower, self.tick_upper = range_ticks(
                    sim, self.pool_id, self.base, p * (1 - self.range_pct),
                    p * (1 + self.range_pct))
            else:
                self.tick_lower, self.tick_upper = full_range_ticks(view.tick_spacing)
            a0, a1 = ((self.amount_base, self.amount_quote) if self.base == view.assets[0]
                      else (self.amount_quote, self.amount_base))
            r = sim.amm.mint_position(self.name, self.pool_id, self.tick_lower, self.tick_upper,
                                      a0, a1)
        if not r.accepted:
            raise ValueError(f"{self.name}: deposit rejected: {r.reason} {r.detail}")
        self._receipt = r
        if r.status != "PENDING":
            self._book_deposit(sim, r.value, raw=False)

    def _book_deposit(self, sim: Simulation, value, raw: bool) -> None:
        view = sim.amm.pool_view(self.pool_id)
        if self.kind == "V2":
            b, q, liq = value
            if raw:
                b, q = sim.money(self.base, b), sim.money(self.quote, q)
                liq = liq / 10**18
            self.liquidity = liq
            share = liq / view.lp_supply
            self._l0 = share * math.sqrt(view.reserves[0] * view.reserves[1])
        else:
            liq, a0, a1 = value
            if raw:
                a0, a1 = sim.money(view.assets[0], a0), sim.money(view.assets[1], a1)
            self.liquidity = liq
            b, q = (a0, a1) if self.base == view.assets[0] else (a1, a0)
        self.deposited_base, self.deposited_quote = b, q
        # the hold portfolio is what the pool took; the rest stays in the wallet
        self.amount_base, self.amount_quote = b, q
        self._receipt = None

    def step(self, sim: Simulation) -> None:
        """Book a deposit executed at the previous block's close (mempool mode)."""
        r = getattr(self, "_receipt", None)
        if r is not None:
            done = sim.receipt(r.tx_id)
            if done is not None and done.status != "PENDING":
                if not done.accepted:
                    raise ValueError(f"{self.name}: deposit rejected: {done.reason}")
                self._book_deposit(sim, done.value, raw=True)

    # ---------------------------------------------------------------- accounting
    def position(self, sim: Simulation) -> tuple[float, float, float, float]:
        """``(base, quote, fee_base, fee_quote)``: the position's holdings excluding
        fees and its fees, asset units (module docstring)."""
        view = sim.amm.pool_view(self.pool_id)
        if self.kind == "V2":
            supply = view.lp_supply
            share = sim.balance(self.name, view.lp_asset) / supply if supply else 0.0
            x, y = view.reserves
            pb = view.price_of(self.base)
            lnow = share * math.sqrt(x * y)
            # in base/quote terms: holdings (L / sqrt(pb), L sqrt(pb))
            bx, qy = (x, y) if self.base == view.assets[0] else (y, x)
            sb = math.sqrt(pb)
            fee_b, fee_q = (lnow - self._l0) / sb, (lnow - self._l0) * sb
            return share * bx - fee_b, share * qy - fee_q, fee_b, fee_q
        if self.tick_lower is None:
            return 0.0, 0.0, 0.0, 0.0
        pos = sim.amm.position(self.name, self.pool_id, self.tick_lower, self.tick_upper)
        if pos is None:
            return 0.0, 0.0, 0.0, 0.0
        return self._v3_amounts(view, pos)

    def value(self, sim: Simulation, price: float | None = None) -> float:
        """The position's value, fees included, quote units at ``price`` (default
        :meth:`mark_price`); what the pool did not take of the minted amounts stays in
        the wallet and is not counted (nor in :meth:`hold_value`)."""
        p = self.mark_price(sim) if price is None else price
        b, q, fb, fq = self.position(sim)
        return (b + fb) * p + q + fq

    def fees(self, sim: Simulation, price: float | None = None) -> float:
        """Fees earned (quote units at ``price``; module docstring)."""
        p = self.mark_price(sim) if price is None else price
        _, _, fb, fq = self.position(sim)
        return fb * p + fq


class RecenteringLiquidityProvider(_PoolLP):
    """An active LP on a V3 pool: a range of half-width ``half_width`` around the
    price, re-centred when the price leaves the trigger band.

    At :meth:`initialise` it mints ``[P (1 - h), P (1 + h)]`` around the pool's price
    ``P`` (quote per base). Each wake-up, with ``c`` the centre of its range, if the
    pool's price is outside ``[c (1 - t h), c (1 + t h)]`` (``t = trigger``, 1: the
    range's edges) it burns the whole position and collects (principal + fees), then,
    with ``rebalance=True`` (default), swaps in the same pool so that its inventory
    has the new range's ratio (target base ``b* = V (1/sqrt(P) - 1/sqrt(P_u)) / (
    (1/sqrt(P) - 1/sqrt(P_u)) P + sqrt(P) - sqrt(P_l))`` with ``V`` its value at ``P``,
    Uniswap v3 whitepaper eqs. 6.29-6.30; the swap pays the pool fee), and mints the
    new range with everything it holds (the largest liquidity the amounts allow).
    Without ``rebalance`` it mints with what it has, leaving the excess in the wallet.

    Needs ``execution="immediate"`` (the mint depends on what the burn paid out).

    Args:
        name, pool_id, base, quote, amount_base, amount_quote, reference: as
            :class:`PassiveLiquidityProvider`.
        half_width: ``h``, fraction of the price (0 < h < 1).
        trigger: ``t`` in (0, 1]: re-centre when the price moves ``t h`` from the centre.
        rebalance: swap to the new range's ratio before minting.
        gas_cost: quote units booked per transaction (burn, swap, mint).

    Attributes:
        rebalances: re-centrings; gas_spent (quote units); fees_collected (quote units,
        at the price of each collection); tick_lower, tick_upper; liquidity (raw);
        centre (quote per base); history: ``(time_s, price, tick_lower, tick_upper,
        liquidity)`` per mint.

    Raises:
        ValueError: bad parameters, not a V3 pool, mempool execution.
    """

    def __init__(self, name: str, pool_id: str, *, base: str, quote: str, amount_base: float,
                 amount_quote: float, half_width: float = 0.05, trigger: float = 1.0,
                 rebalance: bool = True, gas_cost: float = 0.0,
                 reference: Reference | None = None) -> None:
        super().__init__(name, pool_id, base=base, quote=quote, amount_base=amount_base,
                         amount_quote=amount_quote, reference=reference)
        if not 0 < half_width < 1:
            raise ValueError(f"{name}: half_width must be in (0, 1), got {half_width!r}")
        if not 0 < trigger <= 1:
            raise ValueError(f"{name}: trigger must be in (0, 1], got {trigger!r}")
        if not (math.isfinite(gas_cost) and gas_cost >= 0):
            raise ValueError(f"{name}: gas_cost must be >= 0, got {gas_cost!r}")
        self.half_width = float(half_width)
        self.trigger = float(trigger)
        self.rebalance = bool(rebalance)
        self.gas_cost = float(gas_cost)
        self.rebalances = 0
        self.gas_spent = 0.0
        self.fees_collected = 0.0
        self.tick_lower: int | None = None
        self.tick_upper: int | None = None
        self.liquidity = 0
        self.centre = 0.0
        self.history: list[tuple[float, float, int, int, int]] = []

    def initialise(self, sim: Simulation) -> None:
        """Create the party, mint the deposit, mint the first range."""
        if sim.execution != "immediate":
            raise ValueError(f"{self.name}: the re-centring LP needs execution='immediate'")
        view = self._setup(sim)
        if view.kind != "V3":
            raise ValueError(f"{self.name}: {self.pool_id} is not a V3 pool")
        self._mint(sim, view.price_of(self.base))

    def _mint(self, sim: Simulation, p: float) -> None:
        h = self.half_width
        tl, tu = range_ticks(sim, self.pool_id, self.base, p * (1 - h), p * (1 + h))
        view = sim.amm.pool_view(self.pool_id)
        b, q = balance_units(sim, self.name, self.base), balance_units(sim, self.name, self.quote)
        a0, a1 = (b, q) if self.base == view.assets[0] else (q, b)
        r = sim.amm.mint_position(self.name, self.pool_id, tl, tu, a0, a1)
        self.gas_spent += self.gas_cost
        if not r.accepted:
            raise ValueError(f"{self.name}: mint rejected: {r.reason} {r.detail}")
        self.tick_lower, self.tick_upper, self.liquidity = tl, tu, r.value[0]
        self.centre = p
        self.history.append((sim.now, p, tl, tu, r.value[0]))

    def _rebalance_swap(self, sim: Simulation, p: float) -> None:
        h = self.half_width
        lo, up = p * (1 - h), p * (1 + h)
        sp = math.sqrt(p)
        per_b = 1 / sp - 1 / math.sqrt(up)  # base per unit of liquidity
        per_q = sp - math.sqrt(lo)  # quote per unit of liquidity
        b, q = sim.balance(self.name, self.base), sim.balance(self.name, self.quote)
        v = b * p + q
        target_b = v * per_b / (per_b * p + per_q)
        if b > target_b * (1 + 1e-9):
            r = sim.amm.swap(self.name, self.pool_id, self.base, b - target_b)
        elif b < target_b * (1 - 1e-9):
            q_all = float(balance_units(sim, self.name, self.quote))
            r = sim.amm.swap(self.name, self.pool_id, self.quote, min(q_all * (1 - 1e-12),
                                                                       (target_b - b) * p))
        else:
            return
        self.gas_spent += self.gas_cost
        del r  # a rejected swap (e.g. too small) leaves the inventory as it is

    def needs_recentre(self, price: float) -> bool:
        """True when ``price`` (quote per base) is outside the trigger band."""
        d = self.trigger * self.half_width
        return not self.centre * (1 - d) <= price <= self.centre * (1 + d)

    def step(self, sim: Simulation) -> None:
        view = sim.amm.pool_view(self.pool_id)
        p = view.price_of(self.base)
        if self.tick_lower is None or not self.needs_recentre(p):
            return
        pos = sim.amm.position(self.name, self.pool_id, self.tick_lower, self.tick_upper)
        if pos is not None and pos.liquidity > 0:
            _, _, fb, fq = self._v3_amounts(view, pos)
            r = sim.amm.burn_position(self.name, self.pool_id, self.tick_lower,
                                      self.tick_upper, collect=True)
            self.gas_spent += self.gas_cost
            if not r.accepted:
                return
            self.fees_collected += fb * p + fq
        if self.rebalance:
            self._rebalance_swap(sim, p)
        p = sim.amm.pool_view(self.pool_id).price_of(self.base)
        self._mint(sim, p)
        self.rebalances += 1

    # ---------------------------------------------------------------- accounting
    def position(self, sim: Simulation) -> tuple[float, float, float, float]:
        """``(base, quote, fee_base, fee_quote)`` of the current range (asset units)."""
        if self.tick_lower is None:
            return 0.0, 0.0, 0.0, 0.0
        pos = sim.amm.position(self.name, self.pool_id, self.tick_lower, self.tick_upper)
        if pos is None:
            return 0.0, 0.0, 0.0, 0.0
        return self._v3_amounts(sim.amm.pool_view(self.pool_id), pos)

    def value(self, sim: Simulation, price: float | None = None) -> float:
        """Wallet + position + owed fees, quote units at ``price``."""
        p = self.mark_price(sim) if price is None else price
        b, q, fb, fq = self.position(sim)
        return self.wallet_value(sim, p) + (b + fb) * p + q + fq

    def fees(self, sim: Simulation, price: float | None = None) -> float:
        """Fees collected (at their collection prices) plus the fees owed now."""
        p = self.mark_price(sim) if price is None else price
        _, _, fb, fq = self.position(sim)
        return self.fees_collected + fb * p + fq
