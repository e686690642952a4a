"""The AMM noise swapper: uninformed swaps of random direction and size in one pool
(the order flow that sandwich searchers and JIT liquidity prey on)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation


class AmmNoiseSwapper(Agent):
    """Swaps in one AMM pool (V2 or V3) at Poisson times, both directions.

    Behaviour per wake-up: ``N ~ Poisson(rate_per_s * dt)`` swaps (``dt`` seconds since
    the previous wake-up, ``first_dt_s`` at the first). Each buys the base asset (pays
    ``quote_asset``) with probability ``buy_prob``, else sells it. Its size ``S`` in
    quote units is lognormal with mean ``mean_size`` and log-volatility ``size_sigma``
    (``ln S ~ N(ln mean_size - sigma^2 / 2, sigma^2)``); a sell pays ``S / price`` of the
    base asset (the pool's marginal price). The swap is exact-in with
    ``min_out = quote * (1 - slippage)``, ``quote`` from :meth:`AmmFacade.quote` at
    sending (the Uniswap interface's slippage tolerance). A swap the pool cannot quote
    (empty pool) or that the swapper cannot pay is not sent.

    In mempool mode the swap executes at the block's close; the swapper reads its
    receipt at its next wake-up and records the outcome: executed swaps add their
    *shortfall* ``(quote - out) / quote`` in basis points (what the other transactions
    executed before it in the block, a sandwich's front-run among them, cost it), and
    rejected ones (``UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT``, ``Too little
    received``; a ``TransactionRejected`` event) count by reason.

    Args:
        name: agent and party name.
        pool_id: the pool (``"V2:..."`` or ``"V3:..."``).
        quote_asset: the pool's asset sizes are measured in; the other is the base.
        rate_per_s: swap intensity, swaps per second (>= 0).
        buy_prob: probability that a swap buys the base asset, in [0, 1].
        mean_size: mean swap size, quote units (> 0).
        size_sigma: log-volatility of the sizes (>= 0; 0: every swap is ``mean_size``).
        slippage: tolerance, a fraction in [0, 1).
        funds: ``{asset: amount}`` minted in :meth:`initialise`; ``None``: 100 mean
            sizes of the quote asset and their worth of the base asset at the pool's
            price then.
        tip: priority fee per gas, native units (with a fee market; ignored without).
        first_dt_s: ``dt`` of the first wake-up, seconds.
        reversion: mean reversion of the flow (>= 0; 0: none): the buy probability is
            ``buy_prob + reversion * ln(anchor_price / price)`` clipped to [0, 1], so
            that the flow leans against the pool price's drift (a stand-in for the
            arbitrage that ties a pool to other venues).
        anchor_price: the base asset's price in quote units the flow reverts to
            (``None``: the pool's price at the first swap).

    Attributes:
        sent, buys, sells: swaps sent (and by direction); volume_quote: their sizes,
        quote units; executed, rejected (``{reason: count}``); volume_in_quote:
        executed input valued in quote at execution; shortfall_bps: one entry per
        executed swap; shortfall_quote: the sum of ``quote - out`` valued in quote;
        expected_quote: the sum of the executed swaps' quotes valued in quote;
        gas_native, tips_native: native units paid for gas (burned and tipped) and
        as tips alone.

    Raises:
        ValueError: bad parameters.
    """

    phase = 2

    def __init__(self, name: str, pool_id: str, *, quote_asset: str, rate_per_s: float = 1 / 60,
                 buy_prob: float = 0.5, mean_size: float = 1_000.0, size_sigma: float = 0.5,
                 slippage: float = 0.01, funds: dict[str, float] | None = None, tip: float = 1e-9,
                 first_dt_s: float = 0.0, reversion: float = 0.0,
                 anchor_price: float | None = None) -> None:
        super().__init__(name)
        if not (math.isfinite(rate_per_s) and rate_per_s >= 0):
            raise ValueError(f"{name}: rate_per_s must be finite and >= 0, got {rate_per_s!r}")
        if not 0 <= buy_prob <= 1:
            raise ValueError(f"{name}: buy_prob must be in [0, 1], got {buy_prob!r}")
        if not (math.isfinite(mean_size) and mean_size > 0):
            raise ValueError(f"{name}: mean_size must be finite and > 0, got {mean_size!r}")
        if not (math.isfinite(size_sigma) and size_sigma >= 0):
            raise ValueError(f"{name}: size_sigma must be finite and >= 0, got {size_sigma!r}")
        if not 0 <= slippage < 1:
            raise ValueError(f"{name}: slippage must be in [0, 1), got {slippage!r}")
        if not (math.isfinite(reversion) and reversion >= 0):
            raise ValueError(f"{name}: reversion must be finite and >= 0, got {reversion!r}")
        if anchor_price is not None and not anchor_price > 0:
            raise ValueError(f"{name}: anchor_price must be > 0, got {anchor_price!r}")
        if tip < 0:
            raise ValueError(f"{name}: tip must be >= 0, got {tip!r}")
        self.pool_id = pool_id
        self.quote_asset = quote_asset
        self.rate_per_s = rate_per_s
        self.buy_prob = buy_prob
        self.mean_size = mean_size
        self.size_sigma = size_sigma
        self.slippage = slippage
        self.funds = funds
        self.tip = tip
        self.first_dt_s = first_dt_s
        self.reversion = reversion
        self.anchor_price = anchor_price
        self.expected_quote = 0.0
        self.base_asset = ""
        self.sent = self.buys = self.sells = self.executed = 0
        self.volume_quote = 0.0
        self.volume_in_quote = 0.0
        self.rejected: dict[str, int] = {}
        self.shortfall_bps: list[float] = []
        self.shortfall_quote = 0.0
        self._pending: dict[int, tuple[str, str, float]] = {}
        self._last: float | None = None
        self._native_scale = 0
        self.gas_native = self.tips_native = 0.0

    # ------------------------------------------------------------------ lifecycle
    def initialise(self, sim: Simulation) -> None:
        """Create the party, mint its funds, set its tip (with a fee market).

        Raises:
            ValueError: ``quote_asset`` not in the pool (or an unknown pool: KeyError).
        """
        view = sim.amm.pool_view(self.pool_id)
        if self.quote_asset not in view.assets or len(view.assets) != 2:
            raise ValueError(f"{self.name}: {self.pool_id} holds {view.assets}, "
                             f"quote_asset {self.quote_asset!r} is not one of two")
        self.base_asset = view.assets[1] if view.assets[0] == self.quote_asset else view.assets[0]
        if self.name not in sim.parties:
            sim.create_party(self.name)
        funds = self.funds
        if funds is None:
            px = view.price_of(self.base_asset)
            funds = {self.quote_asset: 100 * self.mean_size}
            if px > 0:
                funds[self.base_asset] = 100 * self.mean_size / px
        for asset, amount in funds.items():
            if amount > 0:
                sim.mint(self.name, asset, amount)
        fm = sim.fee_market
        if fm is not None:
            sim.set_gas_price(self.name, self.tip)
            self._native_scale = 10**fm.native_decimals

    def step(self, sim: Simulation) -> None:
        self.settle(sim)
        now = sim.now
        dt = self.first_dt_s if self._last is None else now - self._last
        self._last = now
        lam = self.rate_per_s * max(dt, 0.0)
        n = int(self.rng.poisson(lam)) if lam > 0 else 0
        for _ in range(n):
            self.swap_once(sim)

    def finalise(self, sim: Simulation) -> None:
        self.settle(sim)

    # ------------------------------------------------------------------ actions
    def draw_size(self) -> float:
        """One size in quote units (lognormal, mean ``mean_size``)."""
        s = self.size_sigma
        if s == 0:
            return self.mean_size
        return float(self.rng.lognormal(math.log(self.mean_size) - 0.5 * s * s, s))

    def swap_once(self, sim: Simulation) -> None:
        """Draw a direction and a size and send one swap (module docstring)."""
        u = self.rng.random()
        size = self.draw_size()
        view = sim.amm.pool_view(self.pool_id)
        px = view.price_of(self.base_asset)
        if px <= 0:
            return
        p_buy = self.buy_prob
        if self.reversion:
            if self.anchor_price is None:
                self.anchor_price = px
            p_buy = min(max(p_buy + self.reversion * math.log(self.anchor_price / px), 0.0), 1.0)
        buy = bool(u < p_buy)
        asset_in, asset_out = ((self.quote_asset, self.base_asset) if buy
                               else (self.base_asset, self.quote_asset))
        amount = size if buy else size / px
        if sim.balance(self.name, asset_in) < amount:
            return
        try:
            expected = sim.amm.quote(self.pool_id, asset_in, amount)
        except ValueError:
            return
        if expected <= 0:
            return
        rc = sim.amm.swap(self.name, self.pool_id, asset_in, amount,
                          limit=expected * (1 - self.slippage))
        self.sent += 1
        self.volume_quote += size
        if buy:
            self.buys += 1
        else:
            self.sells += 1
        if rc.status == "PENDING":
            self._pending[rc.tx_id] = (asset_in, asset_out, expected)
        else:  # immediate mode: the receipt is final, in asset units
            self._record(sim, rc, asset_in, asset_out, expected, raw=False)

    def settle(self, sim: Simulation) -> None:
        """Read the receipts of swaps executed since the last wake-up."""
        if not self._pending:
            return
        done = []
        for tx_id, (a_in, a_out, expected) in self._pending.items():
            rc = sim.receipt(tx_id)
            if rc is None or rc.status == "PENDING":
                continue
            done.append(tx_id)
            self._record(sim, rc, a_in, a_out, expected, raw=True)
        for t in done:
            del self._pending[t]

    def _record(self, sim: Simulation, rc, asset_in: str, asset_out: str, expected: float,
                raw: bool) -> None:
        if self._native_scale:
            self.gas_native += (rc.fee_burned + rc.tip) / self._native_scale
            self.tips_native += rc.tip / self._native_scale
        if not rc.accepted or rc.status != "EXECUTED":
            reason = rc.reason or rc.status
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
            return
        amount_in, out = rc.value
        if raw:
            amount_in, out = sim.money(asset_in, amount_in), sim.money(asset_out, out)
        self.executed += 1
        view = sim.amm.pool_view(self.pool_id)
        px_out = 1.0 if asset_out == self.quote_asset else view.price_of(asset_out)
        px_in = 1.0 if asset_in == self.quote_asset else view.price_of(asset_in)
        self.volume_in_quote += amount_in * px_in
        self.shortfall_bps.append((expected - out) / expected * 1e4)
        self.shortfall_quote += (expected - out) * px_out
        self.expected_quote += expected * px_out

    @property
    def rejected_count(self) -> int:
        """Swaps rejected, reverted or dropped, all reasons."""
        return sum(self.rejected.values())
