"""Agents see only the Simulation interface (DESIGN.md, "Agents see views"): the same
agents, run once against the service and once against a second implementation of its
interface that serialises every call and result to JSON and back
(:class:`~defisim.service.loopback.JsonLoopbackSimulation`), give identical runs: the
same events, bit for bit, and the same KPIs at every step.

Only the agents' ``initialise`` / ``step`` / ``finalise`` get the loopback (the
runner's ``agent_view``); the scenario's ``build``, ``kpis`` and ``finish`` and the
runner get the real simulation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pytest

from defisim.agents import (
    Agent,
    BackgroundMarket,
    HedgedMarketMaker,
    MomentumTrader,
    NoisyInformedTrader,
    RecorderAgent,
    ReferencePriceFeed,
    Regime,
    SymmetricMarketMaker,
    ValueTrader,
    ZeroIntelligenceTrader,
)
from defisim.protocols.futures import OrderResult, OrderStatus, TradeExecuted
from defisim.runner import Run
from defisim.scenarios import get_scenario
from defisim.scenarios.base import Scenario, ScenarioParams
from defisim.service import FuturesFacade, MarketView, wire
from defisim.service.loopback import NOT_ON_WIRE, JsonLoopbackSimulation, ServiceEndpoint

from helpers import make_market


# ------------------------------------------------------- a zoo of the other agents
class InterfaceZoo(Scenario):
    """The zoo agents no registered scenario uses, on two markets (BTC and a hedge
    market BTC2 with its own regime-switching book), plus recorders that keep the views
    they read (so the test compares what the agents saw, too)."""

    name = "interface_zoo"

    def build(self, sim):
        sim.create_asset("USDT", 6)
        for m in ("BTC", "BTC2"):
            sim.futures.create_market(
                market_id=m, asset="USDT", decimal_places=2, position_decimal_places=3,
                risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
                opening_auction_duration_s=0.0, mark_price_frequency_s=0)
        for p in ("open_b", "open_s"):
            sim.create_party(p)
            sim.mint(p, "USDT", 1e8)
        for m in ("BTC", "BTC2"):
            sim.futures.submit_order("open_b", m, "buy", 0.001, 30_000.0)
            sim.futures.submit_order("open_s", m, "sell", 0.001, 30_000.0)
        dt = self.params.step_seconds
        feed = ReferencePriceFeed.from_gbm("ref", self.params.steps + 2, dt, 30_000.0, 0.0, 0.8,
                                           sim.rng("zoo:path"))
        self.recorders = [
            RecorderAgent("rec_views", lambda s: (s.futures.market_view("BTC"),
                                                  s.futures.open_orders(market="BTC2")), every_s=300),
            RecorderAgent("rec_positions", lambda s: (s.futures.positions("BTC"),
                                                      s.futures.margin_levels("hmm", "BTC"))),
        ]
        return [
            feed,
            SymmetricMarketMaker("mm", "BTC", feed, order_size=0.5),
            BackgroundMarket("bg", "BTC2", s0=30_000.0,
                             regimes=[Regime(0.0, 1e-4, 1.0), Regime(0.0, 1e-3, 3.0)],
                             transition=[[0.95, 0.05], [0.1, 0.9]], total_size=4.0, levels=3,
                             first_bps=10, spacing_bps=10, scale_bps=10),
            HedgedMarketMaker("hmm", "BTC", feed, "BTC2", half_spread_bps=15, order_size=0.2),
            ZeroIntelligenceTrader("zi", "BTC", feed, rate_per_s=0.02, mean_size=0.02),
            ValueTrader("vt", "BTC", feed, noise_bps=30, trade_size=0.05),
            NoisyInformedTrader("nit", "BTC", feed, accuracy=0.7),
            MomentumTrader("macd", "BTC", feed, indicator="macd", price_source="reference",
                           trade_size=0.05),
            MomentumTrader("rsi", "BTC2", None, indicator="rsi", period=5, trade_size=0.05),
            *self.recorders,
        ]

    def kpis(self, sim):
        v = sim.futures.market_view("BTC")
        return {"mark": v.mark_price or float("nan"), "trades": v.trades,
                "trades2": sim.futures.trade_count("BTC2"), "oi": v.open_interest}


def zoo() -> Scenario:
    return InterfaceZoo(ScenarioParams(steps=400, step_seconds=60.0))


def registered(name: str, **params):
    def make() -> Scenario:
        cls = get_scenario(name)
        return cls(cls.Params(**params))
    return make


SCENARIOS = [
    pytest.param(registered("btc_futures", steps=80), id="btc_futures"),
    # the crash starts at 6 h: 7 h of 30 s steps include it, the auctions and closeouts
    pytest.param(registered("market_crash", steps=840), id="market_crash", marks=pytest.mark.slow),
    pytest.param(registered("rmsc04", steps=300), id="rmsc04"),
    # wild and extreme transactions: documented exceptions cross the wire too
    pytest.param(registered("fuzz", steps=150, wild_prob=0.2, extreme_prob=0.2), id="fuzz"),
    pytest.param(registered("fuzz", steps=150, execution="mempool", ordering="priority"),
                 id="fuzz-mempool"),
    # two liquidity epochs (4 h each) of the default 24 h
    pytest.param(registered("lp_competition", steps=600), id="lp_competition",
                 marks=pytest.mark.slow),
    pytest.param(zoo, id="zoo"),
    # AMM pools: arbitrageurs, passive and re-centring LPs through sim.amm
    pytest.param(registered("amm_arbitrage", steps=300, active_lp=True), id="amm_arbitrage"),
]


# ------------------------------------------------------------------------ runs
@dataclass
class Trace:
    scenario: Scenario
    run: Run
    events: list[str] = field(default_factory=list)
    kpis: list[tuple[int, str]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for e in self.events:
            h.update(e.encode())
            h.update(b"\n")
        return h.hexdigest()


def trace(make, seed: int, loopback: bool) -> Trace:
    """One run of the scenario (the runner's :class:`Run`), every event's ``repr`` and
    every step's KPIs recorded; the agents act on the real simulation or the loopback."""
    sc = make()
    run = Run(sc, seed, agent_view=JsonLoopbackSimulation if loopback else None)
    t = Trace(sc, run)

    def hook(run: Run, step: int, kpis) -> None:
        t.events.extend(repr(e) for e in run.sim.drain_events())
        t.kpis.append((step, repr(kpis)))

    run.hooks.append(hook)
    run.run()
    return t


def first_difference(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at {i}:\n  direct:   {x}\n  loopback: {y}"
    return f"lengths differ: {len(a)} vs {len(b)}"


@pytest.mark.parametrize("make", SCENARIOS)
def test_agents_run_identically_through_the_json_loopback(make):
    direct = trace(make, seed=11, loopback=False)
    wired = trace(make, seed=11, loopback=True)
    loop = wired.run.agent_sim
    assert isinstance(loop, JsonLoopbackSimulation) and direct.run.agent_sim is direct.run.sim

    assert len(direct.events) > 1000
    assert direct.digest == wired.digest, first_difference(direct.events, wired.events)
    assert direct.kpis == wired.kpis, first_difference(direct.kpis, wired.kpis)
    assert wire.same(direct.run.sim.accounts(), wired.run.sim.accounts())

    # the loopback carried the agents' calls, and only calls of the interface
    orders = loop.calls["futures.submit_order"] + loop.calls["futures.submit_order_raw"]
    if direct.scenario.name.startswith("amm_"):
        orders = loop.calls["amm.swap"]
    assert orders > 0 and sum(loop.calls.values()) > 2 * orders
    assert loop.bytes_sent > 0 and loop.bytes_received > 0
    assert not any(name.split(".")[-1] in NOT_ON_WIRE for name in loop.calls)

    sc_a, sc_b = direct.scenario, wired.scenario
    if isinstance(sc_a, InterfaceZoo):  # what the agents read, compared value for value
        for ra, rb in zip(sc_a.recorders, sc_b.recorders, strict=True):
            assert ra.records and wire.same(ra.records, rb.records)
        assert all(type(v[0]) is MarketView for _, v in sc_b.recorders[0].records)
    if sc_a.name == "fuzz":  # the transaction log's outcomes, exceptions included
        assert sc_a.ctx.log.outcomes == sc_b.ctx.log.outcomes
        assert sc_a.ctx.log.summary() == sc_b.ctx.log.summary()
        if sc_a.params.wild_prob > 0:
            assert sum(loop.errors.values()) > 0  # raised by the service, re-raised here


# ------------------------------------------------------------- the loopback itself
@pytest.fixture
def pair():
    sim = make_market(parties=("a", "b", "c"), funds=100_000, open_price=100, asset_decimals=2)
    return sim, JsonLoopbackSimulation(sim)


def test_loopback_mirrors_the_interface_with_copies(pair):
    sim, loop = pair
    assert (loop.now, loop.now_ns, loop.block, loop.parties) == (sim.now, sim.now_ns, sim.block,
                                                                   sim.parties)
    assert loop.futures.markets == sim.futures.markets == ["M"]
    assert loop.futures.market_view("M") == sim.futures.market_view("M")
    assert loop.futures.units("M") == sim.futures.units("M")
    assert loop.futures.units("M") is not sim.futures.units("M")  # a copy, not the live one
    loop.futures.submit_order("a", "M", "sell", 2, 101)
    r = loop.futures.submit_order("b", "M", "buy", 3, 101)
    assert type(r) is OrderResult and r.status is OrderStatus.ACTIVE and r.filled_size == 2
    assert [type(t) for t in r.trades] == [TradeExecuted] and r.trades[0].seller == "a"
    assert loop.futures.open_orders("b") == sim.futures.open_orders("b")
    assert loop.futures.position("b", "M") == sim.futures.position("b", "M") == 2
    assert loop.calls["futures.submit_order"] == 2 and loop.calls["now"] == 1
    assert {"futures", "now", "mint", "rng", "calls"} <= set(dir(loop))
    assert "submit_order" in dir(loop.futures) and "internal_market" not in dir(loop.futures)


@pytest.mark.parametrize("reach, why", [
    (lambda lp: lp.chain, "the chain is the simulation's internal state"),
    (lambda lp: lp.futures.internal_market, "the live market engine"),
    (lambda lp: lp.event_cursor, "a cursor is a live object"),
    (lambda lp: lp.snapshot, "a whole live Simulation"),
    (lambda lp: lp._facades, "private names are not part of the interface"),
    (lambda lp: lp._owned_keys, "private names"),
    (lambda lp: lp.futures.sim, "futures.sim is not part of the Simulation interface"),
    (lambda lp: lp.futures.protocol, "futures.protocol is not part"),
    (lambda lp: lp.futures.chain, "futures.chain is not part"),
    (lambda lp: lp.futures._units, "private names"),
    (lambda lp: lp.governance, "governance is not part"),  # a protocol without a facade
    (lambda lp: lp.ledger, "ledger is not part of the Simulation interface agents may use"),
    (lambda lp: lp.sim, "sim is not part"),  # the loopback does not hand out the real one
])
def test_loopback_refuses_what_is_not_the_interface(pair, reach, why):
    _, loop = pair
    with pytest.raises(AttributeError, match=why):
        reach(loop)


def test_loopback_is_read_only(pair):
    _, loop = pair
    with pytest.raises(AttributeError, match="read-only"):
        loop.now = 5
    with pytest.raises(AttributeError, match="read-only"):
        loop.futures.submit_order = None


def test_exceptions_cross_the_wire_with_type_and_message(pair):
    sim, loop = pair
    for call in (lambda s: s.futures.market_view("NOPE"), lambda s: s.mint("ghost", "USD", 1),
                 lambda s: s.mint("a", "USD", float("nan")), lambda s: s.forward_time(-1)):
        with pytest.raises(Exception) as direct:
            call(sim)
        with pytest.raises(Exception) as wired:
            call(loop)
        assert type(wired.value) is type(direct.value) and str(wired.value) == str(direct.value)
    assert loop.errors == {"futures.market_view: KeyError": 1, "mint: ValueError": 2,
                           "forward_time: ValueError": 1}


def test_arguments_and_results_that_cannot_cross_fail_loudly(pair, monkeypatch):
    sim, loop = pair
    before = len(sim.recent_events(200))
    with pytest.raises(TypeError, match=r"futures.submit_order: an argument cannot cross the wire "
                                        r"\(wire: cannot encode a value of type builtins.object"):
        loop.futures.submit_order("a", "M", "buy", object(), 100)
    assert len(sim.recent_events(200)) == before  # refused before anything ran
    monkeypatch.setattr(FuturesFacade, "engine", lambda self, m: self.internal_market(m),
                        raising=False)
    wired = JsonLoopbackSimulation(sim)
    with pytest.raises(TypeError, match="futures.engine: its result cannot cross the wire .*FuturesMarket"):
        wired.futures.engine("M")


def test_new_service_methods_work_without_changes(pair, monkeypatch):
    sim, _ = pair
    monkeypatch.setattr(FuturesFacade, "spread", lambda self, m: self.best_prices(m), raising=False)
    monkeypatch.setattr(FuturesFacade, "market_count", property(lambda self: len(self.markets)),
                        raising=False)
    loop = JsonLoopbackSimulation(sim)
    assert loop.futures.spread("M") == sim.futures.best_prices("M")
    assert loop.futures.market_count == 1
    assert loop.calls["futures.spread"] == 1 and loop.calls["futures.market_count"] == 1


def test_rng_is_the_real_generator(pair):
    sim, loop = pair
    g = loop.rng("agent:x")
    assert isinstance(g, np.random.Generator)
    assert np.array_equal(g.random(4), sim.rng("agent:x").random(4))
    assert loop.calls["rng"] == 1


def request(endpoint: ServiceEndpoint, **req):
    req.setdefault("target", "")
    return wire.decode(endpoint.handle(wire.encode(req)))


def test_endpoint_refuses_forged_requests(pair):
    sim, _ = pair
    ep = ServiceEndpoint(sim)
    assert request(ep, op="call", name="balance", args=("a", "USD"))["ok"] == sim.balance("a", "USD")
    for req, why in [
        (dict(op="get", name="chain"), "chain is not part"),
        (dict(op="call", name="_owned_keys", args=("a", "USD")), "private names"),
        (dict(op="call", target="futures", name="internal_market", args=("M",)), "live market engine"),
        (dict(op="get", target="governance", name="pending"), "no protocol facade 'governance'"),
        (dict(op="get", name="balance"), "balance is a method, not a property"),
        (dict(op="call", name="now"), "now is a property, not a method"),
        (dict(op="get", target="futures", name="protocol"), "futures.protocol is not part"),
    ]:
        err = request(ep, **req)["error"]
        assert type(err) is AttributeError and why in str(err), (req, err)
    assert type(request(ep, op="exec", name="x")["error"]) is ValueError
    bad = ep.handle('{"$obj": "subprocess.Popen", "f": {}}')
    assert "not on the allow-list" in str(wire.decode(bad)["error"])


class ReachingAgent(Agent):
    """An agent that reads the live market engine instead of a view."""

    def step(self, sim) -> None:
        self.depth = len(sim.futures.internal_market("BTC").book.depth(1)[0])


class ReachingZoo(InterfaceZoo):
    def build(self, sim):
        return [*super().build(sim), ReachingAgent("reacher")]


def test_an_agent_reaching_past_the_interface_fails_loudly():
    make = lambda: ReachingZoo(ScenarioParams(steps=3, step_seconds=60.0))  # noqa: E731
    trace(make, seed=1, loopback=False)  # works on the real simulation ...
    with pytest.raises(AttributeError, match="futures.internal_market is not part of the "
                                             "Simulation interface agents may use"):
        trace(make, seed=1, loopback=True)  # ... and fails loudly behind the interface
