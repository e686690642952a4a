"""``mev_sandwich``: noise swappers in an ETH/USDC Uniswap V2 pool and a sandwich
searcher, under the mempool ordering of the ``ordering`` parameter.

The chain runs in mempool mode: the swaps of a step wait in the mempool and execute
when the block closes, in the policy's order. By default (``searcher_mode="bundle"``)
the searcher sends each sandwich as one Flashbots-style bundle ``[front-run, victim's
swap, back-run]`` that pulls the victim's pending swap out of the public mempool
(:meth:`defisim.chain.Chain.submit_bundle`). Under ``priority`` (a block builder that
sells positions, with the EIP-1559 fee market in ETH, the chain's native asset and the
pool's base asset) the bundle runs as planned or reverts at no cost: the searcher
earns what its victims lose to the slippage they tolerated. Under ``fifo`` and
``random`` a sequencer keeps its own order and refuses every such bundle: the searcher
makes exactly nothing and the victims trade as if it were absent. With
``searcher_mode="tips"`` it instead outbids the victim's tip with a separate front-run
(a priority gas auction): under ``fifo`` its transactions arrive after the victim's and
the round trip only pays the pool's fee twice (a loss); under ``random`` it lands by
chance. Optionally (``jit``) a V3 ETH/USDC pool with its own swappers and a JIT
liquidity provider (:class:`~defisim.agents.amm.JitLiquidityProvider`, the same mode).

Measured (seed 3, 300 steps, defaults, bundle mode): under ``priority`` 121
sandwiches attempted, 114 landed, 7 reverted, searcher profit 5,958 USDC after gas;
victims' shortfall +50.0 bps of their quotes. Under ``fifo`` 121 refused, profit 0,
shortfall -19.8 bps (the same as with no searcher; negative: opposite swaps earlier in
a block improve a swap's price); ``random`` 121 refused, profit 0, -19.7 bps. The
sandwiches cost the victims about 70 bps of their volume.

KPIs (quote asset USDC; cumulative unless said):

- ``searcher_profit``: realised, after gas and tips; ``searcher_gross_profit``: before;
- ``sandwiches_attempted`` (sent and taken into the mempool), ``sandwiches_landed``
  (front-run, victim, back-run executed in that order), ``sandwiches_refused`` (bundles
  the chain refused at submission: every one under ``fifo`` and ``random``),
  ``sandwiches_reverted`` (bundles that reverted, at no cost);
- ``victim_shortfall``: the sum over executed victim swaps of ``quote at submission -
  out`` in USDC (what the transactions ordered before each swap in its block cost it,
  a front-run among them); ``victim_shortfall_bps``: the same over the sum of the
  quotes, basis points (volume-weighted); ``victim_swaps``, ``victim_rejected``
  (slippage exceeded, ...);
- ``victim_loss_to_searcher``: what the landed sandwiches cost their victims (each
  victim's output without the front-run, from the same reserves, minus its executed
  output; USDC), ``victim_loss_to_searcher_bps``: the same over those outputs (0 under
  ``fifo`` and ``random``: the slippage difference the ordering makes);
- ``priority_fees_paid``: tips paid by every agent (ETH), ``searcher_gas_paid`` (ETH,
  burned and tipped);
- ``pool_price`` (USDC per ETH), ``lp_fees``: 0.3 % of the executed swap input
  (USDC at the price then);
- with ``jit``: ``jit_fee_income``, ``jit_pnl`` (USDC), ``jit_captured``,
  ``jit_refused``, ``v3_price``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from defisim.agents.amm import AmmNoiseSwapper, JitLiquidityProvider, SandwichSearcher

from .base import PoolBackendParams, Scenario, register

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation

BASE, QUOTE = "ETH", "USDC"


class MevSandwichParams(PoolBackendParams):
    """Parameters of ``mev_sandwich`` (USDC, ETH, seconds)."""

    steps: int | None = Field(500, ge=1)
    """Steps (blocks) to run."""
    step_seconds: float = Field(12.0, gt=0)
    """Seconds per step: Ethereum's slot."""
    execution: Literal["immediate", "mempool"] = "mempool"
    """Must stay ``mempool``: the searcher reads the mempool."""
    ordering: Literal["fifo", "random", "priority"] = "priority"
    """Mempool order; ``priority`` turns on the EIP-1559 fee market in ETH."""
    price: float = Field(2_000.0, gt=0)
    """Initial pool price, USDC per ETH."""
    pool_usdc: float = Field(1_000_000.0, gt=0)
    """USDC side of the V2 pool at the start (the ETH side is worth as much)."""
    victims: int = Field(4, ge=0)
    """Number of noise swappers on the V2 pool."""
    victim_rate_per_s: float = Field(1 / 48, ge=0)
    """Swaps per second of each swapper (default: one per four blocks)."""
    victim_mean_size: float = Field(5_000.0, gt=0)
    """Mean swap size, USDC (lognormal)."""
    victim_size_sigma: float = Field(0.8, ge=0)
    """Log-volatility of the swap sizes."""
    victim_slippage: float = Field(0.01, ge=0, lt=1)
    """Swappers' slippage tolerance (fraction of the quote)."""
    victim_reversion: float = Field(5.0, ge=0)
    """Mean reversion of the swappers' flow to the initial price (see
    :class:`~defisim.agents.amm.AmmNoiseSwapper`; 0: a pure random walk)."""
    victim_tip_gwei: float = Field(1.0, ge=0)
    """Swappers' priority fee, gwei per gas."""
    searcher: bool = True
    """Run the sandwich searcher."""
    searcher_usdc: float = Field(200_000.0, ge=0)
    """Searcher's USDC capital."""
    searcher_eth: float = Field(100.0, ge=0)
    """Searcher's ETH capital (also pays its gas)."""
    searcher_tip_bid_gwei: float = Field(2.0, ge=0)
    """Added to the victim's tip on the front-run, gwei per gas."""
    searcher_min_profit: float = Field(0.0, ge=0)
    """Least expected profit after gas to attack, USDC."""
    searcher_mode: Literal["bundle", "tips"] = "bundle"
    """How the searcher and the JIT LP order around their victim: one bundle that pulls
    in the victim's pending swap (Flashbots style; refused under ``fifo`` and
    ``random``), or separate transactions that outbid its tip (a priority gas
    auction in the public mempool)."""
    jit: bool = False
    """Add a V3 ETH/USDC 0.3 % pool with two swappers (large swaps) and a JIT LP."""
    jit_pool_usdc: float = Field(1_000_000.0, gt=0)
    """USDC the V3 pool's LP deposits (ETH worth as much), in ±20 % of the price."""
    jit_min_swap: float = Field(10_000.0, ge=0)
    """Least swap (USDC) the JIT LP acts on."""


@register
class MevSandwich(Scenario):
    """Sandwich MEV on a V2 pool under a mempool ordering policy (module docstring)."""

    name = "mev_sandwich"
    description = ("Noise swappers and a sandwich searcher (Flashbots-style bundles, or tips) on "
                   "an ETH/USDC Uniswap V2 pool in mempool mode (fifo / random / priority): "
                   "searcher profit, victims' slippage, tips; optionally JIT liquidity on a V3 pool.")
    Params = MevSandwichParams
    protocols = ("amm",)

    def __init__(self, params: MevSandwichParams | None = None) -> None:
        super().__init__(params)
        if self.params.execution != "mempool":
            raise ValueError("mev_sandwich needs execution='mempool' (the searcher reads the mempool)")
        self.pool_id = ""
        self.v3_pool_id = ""
        self.swappers: list[AmmNoiseSwapper] = []
        self.searcher_agent: SandwichSearcher | None = None
        self.jit_agent: JitLiquidityProvider | None = None

    def build(self, sim: Simulation) -> list[Agent]:
        p: MevSandwichParams = self.params  # type: ignore[assignment]
        sim.create_asset(BASE, 18)
        sim.create_asset(QUOTE, 6)
        self.pool_id = sim.amm.create_pair(BASE, QUOTE)
        sim.create_party("lp")
        eth = p.pool_usdc / p.price
        sim.mint("lp", BASE, eth)
        sim.mint("lp", QUOTE, p.pool_usdc)
        # executes when the first block closes, before the agents' swaps of step 1
        sim.amm.add_liquidity("lp", BASE, QUOTE, eth, p.pool_usdc)
        tip = p.victim_tip_gwei * 1e-9
        funds = {QUOTE: 200 * p.victim_mean_size, BASE: 200 * p.victim_mean_size / p.price}
        self.swappers = [
            AmmNoiseSwapper(f"swapper_{i}", self.pool_id, quote_asset=QUOTE,
                            rate_per_s=p.victim_rate_per_s, mean_size=p.victim_mean_size,
                            size_sigma=p.victim_size_sigma, slippage=p.victim_slippage,
                            funds=dict(funds), tip=tip, reversion=p.victim_reversion,
                            anchor_price=p.price)
            for i in range(p.victims)
        ]
        agents: list[Agent] = list(self.swappers)
        if p.searcher:
            self.searcher_agent = SandwichSearcher(
                "searcher", self.pool_id, quote_asset=QUOTE,
                funds={QUOTE: p.searcher_usdc, BASE: p.searcher_eth},
                tip_bid=p.searcher_tip_bid_gwei * 1e-9, min_profit=p.searcher_min_profit,
                mode=p.searcher_mode)
            agents.append(self.searcher_agent)
        if p.jit:
            agents.extend(self._build_jit(sim, p, tip))
        return agents

    def _build_jit(self, sim: Simulation, p: MevSandwichParams, tip: float) -> list[Agent]:
        self.v3_pool_id = sim.amm.create_v3_pool(BASE, QUOTE, 3000, price=p.price)
        sim.create_party("v3_lp")
        eth = p.jit_pool_usdc / p.price
        sim.mint("v3_lp", BASE, eth)
        sim.mint("v3_lp", QUOTE, p.jit_pool_usdc)
        pid = self.v3_pool_id
        lo, up = sorted((sim.amm.price_to_tick(pid, p.price * 0.8), sim.amm.price_to_tick(pid, p.price * 1.2)))
        sim.amm.mint_position("v3_lp", pid, lo, up, eth, p.jit_pool_usdc)
        big = [AmmNoiseSwapper(f"v3_swapper_{i}", pid, quote_asset=QUOTE,
                               rate_per_s=p.victim_rate_per_s, mean_size=4 * p.victim_mean_size,
                               size_sigma=p.victim_size_sigma, slippage=p.victim_slippage,
                               funds={QUOTE: 800 * p.victim_mean_size,
                                      BASE: 800 * p.victim_mean_size / p.price}, tip=tip,
                               reversion=p.victim_reversion, anchor_price=p.price)
               for i in range(2)]
        self.swappers.extend(big)
        self.jit_agent = JitLiquidityProvider(
            "jit_lp", pid, quote_asset=QUOTE, funds={QUOTE: 2 * p.jit_pool_usdc,
                                                     BASE: 2 * p.jit_pool_usdc / p.price},
            min_swap=p.jit_min_swap, tip_bid=p.searcher_tip_bid_gwei * 1e-9, mode=p.searcher_mode)
        return [*big, self.jit_agent]

    def kpis(self, sim: Simulation) -> dict[str, float]:
        view = sim.amm.pool_view(self.pool_id)
        victims = [s for s in self.swappers if s.pool_id == self.pool_id]
        expected = sum(s.expected_quote for s in victims)
        short = sum(s.shortfall_quote for s in victims)
        volume = sum(s.volume_in_quote for s in victims)
        out: dict[str, float] = {
            "pool_price": view.price,
            "victim_swaps": float(sum(s.executed for s in victims)),
            "victim_rejected": float(sum(s.rejected_count for s in victims)),
            "victim_shortfall_bps": short / expected * 1e4 if expected else 0.0,
            "victim_shortfall": short,
        }
        tips = 0.0 if self.jit_agent is None else self.jit_agent.tips_native
        s = self.searcher_agent
        if s is not None:
            volume += s.volume_in_quote
            tips += s.tips_native
            out.update({
                "searcher_profit": s.profit,
                "searcher_gross_profit": s.gross_profit,
                "sandwiches_attempted": float(s.attempted),
                "sandwiches_landed": float(s.landed),
                "sandwiches_refused": float(s.refused),
                "sandwiches_reverted": float(s.reverted),
                "searcher_gas_paid": s.gas_native,
                "victim_loss_to_searcher": s.victim_loss,
                "victim_loss_to_searcher_bps": (s.victim_loss / s.victim_volume * 1e4
                                                if s.victim_volume else 0.0),
            })
        out["lp_fees"] = view.fee * volume
        j = self.jit_agent
        if j is not None:
            out.update({"jit_fee_income": j.fee_income, "jit_pnl": j.pnl,
                        "jit_captured": float(j.captured), "jit_refused": float(j.refused),
                        "v3_price": sim.amm.pool_view(self.v3_pool_id).price})
        out["priority_fees_paid"] = tips + sum(s.tips_native for s in self.swappers)
        return out
