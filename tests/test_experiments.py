"""Experiments: sweeps (local and Ray), statistics, Optuna, HTML reports, CLI errors."""

from __future__ import annotations

import json
import math

import duckdb
import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.experiments import ExperimentError, mean_ci, parse_grid, run_sweep
from defisim.experiments.report import build_report
from defisim.experiments.sweep import expand_grid

FIXED = {"steps": 20}
GRID = {"sigma": [0.3, 0.9], "taker_count": [1, 2]}


def _runs(d):
    con = duckdb.connect(str(d / "sweep.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT run_id, seed, status FROM runs ORDER BY run_id").fetchall()
        finals = con.execute(
            "SELECT run_id, kpi, value FROM final_kpis ORDER BY run_id, kpi"
        ).fetchall()
        nsteps = con.execute("SELECT count(DISTINCT step) FROM step_kpis").fetchone()[0]
    finally:
        con.close()
    return runs, finals, nsteps


def test_mean_ci_matches_t_interval():
    n, m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert (n, m) == (4, 2.5)
    # t_{0.975,3} = 3.182446, s = 1.290994, half = 3.182446 * 1.290994 / 2
    assert hi - m == pytest.approx(2.054275, rel=1e-5)
    assert m - lo == pytest.approx(hi - m)
    assert mean_ci([5.0])[2] != mean_ci([5.0])[2]  # NaN bounds for n = 1
    assert mean_ci([math.nan])[0] == 0


def test_parse_grid_and_errors():
    assert parse_grid("btc_futures", ["sigma=0.3,0.6", "taker_count=1,2"]) == {
        "sigma": [0.3, 0.6],
        "taker_count": [1, 2],
    }
    for bad, msg in [
        ([], "empty grid"),
        (["sigma="], "empty grid for sigma"),
        (["nope=1"], "no parameter 'nope'"),
        (["taker_count=abc"], "expects int"),
    ]:
        with pytest.raises(ExperimentError, match=msg):
            parse_grid("btc_futures", bad)
    with pytest.raises(ExperimentError, match="invalid parameter sigma"):
        expand_grid("btc_futures", {"sigma": [-1.0]}, 1)
    specs = expand_grid("btc_futures", GRID, 3, FIXED)
    assert len(specs) == 12 and len({s.run_id for s in specs}) == 12
    assert [s.run_id for s in specs] == [
        s.run_id for s in expand_grid("btc_futures", GRID, 3, FIXED)
    ]


def test_sweep_local_pool_resume_and_report(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ra = run_sweep("btc_futures", GRID, 3, a, fixed=FIXED, workers=1)
    assert (ra.ran, ra.failed, ra.skipped) == (12, 0, 0)
    runs_a, finals_a, nsteps = _runs(a)
    assert len(runs_a) == 12 and {r[2] for r in runs_a} == {"ok"}
    assert nsteps == 21  # 20 steps + the final record
    # a process pool gives the same numbers
    rb = run_sweep("btc_futures", GRID, 3, b, fixed=FIXED, workers=2, plots=False)
    assert rb.ran == 12
    assert _runs(b)[1] == finals_a
    # summary: one row per grid point and KPI, n = 3 seeds
    vol = [r for r in ra.summary if r[1] == "volume"]
    assert len(vol) == 4 and all(r[2] == 3 and r[4] <= r[3] <= r[5] for r in vol)
    assert {p.name for p in ra.plots} == {"sweep-sigma.png", "sweep-taker_count.png"}
    # resume: nothing left to do; without --resume the database is refused
    rr = run_sweep("btc_futures", GRID, 3, a, fixed=FIXED, resume=True, plots=False)
    assert (rr.ran, rr.skipped) == (0, 12)
    rr = run_sweep("btc_futures", GRID, 4, a, fixed=FIXED, resume=True, plots=False)
    assert (rr.ran, rr.skipped) == (4, 12)
    with pytest.raises(ExperimentError, match="--resume"):
        run_sweep("btc_futures", GRID, 3, a, fixed=FIXED)
    html = build_report(a).read_text()
    assert "data:image/png;base64," in html and "volume" in html


def test_failed_run_is_recorded_and_sweep_goes_on(tmp_path):
    # a missing price file passes parameter validation but fails when the run starts
    fixed = {"steps": 10}
    grid = {"prices_file": [str(tmp_path / "missing.csv")], "sigma": [0.3]}
    r = run_sweep("btc_futures", grid, 2, tmp_path / "f", fixed=fixed, plots=False)
    assert (r.ran, r.failed) == (2, 2)
    runs, _, _ = _runs(tmp_path / "f")
    assert {x[2] for x in runs} == {"failed"}


def test_local_ray_binds_to_loopback_only(monkeypatch):
    # a local Ray (no address) is started bound to 127.0.0.1 with cluster mode off
    # during ray.init (else Ray turns 127.0.0.1 into the machine's outward address)
    ray = pytest.importorskip("ray")
    import os

    from ray._private import ray_constants

    from defisim.experiments import backends

    calls = []

    def fake_init(**kwargs):
        calls.append((kwargs, os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"),
                      ray_constants.ENABLE_RAY_CLUSTER))
        raise RuntimeError("no Ray here")

    flag = ray_constants.ENABLE_RAY_CLUSTER
    monkeypatch.delenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fake_init)
    with pytest.raises(ExperimentError, match="a new local instance"):
        list(backends.iter_ray([], 3, None))
    ((kwargs, env, cluster),) = calls
    assert kwargs["_node_ip_address"] == "127.0.0.1" and kwargs["include_dashboard"] is False
    assert kwargs["num_cpus"] == 3 and "address" not in kwargs
    assert (env, cluster) == ("0", False)
    # restored after the call
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ
    assert ray_constants.ENABLE_RAY_CLUSTER == flag
    assert backends.local_ray_init_kwargs(2) == {
        "num_cpus": 2, "include_dashboard": False, "_node_ip_address": "127.0.0.1"}


@pytest.mark.slow
def test_sweep_ray_same_as_local(tmp_path):
    ray = pytest.importorskip("ray")
    from defisim.experiments.backends import init_local_ray

    local = run_sweep("btc_futures", GRID, 2, tmp_path / "l", fixed=FIXED, plots=False)
    init_local_ray(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        # the local instance listens on loopback only
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        rr = run_sweep(
            "btc_futures", GRID, 2, tmp_path / "r", fixed=FIXED, backend="ray", plots=False
        )
    finally:
        ray.shutdown()
    assert rr.ran == local.ran == 8
    assert _runs(tmp_path / "r")[1] == _runs(tmp_path / "l")[1]


def test_optimize_is_deterministic(tmp_path):
    pytest.importorskip("optuna")  # the optimize extra
    from defisim.experiments.optimize import parse_ranges, run_optimize

    ranges = parse_ranges("btc_futures", ["sigma=0.2:1.0", "taker_count=1:3"])
    assert ranges == {"sigma": (float, 0.2, 1.0), "taker_count": (int, 1, 3)}
    kw = dict(objective="volume", trials=4, seed=7, fixed={"steps": 20}, plots=False)
    r1 = run_optimize("btc_futures", ranges, out_dir=tmp_path / "o1", **kw)
    r2 = run_optimize("btc_futures", ranges, out_dir=tmp_path / "o2", **kw)
    assert r1.best_params == r2.best_params and r1.best_value == r2.best_value > 0
    assert (tmp_path / "o1" / "optuna.db").is_file()
    assert json.loads((tmp_path / "o1" / "best.json").read_text())["value"] == r1.best_value
    with pytest.raises(ExperimentError, match="no KPI 'nope'"):
        run_optimize("btc_futures", ranges, "nope", tmp_path / "o3", trials=1, fixed={"steps": 5})
    with pytest.raises(ExperimentError, match="below high"):
        parse_ranges("btc_futures", ["sigma=1:0.5"])


def test_cli_sweep_optimize_report_and_errors(tmp_path):
    pytest.importorskip("optuna")  # the optimize extra
    pytest.importorskip("ray")  # the ray extra (an unreachable --address)
    runner = CliRunner()
    d = tmp_path / "sw"
    res = runner.invoke(
        app,
        [
            "sweep",
            "btc_futures",
            "--grid",
            "sigma=0.3,0.6",
            "--seeds",
            "2",
            "--steps",
            "10",
            "--out",
            str(d),
            "--quiet",
            "--no-plots",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "4 runs (0 not ok)" in res.output
    res = runner.invoke(app, ["report", str(d)])
    assert res.exit_code == 0 and (d / "report.html").is_file()
    o = tmp_path / "opt"
    res = runner.invoke(
        app,
        [
            "optimize",
            "btc_futures",
            "--param",
            "sigma=0.2:1.0",
            "--objective",
            "volume",
            "--trials",
            "3",
            "--steps",
            "10",
            "--out",
            str(o),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "best volume" in res.output and (o / "history.png").is_file()
    for args, msg in [
        (["sweep", "btc_futures", "--grid", "nope=1"], "has no parameter 'nope'"),
        (["sweep", "btc_futures", "--grid", "sigma=abc"], "expects float"),
        (["sweep", "btc_futures"], "empty grid"),
        (
            [
                "sweep",
                "btc_futures",
                "--grid",
                "sigma=0.3",
                "--backend",
                "ray",
                "--address",
                "127.0.0.1:1",
            ],
            "cannot reach the Ray cluster",
        ),
        (["report", str(tmp_path / "none")], "does not exist"),
    ]:
        res = runner.invoke(
            app, [*args, "--out", str(tmp_path / "x")] if args[0] == "sweep" else args
        )
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.startswith("error: ") and msg in res.stderr, res.stderr
    assert not (tmp_path / "x").exists()


def test_pnl_risk_of_pnl_kpis_hand_computed():
    from defisim.experiments.sweep import pnl_risk

    rows = [(0, "mm_pnl", 0.0), (0, "spread", 3.0), (1, "mm_pnl", 10.0), (2, "mm_pnl", 5.0),
            (3, "mm_pnl", 20.0), (0, "x_pnl", 1.0), (1, "x_pnl", 2.0)]
    out = pnl_risk(rows, 3600.0)
    # changes d = [10, -5, 15]: mean 20/3, sample std sqrt(325/3) = 10.408...
    ann = math.sqrt(365 * 24)
    assert out["mm_pnl.sharpe"] == pytest.approx((20 / 3) / math.sqrt(325 / 3) * ann)
    # downside deviation over all 3 periods: sqrt(25 / 3)
    assert out["mm_pnl.sortino"] == pytest.approx((20 / 3) / math.sqrt(25 / 3) * ann)
    assert out["mm_pnl.max_drawdown"] == pytest.approx(5.0)  # 10 -> 5
    assert out["mm_pnl.cvar"] == pytest.approx(5.0)  # the worst of ceil(3 * 5 %) = 1 change
    assert not any(k.startswith(("spread", "x_pnl")) for k in out)  # not PnL / too short
