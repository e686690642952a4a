"""``comprehensive_market``: every kind of trader on one market, with price
monitoring and liquidity provision on.

One USDT-settled BTC futures market (as ``btc_futures``: 0.01 USDT tick, 0.001 BTC
lots, log-normal risk model) around a seeded GBM reference that falls 8 % in ten
minutes at noon and partly rebounds (``crash_*``; ``crash_return=0`` for a plain
GBM), with

- price-monitoring auctions (spec 0032-PRIM: ``price_monitoring_triggers``),
- liquidity provision (spec 0044-LIME / 0042-LIQF: epochs, obligations, the
  marginal-cost fee factor) and ``lp_count`` bonded liquidity providers
  (:class:`~defisim.agents.LiquidityProvider`) at fee bids spread over
  ``[lp_fee_min, lp_fee_max]``.

Traders: the common agents of :class:`~defisim.scenarios._mechanics.MechanicsScenario`
(auction agent, Avellaneda-Stoikov and symmetric makers, Poisson and
price-sensitive takers, noise limit traders, reference arbitrageur), plus GLFT
makers, exponential-book makers, pegged at-the-touch makers, informed traders
(see the reference ``informed_lookahead`` steps ahead), momentum traders (RSI +
MACD) and leveraged longs and shorts (:class:`~defisim.agents.LeveragedTrader`,
re-entering after a closeout). At the end the market is settled at the last
reference price.

What-if forks (``defisim fork RUN --at-block N --set name=value``,
:mod:`defisim.scenarios._fork`) can change, through a governance proposal in force
from block N+2, the fees (``maker_fee``, ``infrastructure_fee``, ``liquidity_fee``),
the risk model (``risk_aversion``, ``risk_tau``, ``risk_sigma``),
``linear_slippage_factor``, price monitoring (``price_monitoring_triggers``,
``min_auction_duration_s``) and liquidity provision (``stake_to_volume``,
``price_range``); and, from block N+1, the agents' ``taker_rate_per_s``,
``ps_taker_rate_per_s``, ``taker_buy_prob``, ``taker_mean_size``,
``noise_rate_per_s``, ``noise_mean_offset_bps``, ``noise_cancel_prob``, ``mm_gamma``,
``mm_k``, ``mm_order_size``, ``mm_level_spacing_bps``, ``mm_max_inventory``; besides
``steps``. A fork refuses any other parameter.

KPIs (besides the common ones): ``volume`` (cumulative BTC), ``trades``
(cumulative), ``liquidity_fee_factor``, ``target_stake``, ``supplied_stake``
(USDT), ``lp_epochs``, ``leveraged_closed_out`` (cumulative closeouts of the
leveraged traders), and per maker kind ``<kind>_inventory`` (BTC, summed) and
``<kind>_pnl`` (USDT, summed) for ``as``, ``sym``, ``glft``, ``book``, ``peg``, ``lp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import (
    GLFTMarketMaker,
    LeveragedTrader,
    LiquidityProvider,
    PeggedMarketMaker,
    SymmetricMarketMaker,
)

from ._fork import AGENT_PARAMS, MARKET_PARAMS, MECHANICS_MARKET_PARAMS, apply_fork_changes
from ._mechanics import MechanicsParams, MechanicsScenario
from ._reference import crash_reference, gbm_reference
from ._zoo import (
    ASSET,
    exponential_books,
    informed_traders,
    leveraged_traders,
    liquidity_config,
    momentum_traders,
    price_monitoring_config,
    spread_evenly,
)
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"


class ComprehensiveMarketParams(MechanicsParams):
    """Parameters of ``comprehensive_market`` (USDT, BTC, seconds; the common ones are
    :class:`~defisim.scenarios._mechanics.MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: one day of 60-second steps)."""
    mu: float = 0.0
    """Annualised drift of the GBM reference."""
    crash_return: float = Field(-0.08, gt=-1)
    """Relative move of a crash in the reference (-0.08: an 8 % fall; 0: a plain GBM).
    The default is there so that a default day shows every mechanism: price-monitoring
    auctions, closeouts of leveraged traders, network disposal."""
    crash_at_s: float = Field(12 * 3600.0, ge=0)
    """Start of the crash, seconds since the start."""
    crash_duration_s: float = Field(600.0, gt=0)
    sigma_after: float = Field(0.9, ge=0)
    """Annualised volatility of the reference from the crash on."""
    rebound: float = Field(0.03, gt=-1)
    """Relative move over ``rebound_duration_s`` after the crash."""
    rebound_duration_s: float = Field(3600.0, ge=0)

    # price monitoring: (horizon seconds, probability, extension seconds)
    price_monitoring_triggers: list[tuple[int, float, int]] = Field(
        default_factory=lambda: [(600, 0.9999, 60), (3600, 0.9999, 300)]
    )
    """Triggers of the log-normal bounds; ``[]`` switches price monitoring off."""
    min_auction_duration_s: float = Field(60.0, ge=0)

    # liquidity provision
    lp_count: int = Field(2, ge=0)
    lp_commitment: float = Field(50_000.0, gt=0)
    """USDT bonded by each provider."""
    lp_fee_min: float = Field(0.001, ge=0, le=1)
    lp_fee_max: float = Field(0.003, ge=0, le=1)
    lp_collateral: float = Field(1_000_000.0, gt=0)
    epoch_s: float = Field(4 * 3600.0, gt=0)
    stake_to_volume: float = Field(1.0, ge=0)
    price_range: float = Field(0.05, gt=0)
    """Obligation range around the mid (fraction)."""

    # extra market makers
    glft_count: int = Field(1, ge=0)
    glft_A: float = Field(1 / 60, gt=0)
    """Fill intensity at a zero half-spread, fills per second."""
    book_count: int = Field(1, ge=0)
    book_total_size: float = Field(2.0, gt=0)
    """BTC per side of each exponential book."""
    book_first_bps: float = Field(15.0, ge=0)
    book_scale_bps: float = Field(20.0, gt=0)
    peg_count: int = Field(1, ge=0)
    peg_order_size: float = Field(0.05, gt=0)
    peg_max_inventory: float = Field(1.0, ge=0)

    # informed, momentum, leveraged
    informed_count: int = Field(1, ge=0)
    informed_lookahead: int = Field(5, ge=1)
    informed_threshold_bps: float = Field(20.0, ge=0)
    informed_trade_size: float = Field(0.1, gt=0)
    informed_position_limit: float = Field(1.0, ge=0)
    informed_collateral: float = Field(1_000_000.0, ge=0)
    momentum_count: int = Field(1, ge=0)
    momentum_trade_size: float = Field(0.1, gt=0)
    momentum_position_limit: float = Field(0.5, ge=0)
    momentum_collateral: float = Field(1_000_000.0, ge=0)
    leveraged_long_count: int = Field(2, ge=0)
    leveraged_short_count: int = Field(2, ge=0)
    leveraged_collateral: float = Field(5_000.0, gt=0)
    """USDT each."""
    leveraged_fraction: float = Field(0.5, gt=0, le=1)
    """Fraction of the maximum position."""
    leveraged_entry_s: float = Field(1800.0, ge=0)


@register
class ComprehensiveMarket(MechanicsScenario):
    """Every agent kind on one market with price monitoring and LPs (module doc)."""

    name = "comprehensive_market"
    description = (
        "One BTC futures market with AS, symmetric, GLFT, exponential-book and pegged "
        "makers, liquidity providers, takers, informed, momentum, noise and leveraged "
        "traders; price monitoring and liquidity provision on."
    )
    Params = ComprehensiveMarketParams
    market_id = MARKET_ID
    default_steps = 1440
    track_lp = True
    fork_params = (frozenset(MARKET_PARAMS) | frozenset(MECHANICS_MARKET_PARAMS)
                   | frozenset(AGENT_PARAMS))

    def __init__(self, params: ComprehensiveMarketParams | None = None) -> None:
        self.kinds: dict[str, list[Agent]] = {}
        self.leveraged: list[LeveragedTrader] = []
        super().__init__(params)

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """A GBM from ``sim.rng("reference_price")`` with the crash of the ``crash_*``
        parameters (none when ``crash_return`` is 0), long enough for the look-ahead."""
        p: ComprehensiveMarketParams = self.params  # type: ignore[assignment]
        n = max(n, 3) + p.informed_lookahead
        if p.crash_return == 0:
            return gbm_reference(sim, p, n, self.step_seconds)
        return crash_reference(sim, p, n, self.step_seconds)

    def market_config(self) -> dict:
        p: ComprehensiveMarketParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        if p.price_monitoring_triggers:
            cfg["price_monitoring"] = price_monitoring_config(p.price_monitoring_triggers)
            cfg["min_auction_duration_s"] = p.min_auction_duration_s
        cfg["liquidity"] = liquidity_config(p)
        return cfg

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        p: ComprehensiveMarketParams = self.params  # type: ignore[assignment]
        m = self.market_id
        mm_kw = self.maker_kwargs()
        glft = [
            GLFTMarketMaker(f"mm_glft_{i}", m, feed, A=p.glft_A, **mm_kw)
            for i in range(p.glft_count)
        ]
        books = exponential_books(p, m, feed, prefix="mm_book", spacing_bps=5.0)
        pegs = [
            PeggedMarketMaker(
                f"mm_peg_{i}",
                m,
                asset=ASSET,
                collateral=p.mm_collateral,
                order_size=p.peg_order_size,
                max_inventory=p.peg_max_inventory,
            )
            for i in range(p.peg_count)
        ]
        lo, hi = sorted((p.lp_fee_min, p.lp_fee_max))
        fees = spread_evenly(lo, hi, p.lp_count)
        lps = [
            LiquidityProvider(
                f"lp_{i}",
                m,
                feed,
                asset=ASSET,
                collateral=p.lp_collateral,
                commitment=p.lp_commitment,
                fee=fees[i],
            )
            for i in range(p.lp_count)
        ]
        informed = informed_traders(p, m, feed)
        momentum = momentum_traders(p, m, feed)
        n_long, n_short = p.leveraged_long_count, p.leveraged_short_count
        self.leveraged = leveraged_traders(
            m,
            feed,
            n_long,
            n_short,
            leverage=[p.leveraged_fraction] * (n_long + n_short),
            entry_s=[p.leveraged_entry_s] * (n_long + n_short),
            name="lev_{side}_{i}",
            collateral=p.leveraged_collateral,
            reenter=True,
        )
        common = self.market_makers
        self.kinds = {
            "as": [a for a in common if not isinstance(a, SymmetricMarketMaker)],
            "sym": [a for a in common if isinstance(a, SymmetricMarketMaker)],
            "glft": list(glft),
            "book": list(books),
            "peg": list(pegs),
            "lp": list(lps),
        }
        return [*glft, *books, *pegs, *lps, *informed, *momentum, *self.leveraged]

    def apply_fork(self, sim: Simulation, changes: dict) -> set[str]:
        """Market parameters by a governance proposal, agent parameters on the agents
        (:attr:`fork_params`; :mod:`defisim.scenarios._fork`)."""
        return apply_fork_changes(sim, self.market_id, self.params, changes, self.built_agents,
                                  {**MARKET_PARAMS, **MECHANICS_MARKET_PARAMS}, self.step_seconds)

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        m = self.market_id
        view = sim.futures.market_view(m)
        parties = set(sim.parties)
        out = {
            "volume": view.volume,
            "trades": float(view.trades),
            "liquidity_fee_factor": sim.futures.liquidity_fee_factor(m),
            "target_stake": sim.futures.target_stake(m),
            "supplied_stake": sim.futures.supplied_stake(m),
            "lp_epochs": float(self.tally.lp_epochs),
            "leveraged_closed_out": float(sum(a.closed_out for a in self.leveraged)),
        }
        for kind, agents in self.kinds.items():
            names = [a.name for a in agents if a.name in parties]
            out[f"{kind}_inventory"] = float(sum(sim.futures.position(n, m) for n in names))
            out[f"{kind}_pnl"] = float(sum(sim.pnl(n, ASSET) for n in names))
        return out
