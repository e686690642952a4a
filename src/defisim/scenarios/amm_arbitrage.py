"""``amm_arbitrage``: V2 and V3 pools of one pair arbitraged against a reference price;
LP fees, impermanent loss and loss-versus-rebalancing (LVR) per pool.

One pair (default WETH/USDC, 18/6 decimals) in a Uniswap V2 pool (fee 0.3 %) and V3
pools (default fee tiers 0.05 % and 0.3 %), each created at the first reference price
and funded by a :class:`~defisim.agents.amm.PassiveLiquidityProvider` with
``pool_value`` quote units (half in each asset; V3 on ``[P (1 - r), P (1 + r)]`` with
``r = v3_range_pct``, or the full range). The reference follows a GBM (default 80 %
annual volatility, one-minute steps, one day) or a CSV price file (``prices_file``,
e.g. Binance klines under ``../shared/data``). On each pool an
:class:`~defisim.agents.amm.AmmArbitrageur` trades the pool back into its no-arbitrage
band ``[(1 - f) p, p / (1 - f)]`` when the gap pays fee and gas (``arb_gas_cost``).
Optionally (``active_lp``) a :class:`~defisim.agents.amm.RecenteringLiquidityProvider`
on the first V3 pool.

LVR (Milionis, Moallemi, Roughgarden, Zhang 2022, "Automated Market Making and
Loss-Versus-Rebalancing", definition of LVR and its discrete-time form): the
rebalancing portfolio holds the pool's risky quantity ``x(t-1)`` over each step and
trades at the reference price, so

    LVR_T = sum_t [ x(t-1) (p_t - p_{t-1}) - (V(t) - V(t-1)) ],  V(t) = x(t) p_t + y(t),

with ``(x, y)`` the pool's holdings *excluding fees*. Since ``V(t) - V(t-1) = x(t-1)
(p_t - p_{t-1}) + p_t dx + dy``, each step adds ``-(p_t dx + dy)``: the value at the
step's reference price of what the pool paid out minus what it took in net of fees.
The scenario accumulates that form swap by swap from the pools' swap events (so
liquidity added or removed, which is not a trade, does not count) as ``<pool>.lvr``,
and the literal holdings form (holdings = reserves minus the fees received, valid
while no liquidity moves after the first step) as ``<pool>.lvr_holdings``. Fees are
``f x amount_in`` of each swap's input, valued at the step's reference price.

Identity: when only the arbitrageur trades a pool, its profit before gas (marked at
the same reference) is ``LVR - fees it paid`` for that pool, swap by swap.

KPIs: ``reference_price``; per pool ``<pool>`` in ``v2``, ``v3_<fee>``: ``.price``,
``.deviation_bps`` (|pool / reference - 1| in bps after the step's trades),
``.deviation_bps_mean``, ``.deviation_bps_max``, ``.lp_fees``, ``.lvr``,
``.lvr_holdings``, ``.capital`` (pool value at the start, quote units),
``.lvr_bps_of_capital``, ``.lp_value``, ``.lp_il`` (impermanent loss of the passive
LP), ``.arb_profit`` (net of gas), ``.arb_gross_profit``, ``.arb_fees``, ``.arb_gas``,
``.arb_trades``, ``.volume`` (quote); with ``active_lp``: ``active_lp.rebalances``,
``active_lp.fees``, ``active_lp.il``, ``active_lp.gas``. Quote units throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import ReferencePriceFeed
from defisim.agents.amm import (
    AmmArbitrageur,
    PassiveLiquidityProvider,
    RecenteringLiquidityProvider,
)
from defisim.protocols.amm.plugin_v2 import V2Swap
from defisim.protocols.amm.plugin_v3 import V3Swap

from ._mechanics import EventCursor
from ._reference import PriceFileParams, PriceFileReference
from .base import PoolBackendParams, Scenario, register

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.service import Simulation

NAN = float("nan")


class AmmArbitrageParams(PriceFileParams, PoolBackendParams):
    """Parameters of ``amm_arbitrage`` (quote units, e.g. USDC; prices quote per base)."""

    steps: int | None = Field(None, ge=1)
    """Steps (default 1,440 on the GBM; the file's rows with a price file)."""
    step_seconds: float | None = Field(None, gt=0)
    """Seconds per step (default 60 on the GBM; the file's interval with a file)."""
    s0: float = Field(2_000.0, gt=0)
    """First reference price (GBM)."""
    mu: float = 0.0
    """Annualised drift of the GBM."""
    sigma: float = Field(0.8, ge=0)
    """Annualised volatility of the GBM (365-day year)."""

    base: str = "WETH"
    base_decimals: int = Field(18, ge=0, le=30)
    quote: str = "USDC"
    quote_decimals: int = Field(6, ge=0, le=30)

    v2: bool = True
    """Create the V2 pool (fee 0.3 %)."""
    v3_fees: list[int] = Field(default_factory=lambda: [500, 3000])
    """V3 fee tiers, pips (100, 500, 3000, 10000)."""
    pool_value: float = Field(2_000_000.0, gt=0)
    """Quote value each passive LP deposits (half in each asset)."""
    v3_range_pct: float | None = Field(0.10, gt=0, lt=1)
    """Passive V3 range, fraction around the first price (``None``: full range)."""

    arb_gas_cost: float = Field(1.0, ge=0)
    """Gas per arbitrage trade, quote units (without a fee market)."""
    arb_inventory_value: float = Field(4_000_000.0, gt=0)
    """Quote value each arbitrageur holds (half in each asset)."""

    active_lp: bool = False
    """A re-centring LP on the first V3 pool."""
    active_lp_value: float = Field(200_000.0, gt=0)
    active_lp_half_width: float = Field(0.02, gt=0, lt=1)
    """Half-width of its range, fraction of the price."""
    active_lp_rebalance: bool = True
    """Swap to the new range's ratio before re-minting."""
    active_lp_gas_cost: float = Field(1.0, ge=0)


class PoolTally(EventCursor):
    """Fees and LVR of each pool from its swap events (module docstring).

    Attributes (per pool id): ``fees`` and ``lvr`` (quote units, cumulative),
    ``fee_tokens`` (cumulative fee amounts of token0 / token1, asset units)."""

    def __init__(self, pools: dict[str, tuple[str, str, float, float, float]], base: str) -> None:
        super().__init__()
        self.pools = pools  # pid -> (token0, token1, fee, 10**d0, 10**d1)
        self.base = base
        self.fees = dict.fromkeys(pools, 0.0)
        self.lvr = dict.fromkeys(pools, 0.0)
        self.fee_tokens = {pid: [0.0, 0.0] for pid in pools}

    def update(self, sim: Simulation, p: float) -> None:
        """Read the new swaps; value them at the reference ``p`` (quote per base)."""
        for e in self.new_events(sim):
            t = type(e)
            if t is V2Swap:
                pid = e.market
                in0, in1 = e.amount0_in, e.amount1_in
                d0, d1 = in0 - e.amount0_out, in1 - e.amount1_out
            elif t is V3Swap:
                pid = e.market
                d0, d1 = e.amount0, e.amount1
                in0, in1 = max(d0, 0), max(d1, 0)
            else:
                continue
            spec = self.pools.get(pid)
            if spec is None:
                continue
            t0, _, fee, s0, s1 = spec
            v0, v1 = (p, 1.0) if t0 == self.base else (1.0, p)
            f0, f1 = fee * in0 / s0, fee * in1 / s1
            self.fee_tokens[pid][0] += f0
            self.fee_tokens[pid][1] += f1
            self.fees[pid] += f0 * v0 + f1 * v1
            self.lvr[pid] -= (d0 / s0 - f0) * v0 + (d1 / s1 - f1) * v1


@register
class AmmArbitrage(PriceFileReference, Scenario):
    """V2 and V3 pools arbitraged against a reference price (module doc)."""

    name = "amm_arbitrage"
    description = (
        "WETH/USDC in a V2 pool and V3 pools (0.05 %, 0.3 %) arbitraged against a GBM or "
        "price-file reference: LP fees, impermanent loss, LVR, price deviation, arb profit."
    )
    Params = AmmArbitrageParams
    protocols = ("amm",)
    gbm_steps = 1440
    gbm_step_seconds = 60.0

    def __init__(self, params: AmmArbitrageParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.base == p.quote:
            raise ValueError(f"base and quote must differ, got {p.base!r}")
        bad = [f for f in p.v3_fees if f not in (100, 500, 3000, 10000)]
        if bad or len(set(p.v3_fees)) != len(p.v3_fees):
            raise ValueError(f"v3_fees must be distinct tiers of 100, 500, 3000, 10000; got "
                             f"{p.v3_fees}")
        if not p.v2 and not p.v3_fees:
            raise ValueError("no pools: set v2 or v3_fees")
        if p.active_lp and not p.v3_fees:
            raise ValueError("active_lp needs a V3 pool (v3_fees)")
        self.prepare()
        self.feed: ReferencePriceFeed | None = None
        self.labels: dict[str, str] = {}
        self.arbs: dict[str, AmmArbitrageur] = {}
        self.lps: dict[str, PassiveLiquidityProvider] = {}
        self.active: RecenteringLiquidityProvider | None = None
        self.tally: PoolTally | None = None
        self._dev: dict[str, list[float]] = {}
        self._capital: dict[str, float] = {}
        self._hold: dict[str, tuple[float, float, float, float]] = {}

    @property
    def step_seconds(self) -> float:
        return float(self.params.step_seconds)

    def build(self, sim: Simulation) -> list[Agent]:
        """Assets, pools, the feed, a passive LP and an arbitrageur per pool."""
        p: AmmArbitrageParams = self.params  # type: ignore[assignment]
        path = self.make_path(sim, self.total_steps() + 1)
        feed = ReferencePriceFeed("reference", path)
        self.feed = feed
        s0 = float(path.prices[0])
        sim.create_asset(p.base, p.base_decimals)
        sim.create_asset(p.quote, p.quote_decimals)
        pools: list[tuple[str, str]] = []
        if p.v2:
            pools.append(("v2", sim.amm.create_pair(p.base, p.quote)))
        for fee in p.v3_fees:
            pools.append((f"v3_{fee}", sim.amm.create_v3_pool(p.base, p.quote, fee=fee, price=s0)))
        agents: list[Agent] = [feed]
        spec = {}
        for label, pid in pools:
            self.labels[pid] = label
            v = sim.amm.pool_view(pid)
            dec = {p.base: p.base_decimals, p.quote: p.quote_decimals}
            spec[pid] = (v.assets[0], v.assets[1], v.fee, 10.0 ** dec[v.assets[0]],
                         10.0 ** dec[v.assets[1]])
            rng = (p.v3_range_pct if v.kind == "V3" else None)
            lp = PassiveLiquidityProvider(
                f"lp_{label}", pid, base=p.base, quote=p.quote,
                amount_base=p.pool_value / 2 / s0, amount_quote=p.pool_value / 2,
                range_pct=rng, reference=feed)
            arb = AmmArbitrageur(
                f"arb_{label}", pid, feed, base=p.base, quote=p.quote,
                inventory_base=p.arb_inventory_value / 2 / s0,
                inventory_quote=p.arb_inventory_value / 2, gas_cost=p.arb_gas_cost)
            self.lps[pid], self.arbs[pid] = lp, arb
            agents += [lp, arb]
            self._dev[pid] = []
        if p.active_lp:
            pid = next(pid for pid, lab in self.labels.items() if lab.startswith("v3"))
            self.active = RecenteringLiquidityProvider(
                "active_lp", pid, base=p.base, quote=p.quote,
                amount_base=p.active_lp_value / 2 / s0, amount_quote=p.active_lp_value / 2,
                half_width=p.active_lp_half_width, rebalance=p.active_lp_rebalance,
                gas_cost=p.active_lp_gas_cost, reference=feed)
            agents.append(self.active)
        self.tally = PoolTally(spec, p.base)
        return agents

    def _holdings_value(self, sim: Simulation, pid: str, price: float) -> tuple[float, float]:
        """(base, quote) held by the pool excluding the fees it received (asset units)."""
        v = sim.amm.pool_view(pid)
        ft = self.tally.fee_tokens[pid]
        h0, h1 = v.reserves[0] - ft[0], v.reserves[1] - ft[1]
        return (h0, h1) if v.assets[0] == self.params.base else (h1, h0)

    def kpis(self, sim: Simulation) -> dict[str, float]:
        """The module docstring's KPIs."""
        p = self.feed.price
        self.tally.update(sim, p)
        out: dict[str, float] = {"reference_price": p}
        for pid, label in self.labels.items():
            v = sim.amm.pool_view(pid)
            price = v.price_of(self.params.base)
            dev = abs(price / p - 1) * 1e4 if price > 0 else NAN
            devs = self._dev[pid]
            devs.append(dev)
            xb, yq = self._holdings_value(sim, pid, p)
            if pid not in self._capital:
                self._capital[pid] = xb * p + yq
                self._hold[pid] = (xb, yq, p, 0.0)
            else:
                x0, y0, p0, acc = self._hold[pid]
                acc += x0 * (p - p0) - ((xb * p + yq) - (x0 * p0 + y0))
                self._hold[pid] = (xb, yq, p, acc)
            cap = self._capital[pid]
            lvr = self.tally.lvr[pid]
            arb, lp = self.arbs[pid], self.lps[pid]
            out.update({
                f"{label}.price": price,
                f"{label}.deviation_bps": dev,
                f"{label}.deviation_bps_mean": sum(devs) / len(devs),
                f"{label}.deviation_bps_max": max(devs),
                f"{label}.lp_fees": self.tally.fees[pid],
                f"{label}.lvr": lvr,
                f"{label}.lvr_holdings": self._hold[pid][3],
                f"{label}.capital": cap,
                f"{label}.lvr_bps_of_capital": lvr / cap * 1e4 if cap > 0 else NAN,
                f"{label}.lp_value": lp.value(sim, p),
                f"{label}.lp_il": lp.impermanent_loss(sim, p),
                f"{label}.arb_profit": arb.profit,
                f"{label}.arb_gross_profit": arb.gross_profit,
                f"{label}.arb_fees": arb.fees_paid,
                f"{label}.arb_gas": arb.gas_spent,
                f"{label}.arb_trades": float(arb.trades),
                f"{label}.volume": arb.volume,
            })
        if self.active is not None:
            a = self.active
            out.update({
                "active_lp.rebalances": float(a.rebalances),
                "active_lp.fees": a.fees(sim, p),
                "active_lp.il": a.impermanent_loss(sim, p),
                "active_lp.gas": a.gas_spent,
            })
        return out
