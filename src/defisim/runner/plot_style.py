"""How a run's figures look: one style per party, units of KPIs, the time axis, and
figures on their own Agg canvas (:func:`new_figure`). :mod:`defisim.runner.plots` draws
the figures with these; sweeps, optimisation and evaluation use :func:`new_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_STYLED = 40
"""Parties drawn with their own colour and line style at most; the others (the
least active, by peak |position| then name) are thin grey lines."""

_X_UNITS = (
    (3 * 86400, 86400.0, "days"),
    (3 * 3600, 3600.0, "hours"),
    (3 * 60, 60.0, "minutes"),
    (0, 1.0, "seconds"),
)

_tab20 = colormaps["tab20"].colors
PALETTE: tuple = tuple(_tab20[0::2]) + tuple(_tab20[1::2])
"""Party colours: the 10 strong tab20 colours, then their 10 light variants."""
LINESTYLES = ("-", "--", ":", "-.")
"""Line styles for parties beyond the palette (party ``i``: ``LINESTYLES[i // 20]``)."""
OTHER_STYLE = {"color": "0.7", "ls": "-", "lw": 0.5}
"""Style of the parties beyond :data:`MAX_STYLED`."""


# ------------------------------------------------------------------ styles, units
def party_styles(
    parties: Iterable[str],
    activity: Mapping[str, float] | None = None,
    max_styled: int = MAX_STYLED,
) -> dict[str, dict]:
    """The line style of every party, the same in every panel and figure of a run.

    The parties kept (all of them, or the ``max_styled`` with the largest
    ``activity``, ties by name) are sorted by name; the ``i``-th gets colour
    ``PALETTE[i % 20]`` and line style ``LINESTYLES[i // 20 % 4]``. The others get
    :data:`OTHER_STYLE` (and ``"other": True``).

    Returns:
        ``{party: {"color": ..., "ls": ..., "lw": ...}}`` (matplotlib keywords,
        plus ``"other"``).
    """
    names = sorted(set(parties))
    if len(names) > max_styled:
        act = activity or {}
        keep = set(sorted(names, key=lambda n: (-act.get(n, 0.0), n))[:max_styled])
    else:
        keep = set(names)
    out: dict[str, dict] = {}
    i = 0
    for n in names:
        if n in keep:
            out[n] = {
                "color": PALETTE[i % len(PALETTE)],
                "ls": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)],
                "lw": 0.9,
                "other": False,
            }
            i += 1
        else:
            out[n] = dict(OTHER_STYLE, other=True)
    return out


_PRICE_KPIS = {
    "reference_price",
    "mark_price",
    "best_bid",
    "best_ask",
    "mid_price",
    "mid",
    "fundamental",
    "oracle_price",
    "basis",
    "spread",
    "mm_bid",
    "mm_ask",
    "mm_quoted_spread",
}
_PER_CONTRACT = {"funding_payment", "funding_cumulative", "funding_estimate"}
_FRACTION = ("rate", "factor", "return", "drawdown", "fraction", "share", "capital")
_CONTRACTS = ("inventory", "position", "volume", "exposure", "interest")
_MONEY = (
    "pnl",
    "pool",
    "loss",
    "stake",
    "fees",
    "bond",
    "slashed",
    "peak",
    "end",
    "collateral",
    "equity",
    "margin",
    "paid",
    "balance",
)
_COUNTS = (
    "trades",
    "closeouts",
    "auctions",
    "orders",
    "rejections",
    "fills",
    "epochs",
    "periods",
    "extensions",
    "slashes",
    "socialisations",
    "crashes",
    "transactions",
    "accepted",
    "rejected",
    "open",
    "out",
    "trading",
    "closed",
    "enacted",
)


def kpi_unit(name: str, price_unit: str, money_unit: str, assets: Iterable[str] = ()) -> str:
    """The unit of a scenario KPI, from its name (the axis label of its panel).

    ``*_pct``: %, ``*_bps``: bps, ``*_s``: s, ``in_auction``: 0/1; prices and
    spreads (``mark_price``, ``best_bid``, ``basis``, ...): ``price_unit``; funding
    payments: ``price_unit`` per contract; ``*_rate``, ``*_factor``, returns,
    drawdowns: fraction; inventories, positions, volumes, exposures, open interest:
    contracts; PnL, pools, losses, stakes, fees, bonds, margins: ``money_unit``;
    counts of trades, closeouts, orders, ...: count; a name ending with an asset
    (``granter_OCEAN``): that asset. A ``.MARKET`` or ``lp_x.`` part is ignored
    for the choice (``orders.LOAD-0``, ``lp_cheap.bond``). Otherwise ``"value"``.
    """
    assets = set(assets)
    parts = name.split(".")
    base = parts[-1] if len(parts) > 1 and parts[-1].islower() else parts[0]
    tokens = base.split("_")
    last = tokens[-1]
    if last in assets:
        return last
    if last == "pct":
        return "%"
    if last == "bps":
        return "bps"
    if last == "s" and len(tokens) > 1:
        return "s"
    if base == "in_auction":
        return "0 / 1"
    if base in _PRICE_KPIS or last in ("price", "bid", "ask", "spread", "basis"):
        return price_unit
    if base in _PER_CONTRACT:
        return f"{price_unit} per contract"
    if last in _FRACTION or base.endswith("on_book"):
        return "fraction"
    if last in _CONTRACTS:
        return "contracts"
    if last in _MONEY:
        return money_unit
    if last in _COUNTS:
        return "count"
    return "value"


class _Time:
    """The x axis: dates from ``origin`` (UTC), or elapsed time in a unit fitting ``span_s``."""

    def __init__(self, origin: datetime | None, span_s: float) -> None:
        self.origin = origin
        if origin is not None:
            self.scale = 1.0 / 86400.0
            self.offset = float(mdates.date2num(origin))
            self.label = "time (UTC)"
        else:
            div, unit = _x_unit(span_s)
            self.scale = 1.0 / div
            self.offset = 0.0
            self.label = f"elapsed time ({unit})"

    def x(self, seconds) -> np.ndarray:
        """Seconds since the run's start as x values."""
        return self.offset + np.asarray(seconds, dtype=float) * self.scale

    def width(self, seconds) -> np.ndarray:
        """A duration in seconds as an x distance."""
        return np.asarray(seconds, dtype=float) * self.scale

    def format(self, ax, label: bool = True, ticks: bool = True) -> None:
        """Date locator and formatter (dated runs); the x label when ``label``; no
        tick labels unless ``ticks`` (a panel sharing the x axis of the one below)."""
        if self.origin is not None:
            loc = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        if label:
            ax.set_xlabel(self.label)
        if not ticks:
            ax.tick_params(labelbottom=False)


def _x_unit(span_s: float) -> tuple[float, str]:
    for limit, div, name in _X_UNITS:
        if span_s >= limit:
            return div, name
    return 1.0, "seconds"



def _line(ax, x, series, label=None, band=True, **kw) -> None:
    """Draw a bucket-mean line with its min-max band (when buckets hold several steps)."""
    mean, lo, hi = series
    (line,) = ax.plot(x, mean, label=label, **kw)
    if band and len(x) and np.any(hi > lo):
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **subplot_kw):
    """``(figure, axes)`` like ``pyplot.subplots`` but on its own Agg canvas: no pyplot
    state and no global backend switch (safe inside a notebook or a GUI program);
    nothing to close. ``subplot_kw`` goes to :meth:`Figure.subplots` (``squeeze``,
    ``sharex``, ...)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **subplot_kw)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
    return path
