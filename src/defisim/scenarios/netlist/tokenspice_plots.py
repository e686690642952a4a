"""TokenSPICE's plots of a netlist CSV (``../shared/specs/token-netlists.md`` 1.5,
``util/plotutil.py``): one PNG per (YParam, scale), with its titles, scales, unit
multipliers, tick rules and file names.

The drawing uses matplotlib's object API (no pyplot state). Two deliberate
differences from the source: scales are passed in lower case (HEAD's upper case is
rejected by matplotlib >= 3.7), and DARC-SPICE's x-tick rule does not fail at exactly
202 (its off-by-one); the file names are TokenSPICE's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .tokenspice_csv import column

LINEAR, LOG, BOTH = 0, 1, 2
"""``y_scale`` values."""
MULT1, MULT100, DIV1M, DIV1B = 0, 1, 2, 3
"""``mult`` values: x1, x100, /1e6, /1e9."""
COUNT, DOLLAR, PERCENT = 0, 1, 2
"""``unit`` values."""

_FACTOR = {MULT1: 1.0, MULT100: 100.0, DIV1M: 1e-6, DIV1B: 1e-9}
_UNIT_STR = {(MULT1, DOLLAR): "$", (DIV1M, DOLLAR): "$M", (DIV1B, DOLLAR): "$B",
             (MULT1, COUNT): "count", (DIV1M, COUNT): "count, in millions",
             (DIV1B, COUNT): "count, in billions", (MULT100, PERCENT): "%"}


@dataclass(frozen=True)
class YParam:
    """One plot instruction (TokenSPICE ``YParam``): the CSV columns drawn, their legend
    labels, the plot's name, ``y_scale`` (LINEAR, LOG or BOTH), ``mult`` (MULT1,
    MULT100, DIV1M, DIV1B) and ``unit`` (COUNT, DOLLAR, PERCENT).

    Raises:
        ValueError: columns and labels of different lengths, or a (mult, unit) pair
            TokenSPICE has no unit string for.
    """

    y_header_names: tuple[str, ...]
    labels: tuple[str, ...]
    y_pretty_name: str
    y_scale: int = LINEAR
    mult: int = MULT1
    unit: int = DOLLAR

    def __post_init__(self) -> None:
        object.__setattr__(self, "y_header_names", tuple(self.y_header_names))
        object.__setattr__(self, "labels", tuple(self.labels))
        if len(self.y_header_names) != len(self.labels):
            raise ValueError(f"plot {self.y_pretty_name!r}: {len(self.y_header_names)} columns "
                             f"but {len(self.labels)} labels")
        unit_string(self.mult, self.unit)
        if self.y_scale not in (LINEAR, LOG, BOTH):
            raise ValueError(f"plot {self.y_pretty_name!r}: y_scale must be LINEAR, LOG or BOTH")


def unit_string(mult: int, unit: int) -> str:
    """TokenSPICE's unit string of a (mult, unit) pair (``$M``, ``count``, ``%``, ...).

    Raises:
        ValueError: a pair TokenSPICE does not define (its code raises too).
    """
    try:
        return _UNIT_STR[(mult, unit)]
    except KeyError:
        raise ValueError(f"no unit string for mult={mult}, unit={unit}") from None


def file_name(pretty_name: str, scale: str) -> str:
    """``"{name}_{SCALE}.png"`` with TokenSPICE's replacements, in order: ``/`` ->
    ``_per_``, space -> ``_``, ``,`` -> ``_``, ``'`` -> nothing, ``__`` -> ``_``."""
    s = f"{pretty_name}_{scale}.png"
    for a, b in (("/", "_per_"), (" ", "_"), (",", "_"), ("'", ""), ("__", "_")):
        s = s.replace(a, b)
    return s


def x_tick_step(max_x: float, darc: bool = False) -> int:
    """The x-tick spacing for data up to ``max_x`` (spec 1.5): with m = max(10, ceil(max_x)):
    1 if m < 12, 2 if < 22, 5 if < 52, 10 if < 152, then 20 if < 202, 100 if < 1000,
    500 if < 5000 (DARC-SPICE: 20 for every m >= 152).

    Raises:
        ValueError: m >= 5000 (TokenSPICE raises too).
    """
    m = max(10, math.ceil(max_x))
    for limit, step in ((12, 1), (22, 2), (52, 5), (152, 10)):
        if m < limit:
            return step
    if darc:
        return 20
    for limit, step in ((202, 20), (1000, 100), (5000, 500)):
        if m < limit:
            return step
    raise ValueError(f"x values up to {max_x}: too many ticks (TokenSPICE stops at 5000)")


def check_specs(header: list[str], specs: list[YParam], netlist: str = "netlist") -> None:
    """Raise ``KeyError`` naming the plot and the first column of ``specs`` that is not
    in ``header``."""
    for yp in specs:
        for c in yp.y_header_names:
            if c not in header:
                raise KeyError(f"{netlist}: plot {yp.y_pretty_name!r} names unknown column "
                               f"{c!r} (the CSV has: {', '.join(header)})")


def draw(header: list[str], rows: list[list[float]], x_label: str, specs: list[YParam],
         png_dir: str | Path, darc: bool = False) -> list[Path]:
    """Draw every (YParam, scale) of ``specs`` from a CSV's ``header`` and ``rows`` into
    ``png_dir`` (created if missing); returns the PNG paths in drawing order.

    Raises:
        KeyError: an unknown x or y column (:func:`check_specs`).
        ValueError: bad specs, or too many x ticks.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FormatStrFormatter

    check_specs(header, specs)
    out = Path(png_dir)
    out.mkdir(parents=True, exist_ok=True)
    x = np.asarray(column(header, rows, x_label), dtype=float)
    step = x_tick_step(float(np.nanmax(x)) if len(x) else 0.0, darc)
    paths = []
    for yp in specs:
        scales = ("LINEAR", "LOG") if yp.y_scale == BOTH else (("LINEAR",) if yp.y_scale == LINEAR else ("LOG",))
        factor = _FACTOR[yp.mult]
        ys = [np.asarray(column(header, rows, c), dtype=float) * factor for c in yp.y_header_names]
        for scale in scales:
            fig = Figure(figsize=(8, 5))
            ax = fig.add_subplot()
            for y, label in zip(ys, yp.labels, strict=True):
                ax.plot(x, y, label=label if label else "_nolegend_")
            ax.set_yscale(scale.lower())
            ax.set_xlabel(x_label)
            ax.set_ylabel(f"{yp.y_pretty_name} ({unit_string(yp.mult, yp.unit)})")
            ax.set_title(f"{yp.y_pretty_name} ({scale})")
            n_labels = sum(1 for lab in yp.labels if lab)
            if (2 <= n_labels <= 5) if darc else n_labels > 1:
                ax.legend()
            finite = [float(np.nanmax(y[np.isfinite(y)])) for y in ys if np.isfinite(y).any()]
            fmt = "%.2f" if finite and max(finite) < 1000 else "%.2g"
            if scale == "LINEAR":
                ax.yaxis.set_major_formatter(FormatStrFormatter(fmt))
            top = math.ceil(float(np.nanmax(x))) if len(x) else 0
            ax.set_xticks(np.arange(0, max(top, 10) + 1, step))
            ax.grid(alpha=0.3)
            path = out / file_name(yp.y_pretty_name, scale)
            fig.savefig(path, dpi=80)
            paths.append(path)
    return paths


__all__ = [
    "BOTH",
    "COUNT",
    "DIV1B",
    "DIV1M",
    "DOLLAR",
    "LINEAR",
    "LOG",
    "MULT1",
    "MULT100",
    "PERCENT",
    "YParam",
    "check_specs",
    "draw",
    "file_name",
    "unit_string",
    "x_tick_step",
]
