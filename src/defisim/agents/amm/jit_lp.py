"""Just-in-time (JIT) liquidity: mint a narrow V3 position before a large pending swap
and burn it right after, to take most of the swap's fee."""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.chain.transactions import Transaction

from ..base import Agent
from ._mempool import MODES, NO_DEADLINE, PendingSwap, gas_paid, open_mev_account, pending_swaps

if TYPE_CHECKING:
    from defisim.service import Simulation
    from defisim.service.amm import AmmPoolView

MINT_GAS = 250_000
"""Gas of ``v3_mint`` in mempool mode (``amm`` protocol ``GAS``)."""
BURN_GAS = 180_000
"""Gas of ``v3_burn`` in mempool mode."""

_Q96 = float(1 << 96)


def liquidity_for_amounts(sqrt_price_x96: int, tick_lower: int, tick_upper: int, amount0: int,
                          amount1: int) -> int:
    """The largest liquidity ``amount0``/``amount1`` (base units) buy in
    ``[tick_lower, tick_upper)`` at ``sqrt_price_x96`` (``LiquidityAmounts
    .getLiquidityForAmounts``, spec ``amm.md`` 2.12), in floats and shaded down by
    1e-6 so that the exact owed amounts stay within the budget: with ``sa, sp, sb`` the
    square-root prices of the lower tick, now and the upper tick (``1.0001^(t/2)``),
    ``L = min(amount0 * sp * sb / (sb - sp), amount1 / (sp - sa))`` inside the range,
    the one-sided formula outside it. 0 when nothing can be bought."""
    sa = 1.0001 ** (tick_lower / 2)
    sb = 1.0001 ** (tick_upper / 2)
    sp = sqrt_price_x96 / _Q96
    if sp <= sa:
        liq = amount0 * sa * sb / (sb - sa)
    elif sp >= sb:
        liq = amount1 / (sb - sa)
    else:
        liq = min(amount0 * sp * sb / (sb - sp), amount1 / (sp - sa))
    return max(int(liq * (1 - 1e-6)), 0)


class JitLiquidityProvider(Agent):
    """JIT liquidity around large pending swaps in one Uniswap V3 pool (mempool mode).

    Each wake-up (``phase`` 3, after the swappers) it looks for the largest pending
    exact-in swap of the pool worth at least ``min_swap`` quote units. It mints
    liquidity ``L`` in the ``width`` tick spacings around the current tick (all the
    budget buys: ``budget`` of each of its balances) and burns the position right
    after the swap, collecting principal and fees. While the swap stays inside the
    range the position earns the share ``L / (L + L_active)`` of the swap's fee (spec
    ``amm.md`` 2.7: fee growth per unit of in-range liquidity) and the other in-range
    LPs the rest. It sends only when the expected fee, valued in ``quote_asset``,
    exceeds the gas and tips plus ``min_profit``; at most one JIT per block.

    Ordering (``mode``): ``"bundle"`` (default) sends one bundle ``[mint, swap,
    burn + collect]`` that pulls in the swap's pending transaction (Flashbots style;
    atomic, a revert costs nothing; the mint tips the swap's tip plus ``tip_bid``, and
    the bundle is keyed by it; only under ``priority`` ordering, otherwise the chain
    refuses it at once and it counts in ``refused``); ``"tips"`` sends the mint
    with the swap's tip plus ``tip_bid`` and the burn with tip 0 as two transactions
    (under ``priority`` the mint executes first, the burn after the swap).

    Accounting from the receipts at the next wake-up: ``fee_income`` (collected minus
    burned principal, valued in quote at the pool's price then) and ``pnl`` (everything
    collected minus everything paid into the position, valued the same way, minus
    gas: the fee income less the position's loss to the price move).

    Args:
        name: agent and party name.
        pool_id: a V3 pool.
        quote_asset: the pool asset values are measured in.
        funds: ``{asset: amount}`` minted in :meth:`initialise`.
        min_swap: least pending swap size to act on, quote units.
        width: the position's width in tick spacings (>= 1).
        budget: the share of each balance put into the position, in (0, 1].
        tip_bid: native units per gas added to the swap's tip on the mint.
        min_profit: least expected fee after gas, quote units.
        mode: ``"bundle"`` (default) or ``"tips"``.

    Attributes:
        refused (bundles refused at submission, not in ``attempted``), reverted
        (bundles reverted at execution), attempted, captured (mint, swap and burn executed in that order), fee_income,
        pnl (quote units, cumulative), gas_native, tips_native (native units), history.

    Raises:
        ValueError: bad parameters; in :meth:`initialise` a pool that is not V3, or
            immediate mode; an unknown mode.
    """

    phase = 3

    def __init__(self, name: str, pool_id: str, *, quote_asset: str,
                 funds: dict[str, float] | None = None, min_swap: float = 10_000.0, width: int = 1,
                 budget: float = 1.0, tip_bid: float = 2e-9, min_profit: float = 0.0,
                 mode: str = "bundle") -> None:
        super().__init__(name)
        if mode not in MODES:
            raise ValueError(f"{name}: mode must be one of {MODES}, got {mode!r}")
        if type(width) is not int or width < 1:
            raise ValueError(f"{name}: width must be an int >= 1, got {width!r}")
        if not 0 < budget <= 1:
            raise ValueError(f"{name}: budget must be in (0, 1], got {budget!r}")
        if min_swap < 0 or tip_bid < 0 or min_profit < 0:
            raise ValueError(f"{name}: min_swap, tip_bid and min_profit must be >= 0")
        self.pool_id = pool_id
        self.quote_asset = quote_asset
        self.funds = funds or {}
        self.min_swap = min_swap
        self.width = width
        self.budget = budget
        self.tip_bid = tip_bid
        self.min_profit = min_profit
        self.mode = mode
        self.attempted = self.captured = self.refused = self.reverted = 0
        self.fee_income = self.pnl = self.gas_native = self.tips_native = 0.0
        self.history: list[dict] = []
        self._open: list[tuple[PendingSwap, int, int, int]] = []
        self._order: dict[int, int] = {}
        self._seq = 0
        self._cursor = None
        self._native: tuple[str, int] | None = None

    def initialise(self, sim: Simulation) -> None:
        """Check the pool, create the party, mint its funds, tip 0 by default."""
        view = sim.amm.pool_view(self.pool_id)
        if view.kind != "V3":
            raise ValueError(f"{self.name}: JIT liquidity needs a V3 pool; {self.pool_id} is {view.kind}")
        self._native = open_mev_account(sim, self.name, self.funds, self.quote_asset, view)
        self._cursor = sim.event_cursor()

    def _px(self, view: AmmPoolView, asset: str) -> float:
        return 1.0 if asset == self.quote_asset else view.price_of(asset)

    def _native_quote(self, view: AmmPoolView, raw: int) -> float:
        if self._native is None or raw == 0:
            return 0.0
        asset, dec = self._native
        return raw / 10**dec * (self._px(view, asset) if asset in view.assets else 0.0)

    def range_now(self, view: AmmPoolView) -> tuple[int, int]:
        """``(tick_lower, tick_upper)``: ``width`` spacings holding the current tick."""
        s = view.tick_spacing or 1
        lo = view.tick // s * s - s * ((self.width - 1) // 2)
        return lo, lo + self.width * s

    def step(self, sim: Simulation) -> None:
        self.settle(sim)
        view = sim.amm.pool_view(self.pool_id)
        if not view.liquidity:
            return
        best: tuple[float, PendingSwap] | None = None
        for v in pending_swaps(sim, view, exclude=self.name):
            size = sim.money(v.asset_in, v.amount_in) * self._px(view, v.asset_in)
            if size >= self.min_swap and (best is None or size > best[0]):
                best = (size, v)
        if best is None:
            return
        size, v = best
        lo, up = self.range_now(view)
        t0, t1 = view.assets
        a0 = int(int(sim.balance(self.name, t0, raw=True)) * self.budget)
        a1 = int(int(sim.balance(self.name, t1, raw=True)) * self.budget)
        if self._native is not None:  # keep some of the native asset for gas
            a0 -= a0 // 20 if t0 == self._native[0] else 0
            a1 -= a1 // 20 if t1 == self._native[0] else 0
        liq = liquidity_for_amounts(view.sqrt_price_x96, lo, up, a0, a1)
        if liq <= 0:
            return
        share = liq / (liq + view.liquidity)
        fee = size * view.fee * share
        base_fee = int(sim.base_fee(raw=True))
        bid = 0 if self._native is None else round(self.tip_bid * 10 ** self._native[1])
        tip = v.tx.max_priority_fee_per_gas + bid if self._native is not None else 0
        cost = self._native_quote(view, MINT_GAS * (base_fee + tip) + BURN_GAS * base_fee)
        if fee - cost <= self.min_profit:
            return
        mint = Transaction(self.name, "amm", "v3_mint",
                           (self.pool_id, lo, up, a0, a1, 0, 0, NO_DEADLINE, liq),
                           max_priority_fee_per_gas=tip)
        burn = Transaction(self.name, "amm", "v3_burn",
                           (self.pool_id, lo, up, liq, 0, 0, NO_DEADLINE, True))
        if self.mode == "bundle":
            if sim.send_bundle([mint, v.tx, burn]).status == "REJECTED":
                self.refused += 1
                return
        else:
            sim.send(mint)
            sim.send(burn)
        self.attempted += 1
        self._open.append((v, mint.tx_id, burn.tx_id, liq))

    def settle(self, sim: Simulation) -> None:
        """Account the JIT positions whose block has executed (class docstring)."""
        if self._cursor is not None:
            for e in self._cursor.read():
                if type(e).__name__ == "TransactionIncluded":
                    self._seq += 1
                    self._order[e.tx_id] = self._seq
        still = []
        view = sim.amm.pool_view(self.pool_id)
        t0, t1 = view.assets
        for v, m_id, b_id, liq in self._open:
            rm, rb, rv = sim.receipt(m_id), sim.receipt(b_id), sim.receipt(v.tx.tx_id)
            if rm is None or rb is None or rm.status == "PENDING" or rb.status == "PENDING":
                still.append((v, m_id, b_id, liq))
                continue
            if rm.status == "REVERTED":  # the bundle reverted: nothing happened, no gas
                self.reverted += 1
                self.history.append({"block": rm.block, "victim": v.tx.tx_id, "liquidity": liq,
                                     "fees_quote": 0.0, "fees0": 0, "fees1": 0, "pnl_quote": 0.0,
                                     "captured": False})
                continue
            ok_m, ok_b = rm.status == "EXECUTED", rb.status == "EXECUTED"
            paid0, paid1 = (rm.value[1], rm.value[2]) if ok_m else (0, 0)
            b0, b1, c0, c1 = rb.value if ok_b else (0, 0, 0, 0)
            px0, px1 = self._px(view, t0), self._px(view, t1)
            fees = sim.money(t0, c0 - b0) * px0 + sim.money(t1, c1 - b1) * px1
            gas_raw = gas_paid((rm, rb))
            pnl = (sim.money(t0, c0 - paid0) * px0 + sim.money(t1, c1 - paid1) * px1
                   - self._native_quote(view, gas_raw))
            if self._native is not None:
                self.gas_native += gas_raw / 10 ** self._native[1]
                self.tips_native += (rm.tip + rb.tip) / 10 ** self._native[1]
            om, ob, ov = self._order.get(m_id), self._order.get(b_id), self._order.get(v.tx.tx_id)
            ok_v = rv is not None and rv.status == "EXECUTED"
            captured = ok_m and ok_b and ok_v and (om is None or ov is None or ob is None
                                                   or om < ov < ob)
            self.captured += captured
            self.fee_income += fees
            self.pnl += pnl
            self.history.append({"block": rm.block, "victim": v.tx.tx_id, "liquidity": liq,
                                 "fees_quote": fees, "fees0": c0 - b0, "fees1": c1 - b1,
                                 "pnl_quote": pnl, "captured": captured})
        self._open = still
        if not still:
            self._order.clear()

    def finalise(self, sim: Simulation) -> None:
        self.settle(sim)
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
