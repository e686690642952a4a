"""The one runner, :class:`defisim.runner.Run`: hooks, sinks, agent views, skipping
idle time to the next wake-up or protocol deadline."""

from __future__ import annotations

import math

import pytest

from defisim.agents.base import Agent
from defisim.runner import MemorySink, Run, run_scenario
from defisim.scenarios import get_scenario
from defisim.scenarios.base import Scenario, ScenarioParams


class Sleeper(Agent):
    """Trades one unit against a resting counterparty every ``every_s`` seconds."""

    def __init__(self, name: str, every_s: float, side: str) -> None:
        super().__init__(name)
        self.every_s = every_s
        self.side = side
        self.woken: list[float] = []

    def initialise(self, sim):
        sim.create_party(self.name)
        sim.mint(self.name, "USD", 1_000_000)

    def step(self, sim):
        self.woken.append(sim.now)
        if sim.futures.market_state("M") == "PENDING":
            sim.futures.submit_order(self.name, "M", self.side, 1, 100.0, time_in_force="GFA")
            return
        price = 100.0 + (0.5 if self.side == "buy" else -0.5)
        sim.futures.submit_order(self.name, "M", self.side, 1, price, time_in_force="GTT",
                                 expires_at=sim.now + 7.5)

    def next_wakeup(self, now):
        return now + self.every_s


class SleepyParams(ScenarioParams):
    steps: int | None = 600
    step_seconds: float = 1.0


class Sleepy(Scenario):
    """Two agents that wake every 50 s on a 1-s grid; marks every 30 s."""

    name = "sleepy_test"
    Params = SleepyParams

    def build(self, sim):
        sim.create_asset("USD", 2)
        sim.futures.create_market(
            market_id="M", asset="USD", decimal_places=1, opening_auction_duration_s=10,
            mark_price_frequency_s=30.0,
            risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1})
        self.buyer, self.seller = Sleeper("b", 50, "buy"), Sleeper("s", 50, "sell")
        return [self.buyer, self.seller]

    def kpis(self, sim):
        return {"mark": sim.futures.mark_price("M") or math.nan,
                "b_position": sim.futures.position("b", "M")}


def _trades(events):
    return [(e.time_ns, e.price, e.size, e.buyer, e.seller) for e in events
            if type(e).__name__ == "TradeExecuted"]


def _run_collect(skip_idle: bool):
    scn = Sleepy()
    run = Run(scn, seed=3, skip_idle=skip_idle)
    events: list = []
    steps: list[int] = []

    def hook(r, step, kpis):
        steps.append(step)
        events.extend(r.sim.drain_events())

    run.hooks.append(hook)
    run.run()
    return run, scn, events, steps


def test_a_hook_sees_every_step_and_the_final_record():
    run, _, _, steps = _run_collect(skip_idle=False)
    assert steps == list(range(600)) + [600]
    assert run.blocks_closed == 601 and run.step == 600


def test_skip_idle_closes_only_the_blocks_where_something_is_due_and_trades_the_same():
    grid, g_scn, g_events, _ = _run_collect(skip_idle=False)
    skip, s_scn, s_events, s_steps = _run_collect(skip_idle=True)
    # the agents wake at the same times and trade the same trades at the same times
    assert s_scn.buyer.woken == g_scn.buyer.woken
    assert _trades(s_events) == _trades(g_events) and len(_trades(g_events)) >= 10
    # blocks only at: the first step, the opening auction's end (10 s), marks every 30 s
    # from it, the agents' wake-ups every 50 s and their GTT orders' expiries 7.5 s
    # later (on the next 1-s step): 40 blocks instead of 601
    assert s_steps[:10] == [0, 10, 40, 50, 58, 70, 100, 108, 130, 150]
    assert skip.blocks_closed == 40
    # the same mark-to-market outcome at the end
    assert skip.sim.futures.mark_price("M") == grid.sim.futures.mark_price("M")
    assert skip.sim.pnl("b", "USD") == grid.sim.pnl("b", "USD")


def test_skip_idle_keeps_every_step_while_an_agent_wakes_every_step():
    scn = get_scenario("btc_futures")(get_scenario("btc_futures").Params(steps=30))
    run = Run(scn, seed=1, skip_idle=True)
    run.run()
    assert run.blocks_closed == 31


def test_memory_sink_keeps_every_steps_kpis():
    scn = Sleepy(SleepyParams(steps=100))
    run = Run(scn, seed=3)
    sink = MemorySink()
    run.sinks.append(sink)
    run.run()
    positions = [(s, v) for s, k, v in sink.rows if k == "b_position"]
    assert [s for s, _ in positions] == list(range(101))
    assert sink.last["b_position"] == positions[-1][1] == run.sim.futures.position("b", "M")


def test_agents_act_through_the_agent_view():
    seen = []

    class View:
        def __init__(self, sim):
            self._sim = sim

        def __getattr__(self, name):
            seen.append(name)
            return getattr(self._sim, name)

    scn = Sleepy(SleepyParams(steps=60))
    run = Run(scn, seed=3, agent_view=View)
    run.run()
    assert "futures" in seen and "create_party" in seen
    assert run.agent_sim is not run.sim


def test_run_scenario_hooks_and_the_result_agree():
    rows = []
    res = run_scenario(Sleepy(SleepyParams(steps=80)), seed=3, record=False, progress=False,
                       hooks=[lambda run, step, kpis: rows.append((step, kpis["b_position"]))])
    assert [s for s, _ in rows] == list(range(81))
    assert res.kpis["b_position"] == rows[-1][1]


def test_a_bad_step_length_is_a_setup_error_before_anything_runs():
    with pytest.raises(ValueError, match="step_seconds"):
        Run(Sleepy(SleepyParams(step_seconds=0.0)), seed=1)
