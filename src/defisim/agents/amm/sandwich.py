"""The sandwich searcher: front-runs and back-runs pending swaps in a Uniswap V2 pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from defisim.chain.transactions import Transaction

from ..base import Agent
from ._mempool import (
    MODES,
    NO_DEADLINE,
    SWAP_GAS,
    PendingSwap,
    gas_paid,
    open_mev_account,
    pending_swaps,
    v2_amount_out,
)

if TYPE_CHECKING:
    from defisim.service import Simulation
    from defisim.service.amm import AmmPoolView


@dataclass(frozen=True, slots=True)
class SandwichPlan:
    """One planned sandwich, base units. ``front_in`` of ``victim.asset_in`` buys
    ``front_out`` of ``victim.asset_out``; the victim then gets ``victim_out``
    (>= its ``min_out``); the back-run sells ``front_out`` for ``back_out``.
    ``profit = back_out - front_in`` (of ``victim.asset_in``, before gas).
    ``victim_alone``: what the victim would get from the same reserves without the
    front-run (so ``victim_alone - victim_out`` is what the sandwich costs it)."""

    victim: PendingSwap
    front_in: int
    front_out: int
    victim_out: int
    back_out: int
    victim_alone: int = 0

    @property
    def profit(self) -> int:
        return self.back_out - self.front_in


def plan_v2_sandwich(reserve_in: int, reserve_out: int, victim: PendingSwap,
                     budget: int) -> SandwichPlan | None:
    """The most profitable sandwich of ``victim`` in a V2 pair, exact integer math.

    Constant product with the 0.3 % fee (:func:`~._mempool.v2_amount_out`, spec
    ``amm.md`` 1.3) applied in order: the front-run ``f`` (same direction as the victim)
    moves the reserves to ``(r_in + f, r_out - o_f)``; the victim pays ``x`` and gets
    ``o_v(f)``, decreasing in ``f``; the back-run sells ``o_f`` into
    ``(r_out - o_f - o_v, r_in + f + x)``. ``f_max`` is the largest ``f <= budget`` with
    ``o_v(f) >= min_out`` (bisection: the victim's limit still passes); the profit
    ``back_out(f) - f`` is maximised over ``[0, f_max]`` by ternary search (it is
    unimodal: concave for the constant product, up to rounding, so the search ends with
    a scan of 32 base units around its result). Returns ``None`` when the victim's swap
    fails even alone, or no front-run makes a profit before gas.
    """
    x, m = victim.amount_in, victim.min_out

    def victim_out(f: int) -> int:
        of = v2_amount_out(f, reserve_in, reserve_out)
        return v2_amount_out(x, reserve_in + f, reserve_out - of)

    if budget <= 0 or victim_out(0) < m:
        return None
    lo, hi = 0, budget  # victim_out(lo) >= m
    if victim_out(hi) >= m:
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if victim_out(mid) >= m:
            lo = mid
        else:
            hi = mid
    f_max = lo

    def profit(f: int) -> int:
        of = v2_amount_out(f, reserve_in, reserve_out)
        ov = v2_amount_out(x, reserve_in + f, reserve_out - of)
        return v2_amount_out(of, reserve_out - of - ov, reserve_in + f + x) - f

    a, b = 0, f_max
    while b - a > 2:
        m1 = a + (b - a) // 3
        m2 = b - (b - a) // 3
        if profit(m1) < profit(m2):
            a = m1 + 1
        else:
            b = m2
    # integer rounding makes the profit jagged by a base unit or two: look around
    best = max(range(max(a - 32, 0), min(b + 32, f_max) + 1), key=lambda f: (profit(f), -f))
    if best <= 0 or profit(best) <= 0:
        return None
    of = v2_amount_out(best, reserve_in, reserve_out)
    ov = v2_amount_out(x, reserve_in + best, reserve_out - of)
    bo = v2_amount_out(of, reserve_out - of - ov, reserve_in + best + x)
    return SandwichPlan(victim, best, of, ov, bo, victim_out(0))


class SandwichSearcher(Agent):
    """Sandwiches pending exact-in swaps in one Uniswap V2 pool (mempool mode).

    Each wake-up (``phase`` 3: after the swappers of phase 2 have sent this block's
    swaps) it reads ``sim.pending_transactions()`` for exact-in swaps in its pool
    (``swap`` and the router's ``swap_exact_in`` on a two-asset path), plans the most
    profitable sandwich of each with :func:`plan_v2_sandwich` from the reserves of
    ``sim.amm.pool_view`` (the largest front-run the victim's ``min_out`` allows, then
    the profit maximum below it), and sends the best one whose expected profit, valued
    in ``quote_asset``, exceeds the gas and tips it would pay plus ``min_profit``. At
    most one sandwich per block: its transactions keep nonce order, so a second
    front-run would wait for the first back-run.

    Ordering (``mode``):

    ``"bundle"`` (default, Flashbots style)
        one bundle ``[front-run, victim's swap, back-run]``
        (``sim.send_bundle`` with the victim's pending transaction, which the bundle
        pulls out of its own mempool place): atomic, so it lands exactly as planned or
        reverts as a whole, and a reverted bundle costs nothing, not even gas. The
        back-run asks at least ``front_in + 1`` back (a bundle that would not profit
        before gas reverts). The front-run tips the victim's tip plus ``tip_bid`` per
        gas (under ``priority`` the bundle is keyed by it, so it runs before the other
        pending swaps that tip like the victim), the back-run its default tip 0. Only
        a ``priority`` block builder sells such places: under ``fifo`` and ``random``
        the chain refuses the bundle at once (``BUNDLE_FOREIGN_TX_NEEDS_PRIORITY``),
        counted in ``refused``: no profit, no loss.
    ``"tips"`` (a priority gas auction in the public mempool)
        the front-run and the back-run are two transactions; the front-run tips the
        victim's tip plus ``tip_bid`` (under ``priority`` it executes before the
        victim), the back-run 0 (after every swap that tips). Under ``fifo`` both
        arrive after the victim and the round trip only pays the pool's fee twice (a
        loss); under ``random`` it lands by chance.

    It does not model the ordering policy: it attacks on the same expectation under
    every policy.

    Accounting (at the next wake-up, from the receipts): the realised profit of a
    sandwich is ``back_out - front_in`` of the victim's input asset plus
    ``front_out - back_in`` of its output asset, valued at the pool's price then, minus
    the gas burned and tipped (native asset, valued at the pool's price when the native
    asset is in the pool, else at ``native_price``). A sandwich *lands* when the
    front-run, the victim and the back-run all executed in that order (a bundle: when
    it executed; tips: read from the ``TransactionIncluded`` events of an event
    cursor, or without events, all three executed and the profit before gas is
    positive). A reverted bundle counts in ``reverted`` with profit 0.

    Args:
        name: agent and party name.
        pool_id: a V2 pool (``"V2:..."``).
        quote_asset: the pool asset profits are measured in.
        funds: ``{asset: amount}`` minted in :meth:`initialise` (its capital).
        tip_bid: native units per gas added to the victim's tip on the front-run.
        min_profit: least expected profit after gas to attack, quote units (>= 0).
        max_front_run: the largest share of its balance a front-run may use, in (0, 1].
        native_price: quote units per native unit when the native asset is not in the pool.
        mode: ``"bundle"`` (default) or ``"tips"`` (above).

    Attributes:
        attempted, landed: sandwiches sent / landed; refused: bundles the chain
        refused at submission (not in ``attempted``); reverted: bundles that reverted
        at execution; profit: realised, cumulative,
        quote units (after gas); gross_profit: before gas; gas_native, tips_native:
        native units paid (all, and the tips alone); volume_in_quote: executed swap
        input valued in quote; victim_loss: what the landed sandwiches cost their
        victims, ``victim_alone - out`` of each valued in quote (the planned output
        without the front-run minus the executed one); victim_volume: the victims'
        planned outputs without front-runs, valued in quote; history: one dict per
        settled sandwich.

    Raises:
        ValueError: a bad parameter, or (in :meth:`initialise`) a pool that is not V2
            (the V3 formulas need the ticks' liquidity beyond the current range, which the
            pool view does not show) or a quote asset not in it.
    """

    phase = 3

    def __init__(self, name: str, pool_id: str, *, quote_asset: str,
                 funds: dict[str, float] | None = None, tip_bid: float = 2e-9,
                 min_profit: float = 0.0, max_front_run: float = 1.0,
                 native_price: float | None = None, mode: str = "bundle") -> None:
        super().__init__(name)
        if mode not in MODES:
            raise ValueError(f"{name}: mode must be one of {MODES}, got {mode!r}")
        if tip_bid < 0 or min_profit < 0:
            raise ValueError(f"{name}: tip_bid and min_profit must be >= 0")
        if not 0 < max_front_run <= 1:
            raise ValueError(f"{name}: max_front_run must be in (0, 1], got {max_front_run!r}")
        self.pool_id = pool_id
        self.quote_asset = quote_asset
        self.funds = funds or {}
        self.tip_bid = tip_bid
        self.min_profit = min_profit
        self.max_front_run = max_front_run
        self.native_price = native_price
        self.mode = mode
        self.attempted = self.landed = self.refused = self.reverted = 0
        self.profit = self.gross_profit = 0.0
        self.gas_native = self.tips_native = 0.0
        self.volume_in_quote = 0.0
        self.victim_loss = self.victim_volume = 0.0
        self.history: list[dict] = []
        self._open: list[tuple[SandwichPlan, int, int]] = []
        self._order: dict[int, int] = {}
        self._seq = 0
        self._cursor = None
        self._native: tuple[str, int] | None = None

    def initialise(self, sim: Simulation) -> None:
        """Check the pool, create the party, mint its funds, tip 0 by default."""
        view = sim.amm.pool_view(self.pool_id)
        if view.kind != "V2":
            raise ValueError(f"{self.name}: SandwichSearcher plans on Uniswap V2 pools only; "
                             f"{self.pool_id} is {view.kind}")
        self._native = open_mev_account(sim, self.name, self.funds, self.quote_asset, view)
        self._cursor = sim.event_cursor()

    # ------------------------------------------------------------------ valuation
    def _px(self, view: AmmPoolView, asset: str) -> float:
        if asset == self.quote_asset:
            return 1.0
        if asset in view.assets:
            return view.price_of(asset)
        return self.native_price or 0.0

    def _gas_quote(self, view: AmmPoolView, raw: int) -> float:
        if self._native is None or raw == 0:
            return 0.0
        asset, dec = self._native
        return raw / 10**dec * self._px(view, asset)

    # ------------------------------------------------------------------ step
    def step(self, sim: Simulation) -> None:
        self.settle(sim)
        view = sim.amm.pool_view(self.pool_id)
        r0, r1 = view.reserves_raw
        if r0 <= 0 or r1 <= 0:
            return
        base_fee = int(sim.base_fee(raw=True))
        bid = 0 if self._native is None else round(self.tip_bid * 10 ** self._native[1])
        best: tuple[float, SandwichPlan, int] | None = None
        for v in pending_swaps(sim, view, exclude=self.name):
            r_in, r_out = (r0, r1) if v.asset_in == view.assets[0] else (r1, r0)
            have = int(sim.balance(self.name, v.asset_in, raw=True))
            if self._native is not None and v.asset_in == self._native[0]:
                have -= have // 20  # keep some of the native asset for gas
            budget = int(have * self.max_front_run)
            plan = plan_v2_sandwich(r_in, r_out, v, budget)
            if plan is None:
                continue
            tip = v.tx.max_priority_fee_per_gas + bid if self._native is not None else 0
            cost = self._gas_quote(view, SWAP_GAS * (base_fee + tip) + SWAP_GAS * base_fee)
            gain = sim.money(v.asset_in, plan.profit) * self._px(view, v.asset_in)
            net = gain - cost
            if net > self.min_profit and (best is None or net > best[0]):
                best = (net, plan, tip)
        if best is not None:
            self._send(sim, best[1], best[2])

    def _send(self, sim: Simulation, plan: SandwichPlan, tip: int) -> None:
        v = plan.victim
        bundle = self.mode == "bundle"
        front = Transaction(self.name, "amm", "swap",
                            (self.pool_id, v.asset_in, v.asset_out, plan.front_in, 0, True,
                             NO_DEADLINE, 0), max_priority_fee_per_gas=tip)
        back = Transaction(self.name, "amm", "swap",
                           (self.pool_id, v.asset_out, v.asset_in, plan.front_out,
                            plan.front_in + 1 if bundle else 0, True, NO_DEADLINE, 0))
        if bundle:
            rc = sim.send_bundle([front, v.tx, back])
            if rc.status == "REJECTED":
                self.refused += 1
                return
        else:
            sim.send(front)
            sim.send(back)
        self.attempted += 1
        self._open.append((plan, front.tx_id, back.tx_id))

    # ------------------------------------------------------------------ accounting
    def settle(self, sim: Simulation) -> None:
        """Account the sandwiches whose block has executed (class docstring)."""
        if self._cursor is not None:
            for e in self._cursor.read():
                if type(e).__name__ == "TransactionIncluded":
                    self._seq += 1
                    self._order[e.tx_id] = self._seq
        if not self._open:
            self._order.clear()
            return
        still = []
        view = sim.amm.pool_view(self.pool_id)
        for plan, f_id, b_id in self._open:
            v = plan.victim
            rf, rb, rv = sim.receipt(f_id), sim.receipt(b_id), sim.receipt(v.tx.tx_id)
            if rf is None or rb is None or rf.status == "PENDING" or rb.status == "PENDING":
                still.append((plan, f_id, b_id))
                continue
            if rf.status == "REVERTED":  # the bundle reverted: nothing happened, no gas
                self.reverted += 1
                self.history.append({"block": rf.block, "victim": v.tx.tx_id, "front_in": plan.front_in,
                                     "expected_profit": plan.profit, "gross_quote": 0.0,
                                     "net_quote": 0.0, "landed": False})
                continue
            ok_f, ok_b = rf.status == "EXECUTED", rb.status == "EXECUTED"
            ok_v = rv is not None and rv.status == "EXECUTED"
            d_in = (rb.value[1] if ok_b else 0) - (rf.value[0] if ok_f else 0)
            d_out = (rf.value[1] if ok_f else 0) - (rb.value[0] if ok_b else 0)
            gross = (sim.money(v.asset_in, d_in) * self._px(view, v.asset_in)
                     + sim.money(v.asset_out, d_out) * self._px(view, v.asset_out))
            gas_raw = gas_paid((rf, rb))
            net = gross - self._gas_quote(view, gas_raw)
            if self._native is not None:
                self.gas_native += gas_raw / 10 ** self._native[1]
                self.tips_native += (rf.tip + rb.tip) / 10 ** self._native[1]
            if ok_f:
                self.volume_in_quote += sim.money(v.asset_in, rf.value[0]) * self._px(view, v.asset_in)
            if ok_b:
                self.volume_in_quote += sim.money(v.asset_out, rb.value[0]) * self._px(view, v.asset_out)
            of, ob, ov = (self._order.get(f_id), self._order.get(b_id),
                          self._order.get(v.tx.tx_id))
            if of is not None and ob is not None and ov is not None:
                landed = ok_f and ok_v and ok_b and of < ov < ob
            else:
                landed = ok_f and ok_v and ok_b and gross > 0
            self.landed += landed
            if landed and plan.victim_alone:
                px = self._px(view, v.asset_out)
                self.victim_loss += sim.money(v.asset_out, plan.victim_alone - rv.value[1]) * px
                self.victim_volume += sim.money(v.asset_out, plan.victim_alone) * px
            self.gross_profit += gross
            self.profit += net
            self.history.append({"block": rf.block, "victim": v.tx.tx_id, "front_in": plan.front_in,
                                 "expected_profit": plan.profit, "gross_quote": gross,
                                 "net_quote": net, "landed": landed})
        self._open = still
        if not still:
            self._order.clear()

    def finalise(self, sim: Simulation) -> None:
        self.settle(sim)
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
