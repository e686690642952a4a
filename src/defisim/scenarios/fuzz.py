"""``fuzz``: agents that send random valid and invalid transactions of every kind.

The world (:meth:`Fuzz.setup_world`, also what :mod:`defisim.scenarios.fuzzing` replays
from): assets USD (6 decimals) and BTC (8), and up to three markets with different
decimals, ticks and mechanics, so that the transaction space crosses them all:

- ``FUT``: a USD future, prices with 2 decimals and a tick of 5 (0.05 USD),
  sizes with 2 position decimals, log-normal risk, price monitoring (two triggers),
  fees on all three legs, short liquidity epochs, fast closeout disposal;
- ``PERP``: a USD perpetual (1 price decimal, tick 1, whole contracts), simple
  risk, funding every 20 s against the oracle price the oracle agents publish;
- ``ALT``: a BTC-settled future (4 price decimals, 3 position decimals),
  log-normal risk, no price monitoring (extreme trades move its mark freely).

Parties (one per agent, the agent's name) are funded generously (makers, LPs),
modestly (takers, chaos) or thinly (leverage traders, who take positions of up to
30 times their equity and get closed out). Every agent is a
:class:`~defisim.agents.fuzzers.FuzzAgent` of one profile (maker, taker, leverage,
lp, chaos, oracle, governor) sending ``Poisson(rate)`` transactions per step;
``invalid_prob`` of them are malformed on purpose and ``extreme_prob`` carry
extreme prices or sizes. A :class:`~defisim.agents.fuzzers.BlockMarker` logs the
block times, so the transaction log replays the run block for block.

With invariants on (the default), a violation stops the run; ``defisim run fuzz``
then shrinks the logged sequence and saves ``fuzz-failure-<seed>.json`` in the run
folder (see :mod:`defisim.scenarios.fuzzing`, and ``defisim replay-fuzz FILE``). A
transaction that raises an undocumented exception is a violation too (the service
promises rejection events), unless ``stop_on_crash`` is false.

At the end every market is settled at its mark price (a market still in its
opening auction is terminated).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from defisim.agents.fuzzers import (
    BlockMarker,
    CrashMonitor,
    FuzzAgent,
    FuzzContext,
    FuzzCounters,
    MarketInfo,
    TxLog,
)

from .base import Scenario, ScenarioParams, register

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.service import Simulation

MarketName = Literal["FUT", "PERP", "ALT"]

ASSETS = {"USD": 6, "BTC": 8}

#: Initial funding per profile in (USD, BTC) asset units.
FUNDING = {
    "maker": (5_000_000, 500),
    "lp": (2_000_000, 200),
    "taker": (200_000, 20),
    "chaos": (100_000, 10),
    "oracle": (10_000, 1),
    "governor": (10_000, 1),
    "leverage": (3_000, 0.3),
}


class FuzzParams(ScenarioParams):
    """Parameters of ``fuzz`` (rates in transactions per step per agent)."""

    steps: int | None = Field(2000, ge=0)
    """Steps to run."""
    step_seconds: float = Field(1.0, gt=0)
    """Simulated seconds per step (one block per step)."""
    markets: list[MarketName] = Field(default_factory=lambda: ["FUT", "PERP", "ALT"], min_length=1)
    """Markets to create and fuzz."""
    opening_auction_s: float = Field(3.0, ge=0)
    """Opening auction length of every market."""
    price_monitoring: bool = True
    """Price-monitoring triggers on FUT."""
    makers: int = Field(3, ge=0)
    """Agents quoting passive orders (limit and pegged), amending and cancelling them."""
    takers: int = Field(2, ge=0)
    """Agents sending aggressive orders (market, IOC, FOK, crossing limits, sweeps)."""
    leverage_traders: int = Field(3, ge=0)
    """Thinly funded agents taking positions of 1 to 30 times their equity."""
    liquidity_providers: int = Field(2, ge=0)
    """Agents committing, amending and cancelling liquidity, and quoting."""
    chaos: int = Field(2, ge=0)
    """Agents sending every kind of transaction, malformed 5 times as often (at most half)."""
    oracles: int = Field(1, ge=0)
    """Agents publishing oracle prices (the perpetual's external price)."""
    governors: int = Field(1, ge=0)
    """Agents proposing market parameter changes and closures."""
    maker_rate: float = Field(2.0, ge=0)
    """Mean transactions per step of each maker (and so on for each profile)."""
    taker_rate: float = Field(0.6, ge=0)
    leverage_rate: float = Field(0.3, ge=0)
    lp_rate: float = Field(0.6, ge=0)
    chaos_rate: float = Field(1.0, ge=0)
    oracle_rate: float = Field(0.3, ge=0)
    governor_rate: float = Field(0.05, ge=0)
    invalid_prob: float = Field(0.1, ge=0, le=1)
    """Probability that a transaction is malformed on purpose (chaos agents: 5x, at most 0.5)."""
    extreme_prob: float = Field(0.03, ge=0, le=1)
    """Probability of an extreme price or size."""
    wild_prob: float = Field(0.0, ge=0, le=1)
    """Probability that an extreme price may rest where it crosses the book (a buy at
    2^61): an auction then uncrosses at an absurd mark price and the market stays there."""
    governance: bool = True
    """Governors (and chaos agents) propose market parameter changes and closures."""
    close_markets: list[MarketName] = Field(default_factory=lambda: ["ALT"])
    """Markets governance may close (valid proposals only after ``close_after``)."""
    close_after: float = Field(0.75, ge=0)
    """When valid closures start, as a fraction of the run (1 or more: never)."""
    stop_on_crash: bool = True
    """A transaction raising an undocumented exception is an invariant violation."""
    shrink: bool = True
    """On a violation, shrink the failing sequence before saving it (``defisim run``)."""
    shrink_budget_s: float = Field(300.0, ge=0)
    """Wall-clock budget of the shrinker, seconds (the best sequence so far is saved)."""


@register
class Fuzz(Scenario):
    """Random valid and invalid transactions of every kind against three markets.

    KPIs per step (cumulative counts): ``transactions``, ``accepted``, ``rejected``,
    ``crashes``, ``closeouts``, ``auctions`` (price-monitoring auctions
    started), ``lp_slashes`` (SLA bond slashes), ``loss_socialisations``,
    ``funding_periods``, ``proposals_enacted``, ``markets_closed``; ``open_orders`` (now).
    """

    name = "fuzz"
    description = (
        "Fuzzing: random valid and invalid transactions of every kind (orders, amends, "
        "cancels, liquidity, oracle, transfers, governance) with extreme prices and sizes."
    )
    Params = FuzzParams

    def __init__(self, params: FuzzParams | None = None) -> None:
        super().__init__(params)
        self.ctx: FuzzContext | None = None
        self.counters = FuzzCounters()
        self._events = None

    @property
    def markets(self) -> list[str]:
        return list(self.params.markets)

    def total_steps(self) -> int:
        return int(self.params.steps or 0)

    # ------------------------------------------------------------------- world
    def roster(self) -> list[tuple[str, str, float]]:
        """``(party name, profile, rate)`` of every fuzz agent, in build order."""
        p: FuzzParams = self.params  # type: ignore[assignment]
        out = []
        for profile, count, rate in (
            ("maker", p.makers, p.maker_rate),
            ("lp", p.liquidity_providers, p.lp_rate),
            ("taker", p.takers, p.taker_rate),
            ("leverage", p.leverage_traders, p.leverage_rate),
            ("chaos", p.chaos, p.chaos_rate),
            ("oracle", p.oracles, p.oracle_rate),
            ("governor", p.governors, p.governor_rate),
        ):
            out += [(f"fz_{profile}_{i}", profile, rate) for i in range(count)]
        return out

    LOG_IN_MEMORY = 50_000
    """Entries the generating run's transaction log keeps in memory; older ones go to a
    temporary file (:class:`~defisim.agents.fuzzers.TxLog` ``spill_after``)."""
    ORDER_REFS = 5_000
    """Order references the generating run's log keeps before forgetting those of closed
    orders (:class:`~defisim.agents.fuzzers.TxLog` ``max_order_refs``)."""

    def setup_world(self, sim: Simulation, keep_log: bool = True, *, bounded: bool = False,
                    ) -> FuzzContext:
        """Create the assets, markets and funded parties; return the fuzz context.

        Deterministic and draws no randomness, so a replay starts from the same state.
        ``bounded``: the log of a generating run (:meth:`build`), whose memory stays flat
        (:data:`LOG_IN_MEMORY`, :data:`ORDER_REFS`); a replay's log keeps everything.
        """
        p: FuzzParams = self.params  # type: ignore[assignment]
        for asset, dec in ASSETS.items():
            sim.create_asset(asset, dec)
        infos: dict[str, MarketInfo] = {}
        for m in p.markets:
            cfg, base = self._market_config(m)
            sim.futures.create_market(**cfg)
            u = sim.futures.units(m)
            infos[m] = MarketInfo(m, cfg["asset"], u.price_decimals, u.tick, u.size_factor,
                                  ASSETS[cfg["asset"]], base, sim.futures.market_view(m).perpetual)
        funding: dict[str, dict[str, int]] = {}
        parties = []
        for party, profile, _ in self.roster():
            sim.create_party(party)
            parties.append(party)
            usd, btc = FUNDING[profile]
            funding[party] = {"USD": sim.mint(party, "USD", usd), "BTC": sim.mint(party, "BTC", btc)}
        monitor = None
        if p.stop_on_crash:
            monitor = CrashMonitor()
            sim.add_invariant_check("fuzz", monitor.invariant_errors)  # a crash: a violation
        steps = self.total_steps()
        close_after = p.close_after * steps * p.step_seconds if p.close_after < 1 else math.inf
        log = TxLog(monitor, keep=keep_log, spill_after=self.LOG_IN_MEMORY if bounded else None,
                    max_order_refs=self.ORDER_REFS if bounded else None)
        ctx = FuzzContext(infos, parties, dict(ASSETS), funding, log,
                          invalid_p=p.invalid_prob, extreme_p=p.extreme_prob, wild_p=p.wild_prob,
                          governance=p.governance,
                          closable=tuple(m for m in p.close_markets if m in infos),
                          close_after_s=close_after)
        self.ctx = ctx
        return ctx

    def _market_config(self, market: str) -> tuple[dict, int]:
        """``(create_market keyword arguments, base price in raw ticks)``."""
        p: FuzzParams = self.params  # type: ignore[assignment]
        common = dict(market_id=market, opening_auction_duration_s=p.opening_auction_s,
                      mark_price_frequency_s=1.0)
        if market == "FUT":
            triggers = [{"horizon_s": 10, "probability": 0.99, "extension_s": 3},
                        {"horizon_s": 60, "probability": 0.999, "extension_s": 5}]
            return dict(
                common, asset="USD", decimal_places=2, tick_size=5, position_decimal_places=2,
                risk_model={"kind": "lognormal", "risk_aversion": 0.01, "tau": 1 / 8766,
                            "sigma": 1.5},
                linear_slippage_factor=0.05,
                fees={"maker": 0.0002, "infrastructure": 0.0005, "liquidity": 0.001},
                closeout={"disposal_time_step_s": 2, "full_disposal_size": 500},
                liquidity={"epoch_s": 30, "stake_to_volume": 0.5, "minimum_time_fraction": 0.5,
                           "target_stake_window_s": 60, "market_value_window_s": 120},
                price_monitoring={"triggers": triggers if p.price_monitoring else []},
            ), 10_000
        if market == "PERP":
            return dict(
                common, asset="USD", decimal_places=1, tick_size=1, position_decimal_places=0,
                risk_model={"kind": "simple", "factor_long": 0.08, "factor_short": 0.1},
                linear_slippage_factor=0.02,
                fees={"maker": 0.0001, "infrastructure": 0.0002, "liquidity": 0.0},
                closeout={"disposal_time_step_s": 5, "disposal_fraction": 0.3},
                liquidity={"epoch_s": 45, "stake_to_volume": 0.2},
                perpetual={"funding_period_s": 20, "interest_rate": 0.01,
                           "clamp_lower_bound": -0.0005, "clamp_upper_bound": 0.0005,
                           "margin_funding_factor": 0.5},
            ), 20_000
        return dict(
            common, asset="BTC", decimal_places=4, tick_size=1, position_decimal_places=3,
            risk_model={"kind": "lognormal", "sigma": 0.8},
            linear_slippage_factor=0.1, quadratic_slippage_factor=0.01,
            fees={"maker": 0.0005, "infrastructure": 0.0001, "liquidity": 0.0},
            liquidity={"epoch_s": 60},
        ), 500

    # ------------------------------------------------------------------- build
    def build(self, sim: Simulation) -> list[Agent]:
        ctx = self.setup_world(sim, bounded=True)
        agents: list[Agent] = [BlockMarker("fz_blocks", ctx.log)]
        agents += [FuzzAgent(name, profile, ctx, rate) for name, profile, rate in self.roster()]
        return agents

    # -------------------------------------------------------------------- KPIs
    def kpis(self, sim: Simulation) -> dict[str, float]:
        c = self.counters
        if self._events is None:
            self._events = sim.event_cursor(from_oldest=True)
        c.update(self._events.read())  # the events since the previous step
        log = self.ctx.log if self.ctx is not None else None
        stats = log.stats if log is not None else {}
        acc = rej = crashes = 0
        for (_, label, _), n in stats.items():
            if label == "accepted":
                acc += n
            elif label == "rejected":
                rej += n
            else:
                crashes += n
        return {
            "transactions": float(acc + rej + crashes),
            "accepted": float(acc),
            "rejected": float(rej),
            "crashes": float(crashes),
            "closeouts": float(c.closeouts),
            "auctions": float(c.auctions),
            "lp_slashes": float(c.lp_slashes),
            "loss_socialisations": float(c.loss_socialisations),
            "funding_periods": float(c.funding_periods),
            "proposals_enacted": float(c.proposals_enacted),
            "markets_closed": float(c.markets_closed),
            "open_orders": float(sum(sim.futures.market_view(m).open_orders for m in self.markets)),
        }

    # ------------------------------------------------------------------ finish
    def finish(self, sim: Simulation) -> None:
        """Settle every market at its mark price (terminate one still in its opening
        auction), as logged transactions in the final block."""
        if self.ctx is None:
            return
        log = self.ctx.log
        if sim.block > 1:
            log.block(sim.now_ns)
        for m, info in self.ctx.markets.items():
            state = sim.futures.market_state(m)
            if state == "PENDING":
                log.run(sim, {"kind": "terminate", "market": m})
            elif state in ("ACTIVE", "SUSPENDED", "TRADING_TERMINATED"):  # not CLOSED/SETTLED
                price = sim.futures.mark_price(m) or info.human_price(info.base_price)
                log.run(sim, {"kind": "settle", "market": m, "price": price})

    def after_run(self, result) -> None:
        """Write ``fuzz-stats.json``; after an invariant violation, shrink the logged
        sequence and save ``fuzz-failure-<seed>.json`` (see :mod:`defisim.scenarios.fuzzing`)."""
        import sys

        from .fuzzing import after_run  # replay and shrink a violation, at run end only

        self.failure = after_run(self, result, echo=lambda s: print(s, file=sys.stderr))
