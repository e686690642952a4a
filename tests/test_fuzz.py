"""The ``fuzz`` scenario, its transaction log, replay and shrinker, and a Hypothesis
state machine over the same transaction space; an injected one-unit fee bug is caught."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from typer.testing import CliRunner

from defisim import Simulation
from defisim.agents.fuzzers import BLOCK, TX_KINDS, TxGenerator, pick
from defisim.chain import InvariantViolation
from defisim.cli import app
from defisim.protocols.futures.market import FuturesMarket
from defisim.runner import run_scenario
from defisim.runner.fuzzing import run_fuzz
from defisim.scenarios.fuzz import Fuzz, FuzzParams
from defisim.scenarios.fuzzing import (
    count_transactions,
    load_failure,
    replay,
    replay_failure,
    shrink,
    violation_signature,
)
from defisim.service import FuturesFacade

runner = CliRunner()

CONSERVATION = re.compile(r"^asset (USD|BTC): accounts hold #, minted - burned = #$")


def _log_run(params: dict, seed: int, steps: int):
    """Run the scenario without invariant checks (the log and outcomes only)."""
    scn = Fuzz(FuzzParams(steps=steps, **params))
    res = run_scenario(scn, seed=seed, record=False, progress=False, check_invariants=False)
    assert res.steps == steps
    return scn


@pytest.fixture
def maker_fee_bug(monkeypatch):
    """The injected bug: the maker fee transfer credits the maker one unit nobody paid."""
    original = FuturesMarket._pay

    def pay(self, ps, amount, from_general, dest, kind):
        original(self, ps, amount, from_general, dest, kind)
        if kind == "fee_maker":
            self.ledger.balances[dest] = self.ledger.balances.get(dest, 0) + 1

    monkeypatch.setattr(FuturesMarket, "_pay", pay)
    return monkeypatch


# ------------------------------------------------------------- log and replay
def test_same_seed_gives_the_same_transaction_log():
    a = _log_run({}, seed=5, steps=150).ctx.log
    b = _log_run({}, seed=5, steps=150).ctx.log
    c = _log_run({}, seed=6, steps=150).ctx.log
    assert count_transactions(a.entries) > 1000
    assert sum(e["kind"] == BLOCK for e in a.entries) == 150  # steps 1..149 and the final block
    assert json.dumps(a.entries) == json.dumps(b.entries)
    assert a.outcomes == b.outcomes and a.order_of_tx == b.order_of_tx
    assert json.dumps(a.entries) != json.dumps(c.entries)


def test_replaying_the_log_reproduces_every_outcome():
    scn = _log_run({"stop_on_crash": False}, seed=11, steps=400)
    log = scn.ctx.log
    r = replay(scn.params, 11, log.entries, check_invariants=False)
    assert r.violation is None
    assert r.log.outcomes == log.outcomes  # every transaction, accepted or rejected alike
    assert r.log.order_of_tx == log.order_of_tx  # the same order ids, network orders included
    assert len(log.outcomes) == count_transactions(log.entries) > 3000


def test_a_fuzz_run_reaches_every_kind_of_transaction_and_event():
    scn = _log_run({"stop_on_crash": False, "governor_rate": 0.2}, seed=2, steps=2000)
    summary = scn.ctx.log.summary()
    assert set(summary) == set(TX_KINDS)
    order = summary["order"]
    assert {"ACTIVE", "FILLED", "PARKED", "STOPPED:NO_LIQUIDITY", "STOPPED:FOK_NOT_FILLED",
            "STOPPED:SELF_TRADE", "STOPPED:POST_ONLY_WOULD_TRADE"} <= set(order["accepted"])
    assert {"MARGIN_CHECK_FAILED", "INVALID_TIME_IN_FORCE", "INVALID_PRICE", "INVALID_SIZE",
            "INVALID_SIDE", "INVALID_PEG", "INVALID_FLAGS", "INVALID_EXPIRY", "INVALID_ORDER_TYPE",
            "PRICE_NOT_ON_TICK", "PARTY_NOT_FOUND", "MARKET_NOT_FOUND", "PRICE_MONITORING_BREACH",
            "REDUCE_ONLY_WOULD_INCREASE", "MARKET_NOT_TRADING"} <= set(order["rejected"])
    for kind in ("amend", "cancel", "lp_submit", "lp_amend", "lp_cancel", "oracle", "transfer",
                 "burn", "governance", "close"):
        assert summary[kind]["accepted"] and summary[kind]["rejected"], kind
    c = scn.counters
    assert c.closeouts > 10 and c.auctions > 5 and c.lp_slashes > 10
    assert c.loss_socialisations > 0 and c.funding_periods > 50 and c.proposals_enacted > 10
    assert c.markets_closed == 1  # ALT, by governance, after 75 % of the run
    assert c.trades > 1000


def test_a_crashing_transaction_is_a_violation_at_the_block_end(monkeypatch):
    def boom(self, party, market=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(FuturesFacade, "cancel_all", boom)
    seq = [{"kind": "cancel_all", "party": "fz_maker_0", "market": "FUT", "id": 1}]
    r = replay(FuzzParams(), 0, seq)
    assert r.violation is not None
    assert r.violation.violations == ["transaction 1 (cancel_all) raised RuntimeError: boom"]
    r = replay(FuzzParams(stop_on_crash=False), 0, seq)  # counted, not a violation
    assert r.violation is None
    assert r.log.stats[("cancel_all", "crashed", "raised RuntimeError")] == 1


def test_fuzz_run_finds_no_violation():
    result, _, failure = run_fuzz({"steps": 1500}, seed=0)
    assert failure is None, failure.violation
    assert result.steps == 1500 and result.error is None


# ------------------------------------------------------------ the injected bug
def test_injected_fee_bug_is_caught_shrunk_saved_and_replayed(maker_fee_bug, tmp_path):
    result, scn, failure = run_fuzz({"steps": 300, "invalid_prob": 0.0}, seed=3, out_dir=tmp_path)
    assert result.error_type == "InvariantViolation" and result.steps < 20
    assert CONSERVATION.match(failure.signature[0])
    assert failure.original_entries > 50
    # the shortest sequence: two orders crossing in the opening auction, the block where
    # it uncrosses, one aggressive order paying a maker fee
    assert failure.transactions <= 5 and failure.shrink["complete"]
    kinds = [e["kind"] for e in failure.sequence]
    assert kinds.count(BLOCK) == 1 and kinds.count("order") == failure.transactions
    saved = load_failure(tmp_path / "fuzz-failure-3.json")
    assert saved.sequence == failure.sequence and saved.seed == 3
    r = replay_failure(saved)
    assert violation_signature(r.violation) == failure.signature
    assert "accounts hold" in str(r.violation) and re.search(r"\d+, minted - burned = \d+", str(r.violation))
    # 1-minimal: without any one entry it passes
    for i in range(len(saved.sequence)):
        assert replay(saved.params, 3, saved.sequence[:i] + saved.sequence[i + 1:]).violation is None
    # and without the bug the same sequence passes
    maker_fee_bug.undo()
    assert replay_failure(saved).violation is None


def test_cli_saves_the_failure_and_replays_it(maker_fee_bug, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "fuzz", "--steps", "200", "--seed", "1", "--out", str(out),
                              "--no-plots", "--quiet", "--set", "invalid_prob=0"])
    assert res.exit_code == 1, res.output
    path = out / "fuzz-failure-1.json"
    assert path.is_file() and f"saved {path}" in res.output
    assert json.loads((out / "summary.json").read_text())["error_type"] == "InvariantViolation"
    stats = json.loads((out / "fuzz-stats.json").read_text())
    assert stats["transactions"] == stats["accepted"] + stats["rejected"] + stats["crashed"] > 0
    saved = json.loads(path.read_text())
    assert saved["seed"] == 1 and saved["params"]["invalid_prob"] == 0
    assert saved["transactions"] <= 5 and len(saved["outcomes"]) == len(saved["sequence"])
    rep = runner.invoke(app, ["replay-fuzz", str(path)])
    assert rep.exit_code == 1
    assert "accounts hold" in rep.output and "-- block at t=" in rep.output
    # the same seed reproduces the same violation
    again = runner.invoke(app, ["run", "fuzz", "--steps", "200", "--seed", "1", "--out",
                                str(tmp_path / "again"), "--no-plots", "--quiet", "--set",
                                "invalid_prob=0"])
    assert again.exit_code == 1
    assert json.loads((tmp_path / "again" / "fuzz-failure-1.json").read_text())["sequence"] == \
        saved["sequence"]
    maker_fee_bug.undo()
    fixed = runner.invoke(app, ["replay-fuzz", str(path)])
    assert fixed.exit_code == 0 and "no violation" in fixed.output


def test_replay_fuzz_rejects_a_file_that_is_not_a_failure(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else"}')
    res = runner.invoke(app, ["replay-fuzz", str(bad)])
    assert res.exit_code == 2 and "not a fuzz failure file" in res.output
    res = runner.invoke(app, ["replay-fuzz", str(tmp_path / "missing.json")])
    assert res.exit_code == 2


def test_shrink_refuses_a_sequence_that_passes():
    with pytest.raises(ValueError, match="does not fail"):
        shrink(FuzzParams(), 0, [{"kind": "cancel_all", "party": "fz_maker_0", "market": "FUT",
                                  "id": 1}])


# ------------------------------------------------------- Hypothesis state machine
class HypothesisDraw:
    """The generators' :class:`~defisim.agents.fuzzers.Draw` over Hypothesis data."""

    def __init__(self, data) -> None:
        self.data = data

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))


class FuzzMachine(RuleBasedStateMachine):
    """Transactions of the fuzz scenario's space, drawn by Hypothesis, on its world; the
    chain's invariants hold after every transaction and every block end."""

    PARAMS = FuzzParams(steps=100, opening_auction_s=1.0, makers=2, takers=1, leverage_traders=1,
                        liquidity_providers=1, chaos=1, oracles=1, governors=1)
    SEED = 0
    last: FuzzMachine | None = None

    def __init__(self) -> None:
        super().__init__()
        self.sim = Simulation(seed=self.SEED)
        scn = Fuzz(self.PARAMS)
        self.ctx = scn.setup_world(self.sim)
        self.roster = scn.roster()
        self.gen = TxGenerator(self.ctx)
        self._open_markets()
        type(self).last = self

    def _open_markets(self) -> None:
        """A fixed, logged prefix: in every market two makers cross one lot at the base
        price and quote three levels a side, then the opening auctions end, so that every
        example trades continuously from its first rule."""
        log, sim = self.ctx.log, self.sim
        for info in self.ctx.markets.values():
            for k in range(4):
                for party, side in (("fz_maker_0", 1), ("fz_maker_1", -1)):
                    price = info.base_price - side * k * 4 * info.tick
                    log.run(sim, {"kind": "order", "party": party, "market": info.market,
                                  "side": side, "size": info.lot * 10, "price": price,
                                  "type": "LIMIT", "tif": "GTC"})
        t = sim.now_ns + round(self.PARAMS.opening_auction_s * 1e9)
        log.block(t)
        sim.end_block()
        sim.begin_block(t)
        assert all(sim.futures.market_state(m) == "ACTIVE" for m in sim.futures.markets)

    @rule(data=st.data())
    def transactions(self, data):
        draw = HypothesisDraw(data)
        for _ in range(draw.integer(1, 4)):
            party, profile, _ = pick(draw, self.roster)
            self.ctx.log.run(self.sim, self.gen.generate(profile, self.sim, draw, party))

    @rule(seconds=st.integers(0, 4))
    def next_block(self, seconds):
        t = self.sim.now_ns + seconds * 1_000_000_000
        self.ctx.log.block(t)
        self.sim.end_block()  # mark-to-market, auctions, closeouts, the chain's checks
        self.sim.begin_block(t)

    @invariant()
    def invariants_hold(self):
        self.sim.chain.assert_invariants()


CI_SETTINGS = settings(max_examples=60, stateful_step_count=50, deadline=None, derandomize=True,
                       database=None, suppress_health_check=list(HealthCheck),
                       report_multiple_bugs=False,
                       phases=(Phase.explicit, Phase.reuse, Phase.generate))
"""Bounded for CI and derandomized (the same examples every run). No Hypothesis shrink
phase (slow on long stateful examples): the failing example's transaction log goes to the
fuzz shrinker instead (:func:`run_machine`)."""


def run_machine(machine: type[FuzzMachine], s: settings = CI_SETTINGS):
    """Run ``machine``; on a violation, return ``(the violation, the shrunk failing
    sequence)`` of the failing example (Hypothesis runs it last), else ``None``."""
    try:
        run_state_machine_as_test(machine, settings=s)
    except InvariantViolation as exc:
        res = shrink(machine.PARAMS, machine.SEED, machine.last.ctx.log.entries)
        return exc, res
    return None


def test_state_machine_over_the_fuzz_transaction_space():
    found = run_machine(FuzzMachine)
    if found is not None:
        exc, res = found
        pytest.fail(f"{exc.violations[0]}\nshortest failing sequence "
                    f"({count_transactions(res.sequence)} transactions): "
                    f"{json.dumps(res.sequence)}")


class CleanFuzzMachine(FuzzMachine):
    """The same space without deliberately malformed transactions."""

    PARAMS = FuzzMachine.PARAMS.model_copy(update={"invalid_prob": 0.0})


def test_state_machine_catches_the_injected_fee_bug(maker_fee_bug):
    found = run_machine(CleanFuzzMachine)
    assert found is not None
    exc, res = found
    assert any(CONSERVATION.match(v) for v in violation_signature(exc))
    assert CONSERVATION.match(violation_signature(res.violation)[0])
    # the opening prefix shrinks away too: two orders crossing, a block, one aggressor
    assert count_transactions(res.sequence) <= 5 and res.complete
    maker_fee_bug.undo()
    assert replay(CleanFuzzMachine.PARAMS, CleanFuzzMachine.SEED, res.sequence).violation is None
