"""PNG plots of a run, drawn from its ``run.duckdb`` (``defisim plot RUN_DIR``).

Every figure reads the same way:

- **Time** on the x axis: dates (UTC, :class:`~matplotlib.dates.ConciseDateFormatter`)
  when the run's inputs are dated (``time_origin_utc`` in ``params.json``: a run on
  a price file with timestamps), else elapsed time with its unit (``elapsed time
  (hours)``).
- **Units** on every y axis: prices in the market's settlement asset (``price
  (USDT)``), sizes in contracts, money in the settlement asset, counts, fractions;
  the assets come from the run's ``AssetCreated`` / ``MarketCreated`` events, the
  units of scenario KPIs from their names (:func:`kpi_unit`).
- **One style per party** in every panel of every figure of the run
  (:func:`party_styles`: sorted names over a 20-colour palette, then line styles),
  named once per figure in a shared legend on the right.
- **No repeated panels**: each curve is drawn once, in one place.

Files (each only when its tables have rows):

- ``prices.png``: per market, the mark price (bucket mean, min-max shaded), the
  scenario KPI ``reference_price`` when there is one, auctions shaded (opening in
  grey, price monitoring in orange) and closeouts marked; then a panel of mark
  minus reference.
- ``spread_depth.png``: per market, the spread, and the volume at the top of the
  book and within the recorded depth levels.
- ``positions_pnl.png``: the position of every party (a panel per market), and its
  PnL (a panel per settlement asset: PnL is per party and asset, not per market).
- ``margins_insurance.png``: the margin account of every party (a panel per
  market), and per market the insurance pool, the cumulative socialised losses
  (``LossSocialised`` events) and the open interest.
- ``kpis.png``: the scenario KPIs not drawn in another figure (prices, spread,
  insurance pool, open interest, ... are left out when the run has markets),
  KPIs with identical series share one panel, and constant ones are listed
  under the grid instead of drawn.
- ``amm.png``: per AMM pool, its price (and the reference price), TVL and liquidity,
  cumulative volume and fees (:mod:`defisim.runner.plots_amm`).
- ``mechanics.png``: per market with any of them: target vs supplied liquidity
  stake (KPIs ``target_stake`` / ``supplied_stake``) and funding payments per
  contract (``FundingPeriodEnded``).

Long runs are reduced for drawing to at most about :data:`MAX_POINTS` points per
line: book and KPI series are averaged over buckets of ``k`` consecutive steps,
with the bucket's min-max range shaded; positions, PnL and margins (step
functions) take every ``k``-th step and the last one. Matplotlib is used through
:class:`matplotlib.figure.Figure` with the Agg canvas, so no global backend is
changed. Styles, units and the time axis are in :mod:`defisim.runner.plot_style`. :func:`run_figures` returns the figures without saving them.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from defisim.store import open_store

from .plot_style import (  # noqa: F401  (the styles are re-exported: plots.party_styles, ...)
    LINESTYLES,
    MAX_STYLED,
    OTHER_STYLE,
    PALETTE,
    _line,
    _save,
    _Time,
    kpi_unit,
    new_figure,
    party_styles,
)

FILES = (
    "prices.png",
    "spread_depth.png",
    "positions_pnl.png",
    "margins_insurance.png",
    "kpis.png",
    "mechanics.png",
    "amm.png",
)
"""The files :func:`plot_run` may write (it removes those of them it does not)."""
MAX_POINTS = 2000
"""Most points drawn per line (about)."""
MAX_KPI_PANELS = 48
"""Scenario KPI panels drawn at most (alphabetical order)."""
MAX_SPANS = 1500
"""Auction spans shaded at most per panel (nearby ones are merged beyond that)."""


class PlotError(Exception):
    """The run folder has no readable ``run.duckdb``."""


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


# ------------------------------------------------------------------ the run
class _Ctx:
    """What every figure of one run shares: time axis, units, party styles, events."""

    def __init__(self, run: _Run, origin: datetime | None) -> None:
        self.run = run
        span = 0.0
        if "kpis" in run.tables:
            span = float(run.q("SELECT max(time_s) FROM kpis")[0][0] or 0.0)
        if "book_top" in run.tables:
            span = max(span, (run.q("SELECT max(time_ns) FROM book_top")[0][0] or 0) / 1e9)
        self.span_s = span
        self.time = _Time(origin, span)
        self.markets: list[str] = []
        if run.count("book_top"):
            self.markets = [
                r[0] for r in run.q("SELECT DISTINCT market FROM book_top ORDER BY market")
            ]
        self.ref_where = "market IS NULL AND name = 'reference_price'"
        self.has_ref = bool(
            "kpis" in run.tables
            and run.q(f"SELECT count(*) FROM kpis WHERE {self.ref_where}")[0][0]
        )
        self._read_assets()
        self.mech = _mechanics_data(self)
        self.styles: dict[str, dict] = {}
        if run.count("positions"):
            act = {
                p: float(v or 0.0)
                for p, v in run.q("SELECT party, max(abs(position)) FROM positions GROUP BY party")
            }
            self.styles = party_styles(act, act)

    def _read_assets(self) -> None:
        """Per market: settlement asset, price factor, money factor (from the events)."""
        run = self.run
        self.asset_decimals: dict[str, float] = {}
        self.market_asset: dict[str, str] = {}
        self.market_pf: dict[str, float] = {}
        self.market_created_s: dict[str, float] = {}
        if not run.count("events"):
            return
        for (payload,) in run.q("SELECT payload FROM events WHERE type = 'AssetCreated'"):
            a = json.loads(payload)
            self.asset_decimals[a.get("asset")] = 10.0 ** int(a.get("decimals", 0))
        for t_ns, payload in run.q(
            "SELECT time_ns, payload FROM events WHERE type = 'MarketCreated' ORDER BY seq"
        ):
            mk = json.loads(payload)
            try:
                cfg = json.loads(mk.get("config") or "{}")
            except (TypeError, ValueError):
                cfg = {}
            m = mk.get("market")
            self.market_asset[m] = mk.get("asset")
            self.market_pf[m] = 10.0 ** int(cfg.get("decimal_places", 0))
            self.market_created_s[m] = t_ns / 1e9

    def asset(self, market: str | None = None) -> str:
        """The settlement asset of ``market`` (or of every market, when they share
        one); ``"settlement asset"`` when unknown or mixed."""
        if market is not None:
            return self.market_asset.get(market) or "settlement asset"
        assets = {self.market_asset.get(m) for m in self.markets} or set(self.market_asset.values())
        return assets.pop() if len(assets) == 1 and None not in assets else "settlement asset"

    def price_label(self, market: str | None = None, what: str = "price") -> str:
        """``"price (USDT)"``: prices are quoted in the settlement asset."""
        return f"{what} ({self.asset(market)})"

    def party_legend(self, fig: Figure, drawn: Iterable[str]) -> None:
        """One legend for the figure, right of the panels: every styled party drawn,
        in name order, and a grey entry for the others."""
        drawn = set(drawn)
        handles, labels = [], []
        others = 0
        for name, st in self.styles.items():
            if name not in drawn:
                continue
            if st["other"]:
                others += 1
                continue
            handles.append(Line2D([], [], color=st["color"], ls=st["ls"], lw=1.6))
            labels.append(name)
        if others:
            handles.append(Line2D([], [], **{k: OTHER_STYLE[k] for k in ("color", "ls")}))
            labels.append(f"{others} other parties")
        if handles:
            fig.legend(
                handles,
                labels,
                loc="outside right upper",
                fontsize=7,
                title="party",
                title_fontsize=8,
                ncols=1 if len(handles) <= 30 else 2,
                frameon=False,
            )


def run_figures(run_dir: str | os.PathLike) -> dict[str, Figure]:
    """The figures of the run in ``run_dir``, by file name, not saved.

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
        return _figures(_Ctx(_Run(store), _time_origin(run_dir)))
    finally:
        store.close()


def plot_run(run_dir: str | os.PathLike) -> list[Path]:
    """Draw the PNG plots of the run in ``run_dir`` (overwriting earlier ones, and
    removing those of :data:`FILES` the run no longer has).

    Returns:
        The paths written (none when the tables are empty).

    Raises:
        PlotError: no ``run.duckdb`` in ``run_dir``, or it cannot be opened.
    """
    run_dir = Path(run_dir)
    figures = run_figures(run_dir)
    for name in FILES:  # a figure this run no longer has (drawn by an older version)
        if name not in figures and (run_dir / name).is_file():
            (run_dir / name).unlink()
    return [_save(fig, run_dir / name) for name, fig in figures.items()]


def _time_origin(run_dir: Path) -> datetime | None:
    """``time_origin_utc`` of the run's ``params.json`` (``None`` without one)."""
    try:
        params = json.loads((run_dir / "params.json").read_text())
        text = params.get("time_origin_utc")
        return datetime.fromisoformat(text) if text else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _figures(ctx: _Ctx) -> dict[str, Figure]:
    run = ctx.run
    out: dict[str, Figure] = {}
    if ctx.markets:
        out["prices.png"] = _fig_prices(ctx)
        out["spread_depth.png"] = _fig_spread(ctx)
    if run.count("positions"):
        out["positions_pnl.png"] = _fig_positions(ctx)
        out["margins_insurance.png"] = _fig_margins(ctx)
    kpis = _fig_kpis(ctx)
    if kpis is not None:
        out["kpis.png"] = kpis
    mech = _fig_mechanics(ctx)
    if mech is not None:
        out["mechanics.png"] = mech
    if run.count("amm_pools"):
        from .plots_amm import fig_amm

        amm = fig_amm(ctx)
        if amm is not None:
            out["amm.png"] = amm
    return out


# ------------------------------------------------------------------ prices
def _fig_prices(ctx: _Ctx) -> Figure:
    run, t = ctx.run, ctx.time
    rows_per = 2 if ctx.has_ref else 1
    fig = Figure(
        figsize=(11, (3.8 + 2.0 * (rows_per - 1)) * len(ctx.markets)), layout="constrained"
    )
    gs = fig.add_gridspec(
        rows_per * len(ctx.markets), 1, height_ratios=[3, 1.3][:rows_per] * len(ctx.markets)
    )
    ax0 = None
    for i, m in enumerate(ctx.markets):
        ax = fig.add_subplot(gs[rows_per * i], sharex=ax0)
        ax0 = ax0 or ax
        x, s = run.buckets("book_top", "time_ns", ["mark_price"], f"market = {_q(m)}")
        if ctx.has_ref:
            rx, rs = run.buckets("kpis", "time_s", ["value"], ctx.ref_where)
            ax.plot(
                t.x(rx),
                rs["value"][0],
                lw=2.2,
                color="tab:blue",
                alpha=0.45,
                label="reference price",
            )
        _line(ax, t.x(x / 1e9), s["mark_price"], "mark price", lw=0.9, color="black")
        what = _auctions_and_closeouts(ctx, ax, m)
        ax.set_title(
            f"{m}: mark price" + (" and reference" if ctx.has_ref else "") + what, fontsize=10
        )
        ax.set_ylabel(ctx.price_label(m))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        last = ax
        if ctx.has_ref:
            ax2 = fig.add_subplot(gs[rows_per * i + 1], sharex=ax0)
            rows = run.q(
                "SELECT min(b.time_ns), avg(b.mark_price - k.value), min(b.mark_price - k.value), "
                "max(b.mark_price - k.value) FROM book_top b JOIN kpis k ON k.step = b.step "
                "AND k.market IS NULL AND k.name = 'reference_price' "
                f"WHERE b.market = {_q(m)} GROUP BY b.step // {run.stride} ORDER BY 1"
            )
            bx = t.x(_arr([r[0] for r in rows]) / 1e9)
            _line(
                ax2,
                bx,
                tuple(_arr([r[j] for r in rows]) for j in (1, 2, 3)),
                lw=0.8,
                color="tab:purple",
            )
            ax2.axhline(0, color="grey", lw=0.6)
            ax2.set_title(f"{m}: mark minus reference price", fontsize=9)
            ax2.set_ylabel(ctx.price_label(m, "mark − reference"), fontsize=8)
            ax2.grid(alpha=0.3)
            last = ax2
        for a in (ax, last):
            end = a is last and i == len(ctx.markets) - 1
            t.format(a, label=end, ticks=end)
    return fig


def _auctions_and_closeouts(ctx: _Ctx, ax, m: str) -> str:
    """Shade the auctions of ``m`` and mark its closeouts on ``ax``; returns the
    title's tail naming them."""
    t = ctx.time
    d = ctx.mech.get(m, {})
    what = []
    for kind, color, name in (
        ("opening", "0.6", "opening auction"),
        ("price_monitoring", "tab:orange", "price-monitoring auction"),
        ("other", "tab:olive", "other auction"),
    ):
        spans = [(a, b) for k, a, b in d.get("spans", []) if k == kind]
        n = len(spans)
        if not n:
            continue
        if n > MAX_SPANS:
            spans = _merge_spans(spans, ctx.span_s / MAX_SPANS)
        for j, (a, b) in enumerate(spans):
            ax.axvspan(
                t.x(a),
                t.x(max(b, a + 1e-9)),
                color=color,
                alpha=0.25,
                lw=0,
                label=f"{name} ({n})" if j == 0 else None,
            )
        what.append("auctions shaded" if not what else "")
    if d.get("closeouts"):
        ct = t.x(np.array([c[0] for c in d["closeouts"]]))
        cp = np.array([c[1] for c in d["closeouts"]])
        ax.scatter(
            ct, cp, marker="v", s=28, color="tab:red", zorder=5, label=f"closeout ({len(ct)})"
        )
        what.append("closeouts")
    what = [w for w in what if w]
    return "; " + ", ".join(what) if what else ""


def _fig_spread(ctx: _Ctx) -> Figure:
    run, t = ctx.run, ctx.time
    n = len(ctx.markets)
    fig = Figure(figsize=(11, 5.5 * n), layout="constrained")
    ax0 = None
    for i, m in enumerate(ctx.markets):
        cols = ["spread", "bid_volume", "ask_volume", "bid_depth", "ask_depth"]
        x, s = run.buckets("book_top", "time_ns", cols, f"market = {_q(m)}")
        x = t.x(x / 1e9)
        ax = fig.add_subplot(2 * n, 1, 2 * i + 1, sharex=ax0)
        ax0 = ax0 or ax
        _line(ax, x, s["spread"], "spread", lw=0.8, color="tab:purple")
        ax.set_title(
            f"{m}: spread (bucket mean, min-max shaded)" if run.stride > 1 else f"{m}: spread",
            fontsize=10,
        )
        ax.set_ylabel(ctx.price_label(m, "best ask − best bid"))
        ax.grid(alpha=0.3)
        t.format(ax, label=False, ticks=False)
        ax = fig.add_subplot(2 * n, 1, 2 * i + 2, sharex=ax0)
        for col, label, color, ls in (
            ("bid_volume", "bid volume at best", "tab:green", "-"),
            ("ask_volume", "ask volume at best", "tab:red", "-"),
            ("bid_depth", "bid depth", "tab:green", ":"),
            ("ask_depth", "ask depth", "tab:red", ":"),
        ):
            _line(ax, x, s[col], label, band=False, lw=0.8, color=color, ls=ls)
        ax.set_title(f"{m}: top-of-book volume and depth", fontsize=10)
        ax.set_ylabel("size (contracts)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        t.format(ax, label=i == n - 1, ticks=i == n - 1)
    return fig


# ------------------------------------------------------------------ parties
def _party_series(ctx: _Ctx, cols: str, key) -> dict:
    """``{group: {party: (seconds, values)}}`` from the sampled positions table;
    ``key(market, party) -> group or None`` (None: skip the row)."""
    rows = ctx.run.sampled(
        "positions", f"time_ns, market, party, {cols}", order="step, market, party"
    )
    acc: dict = defaultdict(lambda: defaultdict(lambda: ([], [])))
    for t_ns, m, party, v in rows:
        g = key(m, party)
        if g is None:
            continue
        acc[g][party][0].append(t_ns / 1e9)
        acc[g][party][1].append(v)
    return {
        g: {p: (np.array(a, dtype=float), _arr(b)) for p, (a, b) in d.items()}
        for g, d in acc.items()
    }


def _draw_parties(ctx: _Ctx, ax, series: dict, title: str, ylabel: str) -> None:
    # the grey others first, under the styled parties
    for name in sorted(series, key=lambda n: (not ctx.styles[n]["other"], n)):
        x, y = series[name]
        st = ctx.styles[name]
        ax.plot(
            ctx.time.x(x), y, color=st["color"], ls=st["ls"], lw=st["lw"], alpha=0.9, label=name
        )
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def _fig_positions(ctx: _Ctx) -> Figure:
    pos = _party_series(ctx, "position", lambda m, p: m)
    # PnL is the party's (equity minus minted, in the settlement asset): the same on
    # every market row of an asset, so one line per party and asset
    first_market: dict[str, str] = {}
    for m in sorted(pos):
        first_market.setdefault(ctx.asset(m), m)
    seen: set[tuple[str, str]] = set()

    def pnl_key(m, p):
        a = ctx.asset(m)
        if (a, p) in seen and first_market.get(a) != m:
            return None
        seen.add((a, p))
        return a

    pnl = _party_series(ctx, "pnl", pnl_key)
    panels = len(pos) + len(pnl)
    fig = Figure(figsize=(12.5, 3.6 * panels + 0.4), layout="constrained")
    ax0 = None
    axes = []
    multi = len(pos) > 1
    for m in sorted(pos):
        ax = fig.add_subplot(panels, 1, len(axes) + 1, sharex=ax0)
        ax0 = ax0 or ax
        _draw_parties(
            ctx, ax, pos[m], f"{m}: positions" if multi else "positions", "position (contracts)"
        )
        ax.axhline(0, color="grey", lw=0.5)
        axes.append(ax)
    for a in sorted(pnl):
        ax = fig.add_subplot(panels, 1, len(axes) + 1, sharex=ax0)
        _draw_parties(ctx, ax, pnl[a], "PnL (equity minus minted)", f"PnL ({a})")
        axes.append(ax)
    for ax in axes:
        ctx.time.format(ax, label=ax is axes[-1], ticks=ax is axes[-1])
    ctx.party_legend(fig, {p for d in list(pos.values()) + list(pnl.values()) for p in d})
    return fig


def _fig_margins(ctx: _Ctx) -> Figure:
    mar = _party_series(ctx, "margin", lambda m, p: m)
    extra = [(m, _pool_panel) for m in ctx.markets if _has_kpi(ctx.run, "insurance_pool", m)]
    extra += [(m, _socialised_panel) for m, d in ctx.mech.items() if d["socialised"]]
    panels = len(mar) + len(extra)
    fig = Figure(figsize=(12.5, 3.6 * panels + 0.4), layout="constrained")
    axes: list = []
    ax0 = None
    multi = len(mar) > 1
    for m in sorted(mar):
        ax = fig.add_subplot(panels, 1, len(axes) + 1, sharex=ax0)
        ax0 = ax0 or ax
        _draw_parties(
            ctx,
            ax,
            mar[m],
            f"{m}: margin accounts" if multi else "margin accounts",
            f"margin balance ({ctx.asset(m)})",
        )
        axes.append(ax)
    for m, draw in extra:
        ax = fig.add_subplot(panels, 1, len(axes) + 1, sharex=ax0)
        ax0 = ax0 or ax
        draw(ctx, ax, m)
        axes.append(ax)
    for ax in axes:
        ctx.time.format(ax, label=ax is axes[-1], ticks=ax is axes[-1])
    ctx.party_legend(fig, {p for d in mar.values() for p in d})
    return fig


def _has_kpi(run: _Run, name: str, market: str | None) -> bool:
    if "kpis" not in run.tables:
        return False
    w = "market IS NULL" if market is None else f"market = {_q(market)}"
    return bool(run.q(f"SELECT count(*) FROM kpis WHERE {w} AND name = {_q(name)}")[0][0])


def _pool_panel(ctx: _Ctx, ax, m: str) -> None:
    """Insurance pool of ``m``; open interest on a twin axis."""
    run, t = ctx.run, ctx.time
    x, s = run.buckets("kpis", "time_s", ["value"], f"market = {_q(m)} AND name = 'insurance_pool'")
    _line(ax, t.x(x), s["value"], "insurance pool", lw=1.0, color="tab:green")
    if not np.any(s["value"][2] > 0):
        ax.set_ylim(-0.05, 1.0)  # an empty pool: a flat line at 0, not a zoom on nothing
    ax.set_ylabel(f"insurance pool ({ctx.asset(m)})", color="tab:green")
    ax.legend(fontsize=7, loc="upper left")
    title = f"{m}: insurance pool"
    if _has_kpi(run, "open_interest", m):
        ax2 = ax.twinx()
        ox, os_ = run.buckets(
            "kpis", "time_s", ["value"], f"market = {_q(m)} AND name = 'open_interest'"
        )
        _line(ax2, t.x(ox), os_["value"], "open interest", band=False, lw=0.8, color="tab:purple")
        ax2.set_ylabel("open interest (contracts)", color="tab:purple")
        ax2.legend(fontsize=7, loc="upper right")
        title += " and open interest"
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)


def _socialised_panel(ctx: _Ctx, ax, m: str) -> None:
    """Cumulative losses socialised in ``m`` (``LossSocialised`` events), a step line."""
    soc = ctx.mech[m]["socialised"]
    last = max(ctx.span_s, soc[-1][0])
    st = ctx.time.x(np.array([0.0] + [c[0] for c in soc] + [last]))
    sv = np.cumsum([0.0] + [c[1] for c in soc] + [0.0])
    ax.step(st, sv, where="post", lw=1.0, color="tab:red")
    ax.set_ylabel(f"cumulative loss ({ctx.asset(m)})")
    ax.set_title(f"{m}: losses socialised ({len(soc)} events)", fontsize=10)
    ax.grid(alpha=0.3)


# ------------------------------------------------------------------ KPIs
_DRAWN_WITH_MARKETS = {
    "reference_price",
    "mark_price",
    "best_bid",
    "best_ask",
    "mid_price",
    "mid",
    "spread",
    "insurance_pool",
    "open_interest",
}
"""Scenario KPIs that the market figures already draw (from book_top or the market KPIs)."""


def _kpi_names_drawn_elsewhere(ctx: _Ctx) -> set[str]:
    if not ctx.markets:
        return set()
    out = set(_DRAWN_WITH_MARKETS)
    if ctx.mech:
        if any(d.get("spans") for d in ctx.mech.values()):
            out.add("in_auction")
        if any(d.get("socialised") for d in ctx.mech.values()):
            out.add("socialised_loss")
        if any(d.get("stake") for d in ctx.mech.values()):
            out |= {"target_stake", "supplied_stake"}
        if any(d.get("funding") for d in ctx.mech.values()):
            out |= {"funding_payment", "funding_cumulative"}
    return out


def _fig_kpis(ctx: _Ctx) -> Figure | None:
    run, t = ctx.run, ctx.time
    if "kpis" not in run.tables:
        return None
    skip = _kpi_names_drawn_elsewhere(ctx)
    names = [
        r[0]
        for r in run.q("SELECT DISTINCT name FROM kpis WHERE market IS NULL ORDER BY name")
        if r[0] not in skip
    ]
    if not names:
        return None
    # constant KPIs are listed, KPIs with identical series share a panel
    constants: list[str] = []
    groups: dict[tuple, list[str]] = {}
    series: dict[str, tuple] = {}
    for name in names:
        x, s = run.buckets("kpis", "time_s", ["value"], f"market IS NULL AND name = {_q(name)}")
        mean, lo, hi = s["value"]
        fin = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
        if fin.size and fin.min() == fin.max():
            constants.append(f"{name} = {fin[0]:g}")
            continue
        key = (x.tobytes(), np.nan_to_num(mean, nan=np.inf).tobytes())
        groups.setdefault(key, []).append(name)
        series[name] = (x, s["value"])
    panels = list(groups.values())[:MAX_KPI_PANELS]
    if not panels and not constants:
        return None
    price, money = ctx.price_label(None, "").strip(" ()"), ctx.asset()
    assets = set(ctx.asset_decimals)
    ncol = max(1, min(3, len(panels)))
    nrow = math.ceil(len(panels) / ncol)
    fig = Figure(figsize=(4.4 * max(ncol, 2), 2.9 * nrow + 0.5), layout="constrained")
    for i, group in enumerate(panels):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        x, v = series[group[0]]
        _line(ax, t.x(x), v, lw=1.0, marker="o" if len(x) <= 60 else None, ms=3)
        ax.set_title(" = ".join(group), fontsize=9)
        units = {kpi_unit(n, price, money, assets) for n in group}
        ax.set_ylabel(units.pop() if len(units) == 1 else "value", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        t.format(ax, label=True)
        ax.xaxis.label.set_fontsize(7)
    if constants:
        fig.suptitle("constant over the run: " + ", ".join(constants), fontsize=8, wrap=True)
    return fig


# ------------------------------------------------------------------ mechanics
_MECH_EVENTS = (
    "AuctionStarted",
    "AuctionEnded",
    "PositionClosedOut",
    "LossSocialised",
    "FundingPeriodEnded",
)


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


def _mechanics_data(ctx: _Ctx) -> dict[str, dict]:
    """Per market: auction spans ``(kind, start_s, end_s)``, closeouts ``(s, price)``,
    socialised losses ``(s, amount)``, funding ``(end_s, payment per contract)`` and
    whether the stake KPIs exist (human units)."""
    run = ctx.run
    if not run.count("events") or not ctx.markets:
        return {}
    types = ", ".join(_q(t) for t in _MECH_EVENTS)
    rows = run.q(
        f"SELECT time_ns, type, market, payload FROM events WHERE type IN ({types}) ORDER BY seq"
    )
    data: dict[str, dict] = {
        m: {"spans": [], "closeouts": [], "socialised": [], "funding": []} for m in ctx.markets
    }
    open_at: dict[str, tuple[str, float]] = {}
    for t_ns, typ, market, payload in rows:
        if market not in data:
            continue
        d = data[market]
        pf = ctx.market_pf.get(market, 1.0)
        mf = ctx.asset_decimals.get(ctx.market_asset.get(market), 1.0)
        e = json.loads(payload)
        t = t_ns / 1e9
        kind = e.get("auction") if e.get("auction") in ("opening", "price_monitoring") else "other"
        if typ == "AuctionStarted":
            open_at[market] = (kind, t)
        elif typ == "AuctionEnded":
            k, a = open_at.pop(market, (kind, ctx.market_created_s.get(market, 0.0)))
            d["spans"].append((k, a, t))
        elif typ == "PositionClosedOut":
            d["closeouts"].append((t, e.get("price", 0) / pf))
        elif typ == "LossSocialised":
            d["socialised"].append((t, e.get("amount", 0) / mf))
        elif typ == "FundingPeriodEnded" and not e.get("skipped"):
            d["funding"].append((e.get("end_ns", t_ns) / 1e9, e.get("funding_payment", 0) / pf))
    for market, (k, a) in open_at.items():  # an auction still on at the end
        data[market]["spans"].append((k, a, max(a, ctx.span_s)))
    stake = set()
    if "kpis" in run.tables:
        stake = {
            r[0]
            for r in run.q(
                "SELECT DISTINCT name FROM kpis WHERE name IN ('target_stake', 'supplied_stake')"
            )
        }
    for d in data.values():
        d["stake"] = len(stake) == 2
    return data


def _fig_mechanics(ctx: _Ctx) -> Figure | None:
    """``mechanics.png`` (see the module docstring), or None when there is nothing to draw."""
    layout = []
    for m, d in ctx.mech.items():
        if d["stake"]:
            layout.append((m, "stake"))
        if d["funding"]:
            layout.append((m, "funding"))
    if not layout:
        return None
    fig = Figure(figsize=(11, 3.0 * len(layout) + 0.6), layout="constrained")
    ax0 = None
    for i, (m, kind) in enumerate(layout):
        ax = fig.add_subplot(len(layout), 1, i + 1, sharex=ax0)
        ax0 = ax0 or ax
        if kind == "stake":
            _mech_stake(ctx, ax, m)
        else:
            _mech_funding(ctx, ax, m)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        last = i == len(layout) - 1
        ctx.time.format(ax, label=last, ticks=last)
    return fig


def _mech_stake(ctx: _Ctx, ax, m: str) -> None:
    t = ctx.time
    for name, color in (("target_stake", "tab:red"), ("supplied_stake", "tab:blue")):
        where = f"name = {_q(name)} AND (market IS NULL OR market = {_q(m)})"
        x, s = ctx.run.buckets("kpis", "time_s", ["value"], where)
        _line(ax, t.x(x), s["value"], name.replace("_", " "), lw=1.0, color=color)
    ax.set_ylabel(f"stake ({ctx.asset(m)})", fontsize=8)
    ax.set_title(f"{m}: target vs supplied liquidity stake", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _mech_funding(ctx: _Ctx, ax, m: str) -> None:
    """Funding payments as bars (the mean over buckets of ``k`` periods when there are
    more than 300), with the cumulative payment per contract held long on a twin axis."""
    t = ctx.time
    d = ctx.mech[m]
    fs = np.array([f[0] for f in d["funding"]])
    fp = np.array([f[1] for f in d["funding"]])
    k = max(1, math.ceil(len(fs) / 300))
    idx = np.arange(len(fp)) // k
    count = np.bincount(idx)
    bp = np.bincount(idx, weights=fp) / count  # mean payment per bucket
    bt = fs[np.minimum((np.arange(len(count)) + 1) * k, len(fs)) - 1]  # bucket ends
    period = float(np.median(np.diff(fs))) if len(fs) > 1 else 1.0
    colors = np.where(bp >= 0, "tab:green", "tab:red")
    ax.bar(
        t.x(bt), bp, width=-0.85 * t.width(count * period), align="edge", color=colors, alpha=0.8
    )
    ax.axhline(0, color="grey", lw=0.6)
    unit = f"{ctx.asset(m)} per contract"
    ax.set_ylabel(f"payment ({unit})", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(t.x(fs), np.cumsum(fp), color="black", lw=0.9, label="cumulative (long pays)")
    ax2.set_ylabel(f"cumulative ({unit})", fontsize=8)
    ax2.tick_params(labelsize=8)
    ax2.legend(fontsize=7, loc="upper left")
    pos = int((fp > 0).sum())
    what = "per period" if k == 1 else f"mean per {k} periods"
    ax.set_title(
        f"{m}: funding payment {what} (> 0: longs pay shorts; {pos} of {len(fp)} positive)",
        fontsize=10,
    )
