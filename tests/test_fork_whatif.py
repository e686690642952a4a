"""What-if forks (:func:`defisim.runner.replay_run.fork_run`): a scenario applies the
changed parameters it declares (``fork_params``: a market's parameters by a governance
proposal, its agents' settings) and the fork refuses the others."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from defisim.agents import PoissonTaker
from defisim.cli import app
from defisim.runner import run_scenario
from defisim.runner.replay_run import ReplayError, fork_run, replay_run
from defisim.scenarios import get_scenario
from defisim.store import RunStore

runner = CliRunner()
STEPS, AT = 30, 10
M = "BTCUSDT-FUT"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    cls = get_scenario("btc_futures")
    folder = tmp_path_factory.mktemp("whatif") / "run"
    # 5-minute steps and a 10-minute opening auction: trading from block 3 on
    res = run_scenario(cls(cls.Params(steps=STEPS, step_seconds=300, opening_auction_s=600)),
                       seed=3, out_dir=folder, progress=False, state_hash=True)
    assert res.ok
    return folder


def _q(folder, sql):
    with RunStore(folder / "run.duckdb", read_only=True) as s:
        return s.query(sql)


def _hashes(folder) -> dict[int, str]:
    return dict(_q(folder, "SELECT block, hash FROM block_hashes"))


def _aggressor_fee_rate(folder, lo: int, hi: int) -> list[float]:
    """Fee the aggressor paid / notional for trades of steps ``lo..hi``."""
    rows = _q(folder, f"SELECT price_f * size_f, aggressor, buyer_fee_f, seller_fee_f "
                      f"FROM trades WHERE step BETWEEN {lo} AND {hi} AND trade_type = 'DEFAULT'")
    return [(bf if agg == 1 else sf) / notional for notional, agg, bf, sf in rows]


def test_a_fee_fork_keeps_blocks_to_n_and_changes_the_market_after(recorded, tmp_path):
    seen: dict[int, float] = {}

    def watch(run):  # the service view of the market, every block after the fork
        run.hooks.append(lambda r, step, k: seen.__setitem__(
            r.sim.block, r.sim.futures.market_view(M).maker_fee))

    out = tmp_path / "fork"
    res = fork_run(recorded, AT, out, {"maker_fee": 0.002}, on_fork=[watch])
    assert res.ok, res.error
    a, b = _hashes(recorded), _hashes(out)
    assert all(a[k] == b[k] for k in range(1, AT + 1))
    assert all(a[k] != b[k] for k in range(AT + 1, STEPS + 2))  # the proposal is pending
    # governance enacts the proposal at the start of block N + 2
    assert _q(out, "SELECT block FROM events WHERE type = 'ProposalEnacted'") == [(AT + 2,)]
    assert seen[AT + 1] == 0.00025 and all(seen[k] == 0.002 for k in range(AT + 2, STEPS + 1))
    # what the aggressor pays: maker + infrastructure (+ liquidity 0) of the notional
    before = _aggressor_fee_rate(recorded, 0, AT - 1)
    after_orig = _aggressor_fee_rate(recorded, AT + 1, STEPS)
    after_fork = _aggressor_fee_rate(out, AT + 1, STEPS)
    assert before and after_orig and after_fork
    assert all(r == pytest.approx(0.00075, rel=1e-3) for r in before + after_orig)
    assert all(r == pytest.approx(0.0025, rel=1e-3) for r in after_fork)
    # the KPIs diverge after the fork: the makers earn more per fill
    kpi = "SELECT value FROM kpis WHERE name = 'insurance_pool' ORDER BY step"
    assert _q(out, kpi)[:AT] == _q(recorded, kpi)[:AT]
    assert replay_run(out).ok  # the fork's folder replays block for block


def test_an_agent_fork_changes_the_order_flow_from_the_next_block(recorded, tmp_path):
    out = tmp_path / "fork"
    res = fork_run(recorded, AT, out, {"noise_rate_per_s": 0.02})
    assert res.ok, res.error
    a, b = _hashes(recorded), _hashes(out)
    assert all(a[k] == b[k] for k in range(1, AT + 1)) and a[AT + 1] != b[AT + 1]
    count = ("SELECT count(DISTINCT order_id) FROM orders WHERE party LIKE 'noise%' "
             f"AND step >= {AT}")
    (n_orig,), (n_fork,) = _q(recorded, count)[0], _q(out, count)[0]
    assert n_fork > 5 * max(n_orig, 1)  # 0.02/s against 1/1200 per s


@pytest.mark.parametrize("name, value", [
    ("maker_fee", 0.001), ("infrastructure_fee", 0.002), ("liquidity_fee", 0.001),
    ("risk_aversion", 0.05), ("risk_tau", 1 / 365.25), ("risk_sigma", 2.0),
    ("linear_slippage_factor", 0.5), ("taker_rate_per_s", 0.01),
    ("ps_taker_rate_per_s", 0.01), ("taker_buy_prob", 1.0), ("taker_mean_size", 0.5),
    ("noise_rate_per_s", 0.01), ("noise_mean_offset_bps", 200.0), ("noise_cancel_prob", 1.0),
    ("mm_gamma", 100.0), ("mm_k", 200.0), ("mm_order_size", 0.05),
    ("mm_level_spacing_bps", 50.0), ("mm_max_inventory", 0.1),
])
def test_every_forkable_parameter_changes_the_state(recorded, tmp_path, name, value):
    cls = get_scenario("btc_futures")
    assert name in cls.fork_params
    out = tmp_path / "fork"
    assert fork_run(recorded, AT, out, {name: value}).ok
    a, b = _hashes(recorded), _hashes(out)
    assert a[AT] == b[AT] and a[STEPS + 1] != b[STEPS + 1]


def test_added_agent_trades_after_the_fork_and_the_fork_replays(recorded, tmp_path):
    def add(run):
        run.add_agent(PoissonTaker("taker_whatif", M, rate_per_s=0.01, collateral=100_000.0))

    out = tmp_path / "fork"
    assert fork_run(recorded, AT, out, on_fork=[add]).ok
    steps = _q(out, "SELECT min(step) FROM trades WHERE buyer = 'taker_whatif' "
                    "OR seller = 'taker_whatif'")[0][0]
    assert steps is not None and steps > AT
    assert replay_run(out).ok


def test_a_parameter_the_scenario_cannot_apply_exits_2_naming_it(recorded, tmp_path):
    r = runner.invoke(app, ["fork", str(recorded), "--at-block", "5", "--set", "mm_collateral=1",
                            "--set", "maker_fee=0.001", "--out", str(tmp_path / "f")])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "cannot change mm_collateral" in lines[0] and "maker_fee" not in lines[0].split("(")[0]
    assert "a fork can change: " in lines[0] and "noise_rate_per_s" in lines[0]
    assert not (tmp_path / "f").exists()
    with pytest.raises(ReplayError, match="opening_auction_s"):
        fork_run(recorded, 5, tmp_path / "g", {"opening_auction_s": 60.0})


def test_comprehensive_market_forks_its_mechanics(tmp_path):
    cls = get_scenario("comprehensive_market")
    folder = tmp_path / "run"
    assert run_scenario(cls(cls.Params(steps=20)), seed=2, out_dir=folder, progress=False,
                        state_hash=True).ok
    changes = {"stake_to_volume": 3.0, "price_monitoring_triggers": [], "mm_gamma": 50.0}
    assert set(changes) <= cls.fork_params
    configs: dict[int, object] = {}

    def watch(run):  # the market's parameters through the service, every block after
        run.hooks.append(lambda r, step, k: configs.__setitem__(
            r.sim.block, r.sim.futures.market_config(M)))

    out = tmp_path / "fork"
    assert fork_run(folder, 8, out, changes, on_fork=[watch]).ok
    a, b = _hashes(folder), _hashes(out)
    assert all(a[k] == b[k] for k in range(1, 9)) and a[9] != b[9]
    assert _q(out, "SELECT block FROM events WHERE type = 'ProposalEnacted'") == [(10,)]
    before, after = configs[9], configs[10]
    assert before.liquidity.stake_to_volume == 1.0 and after.liquidity.stake_to_volume == 3.0
    assert before.price_monitoring.triggers and not after.price_monitoring.triggers
    assert after.liquidity.price_range == before.liquidity.price_range == 0.05
