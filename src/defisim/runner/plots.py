"""PNG plots of a run, drawn from its ``run.duckdb`` alone (``defisim plot RUN_DIR``).

Files (each only when its tables have rows):

- ``prices.png``: per market, mark price, best bid and ask, and the scenario KPI
  ``reference_price`` when there is one (then also a panel of mark minus
  reference).
- ``spread_depth.png``: per market, the spread, and the volume at the top of the
  book and within the recorded depth levels.
- ``positions_pnl.png``: position and PnL of every party over time.
- ``margins_insurance.png``: margin balance of every party, and each market's
  insurance pool.
- ``kpis.png``: every scenario KPI, a grid of small panels.
- ``mechanics.png``: per market with any of them, the market mechanics: the mark
  (and reference) price with price-monitoring auctions shaded
  (``AuctionStarted`` to ``AuctionEnded`` events) and closeouts marked
  (``PositionClosedOut``); the insurance pool, open interest and cumulative
  socialised losses (``LossSocialised``); target vs supplied stake (KPIs
  ``target_stake`` / ``supplied_stake``); funding payments per contract
  (``FundingPeriodEnded``). Drawn when the run has auctions, closeouts,
  socialised losses, stake KPIs or funding periods.

Long runs are reduced for drawing to at most about :data:`MAX_POINTS` points per
line: book and KPI series are averaged over buckets of ``k`` consecutive steps,
with the bucket's min-max range shaded; positions, PnL and margins (step
functions) take every ``k``-th step and the last one. Matplotlib is used through
:class:`matplotlib.figure.Figure` with the Agg canvas, so no global backend is
changed.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from defisim.store import open_store

MAX_POINTS = 2000
"""Most points drawn per line (about)."""
MAX_LEGEND = 12
"""Parties named in a legend at most (the largest by final |value|)."""
MAX_KPI_PANELS = 48
"""Scenario KPIs drawn at most (alphabetical order)."""

_X_UNITS = (
    (3 * 86400, 86400.0, "days"),
    (3 * 3600, 3600.0, "hours"),
    (3 * 60, 60.0, "minutes"),
    (0, 1.0, "seconds"),
)


class PlotError(Exception):
    """The run folder has no readable ``run.duckdb``."""


def _x_unit(span_s: float) -> tuple[float, str]:
    for limit, div, name in _X_UNITS:
        if span_s >= limit:
            return div, name
    return 1.0, "seconds"


def _q(s: str) -> str:
    """Quote a string for a SQL literal."""
    return "'" + s.replace("'", "''") + "'"


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


class _Run:
    """Read access to one run's tables, with the drawing stride."""

    def __init__(self, store) -> None:
        self.store = store
        self.tables = set(store.tables())
        self.max_step = 0
        parts = [f"SELECT max(step) FROM {t}" for t in ("kpis", "book_top") if t in self.tables]
        if parts:
            vals = [r[0] for r in store.query(" UNION ALL ".join(parts))]
            self.max_step = max([v for v in vals if v is not None], default=0)
        self.stride = max(1, math.ceil((self.max_step + 1) / MAX_POINTS))

    def q(self, sql: str) -> list[tuple]:
        return self.store.query(sql)

    def count(self, table: str) -> int:
        return self.q(f"SELECT count(*) FROM {table}")[0][0] if table in self.tables else 0

    def buckets(self, table: str, x: str, cols: list[str], where: str = "") -> tuple:
        """Per bucket of ``stride`` steps: x (first), and mean, min, max of each column.

        Returns ``(x, {col: (mean, lo, hi)})`` as float arrays (NaN for NULL).
        """
        if table not in self.tables:
            return np.array([]), {c: (np.array([]),) * 3 for c in cols}
        aggs = ", ".join(f"avg({c}), min({c}), max({c})" for c in cols)
        w = f" WHERE {where}" if where else ""
        rows = self.q(
            f"SELECT min({x}), {aggs} FROM {table}{w} GROUP BY step // {self.stride} ORDER BY 1"
        )
        xs = _arr([r[0] for r in rows])
        out = {}
        for i, c in enumerate(cols):
            out[c] = tuple(_arr([r[1 + 3 * i + j] for r in rows]) for j in range(3))
        return xs, out

    def sampled(self, table: str, cols: str, where: str = "", order: str = "step") -> list:
        """Every ``stride``-th step and the last one."""
        conds = [where] if where else []
        if self.stride > 1:
            conds.append(f"(step % {self.stride} = 0 OR step = {self.max_step})")
        w = f" WHERE {' AND '.join(conds)}" if conds else ""
        return self.q(f"SELECT {cols} FROM {table}{w} ORDER BY {order}")


def _line(ax, x, series, label=None, band=True, **kw) -> None:
    """Draw a bucket-mean line with its min-max band (when buckets hold several steps)."""
    mean, lo, hi = series
    (line,) = ax.plot(x, mean, label=label, **kw)
    if band and len(x) and np.any(hi > lo):
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
    return path


def _legend(ax, n: int) -> None:
    if 0 < n <= MAX_LEGEND:
        ax.legend(fontsize=7, loc="best")


def _top(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    """Names ordered by final |value|, largest first."""

    def key(name: str) -> float:
        y = series[name][1]
        finite = y[np.isfinite(y)]
        return -abs(finite[-1]) if finite.size else 0.0

    return sorted(series, key=key)


def _plot_parties(ax, series, xdiv: float, title: str, ylabel: str) -> None:
    names = _top(series)
    for i, name in enumerate(names):
        x, y = series[name]
        ax.plot(x / xdiv, y, lw=0.8, alpha=0.9, label=name if i < MAX_LEGEND else None)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    _legend(ax, min(len(names), MAX_LEGEND))


def plot_run(run_dir: str | os.PathLike) -> list[Path]:
    """Draw the PNG plots of the run in ``run_dir`` (overwriting earlier ones).

    Returns:
        The paths written (none when the tables are empty).

    Raises:
        PlotError: no ``run.duckdb`` in ``run_dir``, or it cannot be opened.
    """
    run_dir = Path(run_dir)
    db = run_dir / "run.duckdb"
    if not db.is_file():
        raise PlotError(f"{run_dir} has no run.duckdb")
    try:
        store = open_store(db)
    except Exception as exc:
        raise PlotError(f"cannot open {db}: {str(exc).splitlines()[0]}") from None
    try:
        return _plot_all(_Run(store), run_dir)
    finally:
        store.close()


def _plot_all(run: _Run, out: Path) -> list[Path]:
    written: list[Path] = []
    span = 0.0
    if "kpis" in run.tables:
        span = float(run.q("SELECT max(time_s) FROM kpis")[0][0] or 0.0)
    if "book_top" in run.tables:
        span = max(span, (run.q("SELECT max(time_ns) FROM book_top")[0][0] or 0) / 1e9)
    xdiv, xunit = _x_unit(span)
    markets = []
    if run.count("book_top"):
        markets = [r[0] for r in run.q("SELECT DISTINCT market FROM book_top ORDER BY market")]
    ref_where = "market IS NULL AND name = 'reference_price'"
    has_ref = "kpis" in run.tables and run.q(f"SELECT count(*) FROM kpis WHERE {ref_where}")[0][0]

    if markets:
        written.append(_plot_prices(run, out, markets, xdiv, xunit, has_ref, ref_where))
        written.append(_plot_spread(run, out, markets, xdiv, xunit))
    if run.count("positions"):
        written.extend(_plot_positions(run, out, markets, xdiv, xunit))
    kpis = _plot_kpis(run, out, xdiv, xunit)
    if kpis is not None:
        written.append(kpis)
    mech = _plot_mechanics(run, out, markets, xdiv, xunit)
    if mech is not None:
        written.append(mech)
    return written


def _plot_prices(run, out, markets, xdiv, xunit, has_ref, ref_where) -> Path:
    rows_per = 2 if has_ref else 1
    fig = Figure(figsize=(11, (3.6 + 2.0 * (rows_per - 1)) * len(markets)), layout="constrained")
    gs = fig.add_gridspec(
        rows_per * len(markets), 1, height_ratios=[3, 1.3][:rows_per] * len(markets)
    )
    for i, m in enumerate(markets):
        ax = fig.add_subplot(gs[rows_per * i])
        x, s = run.buckets(
            "book_top", "time_ns", ["mark_price", "best_bid", "best_ask"], f"market = {_q(m)}"
        )
        x = x / 1e9 / xdiv
        if has_ref:
            rx, rs = run.buckets("kpis", "time_s", ["value"], ref_where)
            ax.plot(
                rx / xdiv,
                rs["value"][0],
                lw=2.2,
                color="tab:blue",
                alpha=0.45,
                label="reference price",
            )
        _line(ax, x, s["best_bid"], "best bid (mean)", band=False, lw=0.6, color="tab:green")
        _line(ax, x, s["best_ask"], "best ask (mean)", band=False, lw=0.6, color="tab:red")
        _line(ax, x, s["mark_price"], "mark price", lw=0.9, color="black")
        ax.set_title(f"{m}: prices", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        if has_ref:
            ax2 = fig.add_subplot(gs[rows_per * i + 1], sharex=ax)
            rows = run.q(
                "SELECT min(b.time_ns), avg(b.mark_price - k.value), min(b.mark_price - k.value), "
                "max(b.mark_price - k.value) FROM book_top b JOIN kpis k ON k.step = b.step "
                "AND k.market IS NULL AND k.name = 'reference_price' "
                f"WHERE b.market = {_q(m)} GROUP BY b.step // {run.stride} ORDER BY 1"
            )
            bx = _arr([r[0] for r in rows]) / 1e9 / xdiv
            _line(
                ax2,
                bx,
                tuple(_arr([r[j] for r in rows]) for j in (1, 2, 3)),
                lw=0.8,
                color="tab:purple",
            )
            ax2.axhline(0, color="grey", lw=0.6)
            ax2.set_title(f"{m}: mark minus reference price", fontsize=9)
            ax2.grid(alpha=0.3)
            ax2.set_xlabel(xunit)
        else:
            ax.set_xlabel(xunit)
    return _save(fig, out / "prices.png")


def _plot_spread(run, out, markets, xdiv, xunit) -> Path:
    fig = Figure(figsize=(11, 5.5 * len(markets)), layout="constrained")
    for i, m in enumerate(markets):
        cols = ["spread", "bid_volume", "ask_volume", "bid_depth", "ask_depth"]
        x, s = run.buckets("book_top", "time_ns", cols, f"market = {_q(m)}")
        x = x / 1e9 / xdiv
        ax = fig.add_subplot(2 * len(markets), 1, 2 * i + 1)
        _line(ax, x, s["spread"], "spread", lw=0.8, color="tab:purple")
        ax.set_title(
            f"{m}: spread (bucket mean, min-max shaded)" if run.stride > 1 else f"{m}: spread",
            fontsize=10,
        )
        ax.grid(alpha=0.3)
        ax = fig.add_subplot(2 * len(markets), 1, 2 * i + 2)
        for col, label, color, ls in (
            ("bid_volume", "bid volume at best", "tab:green", "-"),
            ("ask_volume", "ask volume at best", "tab:red", "-"),
            ("bid_depth", "bid depth", "tab:green", ":"),
            ("ask_depth", "ask depth", "tab:red", ":"),
        ):
            _line(ax, x, s[col], label, band=False, lw=0.8, color=color, ls=ls)
        ax.set_title(f"{m}: top-of-book volume and depth (contracts)", fontsize=10)
        ax.set_xlabel(xunit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    return _save(fig, out / "spread_depth.png")


def _plot_positions(run, out, markets, xdiv, xunit) -> list[Path]:
    multi = len(markets) > 1
    pos: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    pnl: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    mar: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    rows = run.sampled(
        "positions", "time_ns, market, party, position, margin, pnl", order="step, market, party"
    )
    for t, m, party, p, margin, q in rows:
        name = f"{party} ({m})" if multi else party
        for d, v in ((pos, p), (pnl, q), (mar, margin)):
            d[name][0].append(t / 1e9)
            d[name][1].append(v)

    def conv(d):
        return {k: (np.array(a, dtype=float), _arr(b)) for k, (a, b) in d.items()}

    fig = Figure(figsize=(11, 8), layout="constrained")
    _plot_parties(fig.add_subplot(2, 1, 1), conv(pos), xdiv, "positions", "contracts")
    ax = fig.add_subplot(2, 1, 2)
    _plot_parties(ax, conv(pnl), xdiv, "PnL (equity minus minted)", "settlement asset")
    ax.set_xlabel(xunit)
    first = _save(fig, out / "positions_pnl.png")

    fig = Figure(figsize=(11, 8), layout="constrained")
    _plot_parties(
        fig.add_subplot(2, 1, 1), conv(mar), xdiv, "margin account balances", "settlement asset"
    )
    ax = fig.add_subplot(2, 1, 2)
    for m in markets:
        x, s = run.buckets(
            "kpis", "time_s", ["value"], f"market = {_q(m)} AND name = 'insurance_pool'"
        )
        _line(ax, x / xdiv, s["value"], m, lw=1.0)
    ax.set_title("insurance pool", fontsize=10)
    ax.set_xlabel(xunit)
    ax.grid(alpha=0.3)
    _legend(ax, len(markets))
    return [first, _save(fig, out / "margins_insurance.png")]


def _plot_kpis(run, out, xdiv, xunit) -> Path | None:
    if "kpis" not in run.tables:
        return None
    names = [
        r[0] for r in run.q("SELECT DISTINCT name FROM kpis WHERE market IS NULL ORDER BY name")
    ][:MAX_KPI_PANELS]
    if not names:
        return None
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig = Figure(figsize=(4.2 * ncol, 2.8 * nrow), layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        x, s = run.buckets("kpis", "time_s", ["value"], f"market IS NULL AND name = {_q(name)}")
        few = len(x) <= 60
        _line(ax, x / xdiv, s["value"], lw=1.0, marker="o" if few else None, ms=3)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.set_xlabel(xunit, fontsize=7)
    return _save(fig, out / "kpis.png")


# ------------------------------------------------------------------ mechanics
_MECH_EVENTS = (
    "AuctionStarted",
    "AuctionEnded",
    "PositionClosedOut",
    "LossSocialised",
    "FundingPeriodEnded",
)
MAX_SPANS = 1500
"""Auction spans shaded at most per panel (nearby ones are merged beyond that)."""


def _market_units(run: _Run) -> dict[str, tuple[float, float]]:
    """Per market: (price factor 10**decimal_places, money factor 10**asset decimals)."""
    assets = {}
    for (payload,) in run.q("SELECT payload FROM events WHERE type = 'AssetCreated'"):
        a = json.loads(payload)
        assets[a.get("asset")] = 10.0 ** int(a.get("decimals", 0))
    out = {}
    for (payload,) in run.q("SELECT payload FROM events WHERE type = 'MarketCreated'"):
        mk = json.loads(payload)
        try:
            cfg = json.loads(mk.get("config") or "{}")
        except (TypeError, ValueError):
            cfg = {}
        out[mk.get("market")] = (
            10.0 ** int(cfg.get("decimal_places", 0)),
            assets.get(mk.get("asset"), 1.0),
        )
    return out


def _merge_spans(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """Sorted spans with those closer than ``gap`` joined (keeps a plot of many short
    auctions readable and cheap)."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _mechanics_data(run: _Run, markets: list[str]) -> dict[str, dict]:
    """Per market, what the mechanics figure draws (times in seconds, human units)."""
    if not run.count("events"):
        return {}
    units = _market_units(run)
    types = ", ".join(_q(t) for t in _MECH_EVENTS)
    rows = run.q(
        f"SELECT time_ns, type, market, payload FROM events WHERE type IN ({types}) ORDER BY seq"
    )
    data: dict[str, dict] = {}
    open_at: dict[str, float] = {}
    for t_ns, typ, market, payload in rows:
        if market is None:
            continue
        d = data.setdefault(
            market,
            {"spans": [], "closeouts": [], "socialised": [], "funding": []},
        )
        pf, mf = units.get(market, (1.0, 1.0))
        e = json.loads(payload)
        t = t_ns / 1e9
        if typ == "AuctionStarted" and e.get("auction") == "price_monitoring":
            open_at[market] = t
        elif typ == "AuctionEnded" and e.get("auction") == "price_monitoring":
            if market in open_at:
                d["spans"].append((open_at.pop(market), t))
        elif typ == "PositionClosedOut":
            d["closeouts"].append((t, e.get("price", 0) / pf))
        elif typ == "LossSocialised":
            d["socialised"].append((t, e.get("amount", 0) / mf))
        elif typ == "FundingPeriodEnded" and not e.get("skipped"):
            d["funding"].append((e.get("end_ns", t_ns) / 1e9, e.get("funding_payment", 0) / pf))
    end = 0.0
    if "book_top" in run.tables:
        end = (run.q("SELECT max(time_ns) FROM book_top")[0][0] or 0) / 1e9
    for market, t in open_at.items():  # an auction still on at the end
        data[market]["spans"].append((t, max(t, end)))
    stake = set()
    if "kpis" in run.tables:
        stake = {
            r[0]
            for r in run.q(
                "SELECT DISTINCT name FROM kpis WHERE name IN ('target_stake', 'supplied_stake')"
            )
        }
    for m in markets:
        d = data.setdefault(m, {"spans": [], "closeouts": [], "socialised": [], "funding": []})
        d["stake"] = len(stake) == 2
    return {
        m: d
        for m, d in data.items()
        if m in markets
        and (d["spans"] or d["closeouts"] or d["socialised"] or d["funding"] or d["stake"])
    }


def _plot_mechanics(run, out, markets, xdiv, xunit) -> Path | None:
    """``mechanics.png`` (see the module docstring), or None when there is nothing to draw."""
    data = _mechanics_data(run, markets)
    if not data:
        return None
    layout = []
    for m, d in data.items():
        layout.append((m, "prices"))
        layout.append((m, "pool"))
        if d["stake"]:
            layout.append((m, "stake"))
        if d["funding"]:
            layout.append((m, "funding"))
    fig = Figure(figsize=(11, 3.0 * len(layout) + 0.6), layout="constrained")
    ref_where = "market IS NULL AND name = 'reference_price'"
    has_ref = "kpis" in run.tables and run.q(f"SELECT count(*) FROM kpis WHERE {ref_where}")[0][0]
    span_s = 0.0
    if "book_top" in run.tables:
        span_s = (run.q("SELECT max(time_ns) FROM book_top")[0][0] or 0) / 1e9
    ax0 = None
    for i, (m, kind) in enumerate(layout):
        d = data[m]
        ax = fig.add_subplot(len(layout), 1, i + 1, sharex=ax0)
        ax0 = ax0 or ax
        if kind == "prices":
            _mech_prices(run, ax, m, d, xdiv, has_ref, ref_where, span_s)
        elif kind == "pool":
            _mech_pool(run, ax, m, d, xdiv)
        elif kind == "stake":
            _mech_stake(run, ax, m, xdiv)
        else:
            _mech_funding(ax, m, d, xdiv)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if i == len(layout) - 1:
            ax.set_xlabel(xunit)
    return _save(fig, out / "mechanics.png")


def _mech_prices(run, ax, m, d, xdiv, has_ref, ref_where, span_s) -> None:
    x, s = run.buckets("book_top", "time_ns", ["mark_price"], f"market = {_q(m)}")
    if has_ref:
        rx, rs = run.buckets("kpis", "time_s", ["value"], ref_where)
        ax.plot(
            rx / xdiv, rs["value"][0], lw=2.0, color="tab:blue", alpha=0.4, label="reference price"
        )
    _line(ax, x / 1e9 / xdiv, s["mark_price"], "mark price", lw=0.9, color="black")
    spans = d["spans"]
    n_auctions = len(spans)
    if len(spans) > MAX_SPANS:
        spans = _merge_spans(spans, span_s / MAX_SPANS)
    for j, (a, b) in enumerate(spans):
        ax.axvspan(
            a / xdiv,
            max(b, a + 1e-9) / xdiv,
            color="tab:orange",
            alpha=0.25,
            lw=0,
            label=f"auction ({n_auctions})" if j == 0 else None,
        )
    if d["closeouts"]:
        ct = np.array([c[0] for c in d["closeouts"]]) / xdiv
        cp = np.array([c[1] for c in d["closeouts"]])
        ax.scatter(
            ct, cp, marker="v", s=28, color="tab:red", zorder=5, label=f"closeout ({len(ct)})"
        )
    ax.set_title(f"{m}: mark price, price-monitoring auctions, closeouts", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _mech_pool(run, ax, m, d, xdiv) -> None:
    x, s = run.buckets("kpis", "time_s", ["value"], f"market = {_q(m)} AND name = 'insurance_pool'")
    _line(ax, x / xdiv, s["value"], "insurance pool", lw=1.0, color="tab:green")
    if d["socialised"]:
        last = max(float(x[-1]) if len(x) else 0.0, d["socialised"][-1][0])
        st = np.array([0.0] + [c[0] for c in d["socialised"]] + [last]) / xdiv
        sv = np.cumsum([0.0] + [c[1] for c in d["socialised"]] + [0.0])
        ax.step(st, sv, where="post", lw=1.0, color="tab:red", label="socialised loss (cumulative)")
    pool = s["value"][2]
    if not d["socialised"] and not np.any(pool > 0):
        ax.set_ylim(-0.05, 1.0)  # an empty pool: a flat line at 0, not a zoom on nothing
    ax.set_ylabel("settlement asset", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    ax2 = ax.twinx()
    ox, os_ = run.buckets(
        "kpis", "time_s", ["value"], f"market = {_q(m)} AND name = 'open_interest'"
    )
    _line(ax2, ox / xdiv, os_["value"], "open interest", band=False, lw=0.8, color="tab:purple")
    ax2.set_ylabel("open interest (contracts)", fontsize=8, color="tab:purple")
    ax2.tick_params(labelsize=8)
    ax.set_title(f"{m}: insurance pool, socialised losses, open interest", fontsize=10)


def _mech_stake(run, ax, m, xdiv) -> None:
    for name, color in (("target_stake", "tab:red"), ("supplied_stake", "tab:blue")):
        where = f"name = {_q(name)} AND (market IS NULL OR market = {_q(m)})"
        x, s = run.buckets("kpis", "time_s", ["value"], where)
        _line(ax, x / xdiv, s["value"], name.replace("_", " "), lw=1.0, color=color)
    ax.set_ylabel("settlement asset", fontsize=8)
    ax.set_title(f"{m}: target vs supplied liquidity stake", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _mech_funding(ax, m, d, xdiv) -> None:
    """Funding payments as bars (the mean over buckets of ``k`` periods when there are
    more than 300), with the cumulative payment per contract held long on a twin axis."""
    ft = np.array([f[0] for f in d["funding"]]) / xdiv
    fp = np.array([f[1] for f in d["funding"]])
    k = max(1, math.ceil(len(ft) / 300))
    idx = np.arange(len(fp)) // k
    count = np.bincount(idx)
    bp = np.bincount(idx, weights=fp) / count  # mean payment per bucket
    bt = ft[np.minimum((np.arange(len(count)) + 1) * k, len(ft)) - 1]  # bucket ends
    period = float(np.median(np.diff(ft))) if len(ft) > 1 else 1.0
    width = count * period
    colors = np.where(bp >= 0, "tab:green", "tab:red")
    ax.bar(bt, bp, width=-0.85 * np.asarray(width), align="edge", color=colors, alpha=0.8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel("per contract", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(ft, np.cumsum(fp), color="black", lw=0.9, label="cumulative (long pays)")
    ax2.set_ylabel("cumulative per contract", fontsize=8)
    ax2.tick_params(labelsize=8)
    ax2.legend(fontsize=7, loc="upper left")
    pos = int((fp > 0).sum())
    what = "per period" if k == 1 else f"mean per {k} periods"
    ax.set_title(
        f"{m}: funding payment {what} (> 0: longs pay shorts; {pos} of {len(fp)} positive)",
        fontsize=10,
    )
