"""The runner: loop, scheduling, recording, interrupts, invariant violations, plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from defisim.agents.base import Agent
from defisim.chain import event_field_names
from defisim.protocols.futures import accounts as acct
from defisim.runner import (
    SCHEMAS,
    AgentScheduler,
    RunSetupError,
    plot_run,
    prepare_run_dir,
    run_scenario,
)
from defisim.scenarios.base import Scenario, ScenarioParams
from defisim.store import RunStore, open_store


# ----------------------------------------------------------------- test scenario
class Maker(Agent):
    """Quotes 3 levels each side around a random-walk mid, every step."""

    def __init__(self, name: str, market: str = "M") -> None:
        super().__init__(name)
        self.market = market
        self.mid = 100.0

    def initialise(self, sim):
        sim.create_party(self.name)
        sim.mint(self.name, "USD", 1_000_000)

    def step(self, sim):
        sim.futures.cancel_all(self.name, self.market)
        self.mid += float(self.rng.normal(0, 0.2))
        for k in range(3):
            b = sim.futures.round_price(self.market, self.mid - 0.5 - 0.1 * k, "buy")
            a = sim.futures.round_price(self.market, self.mid + 0.5 + 0.1 * k, "sell")
            sim.futures.submit_order(self.name, self.market, "buy", 5, b)
            sim.futures.submit_order(self.name, self.market, "sell", 5, a)


class Taker(Agent):
    """Crosses the opening auction once, then sends random market orders."""

    phase = 2

    def __init__(self, name: str, market: str = "M") -> None:
        super().__init__(name)
        self.market = market

    def initialise(self, sim):
        sim.create_party(self.name)
        sim.mint(self.name, "USD", 100_000)

    def step(self, sim):
        state = sim.futures.market_state(self.market)
        if state == "PENDING":
            if not sim.futures.open_orders(self.name, self.market):
                sim.futures.submit_order(self.name, self.market, "buy", 1, 102.0, time_in_force="GFA")
            return
        if state == "ACTIVE":
            side = "buy" if self.rng.random() < 0.5 else "sell"
            sim.futures.submit_order(self.name, self.market, side, int(self.rng.integers(1, 4)))


class TinyParams(ScenarioParams):
    steps: int | None = 40
    step_seconds: float = 1.0
    takers: int = 2


class Tiny(Scenario):
    name = "tiny_runner_test"
    description = "one futures market, a maker and takers"
    Params = TinyParams

    def __init__(self, params=None, extra=None):
        super().__init__(params)
        self.extra = extra or []

    def build(self, sim):
        sim.create_asset("USD", 6)
        sim.futures.create_market(
            market_id="M",
            asset="USD",
            decimal_places=2,
            tick_size=1,
            opening_auction_duration_s=3.0,
            mark_price_frequency_s=1.0,
        )
        agents = [Maker("mm")] + [Taker(f"t{i}") for i in range(self.params.takers)]
        return agents + list(self.extra)

    def kpis(self, sim):
        return {"t0_pnl": sim.pnl("t0", "USD"), "nan_is_skipped": math.nan}


def _run(tmp_path: Path, name: str = "run", seed: int = 1, **kw):
    scn = kw.pop("scenario", None) or Tiny(
        TinyParams(steps=kw.pop("steps", 40)), extra=kw.pop("extra", None)
    )
    return run_scenario(scn, seed=seed, out_dir=tmp_path / name, progress=False, **kw)


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    with open_store(run_dir / "run.duckdb") as s:
        return s.query(sql)


# ------------------------------------------------------------------------ tests
def test_run_writes_every_table_with_expected_counts(tmp_path):
    r = _run(tmp_path, steps=40)
    assert r.ok and r.steps == 40 and r.total_steps == 40
    assert r.trades > 10  # the auction uncrossed and takers traded
    out = r.out_dir
    assert {p.name for p in out.iterdir()} >= {"run.duckdb", "params.json", "summary.json"}
    with open_store(out / "run.duckdb") as s:
        assert set(s.tables()) >= set(SCHEMAS)
        # one book row per step and one for the final record (step 40)
        assert s.row_count("book_top") == 41
        assert s.query("SELECT min(step), max(step) FROM book_top") == [(0, 40)]
        assert s.row_count("trades") == r.trades
        assert s.row_count("orders") == r.order_updates
        assert s.row_count("events") == r.events == sum(r.event_counts.values())
        # seq is 0..n-1 in order
        assert s.query("SELECT min(seq), max(seq), count(DISTINCT seq) FROM events") == [
            (0, r.events - 1, r.events)
        ]
        # trade rows agree with the TradeExecuted events
        assert s.query("SELECT count(*) FROM events WHERE type = 'TradeExecuted'") == [(r.trades,)]
        # positions: once a party traded it has a row every later step
        first = dict(
            s.query(
                "SELECT p, min(step) FROM (SELECT buyer p, step FROM trades UNION ALL "
                "SELECT seller p, step FROM trades) GROUP BY p"
            )
        )
        expected = sum(41 - st for st in first.values())
        assert s.row_count("positions") == expected
        # the scenario KPI is recorded each step (41 rows), NaN values are not
        assert s.query("SELECT count(*) FROM kpis WHERE name = 't0_pnl'") == [(41,)]
        assert s.query("SELECT count(*) FROM kpis WHERE name = 'nan_is_skipped'") == [(0,)]
        # 10 built-in KPIs per step per market, minus mark_price before the first mark
        n_builtin = s.query("SELECT count(*) FROM kpis WHERE market = 'M'")[0][0]
        no_mark = s.query("SELECT count(*) FROM book_top WHERE mark_price IS NULL")[0][0]
        no_bid = s.query("SELECT count(*) FROM book_top WHERE best_bid IS NULL")[0][0]
        no_ask = s.query("SELECT count(*) FROM book_top WHERE best_ask IS NULL")[0][0]
        no_mid = s.query("SELECT count(*) FROM book_top WHERE mid IS NULL")[0][0]
        assert n_builtin == 41 * 10 - no_mark - no_bid - no_ask - 2 * no_mid
        # accounts sampled every step: at the last step, one row per ledger account
        n_last = s.query("SELECT count(*) FROM accounts WHERE step = 40")[0][0]
        assert (
            n_last
            == s.query("SELECT count(DISTINCT (account_type, owner, asset, market)) FROM accounts")[
                0
            ][0]
        )
        assert s.query("SELECT count(DISTINCT step) FROM accounts") == [(41,)]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 40 and summary["interrupted"] is False and summary["error"] is None
    assert summary["trades"] == r.trades and summary["orders"] == r.orders
    params = json.loads((out / "params.json").read_text())
    assert params["scenario"] == "tiny_runner_test" and params["seed"] == 1
    assert params["params"]["steps"] == 40 and params["params"]["takers"] == 2


def test_row_contents_are_consistent(tmp_path):
    r = _run(tmp_path, steps=30)
    out = r.out_dir
    # human floats are the raw integers scaled by the market's decimals
    for price, price_f, size, size_f, fee, fee_f in _rows(
        out, "SELECT price, price_f, size, size_f, buyer_fee, buyer_fee_f FROM trades"
    ):
        assert price_f == price / 100 and size_f == size and fee_f == fee / 10**6
    # every payload is a JSON object with the event class's fields (after block, time_ns)
    from defisim.protocols import futures

    classes = {c.__name__: c for c in (futures.TradeExecuted, futures.OrderUpdated)}
    for typ, payload in _rows(out, "SELECT type, payload FROM events"):
        obj = json.loads(payload)
        if typ in classes:
            assert tuple(obj) == event_field_names(classes[typ])[2:]
    # orders rows reproduce the OrderUpdated payloads
    ev = _rows(out, "SELECT payload FROM events WHERE type = 'OrderUpdated' ORDER BY seq LIMIT 1")
    first = json.loads(ev[0][0])
    row = _rows(
        out,
        "SELECT order_id, party, side, price, size, status FROM orders "
        "ORDER BY step, order_id LIMIT 1",
    )[0]
    assert row == (
        first["order_id"],
        first["party"],
        first["side"],
        first["price"],
        first["size"],
        first["status"],
    )
    # Transfer payload: account keys are arrays
    tr = json.loads(_rows(out, "SELECT payload FROM events WHERE type = 'Transfer' LIMIT 1")[0][0])
    assert isinstance(tr["source"], list) and len(tr["source"]) == 4


def test_positions_pnl_equals_simulation_pnl(tmp_path):
    r = _run(tmp_path, steps=25)
    pos_pnl = dict(_rows(r.out_dir, "SELECT step, pnl FROM positions WHERE party = 't0'"))
    kpi = dict(_rows(r.out_dir, "SELECT step, value FROM kpis WHERE name = 't0_pnl'"))
    assert pos_pnl, "t0 traded"
    for step, pnl in pos_pnl.items():
        assert pnl == pytest.approx(kpi[step], abs=1e-9)


def test_same_seed_same_tables_different_seed_differs(tmp_path):
    a = _run(tmp_path, "a", seed=7, steps=30)
    b = _run(tmp_path, "b", seed=7, steps=30)
    c = _run(tmp_path, "c", seed=8, steps=30)
    for table in ("trades", "kpis", "orders", "book_top", "positions", "accounts"):
        order = "seq" if table == "events" else "ALL"
        q = f"SELECT * FROM {table} ORDER BY {order}"
        assert _rows(a.out_dir, q) == _rows(b.out_dir, q), table
    q = "SELECT seq, step, block, time_ns, type, market, party, payload FROM events ORDER BY seq"
    assert _rows(a.out_dir, q) == _rows(b.out_dir, q)
    assert _rows(a.out_dir, "SELECT * FROM trades ORDER BY ALL") != _rows(
        c.out_dir, "SELECT * FROM trades ORDER BY ALL"
    )


def test_time_is_integer_nanoseconds_without_drift(tmp_path):
    scn = Tiny(TinyParams(steps=1000, step_seconds=0.1, takers=0))
    r = run_scenario(scn, seed=0, out_dir=tmp_path / "t", progress=False, record_accounts_every=0)
    times = _rows(r.out_dir, "SELECT step, time_ns FROM book_top ORDER BY step")
    assert times[-1] == (1000, 100_000_000_000)
    assert all(t == k * 100_000_000 for k, t in times)


class Probe(Agent):
    """Logs (step time, name) into a shared list; optionally scheduled."""

    def __init__(self, name, log, phase=1, every=None, wake_at=None):
        super().__init__(name)
        self.log = log
        self.phase = phase
        self.every = every
        self.wake_at = None if wake_at is None else list(wake_at)

    def step(self, sim):
        self.log.append((round(sim.now, 6), self.name))

    def next_wakeup(self, now):
        if self.every is not None:
            return now + self.every
        if self.wake_at is None:
            return None  # every step
        return self.wake_at.pop(0) if self.wake_at else math.inf


class ProbeScenario(Scenario):
    name = "probe_test"
    Params = TinyParams

    def __init__(self, params, agents):
        super().__init__(params)
        self._agents = agents

    def build(self, sim):
        return self._agents


def test_scheduled_wakeups_and_idle_agents(tmp_path):
    log: list = []
    agents = [
        Probe("every", log),
        Probe("five", log, every=5.0),
        Probe("at", log, wake_at=[2.5, 7.0, 30.0]),  # then never
    ]
    scn = ProbeScenario(TinyParams(steps=20, step_seconds=1.0), agents)
    r = run_scenario(scn, seed=0, record=False, progress=False)
    assert r.ok and r.out_dir is None
    when = {}
    for t, name in log:
        when.setdefault(name, []).append(t)
    assert when["every"] == [float(k) for k in range(20)]
    assert when["five"] == [0.0, 5.0, 10.0, 15.0]
    # first step always; then the first step at or after 2.5 (3), at 7, then 30 > the run
    assert when["at"] == [0.0, 3.0, 7.0]


def test_scheduler_cost_does_not_grow_with_idle_agents():
    import numpy as np

    log: list = []
    agents = [Probe(f"idle{i}", log, every=1e9) for i in range(1000)] + [Probe("busy", log)]
    sched = AgentScheduler(agents, np.random.default_rng(0))
    first = sched.due(0)
    assert len(first) == 1001  # everyone wakes at the first step
    for i in first:
        sched.after_step(i, agents[i].next_wakeup(0.0), 0)
    # afterwards only the every-step agent is due; idle ones are in the heap
    assert [agents[i].name for i in sched.due(1_000_000_000)] == ["busy"]
    assert sum(len(v) for v in sched._every.values()) == 1
    assert len(sched._heap) == 1000
    with pytest.raises(ValueError, match="NaN"):
        sched.after_step(0, math.nan, 0)


def test_phase_ordering_and_seeded_permutations():
    def orders(seed):
        log: list = []
        agents = [Probe(f"p2_{i}", log, phase=2) for i in range(3)]
        agents += [Probe(f"p0_{i}", log, phase=0) for i in range(3)]
        agents += [Probe(f"p1_{i}", log, phase=1) for i in range(3)]
        scn = ProbeScenario(TinyParams(steps=30), agents)
        run_scenario(scn, seed=seed, record=False, progress=False)
        by_step: dict = {}
        for t, name in log:
            by_step.setdefault(t, []).append(name)
        return by_step

    a, b, c = orders(3), orders(3), orders(4)
    for names in a.values():
        phases = [int(n[1]) for n in names]
        assert phases == sorted(phases)  # phase 0, then 1, then 2
        assert len(names) == 9
    # a fresh permutation per phase and step: not always the same order
    assert len({tuple(n for n in names if n.startswith("p1")) for names in a.values()}) > 1
    assert a == b  # same seed, same order
    assert a != c


def test_duplicate_names_and_bad_steps_leave_no_folder(tmp_path):
    log: list = []
    scn = ProbeScenario(TinyParams(steps=3), [Probe("x", log), Probe("x", log)])
    with pytest.raises(RunSetupError, match="unique.*x"):
        run_scenario(scn, out_dir=tmp_path / "dup", progress=False)
    assert not (tmp_path / "dup").exists()
    scn = ProbeScenario(TinyParams(steps=-1), [])
    with pytest.raises(ValueError, match="steps must be >= 0"):
        run_scenario(scn, out_dir=tmp_path / "neg", progress=False)
    assert not (tmp_path / "neg").exists()
    scn = ProbeScenario(TinyParams(steps=3, step_seconds=0.0), [])
    with pytest.raises(ValueError, match="step_seconds"):
        run_scenario(scn, out_dir=tmp_path / "zero", progress=False)
    assert not (tmp_path / "zero").exists()


class Interrupter(Agent):
    phase = 3

    def __init__(self, at_step: int) -> None:
        super().__init__("interrupter")
        self.at = at_step
        self.k = 0

    def step(self, sim):
        if self.k == self.at:
            raise KeyboardInterrupt
        self.k += 1


def test_keyboard_interrupt_flushes_and_marks_summary(tmp_path):
    r = _run(tmp_path, "int", steps=40, extra=[Interrupter(12)])
    assert r.interrupted and r.steps == 12 and r.error is None
    summary = json.loads((r.out_dir / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["steps"] == 12
    assert summary["total_steps"] == 40
    with open_store(r.out_dir / "run.duckdb") as s:
        assert s.query("SELECT max(step), count(*) FROM book_top") == [(11, 12)]
        # the events of the interrupted step (12) are recorded too
        assert s.query("SELECT max(step) FROM events") == [(12,)]
        assert s.row_count("events") == r.events


class Minter(Agent):
    """Breaks conservation: money appears in the insurance pool without a mint."""

    def __init__(self, at_step: int) -> None:
        super().__init__("minter")
        self.at = at_step
        self.k = 0

    def step(self, sim):
        if self.k == self.at:
            key = acct.insurance("M", "USD")
            balances = sim.chain.ledger.balances
            balances[key] = balances.get(key, 0) + 5
        self.k += 1


def test_invariant_violation_is_recorded(tmp_path):
    r = _run(tmp_path, "inv", steps=40, extra=[Minter(9)])
    assert not r.ok and not r.interrupted
    assert r.error_type == "InvariantViolation" and r.steps == 9
    assert r.error.startswith("invariant violated at block 10")
    assert "asset USD: accounts hold" in r.error
    summary = json.loads((r.out_dir / "summary.json").read_text())
    assert summary["error"] == r.error and summary["steps"] == 9
    with open_store(r.out_dir / "run.duckdb") as s:
        assert s.query("SELECT max(step) FROM book_top") == [(8,)]
        # the failing block's events are recorded, up to its BlockEnded
        assert s.query("SELECT max(step) FROM events") == [(9,)]
        assert s.query("SELECT count(*) FROM events WHERE step = 9 AND type = 'BlockEnded'") == [
            (1,)
        ]


class Crasher(Agent):
    def step(self, sim):
        if sim.now >= 5:
            raise RuntimeError("agent bug")


def test_agent_exception_writes_summary_then_propagates(tmp_path):
    with pytest.raises(RuntimeError, match="agent bug"):
        _run(tmp_path, "crash", steps=20, extra=[Crasher("crasher")])
    summary = json.loads((tmp_path / "crash" / "summary.json").read_text())
    assert summary["error"] == "RuntimeError: agent bug" and summary["steps"] == 5


def test_record_false_writes_nothing_but_counts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run_scenario(Tiny(TinyParams(steps=30)), seed=1, record=False, progress=False)
    rec = _run(tmp_path, "rec", steps=30)
    assert r.out_dir is None and not (tmp_path / "runs").exists()
    assert (r.trades, r.orders, r.events) == (rec.trades, rec.orders, rec.events)
    assert r.kpis == rec.kpis


def test_prepare_run_dir_refuses_and_force_keeps_other_files(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        prepare_run_dir(d)
    (d / "summary.json").write_text("{}")
    (d / "old.png").write_text("x")
    prepare_run_dir(d, force=True)
    assert sorted(p.name for p in d.iterdir()) == ["notes.txt"]
    r = _run(tmp_path, "d", steps=5, force=True)
    assert (r.out_dir / "notes.txt").read_text() == "mine"


def test_plots_are_drawn_and_downsampled(tmp_path):
    r = _run(tmp_path, "p", steps=30, plots=True)
    names = set(r.plots)
    assert names == {
        "prices.png",
        "spread_depth.png",
        "positions_pnl.png",
        "margins_insurance.png",
        "kpis.png",
    }
    for n in names:
        assert (r.out_dir / n).stat().st_size > 5_000
    summary = json.loads((r.out_dir / "summary.json").read_text())
    assert sorted(summary["plots"]) == sorted(names)


def test_plot_24000_steps_from_the_store_alone(tmp_path):
    from defisim.runner.plots import MAX_POINTS, _Run

    d = tmp_path / "big"
    d.mkdir()
    n = 24_000
    with RunStore(d / "run.duckdb") as s:
        for name, cols in SCHEMAS.items():
            s.declare(name, cols)
        s.append_many(
            "book_top",
            [
                (
                    k,
                    k * 60 * 10**9,
                    "BTC",
                    "ACTIVE",
                    100.0 + k % 7,
                    101.0 + k % 7,
                    1.0,
                    1.0,
                    100.5,
                    1.0,
                    5.0,
                    5.0,
                    100.5,
                    None,
                    None,
                )
                for k in range(n)
            ],
        )
        s.append_many(
            "kpis",
            [
                (k, k * 60.0, None, name, float(k % 11))
                for k in range(n)
                for name in ("reference_price", "x", "y")
            ],
        )
        s.append_many(
            "positions",
            [
                (k, k * 60 * 10**9, "BTC", p, 1.0, 2.0, 3.0, 0.5, 100.0, 0.25, 0.25)
                for k in range(n)
                for p in ("a", "b")
            ],
        )
    with open_store(d / "run.duckdb") as s:
        run = _Run(s)
        assert run.stride == math.ceil(n / MAX_POINTS)
        assert len(run.sampled("book_top", "step", "market = 'BTC'")) <= MAX_POINTS + 1
        x, series = run.buckets("book_top", "time_ns", ["best_bid"], "market = 'BTC'")
        assert len(x) == math.ceil(n / run.stride) <= MAX_POINTS
        mean, lo, hi = series["best_bid"]
        assert lo.min() == 100.0 and hi.max() == 106.0  # the bucket range keeps the extremes
    written = {p.name for p in plot_run(d)}
    assert written == {
        "prices.png",
        "spread_depth.png",
        "positions_pnl.png",
        "margins_insurance.png",
        "kpis.png",
    }


def test_positions_table_entry_price_and_pnl_match_an_independent_recomputation(tmp_path):
    from fractions import Fraction

    r = _run(tmp_path, "acc", seed=3, steps=30)
    step = _rows(r.out_dir, "SELECT max(step) - 1 FROM positions")[0][0]  # before any settlement
    parties = [p for (p,) in _rows(r.out_dir, f"SELECT party FROM positions WHERE step = {step}")]
    mark = _rows(r.out_dir, f"SELECT mark_price FROM book_top WHERE step = {step}")[0][0]
    checked = 0
    for party in parties:
        trades = _rows(r.out_dir, "SELECT price_f, size_f, buyer = ? FROM trades WHERE step <= ? AND "
                       "(buyer = ? OR seller = ?) ORDER BY step, trade_id".replace("?", "{}").format(
                           repr(party), step, repr(party), repr(party)))
        pos, cost, realised = Fraction(0), Fraction(0), Fraction(0)
        for price, size, is_buy in trades:
            q = Fraction(size) if is_buy else -Fraction(size)
            price = Fraction(price)
            if pos == 0 or (pos > 0) == (q > 0):
                cost += abs(q) * price
            else:
                closed = min(abs(q), abs(pos))
                avg = cost / abs(pos)
                realised += closed * (price - avg) * (1 if pos > 0 else -1)
                cost -= closed * avg
                if abs(q) > abs(pos):
                    cost = (abs(q) - abs(pos)) * price
            pos += q
        (row,) = _rows(r.out_dir, f"SELECT position, average_entry_price, realised_pnl, unrealised_pnl "
                       f"FROM positions WHERE step = {step} AND party = '{party}'")
        unrealised = (abs(pos) * Fraction(mark) - cost) * (1 if pos > 0 else -1) if pos else 0
        assert row[0] == float(pos)
        assert abs(row[1] - (float(cost / abs(pos)) if pos else 0.0)) < 1e-6
        assert abs(row[2] - float(realised)) < 1e-6 and abs(row[3] - float(unrealised)) < 1e-6
        checked += bool(trades)
    assert checked >= 2
