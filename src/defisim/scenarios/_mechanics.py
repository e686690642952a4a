"""Shared parts of the market-mechanics scenarios (``market_crash``,
``liquidation_cascade``, ``perp_btc``, ``lp_competition``).

- :class:`MechanicsParams`: the parameters they share (reference price, market,
  market makers, takers, noise traders), with units; :class:`HourlyStepParams`:
  the same with defaults for hourly steps (``perp_btc``, ``historic_market_maker``).
- :class:`MechanicsScenario`: builds one USDT-settled BTC market around a
  reference price with the common agents; subclasses add the market's mechanics
  (:meth:`~MechanicsScenario.market_config`), their agents
  (:meth:`~MechanicsScenario.extra_agents`), the reference path and KPIs.
- :class:`MechanicsTally`: counts what the mechanics did (auctions and their
  duration, socialised losses, network disposal trades, funding periods, LP fees
  and slashes) from the chain's events.

The market and the agents are built by :mod:`defisim.scenarios._zoo` from the
parameter names.

How the tallies (:class:`EventCursor` subclasses) see events: each call of
``update`` reads the events emitted since its previous call through its own cursor
on the simulation's event log (``sim.event_cursor``), opened at the first call at
the oldest event the recorder has not drained yet. :meth:`Scenario.kpis` calls it
once per step. With ``keep_events=False`` it sees nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from defisim.agents import (
    AvellanedaStoikovMarketMaker,
    OpeningAuctionTrader,
    ReferenceArbitrageur,
    ReferencePriceFeed,
)
from defisim.chain import Transfer
from defisim.protocols.futures import (
    AuctionEnded,
    AuctionExtended,
    AuctionStarted,
    FundingPeriodEnded,
    LiquidityEpochEnded,
    LossSocialised,
    PositionClosedOut,
    TradeExecuted,
)
from defisim.protocols.futures.accounts import NETWORK_PARTY

from ._bounds import check_market_inputs
from ._zoo import (
    ASSET,
    create_futures_market,
    futures_market_config,
    market_makers,
    mm_kwargs,
    noise_traders,
    settle_or_terminate,
    sigma_per_second,
    takers,
)
from .base import Scenario, ScenarioParams

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.prices import PricePath
    from defisim.service import Simulation

NAN = float("nan")

#: Transfer kinds of the liquidity epochs (``defisim.protocols.futures.liquidity``).
LP_FEE_KINDS = frozenset({"lp_fee_net", "lp_fee_bonus"})
LP_SLASH_KINDS = frozenset({"lp_sla_bond_slash"})
LP_PENALTY_KINDS = frozenset({"lp_early_exit_penalty", "lp_bond_penalty"})


class MechanicsParams(ScenarioParams):
    """Parameters shared by the mechanics scenarios (money in USDT, sizes in BTC,
    prices in USDT per BTC, rates per second, time in seconds)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (``None``: the scenario's default)."""
    step_seconds: float = Field(60.0, gt=0)
    """Simulated seconds per step."""

    # reference price (synthetic)
    s0: float = Field(30_000.0, gt=0)
    """First reference price (USDT)."""
    sigma: float = Field(0.6, ge=0)
    """Annualised volatility of the reference's GBM parts (365-day year)."""

    # market
    risk_aversion: float = Field(0.01, gt=0, lt=1)
    risk_tau: float = Field(1.0 / 365.25 / 24, ge=0)
    """Risk-model horizon in years (1 hour)."""
    risk_sigma: float = Field(0.8, ge=0)
    """Risk-model annualised volatility."""
    linear_slippage_factor: float = Field(0.01, ge=0)
    maker_fee: float = Field(0.00025, ge=0, le=1)
    infrastructure_fee: float = Field(0.0005, ge=0, le=1)
    liquidity_fee: float = Field(0.0, ge=0, le=1)
    opening_auction_s: float = Field(300.0, ge=0)
    """Minimum opening auction (seconds)."""
    auction_size: float = Field(0.5, gt=0)
    """BTC crossed by the auction agent (opening and, where enabled, monitoring auctions)."""

    # market makers
    as_mm_count: int = Field(1, ge=0)
    sym_mm_count: int = Field(1, ge=0)
    mm_gamma: float = Field(10.0, gt=0)
    """Risk aversion per lot, per fraction of the price."""
    mm_k: float = Field(2000.0, gt=0)
    """Fill-intensity decay per fraction of the price (2000: e-fold every 5 bps)."""
    mm_horizon_s: float = Field(3600.0, ge=0)
    mm_order_size: float = Field(0.25, gt=0)
    """BTC per quote level."""
    mm_levels: int = Field(3, ge=1)
    mm_level_spacing_bps: float = Field(10.0, ge=0)
    mm_max_inventory: float = Field(3.0, ge=0)
    """BTC."""
    mm_collateral: float = Field(2_000_000.0, ge=0)
    mm_sigma: float | None = Field(0.6, ge=0)
    """Annualised volatility the market makers assume (``None``: the feed's realised
    volatility, which explodes in a crash and throws their quotes far off)."""

    # takers and noise
    taker_count: int = Field(2, ge=0)
    taker_rate_per_s: float = Field(1 / 300, ge=0)
    """Market orders per second per taker."""
    taker_buy_prob: float = Field(0.5, ge=0, le=1)
    taker_mean_size: float = Field(0.05, gt=0)
    """BTC."""
    taker_max_position: float | None = 3.0
    taker_collateral: float = Field(1_000_000.0, ge=0)
    ps_taker_count: int = Field(1, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 300, ge=0)
    ps_mean_depth_bps: float = Field(10.0, gt=0)
    noise_count: int = Field(2, ge=0)
    noise_rate_per_s: float = Field(1 / 300, ge=0)
    noise_mean_offset_bps: float = Field(25.0, gt=0)
    noise_cancel_prob: float = Field(0.1, ge=0, le=1)
    noise_collateral: float = Field(500_000.0, ge=0)

    # reference arbitrageur
    arb_count: int = Field(1, ge=0)
    """Agents sending GTT orders toward the reference when the traded price is away."""
    arb_threshold_bps: float = Field(100.0, gt=0)
    arb_order_size: float = Field(0.5, gt=0)
    """BTC per order."""
    arb_position_limit: float = Field(5.0, ge=0)
    """BTC."""
    arb_collateral: float = Field(2_000_000.0, ge=0)


class HourlyStepParams(BaseModel):
    """Parameter group: the defaults of :class:`MechanicsParams` for hourly steps (a
    price file of hourly rows): a 30-minute opening auction and order-flow rates (per
    second) of a few orders per step. List it before the base parameter model it
    overrides (``class P(HourlyStepParams, MechanicsParams)``): the fields keep their
    place and descriptions there."""

    taker_rate_per_s: float = Field(1 / 1200, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 1800, ge=0)
    noise_rate_per_s: float = Field(1 / 1200, ge=0)
    opening_auction_s: float = Field(1800.0, ge=0)


class EventCursor:
    """Reads the events emitted since the previous call, through the simulation's
    event cursor (opened at the first call)."""

    def __init__(self) -> None:
        self._cursor = None

    def new_events(self, sim: Simulation) -> list:
        """The events emitted since the previous call (at the first call: since the
        simulation's last drain)."""
        if self._cursor is None:
            self._cursor = sim.event_cursor(from_oldest=True)
        return self._cursor.read()


class MechanicsTally(EventCursor):
    """What the market's mechanics did, counted from events (module docstring).

    Attributes (raw integers unless said otherwise):
        auctions: price-monitoring auctions started; extensions: their extensions;
        auction_ns: total time in finished price-monitoring auctions (ns);
        auction_open_ns: start of the ongoing one, or ``None``;
        socialised: total loss socialised (base units); socialisation_events;
        disposal_trades, disposal_volume: the network party's disposal trades and size;
        closeout_size: total size moved to the network party;
        funding_periods, funding_paid_periods: funding periods ended / with a payment;
        last_funding_payment (raw price per contract), last_funding_rate (fixed 1e18);
        last_twaps: ``(internal, external)`` TWAPs of the last period (raw ticks);
        funding_sum: sum of the payments (raw price per contract); funding_events: all;
        lp_fees, lp_slashes, lp_penalties: per party, base units;
        lp_epochs, lp_fees_paid: liquidity epochs ended and fees they paid.
    """

    def __init__(self, market: str, track_lp: bool = False) -> None:
        super().__init__()
        self.market = market
        self.track_lp = track_lp
        self.auctions = 0
        self.extensions = 0
        self.auction_ns = 0
        self.auction_open_ns: int | None = None
        self.socialised = 0
        self.socialisation_events = 0
        self.disposal_trades = 0
        self.disposal_volume = 0
        self.closeout_size = 0
        self.funding_periods = 0
        self.funding_paid_periods = 0
        self.last_funding_payment = 0
        self.last_funding_rate = 0
        self.last_twaps: tuple[int, int] = (0, 0)
        self.funding_sum = 0
        self.funding_events: list[FundingPeriodEnded] = []
        self.lp_fees: dict[str, int] = {}
        self.lp_slashes: dict[str, int] = {}
        self.lp_penalties: dict[str, int] = {}
        self.lp_epochs = 0
        self.lp_fees_paid = 0

    def update(self, sim: Simulation) -> None:
        """Read the events emitted since the previous call."""
        new = self.new_events(sim)
        m = self.market
        track_lp = self.track_lp
        for e in new:
            t = type(e)
            if t is TradeExecuted:
                if e.trade_type == "NETWORK" and e.market == m:
                    self.disposal_trades += 1
                    self.disposal_volume += e.size
            elif t is Transfer:
                if track_lp:
                    self._transfer(e)
            elif getattr(e, "market", None) != m:
                continue
            elif t is AuctionStarted:
                self.auctions += 1
                self.auction_open_ns = e.time_ns
            elif t is AuctionExtended:
                self.extensions += 1
            elif t is AuctionEnded:
                if e.auction == "price_monitoring" and self.auction_open_ns is not None:
                    self.auction_ns += e.time_ns - self.auction_open_ns
                    self.auction_open_ns = None
            elif t is LossSocialised:
                self.socialised += e.amount
                self.socialisation_events += 1
            elif t is PositionClosedOut:
                self.closeout_size += abs(e.size)
            elif t is FundingPeriodEnded:
                self.funding_periods += 1
                self.funding_events.append(e)
                if not e.skipped:
                    self.funding_paid_periods += bool(e.funding_payment)
                    self.last_funding_payment = e.funding_payment
                    self.last_funding_rate = e.funding_rate
                    self.last_twaps = (e.internal_twap, e.external_twap)
                    self.funding_sum += e.funding_payment
            elif t is LiquidityEpochEnded:
                self.lp_epochs += 1
                self.lp_fees_paid += e.fees_paid

    def _transfer(self, e: Transfer) -> None:
        kind = e.kind
        if kind in LP_FEE_KINDS:
            p = e.destination[1]
            self.lp_fees[p] = self.lp_fees.get(p, 0) + e.amount
        elif kind in LP_SLASH_KINDS and e.source[3] == self.market:
            p = e.source[1]
            self.lp_slashes[p] = self.lp_slashes.get(p, 0) + e.amount
        elif kind in LP_PENALTY_KINDS and e.source[3] == self.market:
            p = e.source[1]
            self.lp_penalties[p] = self.lp_penalties.get(p, 0) + e.amount

    def time_in_auction_s(self, now_ns: int) -> float:
        """Seconds spent in price-monitoring auctions up to ``now_ns`` (ongoing one included)."""
        ns = self.auction_ns
        if self.auction_open_ns is not None:
            ns += now_ns - self.auction_open_ns
        return ns / 1e9


class MechanicsScenario(Scenario):
    """One USDT-settled BTC market around a reference price, with the common agents.

    Subclasses set ``name``, ``description``, ``Params`` (a :class:`MechanicsParams`),
    ``market_id`` and ``default_steps``, and implement :meth:`make_path`; they may
    override :meth:`market_config`, :meth:`extra_agents`, :meth:`extra_kpis`.

    The common agents: the reference feed, an auction agent (crossing orders at
    the reference in the opening auction, and in price-monitoring auctions when
    ``auction_agent_every_auction``), Avellaneda-Stoikov and symmetric market
    makers, Poisson market-order takers, price-sensitive IOC takers, noise
    limit-order traders and reference arbitrageurs (:mod:`defisim.agents`). At the end the market is settled
    at the last reference price (cancelled if it never opened).
    """

    market_id: str = "BTCUSDT-FUT"
    default_steps: int = 1440
    auction_agent_every_auction: bool = True
    track_lp: bool = False

    def __init__(self, params: MechanicsParams | None = None) -> None:
        super().__init__(params)
        self.feed: ReferencePriceFeed | None = None
        self.market_makers: list[AvellanedaStoikovMarketMaker] = []
        self.tally = MechanicsTally(self.market_id, self.track_lp)
        self._path: PricePath | None = None
        self.built_agents: list[Agent] = []
        """The agents :meth:`build` returned (a fork changes their settings)."""
        self.prepare()

    # ------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Resolve parameters before a run (e.g. read a price file). Default: nothing."""

    def total_steps(self) -> int:
        """``params.steps`` or the scenario's ``default_steps``."""
        return int(self.params.steps) if self.params.steps is not None else self.default_steps

    @property
    def step_seconds(self) -> float:
        return float(self.params.step_seconds)

    @property
    def markets(self) -> list[str]:
        return [self.market_id]

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """The reference path with at least ``n`` points, one per step."""
        raise NotImplementedError

    def market_config(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`Simulation.create_market` (subclasses extend it):
        :func:`~defisim.scenarios._zoo.futures_market_config`."""
        return futures_market_config(self.market_id, self.params)

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """The scenario's own agents (after the common ones)."""
        return []

    def maker_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the common market makers (``mm_*`` parameters; ``mm_sigma``
        per second, the prior volatility ``max(sigma, 0.05)``)."""
        p: MechanicsParams = self.params  # type: ignore[assignment]
        return mm_kwargs(
            p, sigma=sigma_per_second(p.mm_sigma), sigma_prior_annual=max(p.sigma, 0.05)
        )

    # ------------------------------------------------------------------- build
    def build(self, sim: Simulation) -> list[Agent]:
        """Create USDT, the market, the feed, the common agents and :meth:`extra_agents`."""
        p: MechanicsParams = self.params  # type: ignore[assignment]
        self.tally = MechanicsTally(self.market_id, self.track_lp)
        create_futures_market(sim, self.market_config())
        self._path = self.make_path(sim, self.total_steps() + 1)
        check_market_inputs(sim, self.market_id, self._path, p)
        feed = ReferencePriceFeed("reference", self._path)
        self.feed = feed
        m = self.market_id
        agents: list[Agent] = [
            feed,
            OpeningAuctionTrader(
                "auctioneer",
                m,
                feed,
                asset=ASSET,
                size=p.auction_size,
                every_auction=self.auction_agent_every_auction,
            ),
        ]
        self.market_makers = market_makers(p, m, feed, **self.maker_kwargs())
        agents += self.market_makers
        first = self.step_seconds
        agents += takers(p, m, feed, first)
        agents += noise_traders(p, m, feed, first)
        agents += [
            ReferenceArbitrageur(
                f"arb_{i}",
                m,
                feed,
                asset=ASSET,
                collateral=p.arb_collateral,
                threshold_bps=p.arb_threshold_bps,
                order_size=p.arb_order_size,
                position_limit=p.arb_position_limit,
                ttl_s=max(self.step_seconds, 1.0),
            )
            for i in range(p.arb_count)
        ]
        agents += self.extra_agents(sim, feed)
        self.built_agents = agents
        return agents

    # -------------------------------------------------------------------- KPIs
    def kpis(self, sim: Simulation) -> dict[str, float]:
        """Common KPIs (USDT, BTC, counts; NaN when absent): ``reference_price``,
        ``mark_price``, ``best_bid``, ``best_ask``, ``spread``, ``open_interest``,
        ``insurance_pool``, ``closeouts``, ``in_auction``, ``auctions``,
        ``auction_extensions``, ``time_in_auction_s``, ``socialised_loss``,
        ``disposal_trades``, ``network_position``, then :meth:`extra_kpis`."""
        self.tally.update(sim)
        m = self.market_id
        view = sim.futures.market_view(m)
        tally = self.tally
        bid, ask = view.best_bid, view.best_ask
        mark = view.mark_price
        out = {
            "reference_price": self.feed.price if self.feed is not None else NAN,
            "mark_price": NAN if mark is None else float(mark),
            "best_bid": NAN if bid is None else bid,
            "best_ask": NAN if ask is None else ask,
            "spread": NAN if bid is None or ask is None else ask - bid,
            "open_interest": view.open_interest,
            "insurance_pool": float(sim.futures.insurance_pool(m)),
            "closeouts": float(view.closeouts),
            "in_auction": float(view.in_auction),
            "auctions": float(tally.auctions),
            "auction_extensions": float(tally.extensions),
            "time_in_auction_s": tally.time_in_auction_s(sim.now_ns),
            "socialised_loss": sim.money(ASSET, tally.socialised),
            "disposal_trades": float(tally.disposal_trades),
            "network_position": float(sim.futures.position(NETWORK_PARTY, m)),
        }
        out.update(self.extra_kpis(sim))
        return out

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        return {}

    # ------------------------------------------------------------------ finish
    def finish(self, sim: Simulation) -> None:
        """Settle the market at the last reference price (cancel it if it never opened)."""
        settle_or_terminate(sim, self.market_id, self.feed)
