"""Bounded memory of long fuzz runs: the transaction log spills to disk and forgets the
order references nobody can look up any more, without changing a single transaction;
the futures recording counts distinct order ids in a bitmap; the run store caps
DuckDB's cache."""

from __future__ import annotations

import gc
import json
import pickle
import tracemalloc

import pytest

from defisim.agents.fuzzers import BLOCK
from defisim.protocols.futures.recording import IdSet
from defisim.runner import run_scenario
from defisim.scenarios.fuzz import Fuzz, FuzzParams
from defisim.scenarios.fuzzing import count_transactions, replay
from defisim.store import RunStore


def _run(monkeypatch, in_memory, order_refs, steps=600, seed=3, hooks=()):
    monkeypatch.setattr(Fuzz, "LOG_IN_MEMORY", in_memory)
    monkeypatch.setattr(Fuzz, "ORDER_REFS", order_refs)
    scn = Fuzz(FuzzParams(steps=steps, stop_on_crash=False))
    res = run_scenario(scn, seed=seed, record=False, progress=False, check_invariants=False,
                       hooks=list(hooks))
    assert res.steps == steps
    return scn, res


def test_a_bounded_log_generates_and_keeps_exactly_what_an_unbounded_one_does(monkeypatch):
    bounded, rb = _run(monkeypatch, 500, 200)
    full, rf = _run(monkeypatch, None, None)
    b, f = bounded.ctx.log, full.ctx.log
    assert b.spilled > 4000 and f.spilled == 0  # most entries went to the spill file
    assert len(b) == len(f) == len(b.entries)
    assert json.dumps(b.entries) == json.dumps(f.entries)  # refs included: same transactions
    assert b.outcomes == f.outcomes and b.stats == f.stats
    assert rb.kpis == rf.kpis
    # only open orders' references and the latest few survive the pruning
    assert len(b.tx_of_order) < len(f.tx_of_order) / 5
    assert list(b.tx_of_order)[-50:] == list(f.tx_of_order)[-50:]
    assert all(f.tx_of_order[o] == t for o, t in b.tx_of_order.items())
    assert b.order_of_tx == {t: o for o, t in b.tx_of_order.items()}
    # the spilled sequence still replays to every outcome
    r = replay(bounded.params, 3, b.entries, check_invariants=False)
    assert r.violation is None and r.log.outcomes == b.outcomes


def test_a_spilled_log_pickles_with_its_entries_and_closes(monkeypatch):
    scn, _ = _run(monkeypatch, 300, 5000, steps=150)
    log = scn.ctx.log
    assert log.spilled > 0
    copy = pickle.loads(pickle.dumps(log))
    assert copy.spilled == 0 and copy.outcomes == log.outcomes
    assert json.dumps(copy.entries) == json.dumps(log.entries)  # (NaN fields: not ==)
    assert count_transactions(copy.entries) == log.transactions
    assert sum(e["kind"] == BLOCK for e in log.entries) == 150
    log.close()
    assert log.spilled == 0 and len(log) < 300


def test_id_set_counts_distinct_ids_in_a_bitmap():
    s = IdSet()
    s.update([1, 2, 2, 3, 70_000, 70_000, -5, 10**15, 10**15])
    assert len(s) == 6
    assert 2 in s and 70_000 in s and -5 in s and 10**15 in s and 4 not in s
    s.update(range(1, 1_000_001))
    assert len(s) == 1_000_000 + 2  # -5 and 10**15 besides
    assert len(s._bits) <= 1_000_001 // 8 * 2  # about one bit per id, not a set entry


def test_run_store_sets_duckdb_memory_limit():
    with RunStore(":memory:", memory_limit="100MB") as st:
        (limit,), = st.query("SELECT current_setting('memory_limit')")
        assert limit.endswith("MiB") and 90 < float(limit.split()[0]) < 100
    with pytest.raises(ValueError, match="memory_limit"):
        RunStore(":memory:", memory_limit="100; DROP TABLE x")


@pytest.mark.slow
def test_fuzz_memory_does_not_grow_with_the_steps(monkeypatch):
    """Python memory (tracemalloc) after 1,000 and after 3,000 steps: without the bounds
    the log alone grows by about 10 MB over these 2,000 steps (24,000 transactions)."""
    sizes = {}

    def hook(run, step, kpis):
        if step in (1000, 2999):
            gc.collect()
            sizes[step] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        _run(monkeypatch, 2000, 500, steps=3000, seed=1, hooks=[hook])
    finally:
        tracemalloc.stop()
    growth = sizes[2999] - sizes[1000]
    # what still grows is bounded: each market's last 2,000 trades, the receipts window
    assert growth < 2.5e6, f"grew {growth / 1e6:.1f} MB from step 1000 to 3000"
