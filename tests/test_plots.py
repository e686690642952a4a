"""The run plots (:mod:`defisim.runner.plots`): party styles, units, dates, no repeats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from matplotlib import dates as mdates

from defisim.runner import run_scenario
from defisim.runner.plots import (
    MAX_STYLED,
    OTHER_STYLE,
    PALETTE,
    kpi_unit,
    party_styles,
    plot_run,
    run_figures,
)
from defisim.scenarios import get_scenario

START = datetime(2021, 4, 4, 20, tzinfo=UTC)
PARTY_PANELS = ("positions", "PnL", "margin accounts")


def _dated_csv(path, n=90):
    rng = np.random.default_rng(0)
    prices = 58000 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    rows = [
        f"{(START + timedelta(hours=k)).strftime('%Y-%m-%d %H:%M:%S')},{p:.2f}"
        for k, p in enumerate(prices)
    ]
    path.write_text("date,close\n" + "\n".join(rows) + "\n")
    return path


def _btc(tmp_path, name, **params):
    cls = get_scenario("btc_futures")
    sc = cls(cls.Params(**params))
    res = run_scenario(sc, seed=1, out_dir=tmp_path / name, progress=False)
    assert res.error is None and res.plot_error is None
    return res.out_dir


@pytest.fixture(scope="module")
def dated_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plots")
    csv = _dated_csv(tmp / "btc.csv")
    return _btc(tmp, "dated", prices_file=str(csv), steps=60, noise_count=4)


@pytest.fixture(scope="module")
def dated_figures(dated_run):
    return run_figures(dated_run)


def _axes(figures):
    for name, fig in figures.items():
        for ax in fig.axes:
            yield name, ax


def _party_axes(figures):
    for name, ax in _axes(figures):
        if any(ax.get_title().endswith(p) or ax.get_title().startswith(p) for p in PARTY_PANELS):
            yield name, ax


# ------------------------------------------------------------------ styles
def test_party_styles_are_deterministic_distinct_and_capped():
    names = [f"p{i:02d}" for i in range(MAX_STYLED)]
    a = party_styles(names)
    assert a == party_styles(list(reversed(names)) + names[:3])  # order and repeats ignored
    pairs = {(st["color"], st["ls"]) for st in a.values()}
    assert len(pairs) == MAX_STYLED  # no two parties look the same
    assert a["p00"]["color"] == PALETTE[0] and a["p20"]["color"] == PALETTE[0]
    assert a["p00"]["ls"] != a["p20"]["ls"]
    # a style depends on the set of parties, not on the panel drawing it
    assert party_styles(names[:5])["p03"] == a["p03"]
    # beyond MAX_STYLED the least active are grey
    many = [f"q{i:03d}" for i in range(MAX_STYLED + 5)]
    act = {n: float(i) for i, n in enumerate(many)}
    st = party_styles(many, act)
    grey = sorted(n for n, s in st.items() if s["other"])
    assert grey == many[:5] and st["q000"]["color"] == OTHER_STYLE["color"]
    assert len({(s["color"], s["ls"]) for s in st.values() if not s["other"]}) == MAX_STYLED


def test_kpi_units_from_names():
    def u(name):
        return kpi_unit(name, "USDT", "USDT", {"USDT", "OCEAN"})

    assert u("reference_price") == u("best_bid") == u("mm_quoted_spread") == "USDT"
    assert u("funding_payment") == "USDT per contract"
    assert u("mm_inventory") == u("volume") == u("open_interest") == "contracts"
    assert u("mm_pnl") == u("insurance_pool_peak") == u("lp_cheap.bond") == "USDT"
    assert u("trades") == u("orders.LOAD-0") == u("degens_closed_out") == "count"
    assert (u("mm_roc_pct"), u("mean_spread_bps"), u("time_in_auction_s")) == ("%", "bps", "s")
    assert u("reference_drawdown") == u("funding_rate") == "fraction"
    assert u("granter_OCEAN") == "OCEAN" and u("in_auction") == "0 / 1"
    assert u("something_else") == "value"


# ------------------------------------------------------------------ a dated run
def test_a_party_has_one_colour_in_every_panel_and_figure(dated_figures):
    seen: dict[str, set] = {}
    panels = 0
    for _, ax in _party_axes(dated_figures):
        panels += 1
        assert ax.get_legend() is None  # the party legend is the figure's, not the panel's
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                seen.setdefault(line.get_label(), set()).add((line.get_color(), line.get_ls()))
    assert panels == 3 and len(seen) > 10  # more parties than tab10 colours
    assert all(len(s) == 1 for s in seen.values()), seen
    assert len({next(iter(s)) for s in seen.values()}) == len(seen)  # distinct parties differ
    for name in ("positions_pnl.png", "margins_insurance.png"):
        (legend,) = dated_figures[name].legends
        labels = [t.get_text() for t in legend.get_texts()]
        assert labels == sorted(labels) and set(labels) <= set(seen)
        for text, handle in zip(labels, legend.legend_handles, strict=True):
            assert (handle.get_color(), handle.get_ls()) in seen[text]


def test_every_axis_has_a_unit(dated_figures):
    for name, ax in _axes(dated_figures):
        if not ax.get_visible() or not ax.has_data():
            continue
        label = ax.get_ylabel()
        assert label, (name, ax.get_title())
        if "price" in ax.get_title() and ax.get_ylabel() != "count":
            assert "(USDT)" in label, (name, label)
    prices = dated_figures["prices.png"].axes[0]
    assert prices.get_ylabel() == "price (USDT)"
    for _, ax in _party_axes(dated_figures):
        assert ax.get_ylabel() in ("position (contracts)", "PnL (USDT)", "margin balance (USDT)")
    spread = dated_figures["spread_depth.png"].axes
    assert spread[0].get_ylabel() == "best ask − best bid (USDT)"
    assert spread[1].get_ylabel() == "size (contracts)"
    kpi_labels = {ax.get_title(): ax.get_ylabel() for ax in dated_figures["kpis.png"].axes}
    assert kpi_labels["trades"] == "count" and kpi_labels["volume"] == "contracts"


def test_a_dated_run_has_dates_on_every_time_axis(dated_run, dated_figures):
    params = json.loads((dated_run / "params.json").read_text())
    assert datetime.fromisoformat(params["time_origin_utc"]) == START
    for name, ax in _axes(dated_figures):
        assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter), name
    ax = dated_figures["prices.png"].axes[0]
    x0 = mdates.num2date(ax.get_lines()[0].get_xdata()[0])
    assert x0 == START  # the reference's first point is the file's first timestamp
    bottom = dated_figures["positions_pnl.png"].axes[-1]
    assert bottom.get_xlabel() == "time (UTC)"


def test_no_curve_is_drawn_twice(dated_figures):
    seen: dict[bytes, str] = {}
    for name, ax in _axes(dated_figures):
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size < 3 or np.nanmin(y) == np.nanmax(y):
                continue  # zero lines and constant series say nothing
            key = np.round(y, 6).tobytes()
            where = f"{name}: {ax.get_title()}: {line.get_label()}"
            assert key not in seen, f"{where} repeats {seen[key]}"
            seen[key] = where
    kpis = {ax.get_title() for ax in dated_figures["kpis.png"].axes}
    assert not kpis & {"mark_price", "reference_price", "best_bid", "spread", "insurance_pool"}
    assert "closeouts" not in kpis  # constant: listed under the grid
    assert "closeouts = 0" in dated_figures["kpis.png"]._suptitle.get_text()


def test_an_undated_run_has_elapsed_time_and_stale_files_go(tmp_path):
    out = _btc(tmp_path, "gbm", steps=30)
    assert json.loads((out / "params.json").read_text())["time_origin_utc"] is None
    (out / "mechanics.png").write_bytes(b"old")
    figures = run_figures(out)
    for _name, ax in _axes(figures):
        assert not isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert figures["positions_pnl.png"].axes[-1].get_xlabel() == "elapsed time (hours)"
    written = {p.name for p in plot_run(out)}
    assert "mechanics.png" not in written and not (out / "mechanics.png").exists()
