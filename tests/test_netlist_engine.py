"""The netlist engine and its verbs: horizon arithmetic (spec 1.2), CSV formats (1.4,
1.8), plot conventions (1.5), scenario files, and bad input (one error line, exit 2)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.scenarios.loader import ScenarioFileError, load_scenario_file
from defisim.scenarios.netlist import YParam, max_ticks, read_csv
from defisim.scenarios.netlist.tokenspice_csv import format_row, write_rows
from defisim.scenarios.netlist.tokenspice_plots import (
    BOTH,
    COUNT,
    DIV1M,
    DOLLAR,
    MULT100,
    PERCENT,
    file_name,
    unit_string,
    x_tick_step,
)

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "netlists" / "data_market.py"


@pytest.mark.parametrize("value, unit, dt, ticks, t_last", [
    (10, "days", 3600, 241.0, 241),        # simplegrant
    (20, "days", 3600, 481.0, 481),        # simplepool
    (2, "years", 86400, 731.0, 731),       # wsloop
    (19, "days", 3600, 457.0, 457),        # oceanv3
    (30, "years", 3600, 262801.0, 262801),  # every DARC netlist
    (12, "ticks", 60, 12.0, 12),
])
def test_horizon_arithmetic_of_spec_1_2(value, unit, dt, ticks, t_last):
    assert max_ticks(value, unit, dt) == ticks and math.ceil(ticks) == t_last


def test_scheduler_horizon_is_a_float():
    m = max_ticks(10, "years", 30 * 86400)
    assert m == 10 * 365 * 86400 / (30 * 86400) + 1 and math.ceil(m) == 123
    with pytest.raises(ValueError, match="unknown time unit"):
        max_ticks(1, "weeks", 3600)


def test_value_formats():
    assert format_row([0, 0.0, 1e16, math.inf, 0.03333333333333333, True]) == \
        "0, 0.0, 1e+16, inf, 0.03333333333333333, 1"
    assert format_row([0, 0.0, 1.0, 9.4608e8, 123456789.0], "darc") == "0, 0, 1, 9.4608e+08, 1.23457e+08"


def test_darc_files_pad_rows_to_the_last_header(tmp_path):
    rows = [(["Tick", "a"], [0, 1.0]), (["Tick", "a", "b"], [24, 2.0, 3.0])]
    paths = write_rows(tmp_path, rows, "darc")
    assert [p.name for p in paths] == ["data.csv", "datax.csv"]
    assert (tmp_path / "data.csv").read_text() == "Tick, a\n0, 1\n24, 2, 3\n"
    assert (tmp_path / "datax.csv").read_text() == "Tick, a, b\n0, 1, 0\n24, 2, 3\n"
    header, values = read_csv(tmp_path / "datax.csv")
    assert header == ["Tick", "a", "b"] and values == [[0, 1, 0], [24, 2, 3]]


def test_plot_conventions_of_spec_1_5():
    assert file_name("R&D/Sales Ratio and Marketplaces Growth Rate", "LOG") == \
        "R&D_per_Sales_Ratio_and_Marketplaces_Growth_Rate_LOG.png"
    assert file_name("Agents' OCEAN, networth", "LINEAR") == "Agents_OCEAN_networth_LINEAR.png"
    assert (unit_string(DIV1M, DOLLAR), unit_string(MULT100, PERCENT)) == ("$M", "%")
    with pytest.raises(ValueError, match="no unit string"):
        YParam(["x"], ["x"], "X", BOTH, MULT100, COUNT)
    assert [x_tick_step(x) for x in (5, 11, 21, 51, 151, 201, 999, 4999)] == \
        [1, 1, 2, 5, 10, 20, 100, 500]
    assert x_tick_step(365, darc=True) == 20
    with pytest.raises(ValueError, match="too many ticks"):
        x_tick_step(5000)


def test_example_netlist_runs_from_its_file(tmp_path):
    out = tmp_path / "dm"
    r = runner.invoke(app, ["netlist", "run", str(EXAMPLE), str(out), "--seed", "3", "-q",
                            "--set", "max_time=60", "--set", "max_time_unit=days"])
    assert r.exit_code == 0, r.output
    header, rows = read_csv(out / "data.csv")
    assert header[7:] == ["DATA_supply", "treasury_DATA", "builders_DATA", "builders_raised_USD",
                          "treasury_USD", "publishers_USD", "sales"]
    assert [int(row[0]) for row in rows] == list(range(0, 61, 7))
    last = dict(zip(header, rows[-1], strict=True))
    # every toll went to the treasury: toll = 2 % of sales, publishers got the rest
    assert last["treasury_USD"] == pytest.approx(
        0.02 * (last["treasury_USD"] + last["publishers_USD"]), rel=1e-3)
    again = tmp_path / "dm2"
    runner.invoke(app, ["netlist", "run", str(EXAMPLE), str(again), "--seed", "3", "-q",
                        "--set", "max_time=60", "--set", "max_time_unit=days"])
    assert (again / "data.csv").read_bytes() == (out / "data.csv").read_bytes()
    png = tmp_path / "png"
    r = runner.invoke(app, ["netlist", "plot", str(EXAMPLE), str(out), str(png)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in png.iterdir()) == [
        "DATA_tokens_LINEAR.png", "Sales_LINEAR.png", "USD_income_LINEAR.png"]


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_bad_netlist_files(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert "defines no scenario" in _error_line(runner.invoke(app, ["netlist", "run", str(empty), str(tmp_path / "o")]))
    broken = tmp_path / "broken.py"
    broken.write_text("from defisim.scenarios.netlist import Netlist\n\nclass N(Netlist:\n    pass\n")
    line = _error_line(runner.invoke(app, ["netlist", "run", str(broken), str(tmp_path / "o")]))
    assert f"{broken}:3: SyntaxError" in line
    raising = tmp_path / "raising.py"
    raising.write_text("import math\n\nmath.sqrt(-1)\n")
    assert f"{raising}:3: ValueError" in _error_line(runner.invoke(app, ["run", str(raising)]))
    assert not (tmp_path / "o").exists()
    with pytest.raises(ScenarioFileError, match="no such file"):
        load_scenario_file(tmp_path / "missing.py")


def test_unknown_plot_column_and_existing_output(tmp_path):
    out = tmp_path / "sg"
    assert runner.invoke(app, ["netlist", "run", "simplegrant", str(out), "-q"]).exit_code == 0
    line = _error_line(runner.invoke(app, ["netlist", "run", "simplegrant", str(out)]))
    assert "exists" in line
    bad = tmp_path / "badplot.py"
    bad.write_text(
        "from defisim.scenarios.netlist import YParam\n"
        "from defisim.scenarios.simplegrant import SimpleGrant\n\n"
        "class BadPlot(SimpleGrant):\n"
        "    name = 'badplot'\n"
        "    def plot_specs(self, header):\n"
        "        return [YParam(['granter_OCEAN', 'granter_GOLD'], ['a', 'b'], 'Gold')]\n")
    line = _error_line(runner.invoke(app, ["netlist", "plot", str(bad), str(out), str(tmp_path / "p")]))
    assert "plot 'Gold' names unknown column 'granter_GOLD'" in line
    assert "is not a netlist" in _error_line(runner.invoke(app, ["netlist", "run", "btc_futures", str(tmp_path / "b")]))
    r = runner.invoke(app, ["netlist", "list"])
    assert r.exit_code == 0 and "wsloop:" in r.output and "scheduler:" in r.output


def test_monte_carlo_sweep_over_a_netlist_parameter(tmp_path):
    """A sweep over opsci_profit_sharing's funding boundary, 3 seeds, 3 years: a mean and
    a 95 % CI per point, and a boundary above the treasury stops the grants."""
    import csv

    out = tmp_path / "mc"
    r = runner.invoke(app, ["sweep", "opsci_profit_sharing", "--grid", "funding_boundary=0,600000",
                            "--seeds", "3", "--workers", "1", "--set", "max_time=3",
                            "--out", str(out), "--kpi", "dao_treasury_OCEAN"])
    assert r.exit_code == 0, r.output
    rows = {(row["funding_boundary"], row["kpi"]): row
            for row in csv.DictReader((out / "results.csv").open())}
    low, high = rows[("0.0", "dao_treasury_OCEAN")], rows[("600000.0", "dao_treasury_OCEAN")]
    assert int(low["n"]) == int(high["n"]) == 3
    assert float(low["ci95_low"]) <= float(low["mean"]) <= float(low["ci95_high"])
    # above the treasury's 500,000 OCEAN nothing is ever granted: it only collects fees
    assert float(high["mean"]) >= 500_000 > float(low["mean"])


def test_netlist_plot_draws_the_research_project_plots_too(tmp_path):
    out = tmp_path / "cg"
    r = runner.invoke(app, ["netlist", "run", "community_growth_public_funding_ps", str(out), "-q",
                            "--set", "max_time=40000", "--set", "max_time_unit=ticks"])
    assert r.exit_code == 0, r.output
    assert (out / "rpdata.csv").is_file() and (out / "datax.csv").is_file()
    r = runner.invoke(app, ["netlist", "plot", "community_growth_public_funding_ps", str(out),
                            str(tmp_path / "png")])
    assert r.exit_code == 0 and r.output.strip() == f"25 plots in {tmp_path / 'png'}"  # 18 + 7 rp
