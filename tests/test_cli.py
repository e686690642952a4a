"""The ``defisim`` command line: run, plot, scenarios, replay-lobster, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim.agents.base import Agent
from defisim.cli import app
from defisim.protocols.futures import accounts as acct
from defisim.scenarios import scenario_names
from defisim.scenarios.base import Scenario, ScenarioParams, register

runner = CliRunner()


# ------------------------------------------------------------- test scenarios
class PricedParams(ScenarioParams):
    steps: int | None = None
    step_seconds: float = 60.0
    prices_file: str | None = None
    """CSV of reference prices."""
    price_column: str | None = None
    time_column: str | None = None
    scale: float = 1.0
    """A float parameter."""


@register
class PricedScenario(Scenario):
    """Loads its price file when asked for its length (like btc_futures)."""

    name = "clitest_priced"
    description = "test scenario with a price file"
    Params = PricedParams

    def total_steps(self) -> int:
        if self.params.prices_file is not None:
            from defisim.prices import load_price_csv

            path = load_price_csv(
                self.params.prices_file, self.params.time_column, self.params.price_column
            )
            n = len(path.prices) if hasattr(path, "prices") else len(path)
            return self.params.steps or n
        return self.params.steps or 3

    def build(self, sim):
        sim.create_asset("USD", 6)
        return []

    def kpis(self, sim):
        return {"scaled_time": sim.now * self.params.scale}


class _Breaker(Agent):
    def step(self, sim):
        if sim.now >= 120:  # step 2 (60 s steps), block 3
            b = sim.chain.ledger.balances
            key = acct.general("nobody", "USD")
            b[key] = b.get(key, 0) + 1


@register
class BrokenScenario(Scenario):
    name = "clitest_broken"
    description = "breaks conservation at step 2"
    Params = PricedParams

    def total_steps(self) -> int:
        return 5

    def build(self, sim):
        sim.create_asset("USD", 6)
        return [_Breaker("breaker")]


class _CtrlC(Agent):
    def step(self, sim):
        if sim.now >= 180:  # step 3
            raise KeyboardInterrupt


@register
class InterruptedScenario(Scenario):
    name = "clitest_ctrl_c"
    description = "Ctrl-C at step 3"
    Params = PricedParams

    def total_steps(self) -> int:
        return 10

    def build(self, sim):
        return [_CtrlC("ctrl_c")]


def _error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


# ---------------------------------------------------------------------- tests
def test_scenarios_lists_parameters():
    r = runner.invoke(app, ["scenarios"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "simplegrant" in out and "granter_n_actions" in out
    assert "clitest_priced" in out and "A float parameter." in out
    assert "Seconds per tick (TokenSPICE: one hour)." in " ".join(out.split())


def test_run_simplegrant_writes_all_files(tmp_path):
    out = tmp_path / "sg"
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "--seed", "3", "--quiet"])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == str(out)
    assert {p.name for p in out.iterdir()} == {
        "run.duckdb",
        "params.json",
        "summary.json",
        "kpis.png",
        "data.csv",  # a netlist also writes TokenSPICE's CSV
    }
    params = json.loads((out / "params.json").read_text())
    assert params["scenario"] == "simplegrant" and params["seed"] == 3
    assert params["params"]["granter_n_actions"] == 4
    assert (
        params["command"][1:] == ["run", "simplegrant", "--out", str(out), "--seed", "3", "--quiet"]
        or params["command"]
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 242 and summary["kpis"]["granter_OCEAN"] == 0.0
    assert summary["plots"] == ["kpis.png"] and summary["error"] is None


def test_run_prints_summary_table_and_set_and_steps(tmp_path):
    out = tmp_path / "s"
    r = runner.invoke(
        app,
        [
            "run",
            "simplegrant",
            "--out",
            str(out),
            "--steps",
            "30",
            "--set",
            "granter_n_actions=2",
            "--set",
            "ocean_price=2.5",
            "--no-plots",
            "--no-invariants",
        ],
    )
    assert r.exit_code == 0, r.output
    assert f"run folder: {out}" in r.stdout and "30 / 30" in r.stdout
    params = json.loads((out / "params.json").read_text())["params"]
    assert params["steps"] == 30 and params["granter_n_actions"] == 2
    assert params["ocean_price"] == 2.5
    assert not list(out.glob("*.png"))


def test_unknown_scenario(tmp_path):
    r = runner.invoke(app, ["run", "no_such_scenario", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    line = _error_line(r)
    assert "unknown scenario 'no_such_scenario'" in line and "simplegrant" in line
    assert not (tmp_path / "x").exists()


def test_bad_set_name_lists_valid_names(tmp_path):
    r = runner.invoke(
        app, ["run", "simplegrant", "--out", str(tmp_path / "x"), "--set", "granter_n_action=2"]
    )
    assert r.exit_code == 2
    line = _error_line(r)
    assert "no parameter 'granter_n_action'" in line and "granter_n_actions" in line
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("item", "expect"),
    [
        ("granter_n_actions=two", "parameter granter_n_actions expects int, got 'two'"),
        ("ocean_price=cheap", "parameter ocean_price expects float, got 'cheap'"),
        ("steps=1.5", "parameter steps expects int | None, got '1.5'"),
        ("granter_n_actions=0", "invalid parameter granter_n_actions"),
        ("granter_n_actions", "--set expects name=value"),
    ],
)
def test_bad_set_value(tmp_path, item, expect):
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(tmp_path / "x"), "--set", item])
    assert r.exit_code == 2
    assert expect in _error_line(r)
    assert not (tmp_path / "x").exists()


def test_prices_option_needs_the_parameter(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("timestamp,close\n1,100\n")
    r = runner.invoke(
        app, ["run", "simplegrant", "--prices", str(csv), "--out", str(tmp_path / "x")]
    )
    assert r.exit_code == 2
    assert "has no parameter prices_file (given by --prices)" in _error_line(r)
    r = runner.invoke(
        app,
        [
            "run",
            "clitest_priced",
            "--prices",
            str(tmp_path / "missing.csv"),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert r.exit_code == 2
    assert "does not exist" in _error_line(r)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("scenario", ["clitest_priced", "btc_futures"])
def test_malformed_price_csv(tmp_path, scenario):
    if scenario not in scenario_names():
        pytest.skip(f"{scenario} not registered")
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,close\n1700000000,100.5\n1700000060,not-a-price\n")
    r = runner.invoke(app, ["run", scenario, "--prices", str(csv), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    line = _error_line(r)
    assert "bad.csv:3" in line and "close" in line
    assert not (tmp_path / "x").exists()


def test_price_columns_map_to_parameters(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("t,px\n1700000000,100.5\n1700000060,101\n1700000120,99\n")
    out = tmp_path / "ok"
    r = runner.invoke(
        app,
        [
            "run",
            "clitest_priced",
            "--prices",
            str(csv),
            "--time-column",
            "t",
            "--price-column",
            "px",
            "--out",
            str(out),
            "-q",
            "--no-plots",
        ],
    )
    assert r.exit_code == 0, r.output
    params = json.loads((out / "params.json").read_text())["params"]
    assert (params["prices_file"], params["time_column"], params["price_column"]) == (
        str(csv),
        "t",
        "px",
    )
    assert json.loads((out / "summary.json").read_text())["steps"] == 3
    # a wrong column name is one error line
    r = runner.invoke(
        app,
        [
            "run",
            "clitest_priced",
            "--prices",
            str(csv),
            "--time-column",
            "t",
            "--price-column",
            "close",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert r.exit_code == 2
    assert "close" in _error_line(r)
    assert not (tmp_path / "x").exists()


def test_existing_folder_needs_force(tmp_path):
    out = tmp_path / "f"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q"])
    assert r.exit_code == 2
    assert "not empty (use --force" in _error_line(r)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--force"])
    assert r.exit_code == 0, r.output
    assert (out / "summary.json").exists() and (out / "keep.txt").exists()


def test_invariant_violation_exits_nonzero_with_summary(tmp_path):
    out = tmp_path / "inv"
    r = runner.invoke(app, ["run", "clitest_broken", "--out", str(out), "-q"])
    assert r.exit_code == 1
    line = _error_line(r)
    assert line.startswith("error: invariant violated at block 3")
    assert "asset USD: accounts hold 1, minted - burned = 0" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["error"].startswith("invariant violated") and summary["steps"] == 2


def test_ctrl_c_exits_130_with_partial_run(tmp_path):
    out = tmp_path / "cc"
    r = runner.invoke(app, ["run", "clitest_ctrl_c", "--out", str(out), "-q"])
    assert r.exit_code == 130
    assert "interrupted after 3 of 10 steps" in _error_line(r)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["steps"] == 3
    assert (out / "run.duckdb").exists()


def test_plot_redraws_from_the_store(tmp_path):
    out = tmp_path / "p"
    assert (
        runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--no-plots"]).exit_code
        == 0
    )
    assert not (out / "kpis.png").exists()
    r = runner.invoke(app, ["plot", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == str(out / "kpis.png")
    assert (out / "kpis.png").stat().st_size > 5_000
    r = runner.invoke(app, ["plot", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "does not exist" in _error_line(r)
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["plot", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "has no run.duckdb" in _error_line(r)


def _lobster_files(tmp_path: Path) -> tuple[Path, Path]:
    msg = tmp_path / "msg.csv"
    book = tmp_path / "book.csv"
    # a buy at $100.00 for 100 shares, then a sell at $100.10 for 50
    msg.write_text("34200.0,1,1,100,1000000,1\n34200.5,1,2,50,1001000,-1\n")
    book.write_text("9999999999,0,1000000,100\n1001000,50,1000000,100\n")
    return msg, book


def test_replay_lobster(tmp_path):
    msg, book = _lobster_files(tmp_path)
    r = runner.invoke(app, ["replay-lobster", str(msg), str(book)])
    assert r.exit_code == 0, r.output
    assert "2 of 2 matched" in r.stdout
    r = runner.invoke(app, ["replay-lobster", str(msg), str(book), "--json"])
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["messages"] == 2 and obj["snapshots_matched"] == 2


def test_replay_lobster_malformed(tmp_path):
    msg, book = _lobster_files(tmp_path)
    msg.write_text("34200.0,1,1,100,1000000,1\n34200.5,1,2,abc,1001000,-1\n")
    r = runner.invoke(app, ["replay-lobster", str(msg), str(book)])
    assert r.exit_code == 2
    assert "msg.csv:2" in _error_line(r)
