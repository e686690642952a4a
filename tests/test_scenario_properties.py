"""Random agents: btc_futures with drawn seeds and agent mixes never breaks an
invariant (conservation, no negative balance, no crossed book, empty settlement
account, zero-sum positions), and the same seed records identical tables."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    takers=st.integers(0, 4),
    noise=st.integers(0, 3),
    sigma=st.sampled_from([0.3, 1.5, 4.0]),
    collateral=st.sampled_from([3_000.0, 20_000.0, 500_000.0]),
    mm_levels=st.integers(1, 3),
)
def test_random_agent_mixes_keep_every_invariant(seed, takers, noise, sigma, collateral, mm_levels):
    cls = get_scenario("btc_futures")
    params = cls.Params(steps=40, step_seconds=600, sigma=sigma, taker_count=takers,
                        noise_count=noise, taker_collateral=collateral,
                        mm_levels=mm_levels, opening_auction_s=600)
    res = run_scenario(cls(params), seed=seed, record=False, progress=False, check_invariants=True)
    assert res.error is None, res.error
    assert res.steps == 40


def test_btc_futures_same_seed_identical_tables(tmp_path):
    cls = get_scenario("btc_futures")

    def run(name, seed):
        res = run_scenario(cls(cls.Params(steps=30)), seed=seed, out_dir=tmp_path / name,
                           progress=False)
        assert res.error is None
        return duckdb.connect(str(tmp_path / name / "run.duckdb"), read_only=True)

    a, b, c = run("a", 5), run("b", 5), run("c", 6)
    for table in ("trades", "orders", "book_top", "positions", "accounts", "kpis", "events"):
        q = f"SELECT * FROM {table} ORDER BY ALL"
        rows = a.execute(q).fetchall()
        assert rows, table
        assert rows == b.execute(q).fetchall(), table
    assert a.execute("SELECT * FROM trades ORDER BY ALL").fetchall() != c.execute(
        "SELECT * FROM trades ORDER BY ALL").fetchall()
