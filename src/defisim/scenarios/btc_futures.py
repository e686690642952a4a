"""``btc_futures``: a cash-settled BTC futures market traded by the first agent zoo.

One market, ``BTCUSDT-FUT``, settled in USDT (6 decimals): prices with 2 decimal
places and a tick of 0.01 USDT, sizes with 3 position decimals (0.001 BTC), a
log-normal risk model with BTC-like parameters, a 30-minute opening auction and
the default fees (spec ``../shared/specs/futures-market.md``). Around a reference
price (a CSV file such as Binance's hourly BTCUSDT klines, or a seeded GBM path)
trade:

- an opening-auction agent (crossing orders at the reference price),
- Avellaneda-Stoikov and symmetric market makers (quotes around the reference),
- Poisson market-order takers and price-sensitive IOC takers,
- an informed trader (sees the reference ``lookahead`` steps ahead),
- a momentum trader (RSI + MACD on the mark price),
- noise limit-order traders.

At the end the market is settled at the last reference price.

Loading: the price file is read when the scenario is constructed (``__init__``
calls :meth:`BtcFutures.prepare`), so a missing or malformed file raises
:class:`~defisim.prices.PriceFileError` before a runner writes anything;
``params.step_seconds`` is resolved there too (``None`` becomes the file's
interval, or 3600 s for the GBM path), so the runner sees the effective value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import (
    AvellanedaStoikovMarketMaker,
    OpeningAuctionTrader,
    ReferencePriceFeed,
)
from defisim.prices import gbm_path

from ._reference import PriceFileParams, PriceFileReference
from ._zoo import (
    ASSET,
    create_futures_market,
    futures_market_config,
    informed_traders,
    market_makers,
    mm_kwargs,
    momentum_traders,
    noise_traders,
    settle_or_terminate,
    takers,
)
from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"
DEFAULT_GBM_STEPS = 2000
DEFAULT_GBM_STEP_SECONDS = 3600.0


class BtcFuturesParams(PriceFileParams, ScenarioParams):
    """Parameters of ``btc_futures`` (money in USDT, sizes in BTC, time in seconds)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run: default the number of price rows (file) or 2,000 (GBM); capped at
    the path's length with a file."""
    step_seconds: float | None = Field(None, gt=0)
    """Seconds per step. ``None``: one step per price row, each the file's (median)
    interval (gaps in the file are collapsed); 3600 for GBM. With a file, a given
    value resamples the file on that grid (last price at or before each time)."""

    # reference price (prices_file, price_column, time_column: PriceFileParams)
    s0: float = Field(30_000.0, gt=0)
    """GBM start price (USDT)."""
    mu: float = 0.0
    """GBM annualised drift."""
    sigma: float = Field(0.6, ge=0)
    """GBM annualised volatility (365-day year)."""

    # market
    risk_aversion: float = Field(0.01, gt=0, lt=1)
    risk_tau: float = Field(1.0 / 365.25 / 24, ge=0)
    """Risk-model horizon in years (1 hour)."""
    risk_sigma: float = Field(0.8, ge=0)
    """Risk-model annualised volatility of BTC."""
    linear_slippage_factor: float = Field(0.01, ge=0)
    maker_fee: float = Field(0.00025, ge=0, le=1)
    infrastructure_fee: float = Field(0.0005, ge=0, le=1)
    liquidity_fee: float = Field(0.0, ge=0, le=1)
    opening_auction_s: float = Field(1800.0, ge=0)

    # opening auction agent
    auction_size: float = Field(0.5, gt=0)
    """BTC crossed by the opening-auction agent."""

    # market makers
    as_mm_count: int = Field(1, ge=0)
    sym_mm_count: int = Field(1, ge=0)
    mm_gamma: float = Field(10.0, gt=0)
    """Risk aversion per lot, per fraction of the price (relative units)."""
    mm_k: float = Field(2000.0, gt=0)
    """Fill-intensity decay per fraction of the price (2000: e-fold every 5 bps)."""
    mm_horizon_s: float = Field(3600.0, ge=0)
    mm_order_size: float = Field(0.25, gt=0)
    """BTC per quote (per level)."""
    mm_levels: int = Field(3, ge=1)
    """Quotes per side (the AS quote, then deeper levels)."""
    mm_level_spacing_bps: float = Field(10.0, ge=0)
    mm_max_inventory: float = Field(3.0, ge=0)
    mm_collateral: float = Field(2_000_000.0, ge=0)

    # takers
    taker_count: int = Field(2, ge=0)
    taker_rate_per_s: float = Field(1 / 1200, ge=0)
    """Market orders per second per taker."""
    taker_buy_prob: float = Field(0.5, ge=0, le=1)
    taker_mean_size: float = Field(0.05, gt=0)
    taker_max_position: float | None = 3.0
    taker_collateral: float = Field(1_000_000.0, ge=0)
    ps_taker_count: int = Field(2, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 1800, ge=0)
    ps_mean_depth_bps: float = Field(10.0, gt=0)

    # informed, momentum, noise
    informed_count: int = Field(1, ge=0)
    informed_lookahead: int = Field(1, ge=1)
    informed_threshold_bps: float = Field(30.0, ge=0)
    informed_trade_size: float = Field(0.1, gt=0)
    informed_position_limit: float = Field(1.0, ge=0)
    informed_collateral: float = Field(1_000_000.0, ge=0)
    momentum_count: int = Field(1, ge=0)
    momentum_trade_size: float = Field(0.1, gt=0)
    momentum_position_limit: float = Field(0.5, ge=0)
    momentum_collateral: float = Field(1_000_000.0, ge=0)
    noise_count: int = Field(2, ge=0)
    noise_rate_per_s: float = Field(1 / 1200, ge=0)
    noise_mean_offset_bps: float = Field(25.0, gt=0)
    noise_cancel_prob: float = Field(0.1, ge=0, le=1)
    noise_collateral: float = Field(500_000.0, ge=0)


@register
class BtcFutures(PriceFileReference, Scenario):
    """A BTC futures market with the agent zoo trading around a reference price.

    KPIs per step (:meth:`kpis`): ``reference_price``, ``mark_price``, ``best_bid``,
    ``best_ask``, ``spread``, ``mid_price`` (USDT; NaN when absent),
    ``open_interest`` and ``volume`` (cumulative traded size, BTC), ``trades``
    (cumulative count), ``insurance_pool`` (USDT), ``closeouts`` (cumulative),
    ``in_auction`` (0/1), ``mm_inventory`` (sum of the market makers' positions, BTC).
    """

    name = "btc_futures"
    description = (
        "Cash-settled BTC futures (USDT) with market makers, takers, informed, "
        "momentum and noise traders around a reference price (CSV or GBM)."
    )
    Params = BtcFuturesParams
    gbm_steps = DEFAULT_GBM_STEPS
    gbm_step_seconds = DEFAULT_GBM_STEP_SECONDS

    def __init__(self, params: BtcFuturesParams | None = None) -> None:
        super().__init__(params)
        self.feed: ReferencePriceFeed | None = None
        self.market_makers: list[AvellanedaStoikovMarketMaker] = []
        self.prepare()

    @property
    def step_seconds(self) -> float:
        """Effective seconds per step."""
        return float(self.params.step_seconds)  # type: ignore[arg-type]

    @property
    def markets(self) -> list[str]:
        return [MARKET_ID]

    def reference_path(self, sim: Simulation) -> PricePath:
        """The file's path, or a GBM path drawn from ``sim.rng("reference_price")`` with
        enough points for the run plus the informed trader's look-ahead."""
        p: BtcFuturesParams = self.params  # type: ignore[assignment]
        return self.make_path(sim, self.total_steps() + p.informed_lookahead + 1)

    def reseed_episode(self, sim: Simulation, streams) -> None:
        """A GBM reference path gets a new future (same ``mu``, ``sigma``) from the
        current price, drawn from ``streams.generator("episode:reference_price")``;
        a price file is kept as it is."""
        feed = self.feed
        if self._file_path is not None or feed is None:
            return
        n_future = len(feed.path) - feed.index
        if n_future < 2:
            return
        p: BtcFuturesParams = self.params  # type: ignore[assignment]
        future = gbm_path(n_future, self.step_seconds, feed.price, p.mu, p.sigma,
                          streams.generator("episode:reference_price"))
        feed.replace_future(future.prices[1:])

    # ------------------------------------------------------------------- build
    def build(self, sim: Simulation) -> list[Agent]:
        """Create USDT, the market and the agents (feed first)."""
        p: BtcFuturesParams = self.params  # type: ignore[assignment]
        create_futures_market(sim, futures_market_config(MARKET_ID, p))
        feed = ReferencePriceFeed("reference", self.reference_path(sim))
        self.feed = feed
        m = MARKET_ID
        agents: list[Agent] = [
            feed,
            OpeningAuctionTrader("auctioneer", m, feed, asset=ASSET, size=p.auction_size),
        ]
        self.market_makers = market_makers(
            p, m, feed, **mm_kwargs(p, sigma=None, sigma_prior_annual=p.sigma)
        )
        agents += self.market_makers
        first = self.step_seconds
        agents += takers(p, m, feed, first)
        agents += informed_traders(p, m, feed)
        agents += momentum_traders(p, m, feed)
        agents += noise_traders(p, m, feed, first)
        return agents

    # -------------------------------------------------------------------- KPIs
    def kpis(self, sim: Simulation) -> dict[str, float]:
        nan = float("nan")
        view = sim.futures.market_view(MARKET_ID)
        bid, ask = view.best_bid, view.best_ask
        mark = view.mark_price
        return {
            "reference_price": self.feed.price if self.feed is not None else nan,
            "mark_price": nan if mark is None else float(mark),
            "best_bid": nan if bid is None else bid,
            "best_ask": nan if ask is None else ask,
            "mid_price": nan if bid is None or ask is None else (bid + ask) / 2,
            "spread": nan if bid is None or ask is None else ask - bid,
            "open_interest": view.open_interest,
            "volume": view.volume,
            "trades": float(view.trades),
            "insurance_pool": float(sim.futures.insurance_pool(MARKET_ID)),
            "closeouts": float(view.closeouts),
            "in_auction": float(view.in_auction),
            "mm_inventory": sum(sim.futures.position(a.name, MARKET_ID) for a in self.market_makers),
        }

    # ------------------------------------------------------------------ finish
    def finish(self, sim: Simulation) -> None:
        """Settle the market at the last reference price (cancel it if it never opened)."""
        settle_or_terminate(sim, MARKET_ID, self.feed)
