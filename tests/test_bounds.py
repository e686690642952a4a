"""Input within what the chain represents (:mod:`defisim.numeric.bounds`): prices,
sizes and amounts beyond the bounds are refused when loaded or built, naming the
file and line or the parameter, never deep in a run."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.numeric import bounds
from defisim.prices import MAX_PRICE, PriceFileError, gbm_path, load_price_csv
from defisim.runner.run import Run, RunSetupError
from defisim.scenarios import get_scenario

runner = CliRunner()


def write_csv(tmp_path, prices, name="p.csv"):
    """A CSV with a header and one row per price at t = 0, 60, ...; the i-th price is
    on line i + 2."""
    f = tmp_path / name
    rows = ["timestamp,close"] + [f"{60 * i},{p}" for i, p in enumerate(prices)]
    f.write_text("\n".join(rows) + "\n")
    return f


# ---------------------------------------------------------------- the bounds
def test_bounds_are_the_documented_numbers_and_fit_the_planned_integers():
    assert bounds.MAX_PRICE_TICKS == 10**15 and bounds.MAX_SIZE == 10**15
    assert bounds.MAX_AMOUNT == 10**30
    # a tick count and a lot count a float64 holds exactly, in int64 with room for sums
    assert bounds.MAX_PRICE_TICKS < 2**53 and bounds.MAX_SIZE < 2**53
    assert float(bounds.MAX_PRICE_TICKS + 1) != float(bounds.MAX_PRICE_TICKS)
    assert 1000 * bounds.MAX_PRICE_TICKS < 2**63 and 1000 * bounds.MAX_SIZE < 2**63
    # a raw notional and a total of amounts fit int128
    assert bounds.MAX_PRICE_TICKS * bounds.MAX_SIZE * 10**8 < 2**127
    assert bounds.MAX_AMOUNT * 10**8 < 2**127
    # the prices package keeps its own copy (same layer as numeric): the same number
    assert MAX_PRICE == bounds.MAX_PRICE_TICKS == bounds.MAX_PRICE


def test_check_price_at_the_bound_and_one_tick_above():
    # 2 price decimals: the largest price is 1e15 ticks = 1e13 quote units
    assert bounds.max_price(2) == 1e13
    assert bounds.check_price(1e13, 2, "p") == 10**15
    with pytest.raises(ValueError, match=r"^p: 10000000000000\.01 is 1000000000000001 ticks "
                                         r"at 2 price decimals.*largest price.*10000000000000 "):
        bounds.check_price(1e13 + 0.01, 2, "p")
    assert bounds.check_price(1e15, 0, "p") == 10**15
    with pytest.raises(ValueError, match="1000000000000001 ticks"):
        bounds.check_price(1e15 + 1, 0, "p")
    for bad, msg in ((0.0, "must be > 0"), (-1.0, "must be > 0"), (float("nan"), "finite"),
                     (float("inf"), "finite"), (1e300, "1e\\+302 ticks")):
        with pytest.raises(ValueError, match=msg):
            bounds.check_price(bad, 2, "p")


def test_check_size_and_amount():
    assert bounds.check_size(1e12, 3, "s") == 10**15
    with pytest.raises(ValueError, match="^s: .* lots at 3 position decimals"):
        bounds.check_size(1e12 + 0.001, 3, "s")
    assert bounds.check_amount(1e24, 6, "a") == 10**30
    with pytest.raises(ValueError, match="^a: 1e\\+25 is 1e\\+31 base units at 6 decimals"):
        bounds.check_amount(1e25, 6, "a")
    with pytest.raises(ValueError, match="finite"):
        bounds.check_amount(float("inf"), 6, "a")


def test_mint_above_the_largest_amount_is_refused():
    from defisim import Simulation

    sim = Simulation()
    sim.create_asset("ETH", 18)
    sim.create_party("a")
    assert sim.mint("a", "ETH", 10**12) == 10**30  # at the bound (an int: exact)
    with pytest.raises(ValueError, match=r"^mint amount of ETH for a: 1000000000000\.001 is "):
        sim.mint("a", "ETH", 1e12 + 0.001)


# ------------------------------------------------------------------ CSV files
@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("1e300", "is above 1e+15, the largest price the chain represents"),
        ("1e20", "is above 1e+15, the largest price the chain represents"),
        ("1000000000000001", "is above 1e+15"),
        ("inf", "is not a finite positive number"),
        ("nan", "is not a finite positive number"),
        ("-1", "is not a finite positive number"),
        ("0", "is not a finite positive number"),
    ],
)
def test_csv_refuses_a_bad_price_naming_file_and_line(tmp_path, price, reason):
    f = write_csv(tmp_path, [100, 101, price, 102])  # the bad price is on line 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning leaks
        with pytest.raises(PriceFileError) as info:
            load_price_csv(f)
    e = info.value
    assert (e.line, e.column, e.column_name) == (4, 2, "close")
    assert str(e).startswith(f"{f}:4: column 2 ('close'): price '{price}' ")
    assert reason in str(e) and "\n" not in str(e)


def test_csv_price_exactly_at_the_bound_is_accepted(tmp_path):
    path = load_price_csv(write_csv(tmp_path, [100, "1000000000000000", 50]))
    assert path.prices[1] == 1e15


def test_gbm_running_away_past_float64_is_a_clear_error_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^gbm_path: mu=0\.0, sigma=10000\.0 .*outside "
                                             r"float64 range"):
            gbm_path(2000, 3600.0, 30_000.0, 0.0, 1e4, np.random.default_rng(0))


# ------------------------------------------------------------------ scenarios
def build(name, **params):
    cls = get_scenario(name)
    return Run(cls(cls.Params(**params)), 0)


def test_a_file_price_the_market_cannot_list_is_refused_at_build(tmp_path):
    # 1e14 USDT is 1e16 ticks at btc_futures' 2 price decimals (the loader takes it:
    # a market at 0 decimals could list it)
    f = write_csv(tmp_path, [30_000, 1e14, 30_000])
    with pytest.raises(RunSetupError, match=rf"^btc_futures: prices_file {f}: its largest price: "
                                            r"100000000000000 is 1e\+16 ticks at 2 price decimals"):
        build("btc_futures", prices_file=str(f), risk_sigma=0.8)
    # at the bound the market is built
    ok = write_csv(tmp_path, [1e13 / 2, 1e13, 1e13 / 2], "ok.csv")
    build("btc_futures", prices_file=str(ok), risk_sigma=0.8, steps=2)


def test_a_runaway_generated_path_is_refused_with_its_parameters():
    with pytest.raises(RunSetupError, match=r"^perp_btc: gbm_path: mu=0\.0, sigma=5000\.0"):
        build("perp_btc", sigma=5000.0, steps=50)
    # finite in float64 (about 1e78) but beyond what the market lists: named by its model
    with pytest.raises(RunSetupError, match=r"^perp_btc: the reference path of s0=30000\.0, "
                                            r"mu=30000\.0, sigma=0\.6: its largest price: "
                                            r".* ticks at 2 price decimals"):
        build("perp_btc", mu=30_000.0, steps=50)
    # within the bound: built
    build("perp_btc", mu=3000.0, steps=50)


@pytest.mark.parametrize(
    ("scenario", "param", "value", "expect"),
    [
        ("btc_futures", "mm_collateral", 1e25, "mm_collateral: 1e+25 is 1e+31 base units at 6 "
                                               "decimals, above the largest amount"),
        ("btc_futures", "mm_order_size", 1e13, "mm_order_size: 10000000000000 is 1e+16 lots at 3 "
                                               "position decimals"),
        ("market_crash", "taker_collateral", 1e30, "taker_collateral: 1e+30"),
        ("load_test", "maker_collateral", 1e30, "maker_collateral: 1e+30"),
    ],
)
def test_a_parameter_above_its_bound_is_refused_with_its_name(scenario, param, value, expect):
    kwargs = {param: value}
    if scenario == "btc_futures":
        kwargs["steps"] = 5
    with pytest.raises(RunSetupError, match="^" + scenario) as info:
        build(scenario, **kwargs)
    assert expect in str(info.value)


def test_a_size_worth_more_than_the_largest_amount_at_the_path_top_is_refused(tmp_path):
    # 1e12 contracts (1e15 lots: at the size bound) at 1e13 USDT (at the price bound) are
    # worth 1e25 USDT = 1e31 base units, above MAX_AMOUNT
    f = write_csv(tmp_path, [1e13, 1e13, 1e13])
    with pytest.raises(RunSetupError, match=r"mm_max_inventory \(contracts\) at the path's "
                                            r"largest price 10000000000000, in asset units: "
                                            r"1e\+25 is 1e\+31 base units"):
        build("btc_futures", prices_file=str(f), risk_sigma=0.8, mm_max_inventory=1e12)


# ------------------------------------------------------------------------ CLI
@pytest.mark.parametrize(("price", "expect"), [
    ("1e300", ":4: column 2 ('close'): price '1e300' is above 1e+15"),
    ("nan", ":4: column 2 ('close'): price 'nan' is not a finite positive number"),
    ("1e14", "its largest price: 100000000000000 is 1e+16 ticks at 2 price decimals"),
])
def test_cli_exits_2_and_creates_no_folder(tmp_path, price, expect):
    f = write_csv(tmp_path, [30_000, 30_100, price, 30_200])
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", "btc_futures", "--prices", str(f), "--set", "risk_sigma=0.8",
                            "--out", str(out), "--quiet"])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0]
    assert not out.exists()
