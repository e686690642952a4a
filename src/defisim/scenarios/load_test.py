"""``load_test``: many markets and hundreds of parties of simple makers and takers.

``markets`` USDT-settled futures markets ``LOAD-0``, ``LOAD-1``, ... (0.01 USDT
tick, 0.001 lots, log-normal risk model), each around its own seeded GBM
reference (``sim.rng("reference_price:<i>")``) with an auction agent crossing at
the reference in the opening auction. ``parties`` trading parties are dealt to
the markets in turn (party ``j`` trades market ``j mod markets``); the first
``makers_per_market`` of each market keep an exponential book around the
reference (:class:`~defisim.agents.ExponentialBookMarketMaker`), the others are
Poisson market-order takers (:class:`~defisim.agents.PoissonTaker`). So the run
has ``parties + markets`` parties (the auction agents besides). At the end each
market is settled at its last reference price.

KPIs: ``orders.<market>`` (cumulative orders sent by its agents),
``trades.<market>`` (cumulative trades), ``volume.<market>`` (BTC), and the
totals ``orders``, ``trades``, ``markets_trading`` (markets with at least one
trade).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import (
    ExponentialBookMarketMaker,
    OpeningAuctionTrader,
    PoissonTaker,
    ReferencePriceFeed,
)
from defisim.prices import gbm_path

from ._bounds import check_market_inputs
from ._zoo import (
    ASSET,
    ASSET_DECIMALS,
    POSITION_DECIMALS,
    PRICE_DECIMALS,
    lognormal_risk_model,
    settle_or_terminate,
)
from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.agents.trading import MarketAgent
    from defisim.service import Simulation


class LoadTestParams(ScenarioParams):
    """Parameters of ``load_test`` (USDT, contracts, seconds)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 500)."""
    step_seconds: float = Field(60.0, gt=0)
    markets: int = Field(4, ge=1)
    """Number of markets."""
    parties: int = Field(300, ge=1)
    """Trading parties (makers and takers, the auction agents besides)."""
    makers_per_market: int = Field(2, ge=1)
    """Of each market's parties, this many are exponential-book makers."""
    s0: float = Field(30_000.0, gt=0)
    sigma: float = Field(0.6, ge=0)
    """Annualised GBM volatility of each reference."""
    opening_auction_s: float = Field(60.0, ge=0)
    maker_total_size: float = Field(5.0, gt=0)
    """Contracts per side of each maker's book."""
    maker_levels: int = Field(5, ge=1)
    maker_collateral: float = Field(5_000_000.0, gt=0)
    taker_rate_per_s: float = Field(1 / 900, ge=0)
    """Market orders per second per taker."""
    taker_mean_size: float = Field(0.02, gt=0)
    taker_max_position: float | None = 1.0
    taker_collateral: float = Field(200_000.0, gt=0)


@register
class LoadTest(Scenario):
    """Many markets, hundreds of makers and takers (module doc)."""

    name = "load_test"
    description = (
        "A load test: several futures markets (markets=4) and hundreds of simple "
        "makers and takers (parties=300): orders and trades per market."
    )
    Params = LoadTestParams
    default_steps = 500

    def __init__(self, params: LoadTestParams | None = None) -> None:
        super().__init__(params)
        self.feeds: list[ReferencePriceFeed] = []
        self.traders: dict[str, list[MarketAgent]] = {}

    def total_steps(self) -> int:
        return int(self.params.steps) if self.params.steps is not None else self.default_steps

    @property
    def markets(self) -> list[str]:
        return [f"LOAD-{i}" for i in range(self.params.markets)]  # type: ignore[attr-defined]

    def build(self, sim: Simulation) -> list[Agent]:
        p: LoadTestParams = self.params  # type: ignore[assignment]
        sim.create_asset(ASSET, ASSET_DECIMALS)
        n = self.total_steps() + 1
        dt = float(p.step_seconds)
        agents: list[Agent] = []
        self.feeds = []
        self.traders = {m: [] for m in self.markets}
        for i, m in enumerate(self.markets):
            sim.futures.create_market(
                market_id=m,
                asset=ASSET,
                decimal_places=PRICE_DECIMALS,
                tick_size=1,
                position_decimal_places=POSITION_DECIMALS,
                risk_model=lognormal_risk_model(0.01, 1.0 / 365.25 / 24, 0.8),
                opening_auction_duration_s=p.opening_auction_s,
            )
            path = gbm_path(max(n, 2), dt, p.s0, 0.0, p.sigma, sim.rng(f"reference_price:{i}"))
            check_market_inputs(sim, m, path, p)
            feed = ReferencePriceFeed(f"feed_{i}", path)
            self.feeds.append(feed)
            agents += [feed, OpeningAuctionTrader(f"auctioneer_{i}", m, feed, asset=ASSET)]
        markets = self.markets
        for j in range(p.parties):
            i = j % p.markets
            m = markets[i]
            rank = j // p.markets
            a: MarketAgent
            if rank < p.makers_per_market:
                a = ExponentialBookMarketMaker(
                    f"maker_{j}",
                    m,
                    self.feeds[i],
                    asset=ASSET,
                    collateral=p.maker_collateral,
                    total_size=p.maker_total_size,
                    levels=p.maker_levels,
                    first_bps=5.0 + 2.0 * rank,
                    spacing_bps=5.0,
                    scale_bps=20.0,
                )
            else:
                a = PoissonTaker(
                    f"taker_{j}",
                    m,
                    asset=ASSET,
                    collateral=p.taker_collateral,
                    rate_per_s=p.taker_rate_per_s,
                    mean_size=p.taker_mean_size,
                    max_position=p.taker_max_position,
                    first_dt_s=dt,
                )
            self.traders[m].append(a)
            agents.append(a)
        return agents

    def kpis(self, sim: Simulation) -> dict[str, float]:
        out: dict[str, float] = {}
        orders = trades = trading = 0
        for m, agents in self.traders.items():
            view = sim.futures.market_view(m)
            o = sum(a.orders_sent for a in agents)
            t = view.trades
            out[f"orders.{m}"] = float(o)
            out[f"trades.{m}"] = float(t)
            out[f"volume.{m}"] = view.volume
            orders += o
            trades += t
            trading += t > 0
        out["orders"] = float(orders)
        out["trades"] = float(trades)
        out["markets_trading"] = float(trading)
        return out

    def finish(self, sim: Simulation) -> None:
        """Settle each market at its last reference price (cancel one that never opened)."""
        for m, feed in zip(self.markets, self.feeds, strict=True):
            settle_or_terminate(sim, m, feed)
