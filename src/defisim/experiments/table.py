"""The table of a sweep's results for a terminal: one row per grid point, the swept
parameters, the number of ok runs ``n`` and a cell ``mean ± 95 % CI half-width`` per
KPI, with as many KPI columns as fit the width (the full table is ``results.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DEFAULT_KPIS = (
    "volume",
    "trades",
    "spread",
    "mean_spread_bps",
    "mm_return_on_capital",
    "mm_pnl",
    "closeouts",
)
"""KPIs shown by default, in this order, when the scenario has them."""

MAX_DEFAULT_COLUMNS = 5
"""At most this many KPI columns are chosen by default (more only when named)."""

TITLE = "mean ± 95 % CI half-width (2 digits) over seeds (ok runs)"


@dataclass
class SweepTable:
    """A rich ``table``; ``shown``: its KPI columns; ``left_out``: the KPIs of the
    results not shown (all of them are in ``results.csv``)."""

    table: Any
    shown: list[str]
    left_out: list[str]


def fmt(v: float) -> str:
    """A number for a table cell: integers with thousands separators, else 6
    significant digits; ``nan``/``inf`` as such."""
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.6g}"


def fmt_half(v: float) -> str:
    """A CI half-width with 2 significant digits (``70``, ``5.5``, ``1,200``)."""
    if not math.isfinite(v):
        return str(v)
    r = float(f"{v:.2g}")
    return f"{r:,.0f}" if abs(r) >= 10 else f"{r:.2g}"


def _cells(summary: list[tuple]) -> tuple[dict[tuple, dict[str, str]], dict[tuple, int]]:
    cells: dict[tuple, dict[str, str]] = {}
    ns: dict[tuple, int] = {}
    for pt, k, n, m, lo, hi in summary:
        ci = f" ± {fmt_half((hi - lo) / 2)}" if math.isfinite(lo) and math.isfinite(hi) else ""
        cells.setdefault(pt, {})[k] = f"{fmt(m)}{ci}"
        ns[pt] = max(ns.get(pt, 0), int(n))
    return cells, ns


def _width(header: str, values: list[str]) -> int:
    # a column of rich's default box: content, one space of padding each side, a rule
    return max([len(header), *map(len, values)]) + 3


def sweep_table(
    names: list[str],
    summary: list[tuple],
    kpis: list[str] | None = None,
    width: int = 80,
) -> SweepTable:
    """The results table of a sweep for a terminal ``width`` characters wide.

    Args:
        names: the swept parameters (the first columns, always shown).
        summary: rows ``(point, kpi, n, mean, ci_low, ci_high)`` (:func:`~.stats.summarize`).
        kpis: the KPI columns, all shown in this order (cells wrap if they do not
            fit). ``None``: those of :data:`DEFAULT_KPIS` the results have (else
            the scenario's KPIs by name), at most :data:`MAX_DEFAULT_COLUMNS`, as
            many as fit ``width``.
        width: the terminal's width; rich wraps cells so no line is longer.
    """
    from rich.table import Table

    cells, ns = _cells(summary)
    points = list(cells)
    have = list(dict.fromkeys(k for _, k, *_ in summary))
    fixed = [
        _width(n, [str(p[i]) for p in points]) for i, n in enumerate(names)
    ] + [_width("n", [str(v) for v in ns.values()])]
    used = 1 + sum(fixed)
    if kpis is not None:
        shown = list(kpis)
    else:
        preferred = [k for k in DEFAULT_KPIS if k in have]
        rest = sorted(k for k in have if "." not in k and k not in preferred)
        candidates = preferred if len(preferred) >= 3 else preferred + rest
        shown = []
        for k in candidates:
            w = _width(k, [c.get(k, "") for c in cells.values()])
            if len(shown) >= MAX_DEFAULT_COLUMNS or used + w > width:
                break
            shown.append(k)
            used += w
    t = Table(title=TITLE)
    for n in [*names, "n"]:
        t.add_column(n, justify="right", overflow="fold")
    for k in shown:
        t.add_column(k, justify="right", overflow="fold")
    for pt in points:
        kp = cells[pt]
        t.add_row(*[str(v) for v in pt], str(ns[pt]), *[kp.get(k, "") for k in shown])
    left_out = [k for k in have if k not in shown]
    return SweepTable(t, shown, left_out)
