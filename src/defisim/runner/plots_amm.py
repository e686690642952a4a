"""The AMM figure of a run (``amm.png``), drawn from the ``amm_pools`` table of the AMM
protocol's recording (:mod:`defisim.protocols.amm.recording`); :mod:`.plots` draws it
when that table has rows.

One row of three panels per pool (at most :data:`MAX_POOLS`, in name order):

- the pool's price (its base asset in its quote asset, the ``base`` and ``quote``
  columns; bucket mean with its min-max band) and, when the
  scenario records one, the reference price: the scenario KPI
  ``<pool>.reference_price``, else ``reference_price`` (scenario KPIs have no market:
  ``kpis.market IS NULL``);
- TVL in quote units, and on a twin axis the pool's liquidity (V3 active liquidity,
  V2 √k; Balancer pools have none);
- cumulative volume and, on a twin axis, cumulative fees (quote units).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .plot_style import _line

MAX_POOLS = 12
"""Pools drawn at most (name order)."""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _pool_units(ctx: Any, pool: str) -> tuple[str, str]:
    """``(base, quote)`` of ``pool`` from ``amm_pools``."""
    for base, quote in ctx.run.q(
        f"SELECT base, quote FROM amm_pools WHERE pool = {_q(pool)} LIMIT 1"
    ):
        return str(base), str(quote)
    return "base", "quote"


def _reference_where(ctx: Any, pool: str) -> str | None:
    run = ctx.run
    if "kpis" not in run.tables:
        return None
    for name in (f"{pool}.reference_price", "reference_price"):
        w = f"market IS NULL AND name = {_q(name)}"
        if run.q(f"SELECT count(*) FROM kpis WHERE {w}")[0][0]:
            return w
    return None


def fig_amm(ctx: Any) -> Figure | None:
    """The AMM figure of the run behind ``ctx`` (a :class:`defisim.runner.plots._Ctx`),
    or ``None`` when ``amm_pools`` has no rows."""
    run, t = ctx.run, ctx.time
    if not run.count("amm_pools"):
        return None
    pools = [r[0] for r in run.q("SELECT DISTINCT pool FROM amm_pools ORDER BY pool")][:MAX_POOLS]
    fig = Figure(figsize=(15, 3.4 * len(pools)), layout="constrained")
    axes = fig.subplots(len(pools), 3, squeeze=False)
    for i, pool in enumerate(pools):
        base, quote = _pool_units(ctx, pool)
        where = f"pool = {_q(pool)}"
        x, s = run.buckets("amm_pools", "time_ns", ["price", "tvl", "liquidity", "volume_cum",
                                                     "fees_cum"], where)
        xs = t.x(x / 1e9)
        last = i == len(pools) - 1
        # price and reference
        ax = axes[i][0]
        ref = _reference_where(ctx, pool)
        if ref is not None:
            rx, rs = run.buckets("kpis", "time_s", ["value"], ref)
            ax.plot(t.x(rx), rs["value"][0], lw=2.2, color="tab:blue", alpha=0.45,
                    label="reference price")
        _line(ax, xs, s["price"], "pool price", lw=0.9, color="black")
        ax.set_title(f"{pool}: price" + (" and reference" if ref else ""), fontsize=10)
        ax.set_ylabel(f"price of {base} ({quote})", fontsize=8)
        ax.legend(fontsize=7, loc="best")
        # TVL and liquidity
        ax = axes[i][1]
        _line(ax, xs, s["tvl"], "TVL", lw=1.0, color="tab:green")
        ax.set_ylabel(f"TVL ({quote})", color="tab:green", fontsize=8)
        title = f"{pool}: TVL"
        if np.any(np.isfinite(s["liquidity"][0])):
            ax2 = ax.twinx()
            _line(ax2, xs, s["liquidity"], "liquidity", band=False, lw=0.8, color="tab:purple")
            ax2.set_ylabel("liquidity (raw)", color="tab:purple", fontsize=8)
            ax2.ticklabel_format(axis="y", useOffset=False)
            title += " and liquidity"
        ax.set_title(title, fontsize=10)
        # cumulative volume and fees
        ax = axes[i][2]
        _line(ax, xs, s["volume_cum"], "volume", band=False, lw=1.0, color="tab:orange")
        ax.set_ylabel(f"cumulative volume ({quote})", color="tab:orange", fontsize=8)
        ax2 = ax.twinx()
        # fees are often a fixed share of volume: dashed, so both lines show
        _line(ax2, xs, s["fees_cum"], "fees", band=False, lw=0.9, color="tab:red", ls="--")
        ax2.set_ylabel(f"cumulative fees ({quote})", color="tab:red", fontsize=8)
        ax.set_title(f"{pool}: cumulative volume and fees", fontsize=10)
        for a in axes[i]:
            a.grid(alpha=0.3)
            a.tick_params(labelsize=7)
            t.format(a, label=last, ticks=True)
    return fig


__all__ = ["MAX_POOLS", "fig_amm"]
