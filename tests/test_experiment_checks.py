"""Experiments that tell the truth: optimize and sweep check what they are given before
anything is created, optimize says when its objective is flat, the sweep table fits
the terminal and results.csv holds the full table."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from defisim.cli import app
from defisim.experiments import ExperimentError
from defisim.experiments.checks import check_kpis, check_range, param_bounds, scenario_kpis
from defisim.experiments.optimize import is_flat, parse_ranges
from defisim.experiments.sweep import RunSpec, execute_run
from defisim.experiments.table import sweep_table

ENV = {"COLUMNS": "80"}


def _optimize(tmp_path, *args):
    out = tmp_path / "study"
    res = CliRunner().invoke(app, ["optimize", *args, "--out", str(out)], env=ENV)
    return res, out


# ------------------------------------------------------------------ KPI names
@pytest.mark.parametrize("scenario", ["btc_futures", "fee_risk_study"])
def test_kpi_names_without_running_cover_what_a_run_records(scenario):
    names = scenario_kpis(scenario, {"steps": 3})
    r = execute_run(RunSpec("x", scenario, {"steps": 3}, (), 0))
    assert r["status"] == "ok"
    assert set(r["kpis"]) <= set(names), set(r["kpis"]) - set(names)
    assert "volume" in names and len(names) == len(set(names))
    market = next(n.partition(".")[0] for n in r["kpis"] if n.endswith(".volume"))
    assert f"{market}.spread" in names  # a built-in, even where a run has no value at the end
    if scenario == "fee_risk_study":
        assert "mm_pnl.sharpe" in names and "mm_pnl.cvar" in names


def test_check_kpis_suggests_the_closest_and_lists_all():
    valid = ["volume", "trades", "spread", "M.volume", "M.trades"]
    assert check_kpis(["trades", "volume", "trades"], valid, "s") == ["trades", "volume"]
    with pytest.raises(ExperimentError) as exc:
        check_kpis(["volme"], valid, "s", "--objective")
    msg = str(exc.value)
    assert "--objective: scenario s has no KPI 'volme' (did you mean 'volume' or 'M.volume'?)" in msg
    assert msg.endswith("KPIs: volume, trades, spread, M.{volume,trades}")
    assert "\n" not in msg


def test_param_bounds_and_ranges():
    from defisim.scenarios import get_scenario

    model = get_scenario("btc_futures").Params
    assert param_bounds(model, "maker_fee") == [("ge", 0), ("le", 1)]
    assert param_bounds(model, "risk_aversion") == [("gt", 0), ("lt", 1)]
    check_range(model, "maker_fee", 0.0, 1.0)  # the bounds themselves are in (ge, le)
    for name, lo, hi, msg in [
        ("maker_fee", 0.1, 2.0, "high 2.0 is out of bounds; the parameter must be maker_fee <= 1"),
        ("sigma", -1.0, 1.0, "low -1.0 is out of bounds; the parameter must be sigma >= 0"),
        ("risk_aversion", 0.5, 1.0, "risk_aversion < 1 (lt=1)"),
        ("risk_aversion", 0.0, 0.5, "risk_aversion > 0 (gt=0)"),
        ("sigma", 0.5, 0.5, "low (0.5) must be below high (0.5)"),
    ]:
        with pytest.raises(ExperimentError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            check_range(model, name, lo, hi)
    with pytest.raises(ExperimentError, match=r"only int and float .* \(instrument is str"):
        parse_ranges("btc_futures", ["instrument=a:b"])
    with pytest.raises(ExperimentError, match="sigma given twice"):
        parse_ranges("btc_futures", ["sigma=0.1:0.2", "sigma=0.3:0.4"])
    with pytest.raises(ExperimentError, match=r"no parameter 'sigmaa' \(did you mean 'sigma'"):
        parse_ranges("btc_futures", ["sigmaa=0.1:0.2"])


# ------------------------------------------------------------- optimize CLI
@pytest.mark.parametrize(
    "args, msg",
    [
        (["--param", "sigma=0.2:1", "--objective", "volme"],
         "has no KPI 'volme' (did you mean 'volume'?); KPIs: reference_price"),
        (["--param", "maker_fee=0.0001:2", "--objective", "volume"],
         "high 2.0 is out of bounds; the parameter must be maker_fee <= 1 (le=1)"),
        (["--param", "sigma=1:0.5", "--objective", "volume"], "must be below high"),
        (["--param", "nope=1:2", "--objective", "volume"], "has no parameter 'nope'"),
        (["--param", "sigma=0.2:1", "--objective", "volume", "--trials", "0"],
         "--trials must be at least 1, got 0"),
        (["--param", "sigma=0.2:1", "--objective", "volume", "--direction", "up"],
         "--direction must be maximize or minimize"),
    ],
)
def test_optimize_bad_input_exit_2_one_line_nothing_created(tmp_path, args, msg):
    res, out = _optimize(tmp_path, "btc_futures", *args, "--steps", "5")
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and msg in res.stderr, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.output
    assert not out.exists()


def test_is_flat():
    assert is_flat([3.0, 3.0, 3.0]) and is_flat([0.0, 0.0])
    assert is_flat([1e6, 1e6 * (1 + 1e-12)])
    assert not is_flat([3.0, 3.0, 3.1]) and not is_flat([0.0, 1e-12])
    assert not is_flat([5.0])  # one trial cannot tell


def test_optimize_warns_when_the_objective_is_flat(tmp_path):
    # no agent of btc_futures reacts to the maker fee: every trial trades the same volume
    res, out = _optimize(tmp_path, "btc_futures", "--param", "maker_fee=0.0001:0.001",
                         "--objective", "volume", "--trials", "3", "--steps", "20")
    assert res.exit_code == 0, res.output
    assert "warning: the objective volume is flat in maker_fee: all 3 trials gave" in res.stderr
    best = json.loads((out / "best.json").read_text())
    assert best["flat"] is True and best["objective_min"] == best["objective_max"]
    assert "flat in maker_fee" in best["warning"]


def test_optimize_no_warning_when_the_objective_varies(tmp_path):
    res, out = _optimize(tmp_path, "btc_futures", "--param", "taker_count=0:4",
                         "--objective", "volume", "--trials", "3", "--steps", "20")
    assert res.exit_code == 0, res.output
    assert "warning:" not in res.output
    best = json.loads((out / "best.json").read_text())
    assert best["flat"] is False and best["warning"] is None
    assert best["objective_min"] < best["objective_max"]


def test_readme_optimize_example_is_not_flat(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("defisim optimize "))
    args = line.split()[2:]
    args[args.index("--trials") + 1] = "3"
    res, out = _optimize(tmp_path, *args)
    assert res.exit_code == 0, res.output
    best = json.loads((out / "best.json").read_text())
    assert best["flat"] is False and best["objective_max"] > best["objective_min"]


# --------------------------------------------------------------- sweep table
def _summary(points: list[tuple], kpis: list[str]) -> list[tuple]:
    rows = []
    for i, pt in enumerate(points):
        for j, k in enumerate(kpis):
            m = 12345.678901 * (i + 1) + j
            rows.append((pt, k, 10, m, m - 987.654, m + 987.654))
    return rows


def _table_lines(output: str) -> list[str]:
    """The lines of the printed table: from its title to its bottom rule."""
    lines = output.splitlines()
    end = next(i for i, ln in enumerate(lines) if ln.startswith("└"))
    assert "mean ± 95 % CI" in lines[0]
    return lines[: end + 1]


def _render(table) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=80, force_terminal=False).print(table)
    return buf.getvalue().splitlines()


def test_sweep_table_fits_80_columns_and_names_what_it_leaves_out():
    kpis = ["best_ask", "best_bid", "closeouts", "in_auction", "spread", "trades",
            "volume", "mm_return_on_capital", "M.volume"]
    points = list(itertools.product([0.3, 0.6], [1, 2, 3]))
    summary = _summary(points, kpis)
    st = sweep_table(["sigma", "taker_count"], summary, None, 80)
    assert st.shown[:2] == ["volume", "trades"]  # the default KPIs first
    assert set(st.shown) | set(st.left_out) == set(kpis) and not set(st.shown) & set(st.left_out)
    lines = _render(st.table)
    assert max(map(len, lines)) <= 80
    header = next(ln for ln in lines if "sigma" in ln)
    assert all(k in header for k in st.shown) and "best_ask" not in header
    # KPIs named by the user are all shown, in order, and still fit (cells wrap)
    named = ["mm_return_on_capital", "best_ask", "best_bid", "closeouts", "in_auction", "M.volume"]
    st = sweep_table(["sigma", "taker_count"], summary, named, 80)
    assert st.shown == named and set(st.left_out) == {"spread", "trades", "volume"}
    assert max(map(len, _render(st.table))) <= 80


def test_sweep_kpi_columns_table_width_and_results_csv(tmp_path):
    d = tmp_path / "sw"
    grid = {"sigma": [0.3, 0.6], "taker_count": [1, 2]}
    res = CliRunner().invoke(app, [
        "sweep", "btc_futures", "--grid", "sigma=0.3,0.6", "--grid", "taker_count=1,2",
        "--seeds", "2", "--steps", "10", "--out", str(d), "--no-plots",
        "--kpi", "mm_inventory", "--kpi", "BTCUSDT-FUT.open_interest",
    ], env=ENV)
    assert res.exit_code == 0, res.output
    lines = _table_lines(res.stdout)
    assert max(map(len, lines)) <= 80
    header = next(ln for ln in lines if "sigma" in ln)
    assert "mm_inventory" in header and "volume" not in header
    assert f"every KPI of every point (mean, CI, n): {d / 'results.csv'}" in res.stdout
    assert "more KPIs not shown (choose columns with --kpi)" in res.stdout
    assert json.loads((d / "sweep.json").read_text())["kpis"] == [
        "mm_inventory", "BTCUSDT-FUT.open_interest"]

    with (d / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["sigma", "taker_count", "kpi", "n", "mean", "ci95_low", "ci95_high"]
    con = duckdb.connect(str(d / "sweep.duckdb"), read_only=True)
    try:
        kpis = {k for (k,) in con.execute("SELECT DISTINCT kpi FROM final_kpis").fetchall()}
    finally:
        con.close()
    got = {(float(r["sigma"]), int(r["taker_count"]), r["kpi"]) for r in rows}
    want = {(s, t, k) for s, t in itertools.product(*grid.values()) for k in kpis}
    assert got == want and len(rows) == len(want)
    assert all(r["n"] == "2" for r in rows if r["kpi"] == "volume")
    vol = [r for r in rows if r["kpi"] == "volume"]
    assert all(float(r["ci95_low"]) <= float(r["mean"]) <= float(r["ci95_high"]) for r in vol)
    assert not any(math.isnan(float(r["mean"])) for r in vol)


def test_sweep_default_columns_and_unknown_kpi(tmp_path):
    d = tmp_path / "sw"
    res = CliRunner().invoke(app, [
        "sweep", "btc_futures", "--grid", "sigma=0.3,0.6", "--steps", "10", "--out", str(d),
        "--no-plots",
    ], env=ENV)
    assert res.exit_code == 0, res.output
    header = next(ln for ln in res.stdout.splitlines() if "sigma" in ln)
    for k in ("volume", "trades", "spread"):
        assert k in header
    assert max(map(len, _table_lines(res.stdout))) <= 80
    bad = tmp_path / "bad"
    res = CliRunner().invoke(app, [
        "sweep", "btc_futures", "--grid", "sigma=0.3", "--steps", "10", "--out", str(bad),
        "--kpi", "volume", "--kpi", "trade",
    ], env=ENV)
    assert res.exit_code == 2
    assert res.stderr.startswith("error: --kpi: scenario btc_futures has no KPI 'trade'")
    assert "did you mean 'trades'" in res.stderr and not bad.exists()
