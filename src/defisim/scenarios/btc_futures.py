"""``btc_futures``: a cash-settled futures market (BTC by default) traded by the first
agent zoo.

One market, ``<instrument>-FUT`` (``BTCUSDT-FUT`` on the GBM path), settled in USDT
(6 decimals): prices with 2 decimal places and a tick of 0.01 USDT, sizes with 3
position decimals (0.001 contract), a log-normal risk model, a 30-minute opening
auction and the default fees (spec ``../shared/specs/futures-market.md``). Around a
reference price (a CSV file such as Binance's hourly BTCUSDT klines, or a seeded GBM
path) trade:

- an opening-auction agent (crossing orders at the reference price),
- Avellaneda-Stoikov and symmetric market makers (quotes around the reference),
- Poisson market-order takers and price-sensitive IOC takers,
- an informed trader (sees the reference ``lookahead`` steps ahead),
- a momentum trader (RSI + MACD on the mark price),
- noise limit-order traders.

At the end the market is settled at the last reference price.

What-if forks (``defisim fork RUN --at-block N --set name=value``,
:mod:`defisim.scenarios._fork`) can change the market's fees (``maker_fee``,
``infrastructure_fee``, ``liquidity_fee``), risk model (``risk_aversion``,
``risk_tau``, ``risk_sigma``) and ``linear_slippage_factor`` (a governance proposal,
in force from block N+2), and the agents' ``taker_rate_per_s``,
``ps_taker_rate_per_s``, ``taker_buy_prob``, ``taker_mean_size``,
``noise_rate_per_s``, ``noise_mean_offset_bps``, ``noise_cancel_prob``, ``mm_gamma``,
``mm_k``, ``mm_order_size``, ``mm_level_spacing_bps`` and ``mm_max_inventory`` (from
block N+1), besides ``steps``; a fork refuses any other parameter.

On a price file of another instrument: the instrument's name comes from a Binance
kline file name (``ETHUSDT_1h.csv`` gives ``ETHUSDT-FUT``; ``instrument`` overrides),
the risk model's ``risk_sigma`` is estimated from the file (:func:`annualised_volatility`)
unless given, and the ``*_notional`` parameters (USDT) size orders and limits in
contracts at the path's first price. The defaults keep the BTC sizes in contracts.

Where the reference comes from (``reference_feed``, issue 15's paper trading):

- ``"file"`` (the default): the price file (or the GBM path) read at simulation
  time; deterministic, same seed same run bit for bit;
- ``"paced"``: ``prices_file`` replayed in wall time, ``speed`` file seconds per wall
  second (:class:`~defisim.prices.feeds.PacedReplayFeed`);
- ``"exchange"``: the last price of ``symbol`` on the live ``exchange``, polled every
  ``poll_s`` seconds with ccxt (:class:`~defisim.prices.feeds.ExchangeFeed`, the
  ``paper`` extra); a price older than ``stale_after_s`` is not used: the step keeps
  the previous price and is flagged (KPI ``reference_stale``).

With ``"paced"`` or ``"exchange"`` the reference agent
(:class:`~defisim.agents.LiveReferencePriceFeed`) reads the feed's latest price at
each step, so what a step sees depends on when it runs in wall time: such a run is
**not deterministic**. It is meant to be hosted live
(:class:`defisim.server.live.LiveRun` with ``pace_s``, ``defisim paper``); the
informed traders see no future there. The exchange is asked for its first price when
the scenario is constructed (waiting up to ``feed_wait_s``), which sizes the orders
given in notional.

Loading: the price file is read when the scenario is constructed (``__init__``
calls :meth:`BtcFutures.prepare`), so a missing or malformed file raises
:class:`~defisim.prices.PriceFileError` before a runner writes anything;
``params.step_seconds`` is resolved there too (``None`` becomes the file's
interval, or 3600 s for the GBM path), and so are ``risk_sigma`` and the sizes given
in notional, so the runner sees the effective values.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from defisim.agents import (
    AvellanedaStoikovMarketMaker,
    LiveReferencePriceFeed,
    OpeningAuctionTrader,
    ReferencePriceFeed,
)
from defisim.prices import SECONDS_PER_YEAR, gbm_path
from defisim.prices.feeds import ExchangeFeed, PacedReplayFeed, PriceFeed

from ._bounds import check_market_inputs
from ._fork import AGENT_PARAMS, MARKET_PARAMS, apply_fork_changes
from ._reference import PriceFileParams, PriceFileReference
from ._zoo import (
    ASSET,
    POSITION_DECIMALS,
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

DEFAULT_INSTRUMENT = "BTCUSDT"
MARKET_ID = f"{DEFAULT_INSTRUMENT}-FUT"
"""The market on the GBM path (and on a file whose name gives no instrument)."""
DEFAULT_GBM_STEPS = 2000
DEFAULT_GBM_STEP_SECONDS = 3600.0
DEFAULT_RISK_SIGMA = 0.8
"""``risk_sigma`` of the GBM path: an annualised volatility like BTC's."""

#: Notional parameters (USDT) and the contract parameters they set (at the first price).
NOTIONAL_SIZES = {
    "auction_notional": "auction_size",
    "mm_order_notional": "mm_order_size",
    "mm_max_inventory_notional": "mm_max_inventory",
    "taker_mean_notional": "taker_mean_size",
    "taker_max_position_notional": "taker_max_position",
    "informed_trade_notional": "informed_trade_size",
    "informed_position_limit_notional": "informed_position_limit",
    "momentum_trade_notional": "momentum_trade_size",
    "momentum_position_limit_notional": "momentum_position_limit",
    "noise_mean_notional": "noise_mean_size",
}

# Binance kline file names: ETHUSDT_1h.csv, BTCUSDT-15m-2021-04.csv, Binance_ETHUSDT_1h.csv
_KLINE_NAME = re.compile(r"(?:[Bb]inance[_-])?([A-Z0-9]{2,})[_-]\d+(?:s|m|h|d|w|M|mo)(?:[_-].*)?")


def instrument_from_file(prices_file: str | None) -> str | None:
    """The instrument of a Binance kline file name (``ETHUSDT_1h.csv`` -> ``ETHUSDT``,
    also ``ETHUSDT-1h-2021-04.csv`` and ``Binance_ETHUSDT_1h.csv``), else ``None``."""
    if prices_file is None:
        return None
    m = _KLINE_NAME.fullmatch(Path(prices_file).stem)
    return m.group(1) if m else None


def annualised_volatility(prices, step_seconds: float) -> float:
    """Annualised volatility of a price path one ``step_seconds`` apart: the sample
    standard deviation (``ddof=1``) of the log returns times ``sqrt(year / step)``, a
    365-day year (:data:`~defisim.prices.SECONDS_PER_YEAR`, as the GBM's ``sigma``)."""
    r = np.diff(np.log(np.asarray(prices, dtype=np.float64)))
    if r.size < 2:
        raise ValueError(f"cannot estimate a volatility from {r.size + 1} prices; give risk_sigma")
    return float(np.std(r, ddof=1) * math.sqrt(SECONDS_PER_YEAR / step_seconds))


class BtcFuturesParams(PriceFileParams, ScenarioParams):
    """Parameters of ``btc_futures`` (money in USDT, sizes in contracts of the
    instrument (BTC by default), time in seconds)."""

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

    # reference feed (module docstring): file (deterministic), paced replay, exchange
    reference_feed: Literal["file", "paced", "exchange"] = "file"
    """Where the reference price comes from; ``paced`` and ``exchange`` are wall-clocked
    (not deterministic; for a live run)."""
    exchange: str = Field("binance", min_length=1)
    """ccxt exchange id of ``reference_feed="exchange"``."""
    symbol: str = Field("BTC/USDT", min_length=1)
    """Market symbol on the exchange (ccxt's unified form)."""
    speed: float = Field(1.0, gt=0)
    """File seconds replayed per wall second (``reference_feed="paced"``)."""
    poll_s: float = Field(2.0, gt=0)
    """Seconds between exchange requests; also the default ``step_seconds`` there."""
    stale_after_s: float = Field(30.0, gt=0)
    """An exchange price older than this (seconds) is stale: not used, flagged."""
    feed_wait_s: float = Field(10.0, gt=0)
    """Seconds to wait for the exchange's first price at construction."""

    # market
    instrument: str | None = Field(None, min_length=1)
    """Instrument name; the market is ``<instrument>-FUT``. ``None``: from a Binance
    kline file name (``ETHUSDT_1h.csv`` -> ``ETHUSDT``), else ``BTCUSDT``."""
    risk_aversion: float = Field(0.01, gt=0, lt=1)
    risk_tau: float = Field(1.0 / 365.25 / 24, ge=0)
    """Risk-model horizon in years (1 hour)."""
    risk_sigma: float | None = Field(None, ge=0)
    """Risk-model annualised volatility. ``None``: estimated from the price file
    (:func:`annualised_volatility`), 0.8 (BTC-like) on the GBM path."""
    linear_slippage_factor: float = Field(0.01, ge=0)
    maker_fee: float = Field(0.00025, ge=0, le=1)
    infrastructure_fee: float = Field(0.0005, ge=0, le=1)
    liquidity_fee: float = Field(0.0, ge=0, le=1)
    opening_auction_s: float = Field(1800.0, ge=0)

    # opening auction agent
    auction_size: float = Field(0.5, gt=0)
    """Contracts crossed by the opening-auction agent."""
    auction_notional: float | None = Field(None, gt=0)
    """USDT crossed by the opening-auction agent (sets ``auction_size`` at the first price)."""

    # market makers
    as_mm_count: int = Field(1, ge=0)
    sym_mm_count: int = Field(1, ge=0)
    mm_gamma: float = Field(10.0, gt=0)
    """Risk aversion per lot, per fraction of the price (relative units)."""
    mm_k: float = Field(2000.0, gt=0)
    """Fill-intensity decay per fraction of the price (2000: e-fold every 5 bps)."""
    mm_horizon_s: float = Field(3600.0, ge=0)
    mm_order_size: float = Field(0.25, gt=0)
    """Contracts per quote (per level)."""
    mm_order_notional: float | None = Field(None, gt=0)
    """USDT per quote (sets ``mm_order_size`` at the first price)."""
    mm_levels: int = Field(3, ge=1)
    """Quotes per side (the AS quote, then deeper levels)."""
    mm_level_spacing_bps: float = Field(10.0, ge=0)
    mm_max_inventory: float = Field(3.0, ge=0)
    mm_max_inventory_notional: float | None = Field(None, ge=0)
    """USDT (sets ``mm_max_inventory`` at the first price)."""
    mm_collateral: float = Field(2_000_000.0, ge=0)

    # takers
    taker_count: int = Field(2, ge=0)
    taker_rate_per_s: float = Field(1 / 1200, ge=0)
    """Market orders per second per taker."""
    taker_buy_prob: float = Field(0.5, ge=0, le=1)
    taker_mean_size: float = Field(0.05, gt=0)
    taker_mean_notional: float | None = Field(None, gt=0)
    """USDT (sets ``taker_mean_size`` at the first price)."""
    taker_max_position: float | None = 3.0
    taker_max_position_notional: float | None = Field(None, ge=0)
    """USDT (sets ``taker_max_position`` at the first price)."""
    taker_collateral: float = Field(1_000_000.0, ge=0)
    ps_taker_count: int = Field(2, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 1800, ge=0)
    ps_mean_depth_bps: float = Field(10.0, gt=0)

    # informed, momentum, noise
    informed_count: int = Field(1, ge=0)
    informed_lookahead: int = Field(1, ge=1)
    informed_threshold_bps: float = Field(30.0, ge=0)
    informed_trade_size: float = Field(0.1, gt=0)
    informed_trade_notional: float | None = Field(None, gt=0)
    informed_position_limit: float = Field(1.0, ge=0)
    informed_position_limit_notional: float | None = Field(None, ge=0)
    informed_collateral: float = Field(1_000_000.0, ge=0)
    momentum_count: int = Field(1, ge=0)
    momentum_trade_size: float = Field(0.1, gt=0)
    momentum_trade_notional: float | None = Field(None, gt=0)
    momentum_position_limit: float = Field(0.5, ge=0)
    momentum_position_limit_notional: float | None = Field(None, ge=0)
    momentum_collateral: float = Field(1_000_000.0, ge=0)
    noise_count: int = Field(2, ge=0)
    noise_rate_per_s: float = Field(1 / 1200, ge=0)
    noise_mean_offset_bps: float = Field(25.0, gt=0)
    noise_cancel_prob: float = Field(0.1, ge=0, le=1)
    noise_mean_size: float = Field(0.05, gt=0)
    """Mean size of a noise order, contracts."""
    noise_mean_notional: float | None = Field(None, gt=0)
    """USDT (sets ``noise_mean_size`` at the first price)."""
    noise_collateral: float = Field(500_000.0, ge=0)


@register
class BtcFutures(PriceFileReference, Scenario):
    """A futures market (BTC by default) with the agent zoo trading around a reference price.

    KPIs per step (:meth:`kpis`): ``reference_price``, ``mark_price``, ``best_bid``,
    ``best_ask``, ``spread``, ``mid_price`` (USDT; NaN when absent),
    ``open_interest`` and ``volume`` (cumulative traded size, contracts), ``trades``
    (cumulative count), ``insurance_pool`` (USDT), ``closeouts`` (cumulative),
    ``in_auction`` (0/1), ``mm_inventory`` (sum of the market makers' positions, contracts).
    """

    name = "btc_futures"
    description = (
        "Cash-settled futures (USDT; BTC, or the price file's instrument) with market "
        "makers, takers, informed, momentum and noise traders around a reference price "
        "(CSV or GBM)."
    )
    Params = BtcFuturesParams
    gbm_steps = DEFAULT_GBM_STEPS
    gbm_step_seconds = DEFAULT_GBM_STEP_SECONDS
    market_id = MARKET_ID
    """The market, ``<instrument>-FUT`` (resolved by :meth:`prepare`)."""
    fork_params = frozenset(MARKET_PARAMS) | frozenset(AGENT_PARAMS)

    def __init__(self, params: BtcFuturesParams | None = None, *,
                 price_feed: PriceFeed | None = None) -> None:
        """``price_feed``: a feed to use instead of the one ``reference_feed`` describes
        (``"paced"`` / ``"exchange"`` only; tests give one on a fake clock or exchange).

        Raises:
            defisim.prices.PriceFileError: missing or malformed price file.
            ValueError: ``"paced"`` without ``prices_file``; no first price from the
                exchange within ``feed_wait_s``; ``price_feed`` with ``"file"``.
            ImportError: ``"exchange"`` without ccxt (the ``paper`` extra).
        """
        super().__init__(params)
        self.feed: ReferencePriceFeed | None = None
        self.source: PriceFeed | None = price_feed
        self._own_source = price_feed is None
        self._first_live: float | None = None
        self.market_makers: list[AvellanedaStoikovMarketMaker] = []
        self.built_agents: list[Agent] = []
        """The agents :meth:`build` returned (a fork changes their settings)."""
        self.prepare()

    @property
    def step_seconds(self) -> float:
        """Effective seconds per step."""
        return float(self.params.step_seconds)  # type: ignore[arg-type]

    @property
    def markets(self) -> list[str]:
        return [self.market_id]

    def prepare(self) -> None:
        """As :meth:`PriceFileReference.prepare`, then resolve the instrument
        (:attr:`market_id`), ``risk_sigma`` (``None``: :func:`annualised_volatility` of
        the file's path at its step, :data:`DEFAULT_RISK_SIGMA` on the GBM path) and
        the contract sizes of the ``*_notional`` parameters given (notional / first
        price of the path, rounded to the market's 0.001 lots) into ``params``.

        Raises:
            defisim.prices.PriceFileError: missing or malformed price file.
            ValueError: a notional below half a lot at the first price.
        """
        if self._steps is not None:
            return
        p: BtcFuturesParams = self.params  # type: ignore[assignment]
        if p.reference_feed == "exchange" and p.step_seconds is None:
            self.params = p = p.model_copy(update={"step_seconds": p.poll_s})
        super().prepare()
        p = self.params  # type: ignore[assignment]
        self._prepare_source(p)
        path = self._file_path
        instrument = p.instrument or instrument_from_file(p.prices_file) or DEFAULT_INSTRUMENT
        self.market_id = f"{instrument}-FUT"
        update: dict[str, float] = {}
        if p.risk_sigma is None:
            update["risk_sigma"] = (DEFAULT_RISK_SIGMA if path is None
                                    else annualised_volatility(path.prices, self.step_seconds))
        first = (self._first_live if self._first_live is not None
                 else float(path.prices[0]) if path is not None else p.s0)
        for notional, size in NOTIONAL_SIZES.items():
            value = getattr(p, notional)
            if value is None:
                continue
            contracts = round(value / first, POSITION_DECIMALS)
            if value > 0 and contracts <= 0:
                raise ValueError(f"{notional}={value:g} USDT is below one lot at the first "
                                 f"price {first:g}")
            update[size] = contracts
        if update:
            self.params = p.model_copy(update=update)

    @property
    def live(self) -> bool:
        """Whether the reference is wall-clocked (``reference_feed`` paced or exchange)."""
        return self.params.reference_feed != "file"

    def _prepare_source(self, p: BtcFuturesParams) -> None:
        """Make (unless given) and start the wall-clocked feed; read the first price."""
        if not self.live:
            if self.source is not None:
                raise ValueError("price_feed is for reference_feed 'paced' or 'exchange'")
            return
        if p.reference_feed == "paced":
            if self._file_path is None:
                raise ValueError("reference_feed='paced' replays prices_file; give one")
            if self.source is None:
                self.source = PacedReplayFeed(self._file_path, p.speed)
            self._first_live = float(self._file_path.prices[0])
            return
        if self.source is None:
            self.source = ExchangeFeed(p.exchange, p.symbol, poll_s=p.poll_s,
                                       stale_after_s=p.stale_after_s).start()
        first = _first_price(self.source, p.feed_wait_s)
        if first is None:
            errors = [e.message for e in getattr(self.source, "events", []) if e.kind == "error"]
            self.close_source()
            raise ValueError(f"no price for {p.symbol} from {p.exchange} within "
                             f"{p.feed_wait_s:g} s" + (f": {errors[-1]}" if errors else ""))
        self._first_live = first

    def close_source(self) -> None:
        """Stop the feed this scenario made (its polling thread)."""
        if self.source is not None and self._own_source:
            self.source.close()

    def reference_path(self, sim: Simulation) -> PricePath:
        """The file's path, or a GBM path drawn from ``sim.rng("reference_price")`` with
        enough points for the run plus the informed trader's look-ahead."""
        p: BtcFuturesParams = self.params  # type: ignore[assignment]
        return self.make_path(sim, self.total_steps() + p.informed_lookahead + 1)

    def reseed_episode(self, sim: Simulation, streams) -> None:
        """A GBM reference path gets a new future (same ``mu``, ``sigma``) from the
        current price, drawn from ``streams.generator("episode:reference_price")``;
        a price file (or a live feed) is kept as it is."""
        feed = self.feed
        if self._file_path is not None or feed is None or self.live:
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
        m = self.market_id
        create_futures_market(sim, futures_market_config(m, p))
        if self.live:
            n = self.total_steps() + p.informed_lookahead + 1
            feed: ReferencePriceFeed = LiveReferencePriceFeed(
                "reference", self.source, self._first_live, n, self.step_seconds)
            check_market_inputs(sim, m, feed.path if self._file_path is None else self._file_path, p)
            if isinstance(self.source, PacedReplayFeed):
                self.source.start()  # the replay starts with the run
        else:
            path = self.reference_path(sim)
            check_market_inputs(sim, m, path, p)
            feed = ReferencePriceFeed("reference", path)
        self.feed = feed
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
        self.built_agents = agents
        return agents

    def apply_fork(self, sim: Simulation, changes: dict) -> set[str]:
        """Market parameters by a governance proposal, agent parameters on the agents
        (:attr:`fork_params`; :mod:`defisim.scenarios._fork`)."""
        return apply_fork_changes(sim, self.market_id, self.params, changes, self.built_agents,
                                  MARKET_PARAMS, self.step_seconds)

    # -------------------------------------------------------------------- KPIs
    def kpis(self, sim: Simulation) -> dict[str, float]:
        nan = float("nan")
        m = self.market_id
        view = sim.futures.market_view(m)
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
            "insurance_pool": float(sim.futures.insurance_pool(m)),
            "closeouts": float(view.closeouts),
            "in_auction": float(view.in_auction),
            "mm_inventory": sum(sim.futures.position(a.name, m) for a in self.market_makers),
            **self._live_kpis(),
        }

    def _live_kpis(self) -> dict[str, float]:
        """``reference_stale`` (0/1: this step kept the previous price) and
        ``reference_stale_steps`` (so far), with a live feed only."""
        feed = self.feed
        if not isinstance(feed, LiveReferencePriceFeed):
            return {}
        return {"reference_stale": float(feed.stale),
                "reference_stale_steps": float(feed.stale_steps)}

    # ------------------------------------------------------------------ finish
    def finish(self, sim: Simulation) -> None:
        """Settle the market at the last reference price (cancel it if it never opened);
        stop the feed this scenario made."""
        settle_or_terminate(sim, self.market_id, self.feed)
        self.close_source()


def _first_price(source: Any, wait_s: float) -> float | None:
    """A live feed's first price: its ``wait_first`` (an exchange), else its latest."""
    if hasattr(source, "wait_first"):
        return source.wait_first(wait_s)
    latest = source.latest()
    return latest[1] if latest is not None else source.price_at(0.0)
