"""``defisim replay`` and ``defisim fork`` (:mod:`defisim.runner.replay_run`) on a short
``comprehensive_market`` run recorded with ``--state-hash``."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.runner import run_scenario
from defisim.runner.replay_run import ReplayError, fork_run, replay_run
from defisim.scenarios import get_scenario
from defisim.store import RunStore

runner = CliRunner()
STEPS = 25


def _record(folder, steps=STEPS, seed=2, state_hash=True):
    cls = get_scenario("comprehensive_market")
    res = run_scenario(cls(cls.Params(steps=steps)), seed=seed, out_dir=folder, progress=False,
                       state_hash=state_hash)
    assert res.ok
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return _record(tmp_path_factory.mktemp("replay") / "run")


def _hashes(folder) -> dict[int, str]:
    with RunStore(folder / "run.duckdb", read_only=True) as s:
        return dict(s.query("SELECT block, hash FROM block_hashes"))


def _one_error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_replay_matches_every_block(recorded):
    hashes = _hashes(recorded)
    assert sorted(hashes) == list(range(1, STEPS + 2))  # a block per step and the final one
    res = replay_run(recorded)
    assert res.ok and res.blocks == STEPS + 1 and res.transactions > 100
    r = runner.invoke(app, ["replay", str(recorded)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"all {STEPS + 1} blocks match")


def test_changed_parameter_diverges_where_the_state_holds_it(recorded):
    # the epoch length is part of the market's configuration, made by build: block 1
    r = runner.invoke(app, ["replay", str(recorded), "--set", "epoch_s=600"])
    assert r.exit_code == 1, r.output
    assert r.stdout.startswith("block 1 (t = 0 s) diverges after 0 matching blocks")
    assert _hashes(recorded)[1] in r.stdout
    assert "futures.submit_liquidity" in r.stdout  # the block's transactions are listed
    # a parameter only the agents read changes nothing the transactions do not say
    assert replay_run(recorded, {"crash_return": -0.2}).ok


def test_a_changed_transaction_diverges_at_its_block(tmp_path):
    folder = _record(tmp_path / "run", steps=12)
    with duckdb.connect(str(folder / "run.duckdb")) as con:
        seq, block = con.execute(
            "SELECT seq, block FROM transactions WHERE call = 'submit_order' AND block = 7 "
            "ORDER BY seq LIMIT 1").fetchone()
        con.execute("UPDATE transactions SET sender = 'leveraged_long_0' WHERE seq = ?", [seq])
    res = replay_run(folder)
    assert not res.ok and res.divergence.block == 7 and res.blocks == 7
    assert res.divergence.recorded == _hashes(folder)[7] != res.divergence.replayed


def test_fork_continues_with_the_original_blocks_up_to_n(recorded, tmp_path):
    out = tmp_path / "fork"
    res = fork_run(recorded, 10, out, {"steps": STEPS + 5})
    assert res.ok and res.steps == STEPS + 5
    a, b = _hashes(recorded), _hashes(out)
    assert len(b) == STEPS + 6
    assert all(a[k] == b[k] for k in range(1, 11))
    assert replay_run(out).ok  # the fork is itself a replayable run


def test_bad_inputs_exit_2_with_one_error_line(recorded, tmp_path):
    r = runner.invoke(app, ["replay", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "does not exist" in _one_error_line(r)
    r = runner.invoke(app, ["fork", str(recorded), "--at-block", "999", "--out", str(tmp_path / "f")])
    assert r.exit_code == 2 and "block 999 is not in the run" in _one_error_line(r)
    assert not (tmp_path / "f").exists()
    r = runner.invoke(app, ["replay", str(recorded), "--set", "no_such=1"])
    assert r.exit_code == 2 and "no_such" in _one_error_line(r)
    plain = _record(tmp_path / "plain", steps=2, state_hash=False)
    r = runner.invoke(app, ["replay", str(plain)])
    assert r.exit_code == 2 and "without state hashes" in _one_error_line(r)
    with pytest.raises(ReplayError, match="block 0"):
        replay_run(recorded, to_block=0)
