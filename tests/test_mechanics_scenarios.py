"""Market-mechanics scenarios (``market_crash``, ``liquidation_cascade``, ``perp_btc``,
``lp_competition``), their agents and price paths, and the mechanics plot.

Each scenario is driven like the runner does (:class:`AgentScheduler`, seeded agent
streams, KPIs after each block, then the events drained) with invariant checks at
every block end, and checked on the numbers its mechanism produces.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from defisim import Simulation
from defisim.agents import (
    LeveragedTrader,
    LiquidityProvider,
    OracleAgent,
    ReferencePriceFeed,
    max_leverage_size,
)
from defisim.chain import Transfer
from defisim.prices import PricePath, crash_path, jump_diffusion_path, regime_path
from defisim.protocols.futures.accounts import NETWORK_PARTY
from defisim.protocols.futures.liquidity import marginal_cost_fee
from defisim.runner import AgentScheduler, run_scenario, step_ns_of
from defisim.scenarios import get_scenario
from defisim.scenarios.liquidation_cascade import LiquidationCascade, LiquidationCascadeParams
from defisim.scenarios.lp_competition import LpCompetition
from defisim.scenarios.market_crash import MarketCrash
from defisim.scenarios.perp_btc import PerpBtc, PerpBtcParams

BTC_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crypto" / "BTCUSDT_1h.csv"

KEPT = {
    "AuctionStarted",
    "AuctionEnded",
    "AuctionExtended",
    "MarketStateChanged",
    "PositionClosedOut",
    "LossSocialised",
    "FundingPeriodEnded",
    "LiquidityEpochEnded",
    "TradeExecuted",
}


class Run:
    """What :func:`drive` saw: the simulation, KPIs per step, kept events with their
    step, positions at the steps with a funding period, funding transfers."""

    def __init__(self, sim, scenario) -> None:
        self.sim = sim
        self.scenario = scenario
        self.kpis: list[dict] = []
        self.events: dict[str, list] = defaultdict(list)
        self.positions_at: dict[int, dict] = {}
        self.lp_at_epoch: list[tuple] = []
        self.funding_transfers: list[tuple] = []  # (step, transfer)


def drive(scenario, seed: int = 1) -> Run:
    """The runner's loop (``defisim.runner.loop``) without recording; invariants on."""
    sim = Simulation(seed)  # check_invariants=True: every block end
    agents = scenario.build(sim)
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
    for a in agents:
        a.initialise(sim)
    sched = AgentScheduler(agents, sim.rng("runner:agent_order"))
    step_ns = step_ns_of(scenario.params.step_seconds)
    run = Run(sim, scenario)
    now = 0
    m = scenario.market_id
    for step in range(scenario.total_steps() + 1):
        final = step == scenario.total_steps()
        if final:
            scenario.finish(sim)
            for a in agents:
                a.finalise(sim)
        else:
            for i in sched.due(now):
                agents[i].step(sim)
                sched.after_step(i, agents[i].next_wakeup(now / 1e9), now)
        sim.end_block()
        run.kpis.append(scenario.kpis(sim))
        events = sim.drain_events()
        for e in events:
            name = type(e).__name__
            if name in KEPT:
                run.events[name].append((step, e))
            elif type(e) is Transfer and e.kind in ("funding_win", "funding_loss"):
                run.funding_transfers.append((step, e))
        names = {type(e).__name__ for e in events}
        if "FundingPeriodEnded" in names and not final:
            run.positions_at[step] = sim.futures.positions(m, raw=True)
        if "LiquidityEpochEnded" in names and not final:
            run.lp_at_epoch.append((step, sim.futures.liquidity_provisions(m)))
        if not final:
            now += step_ns
            sim.begin_block(now)
    return run


def assert_conserved(sim) -> None:
    assert sim.chain.invariant_errors() == []
    led = sim.chain.ledger
    assert sum(b for _, b in led.accounts()) == led.supply["USDT"]


# --------------------------------------------------------------------- registry
def test_registered_with_typed_defaults():
    from defisim.cli import build_scenario

    expect = {
        "market_crash": (1440, 30.0),
        "liquidation_cascade": (1440, 30.0),
        "perp_btc": (2000, 3600.0),
        "lp_competition": (1440, 60.0),
    }
    for name, (steps, dt) in expect.items():
        cls = get_scenario(name)
        sc = cls()
        assert sc.total_steps() == steps and sc.step_seconds == dt, name
        assert sc.markets == [sc.market_id]
        assert steps * dt <= 2000 * 3600  # default runs are short (well under a minute)
    sc = build_scenario(
        "market_crash",
        ["crash_return=-0.2", "price_monitoring_triggers=[[60, 0.999, 30]]"],
        {"--steps": 100},
    )
    assert sc.params.crash_return == -0.2 and sc.total_steps() == 100
    assert sc.params.price_monitoring_triggers == [(60, 0.999, 30)]
    with pytest.raises(ValueError):
        get_scenario("market_crash").Params(crash_return=-1.5)


# ------------------------------------------------------------------ price paths
def test_crash_path_without_noise_is_exact():
    p = crash_path(
        101,
        60.0,
        100.0,
        0.0,
        0.0,
        np.random.default_rng(0),
        crash_step=40,
        crash_steps=10,
        crash_return=-0.3,
        rebound=0.1,
        rebound_steps=5,
    )
    assert p.prices[0] == 100.0 and len(p) == 101
    assert np.allclose(p.prices[:41], 100.0)
    assert p.prices[50] == pytest.approx(70.0, rel=1e-12)  # -30 % over steps [40, 50)
    assert p.prices[45] == pytest.approx(100.0 * 0.7**0.5, rel=1e-12)  # even in log price
    assert p.prices[55] == pytest.approx(77.0, rel=1e-12)  # +10 % rebound
    assert np.allclose(p.prices[55:], 77.0)
    assert p.times_s[-1] == 6000.0
    with pytest.raises(ValueError, match="crash_step"):
        crash_path(10, 1.0, 1.0, 0.0, 0.1, np.random.default_rng(0), crash_step=9)


def test_regime_path_drifts_by_regime():
    year = 365 * 86400
    # sigma 0: log price moves by mu * dt exactly; 10 steps of 0.1 year each
    p = regime_path(0.1 * year, 50.0, [(10, 0.2, 0.0), (5, -0.4, 0.0)], np.random.default_rng(3))
    assert len(p) == 16
    assert p.prices[10] == pytest.approx(50.0 * math.exp(0.2), rel=1e-12)
    assert p.prices[15] == pytest.approx(50.0 * math.exp(0.2 - 0.2), rel=1e-12)
    a = regime_path(60.0, 1.0, [(500, 0.0, 0.8)], np.random.default_rng(5))
    b = regime_path(60.0, 1.0, [(500, 0.0, 0.8)], np.random.default_rng(5))
    assert np.array_equal(a.prices, b.prices)
    # realised volatility of the log steps matches sigma (500 steps: within 10 %)
    r = np.diff(np.log(a.prices))
    assert np.std(r) / math.sqrt(60.0 / year) == pytest.approx(0.8, rel=0.1)
    with pytest.raises(ValueError, match="regime 0"):
        regime_path(60.0, 1.0, [(0, 0.0, 0.1)], np.random.default_rng(0))


def test_jump_diffusion_is_compensated():
    # E[S_T] = s0 exp(mu T): 2,000 paths of one year with 4 jumps of about -10 % a year
    rng = np.random.default_rng(11)
    ends = [
        jump_diffusion_path(
            13,
            365 * 86400 / 12,
            100.0,
            0.05,
            0.3,
            rng,
            jump_rate=4.0,
            jump_mean=-0.1,
            jump_std=0.05,
        ).prices[-1]
        for _ in range(2000)
    ]
    assert np.mean(ends) == pytest.approx(100.0 * math.exp(0.05), rel=0.03)
    # with jumps only (sigma 0, mu 0, no jumps drawn) the path is flat
    flat = jump_diffusion_path(50, 60.0, 10.0, 0.0, 0.0, rng, jump_rate=0.0)
    assert np.allclose(flat.prices, 10.0)


# ----------------------------------------------------------------------- agents
def _simple_market(**extra) -> Simulation:
    sim = Simulation(seed=3)
    sim.create_asset("USD", 2)
    sim.futures.create_market(
        market_id="M",
        asset="USD",
        opening_auction_duration_s=0,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        linear_slippage_factor=0.1,
        fees={"maker": 0, "infrastructure": 0, "liquidity": 0},
        mark_price_frequency_s=0,
        **extra,
    )
    return sim


def _flat_feed(price: float, n: int = 100, dt: float = 1.0) -> ReferencePriceFeed:
    return ReferencePriceFeed("ref", PricePath(np.arange(n) * dt, np.full(n, price)))


def test_max_leverage_size_and_degen_position():
    sim = _simple_market()
    # per contract at 100: 100 x (0.1 slippage + 0.1 RF) x 1.2 initial = 24
    assert max_leverage_size(sim, "M", 1, 1200.0, 100.0) == pytest.approx(50.0)
    assert max_leverage_size(sim, "M", -1, 0.0, 100.0) == 0.0
    for p in ("mm", "o1", "o2"):
        sim.create_party(p)
        sim.mint(p, "USD", 1_000_000)
    sim.futures.submit_order("o1", "M", "buy", 1, 100)
    sim.futures.submit_order("o2", "M", "sell", 1, 100)
    sim.forward_time(1)
    sim.futures.submit_order("mm", "M", "sell", 100, 100)
    sim.futures.submit_order("mm", "M", "buy", 100, 99)
    degen = LeveragedTrader(
        "degen",
        "M",
        _flat_feed(100.0),
        asset="USD",
        collateral=1200,
        leverage_fraction=0.5,
        max_order_size=10,
        max_slippage_bps=0,
    )
    degen.rng = sim.rng("agent:degen")
    degen.initialise(sim)
    for _ in range(5):
        degen.step(sim)
        sim.forward_time(1)
    # 0.5 x 50 = 25 contracts, bought 10 + 10 + 5 at 100
    assert sim.futures.position("degen", "M") == 25 and degen.state == "holding"
    assert degen.entries == 1 and degen.entry_price == 100.0 and degen.entry_size == 25
    # a trade at 70: equity 1200 - 25 x 30 = 450 >= maintenance 25 x 70 x 0.2 = 350, held
    sim.futures.cancel_all("mm", "M")
    sim.futures.submit_order("mm", "M", "buy", 1, 70)
    sim.futures.submit_order("o1", "M", "sell", 1, 70)
    sim.forward_time(1)
    assert sim.futures.position("degen", "M") == 25 and sim.futures.internal_market("M").closeouts == 0
    # at 60: equity 200 < maintenance 300: closed out, its 200 to the insurance pool
    sim.futures.submit_order("mm", "M", "buy", 1, 60)
    sim.futures.submit_order("o1", "M", "sell", 1, 60)
    sim.forward_time(1)
    assert sim.futures.position("degen", "M") == 0 and sim.futures.internal_market("M").closeouts == 1
    assert sim.futures.insurance_pool("M") == 200.0 and sim.equity("degen", "USD") == 0.0
    degen.step(sim)
    assert degen.closed_out == 1 and degen.state == "done"


def test_oracle_agent_publishes_the_reference_on_the_tick_grid():
    from defisim.protocols.futures import OraclePrice

    sim = _simple_market(tick_size=5, decimal_places=1)
    path = PricePath(np.array([0.0, 10.0, 20.0]), np.array([100.02, 101.27, 99.0]))
    oracle = OracleAgent("oracle", "M", ReferencePriceFeed("ref", path), interval_s=10)
    oracle.rng = sim.rng("agent:oracle")
    sim.drain_events()
    for t in range(25):
        if oracle.next_wakeup(t) is None or t % 10 == 0:
            oracle.step(sim)
        sim.forward_time(1)
    got = [e.price for e in sim.drain_events() if isinstance(e, OraclePrice)]
    assert got == [1000, 1015, 990]  # 100.0, 101.5, 99.0 in ticks of 0.5
    assert oracle.published == 3 and sim.futures.internal_market("M").oracle_price == 990


def test_liquidity_provider_meets_or_misses_its_obligation():
    lp_params = {"epoch_s": 100, "stake_to_volume": 1.0, "price_range": 0.05}
    for coverage, range_position, meets in ((1.2, 0.5, True), (0.5, 0.5, False), (1.2, 2.0, False)):
        sim = _simple_market(liquidity=lp_params, position_decimal_places=1)
        for p in ("o1", "o2"):
            sim.create_party(p)
            sim.mint(p, "USD", 1_000_000)
        lp = LiquidityProvider(
            "lp",
            "M",
            _flat_feed(100.0),
            asset="USD",
            collateral=50_000,
            commitment=1000,
            fee=0.001,
            coverage=coverage,
            range_position=range_position,
            inner_bps=10 * range_position,
            levels=2,
        )
        lp.rng = sim.rng("agent:lp")
        lp.initialise(sim)
        assert lp.submitted and lp.submitted.reason == "" and sim.balance("lp", "USD", "bond", "M") == 1000
        sim.futures.submit_order("o1", "M", "buy", 1, 100)
        sim.futures.submit_order("o2", "M", "sell", 1, 100)
        sim.forward_time(1)
        lp.step(sim)
        sim.futures.submit_order("o1", "M", "buy", 1, 90)  # a mid at 100 besides the LP's own quotes
        sim.futures.submit_order("o2", "M", "sell", 1, 110)
        sim.forward_time(1)
        eng = sim.futures.internal_market("M").liquidity
        assert eng.meets_obligation("lp") is meets, (coverage, range_position)
        quotes = sim.futures.open_orders("lp", "M")
        assert len(quotes) == 4 and all(o.time_in_force == "GTC" for o in quotes)
        # the notional per side is coverage x 1000
        buys = sum(o.remaining * 100 for o in quotes if o.side == "buy")
        assert buys == pytest.approx(coverage * 1000, rel=0.05)


# ----------------------------------------------------------------- market_crash
@pytest.fixture(scope="module")
def crash_run() -> Run:
    return drive(MarketCrash(), seed=1)


def test_market_crash_starts_auctions_and_returns_to_active(crash_run):
    run = crash_run
    p = run.scenario.params
    starts = [(s, e) for s, e in run.events["AuctionStarted"] if e.auction == "price_monitoring"]
    ends = [(s, e) for s, e in run.events["AuctionEnded"] if e.auction == "price_monitoring"]
    assert len(starts) >= 2 and len(ends) == len(starts)
    # the crash starts one (an occasional one before it comes from noise at the bounds)
    t = [e.time_ns / 1e9 for _, e in starts]
    assert any(p.crash_at_s <= x <= p.crash_at_s + p.crash_duration_s for x in t)
    assert sum(x < p.crash_at_s for x in t) <= 1
    for (_, a), (_, b) in zip(starts, ends, strict=True):
        assert b.time_ns - a.time_ns >= p.min_auction_duration_s * 1e9
        assert b.volume > 0  # each uncrossed (the auction agent crosses at the reference)
    states = [e.state for _, e in run.events["MarketStateChanged"]]
    assert states.count("SUSPENDED") == len(starts)
    # after the last auction the market is ACTIVE until it is settled
    assert states[-3:] == ["ACTIVE", "TRADING_TERMINATED", "SETTLED"]
    k = run.kpis[-2]  # the last step before settlement
    assert k["auctions"] == len(starts) and k["in_auction"] == 0.0
    spans = sum((b.time_ns - a.time_ns) / 1e9 for (_, a), (_, b) in zip(starts, ends, strict=True))
    assert k["time_in_auction_s"] == pytest.approx(spans)
    # the mark tracks the crashed reference (within 1 %) at the end
    assert abs(k["mark_price"] / k["reference_price"] - 1) < 0.01
    assert k["reference_drawdown"] < -0.2


def test_market_crash_closes_out_leveraged_longs_and_conserves_money(crash_run):
    run = crash_run
    p = run.scenario.params
    closeouts = run.events["PositionClosedOut"]
    assert all(e.party.startswith("degen_") for _, e in closeouts)
    longs = [e for _, e in closeouts if e.party.startswith("degen_long_")]
    # every long is closed out, most of them in the crash (the most leveraged longs and
    # shorts, at about 20x, may go before on noise)
    assert len(longs) == p.degen_count and all(e.size > 0 for e in longs)
    in_crash = [e for e in longs if e.time_ns / 1e9 >= p.crash_at_s]
    assert len(in_crash) >= p.degen_count - 2
    k = run.kpis[-2]
    assert k["closeouts"] == len(closeouts) == k["degens_closed_out"]
    # the network party took them and disposed of them with NETWORK trades
    net = [e for _, e in run.events["TradeExecuted"] if e.trade_type == "NETWORK"]
    assert net and all(NETWORK_PARTY in (e.buyer, e.seller) for e in net)
    sold = sum(e.size for e in net if e.seller == NETWORK_PARTY)
    assert sold == sum(e.size for e in longs)
    assert k["network_position"] == 0.0
    assert max(r["open_interest"] for r in run.kpis) > 3.0  # BTC
    assert_conserved(run.sim)
    assert run.sim.futures.market_state(run.scenario.market_id) == "SETTLED"


# ---------------------------------------------------------- liquidation_cascade
@pytest.fixture(scope="module")
def cascade_run() -> Run:
    return drive(LiquidationCascade(), seed=1)


def test_liquidation_cascade_closes_out_in_sequence(cascade_run):
    run = cascade_run
    p: LiquidationCascadeParams = run.scenario.params
    closeouts = run.events["PositionClosedOut"]
    assert len(closeouts) > 1
    assert len(closeouts) == p.degen_count  # every long went (-25 %)
    steps = sorted({s for s, _ in closeouts})
    assert len(steps) >= 5  # one after another as the price falls, not all at once
    # the most leveraged go first: closeout order follows leverage, descending
    order = [int(e.party.split("_")[1]) for _, e in sorted(closeouts, key=lambda x: x[0])]
    assert np.corrcoef(order, np.arange(len(order)))[0, 1] < -0.5
    prices = [e.price for _, e in sorted(closeouts, key=lambda x: x[0])]
    assert prices[0] > prices[-1]
    net = [e for _, e in run.events["TradeExecuted"] if e.trade_type == "NETWORK"]
    assert len(net) > 10 and all(e.seller == NETWORK_PARTY for e in net)
    assert sum(e.size for e in net) == sum(e.size for _, e in closeouts)
    k = run.kpis[-2]
    assert k["disposal_trades"] == len(net)
    assert k["closeout_volume"] == pytest.approx(k["disposal_volume"])


def test_liquidation_cascade_drains_the_pool_then_socialises(cascade_run):
    run = cascade_run
    pool = np.array([k["insurance_pool"] for k in run.kpis[:-1]])
    peak = int(pool.argmax())
    assert pool[peak] > 1000.0  # USDT of closed-out margin
    assert pool[peak:].min() < 1.0  # drained by the network's losses
    soc = run.events["LossSocialised"]
    assert soc and all(e.amount > 0 and e.party != NETWORK_PARTY for _, e in soc)
    first = min(s for s, _ in soc)
    assert first > peak and pool[first - 1] < pool[peak] / 2
    total = sum(e.amount for _, e in soc) / 1e6
    assert run.kpis[-2]["socialised_loss"] == pytest.approx(total)
    assert total > 1000.0
    assert_conserved(run.sim)


# ---------------------------------------------------------------------- perp_btc
def _check_funding(run: Run) -> list:
    sim = run.sim
    m = run.scenario.market_id
    f = 10 ** sim.futures.internal_market(m).config.decimal_places
    funding = [(s, e) for s, e in run.events["FundingPeriodEnded"] if not e.skipped]
    assert len(funding) >= 10
    paid = [(s, e) for s, e in funding if e.funding_payment]
    assert len(paid) >= 0.9 * len(funding)
    for _, e in funding:  # r = 0: payment = internal TWAP - external TWAP (per contract)
        assert e.funding_payment == e.internal_twap - e.external_twap
        assert np.sign(e.funding_payment) == np.sign(e.internal_twap - e.external_twap)
    by_step = defaultdict(list)
    for s, t in run.funding_transfers:
        by_step[s].append(t)
    for s, e in paid:
        if s not in run.positions_at:
            continue  # the last period, paid at settlement
        pos = run.positions_at[s]
        for t in by_step[s]:
            party = t.destination[1] if t.kind == "funding_win" else t.source[1]
            v = pos.get(party, 0)
            # > 0: longs pay shorts; winners hold the side that receives
            if t.kind == "funding_win":
                assert v * e.funding_payment < 0, (s, party, v, e.funding_payment)
            else:
                assert v * e.funding_payment > 0, (s, party, v, e.funding_payment)
    k = [r for r in run.kpis if r["funding_periods"] == len(run.events["FundingPeriodEnded"])]
    assert k[0]["funding_payment"] == pytest.approx(funding[-1][1].funding_payment / f)
    return funding


def test_perp_btc_pays_funding_with_the_sign_of_the_basis():
    run = drive(PerpBtc(PerpBtcParams(steps=400)), seed=2)
    funding = _check_funding(run)
    assert len(funding) == 50  # 400 hours / 8
    pays = np.array([e.funding_payment for _, e in funding])
    # buying takers push the mark above the oracle: mostly longs pay shorts
    assert (pays > 0).sum() > (pays < 0).sum() > 0
    assert run.scenario.oracle.published >= 400
    # the last period is paid at settlement (the final record)
    assert run.kpis[-1]["funding_cumulative"] == pytest.approx(pays.sum() / 100)
    assert run.kpis[-2]["funding_cumulative"] == pytest.approx(pays[:-1].sum() / 100)
    assert np.nanmax(np.abs([k["basis_bps"] for k in run.kpis[1:-1]])) < 200
    assert_conserved(run.sim)


@pytest.mark.data
def test_perp_btc_on_the_binance_file():
    run = drive(PerpBtc(PerpBtcParams(prices_file=str(BTC_FILE), steps=160)), seed=1)
    funding = _check_funding(run)
    assert len(funding) == 20
    ref = run.scenario.feed.path.prices
    assert run.kpis[5]["oracle_price"] == pytest.approx(ref[5], abs=0.01)
    assert_conserved(run.sim)


# ---------------------------------------------------------------- lp_competition
@pytest.fixture(scope="module")
def lp_run() -> Run:
    return drive(LpCompetition(), seed=1)


def test_lp_competition_pays_performers_and_slashes_the_others(lp_run):
    run = lp_run
    k = run.kpis[-2]  # before settlement
    epochs = run.events["LiquidityEpochEnded"]
    assert len(epochs) == 5 and k["lp_epochs"] == 5  # epochs of 4 h in 24 h
    assert k["lp_good.fees"] > 100.0 and k["lp_cheap.fees"] > 50.0  # USDT
    assert k["lp_good.slashed"] == 0 and k["lp_cheap.slashed"] == 0
    assert k["lp_good.bond"] == 20_000 and k["lp_cheap.bond"] == 8_000
    for bad in ("lp_thin", "lp_wide"):
        assert k[f"{bad}.fees"] == 0.0
        # t = 0 < 0.9: slash min(0.1, 0.5 x (1 - 0)) = 10 % of the bond each epoch
        assert k[f"{bad}.bond"] == pytest.approx(20_000 * 0.9**5, abs=0.01)
        assert k[f"{bad}.slashed"] == pytest.approx(20_000 * (1 - 0.9**5), abs=0.01)
    # equity-like shares 20,000 : 8,000 and similar scores: 2.5 times the fees
    assert k["lp_good.fees"] / k["lp_cheap.fees"] == pytest.approx(2.5, rel=0.2)
    assert k["lp_fees_paid"] == pytest.approx(
        sum(k[f"{n}.fees"] for n in ("lp_good", "lp_thin", "lp_wide", "lp_cheap")), abs=1e-6
    )
    assert k["insurance_pool"] == pytest.approx(2 * k["lp_thin.slashed"], abs=0.01)
    assert_conserved(run.sim)


def test_lp_competition_fee_factor_by_marginal_cost(lp_run):
    run = lp_run
    epochs = run.events["LiquidityEpochEnded"]
    factors = set()
    for (step, e), (step2, provs) in zip(epochs, run.lp_at_epoch, strict=True):
        assert step == step2
        bids = [(round(v["commitment"] * 1e6), round(v["fee"] * 1e18)) for v in provs.values()]
        assert e.fee_factor == marginal_cost_fee(bids, e.target_stake)
        assert e.supplied_stake == sum(b for b, _ in bids)
        factors.add(e.fee_factor / 1e18)
    # the target stake grows with open interest past the cheapest LP's 8,000 USDT:
    # the fee moves from its 0.05 % to the next bid (lp_thin's 0.1 %)
    assert factors == {0.0005, 0.001}
    tgt = [r["target_stake"] for r in run.kpis[:-1]]
    assert tgt[60] < 8_000 < max(tgt)


# ---------------------------------------------------------------------- plots
@pytest.mark.slow
def test_mechanics_plot_is_drawn_only_with_mechanics(tmp_path):
    from defisim.runner.plots import run_figures

    sc = MarketCrash(MarketCrash.Params(steps=800))
    res = run_scenario(sc, seed=1, out_dir=tmp_path / "crash", progress=False, plots=True)
    assert res.error is None and res.plot_error is None
    # auctions and closeouts are on the price panel, the pool and socialised losses
    # with the margins: no stake or funding, so no mechanics.png
    assert "mechanics.png" not in res.plots
    figs = run_figures(tmp_path / "crash")
    labels = [t.get_text() for t in figs["prices.png"].axes[0].get_legend().get_texts()]
    assert any(x.startswith("price-monitoring auction (") for x in labels)
    assert any(x.startswith("closeout (") for x in labels)
    titles = [ax.get_title() for ax in figs["margins_insurance.png"].axes]
    assert any("losses socialised" in t for t in titles)
    sc = get_scenario("lp_competition")(get_scenario("lp_competition").Params(steps=30))
    res = run_scenario(sc, seed=1, out_dir=tmp_path / "lp", progress=False, plots=True)
    assert res.plot_error is None and "mechanics.png" in res.plots
    sc = get_scenario("btc_futures")(get_scenario("btc_futures").Params(steps=20))
    res = run_scenario(sc, seed=1, out_dir=tmp_path / "btc", progress=False, plots=True)
    assert res.plot_error is None and "prices.png" in res.plots
    assert "mechanics.png" not in res.plots


def test_merge_spans():
    from defisim.runner.plots import _merge_spans

    assert _merge_spans([(5, 6), (0, 1), (1.5, 2)], 0.6) == [(0, 2), (5, 6)]
    assert _merge_spans([], 1.0) == []
