"""The :class:`PricePath` container and :class:`PriceFileError`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

__all__ = ["MAX_PRICE", "PriceFileError", "PricePath"]

#: The largest price a path may hold, in its own quote units: ``10**15``, the largest
#: price in ticks the chain represents (``defisim.numeric.bounds.MAX_PRICE_TICKS``; a
#: market at 0 price decimals lists it, one with more decimals lists less, which the
#: scenario checks when it builds the market). Kept here as a number because
#: ``prices`` and ``numeric`` are units of the same layer; a test keeps them equal.
MAX_PRICE = 1e15


class PriceFileError(ValueError):
    """A price file could not be read.

    The message is one line: ``<file>: <reason>``, or
    ``<file>:<line>: column <n> ('<name>'): <reason>`` when the problem sits at a
    given place (line and column numbers are 1-based; line 1 is the header).

    Attributes:
        path: the file, as given.
        line: 1-based line number of the problem, or ``None``.
        column: 1-based column number of the problem, or ``None``.
        column_name: the column's header name, or ``None``.
        reason: the message without the location prefix.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        column_name: str | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        self.column = column
        self.column_name = column_name
        where = self.path if line is None else f"{self.path}:{line}"
        if column is not None:
            where += f": column {column}" + (f" ({column_name!r})" if column_name else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, eq=False)
class PricePath:
    """A reference price path: prices at (possibly irregular) times.

    Attributes:
        times_s: float64 array, shape ``(n,)``, seconds since the first point;
            ``times_s[0] == 0`` and strictly increasing. Gaps are allowed.
        prices: float64 array, shape ``(n,)``, finite and ``> 0`` (a market
            lists at most :data:`MAX_PRICE`; scenarios check that when they build
            one), in whatever
            quote unit the source used (e.g. USDT per BTC).
        start: timezone-aware UTC datetime of the first point when known (CSV
            files), else ``None`` (synthetic paths).
        source: where the path came from: the file path, or a description such as
            ``"gbm(s0=100.0, mu=0.0, sigma=0.8, dt_s=60.0, n=1000, seed-derived)"``.

    The arrays are copied and made read-only on construction, so a path can be
    shared between agents and runs safely.

    Raises:
        ValueError: arrays not 1-D, of different lengths, fewer than 2 points,
            ``times_s[0] != 0``, times not strictly increasing or not finite, or a
            price that is not finite and positive.
    """

    times_s: np.ndarray
    prices: np.ndarray
    start: datetime | None = None
    source: str = ""

    def __post_init__(self) -> None:
        times = np.array(self.times_s, dtype=np.float64, copy=True)
        prices = np.array(self.prices, dtype=np.float64, copy=True)
        if times.ndim != 1 or prices.ndim != 1:
            raise ValueError(
                f"PricePath: times_s and prices must be 1-D, got shapes {times.shape} "
                f"and {prices.shape}"
            )
        if times.shape != prices.shape:
            raise ValueError(
                f"PricePath: times_s has {times.size} points but prices has {prices.size}"
            )
        if times.size < 2:
            raise ValueError(f"PricePath: needs at least 2 points, got {times.size}")
        if not np.all(np.isfinite(times)):
            raise ValueError("PricePath: times_s must be finite")
        if times[0] != 0.0:
            raise ValueError(f"PricePath: times_s[0] must be 0, got {times[0]!r}")
        steps = np.diff(times)
        if np.any(steps <= 0):
            i = int(np.argmax(steps <= 0)) + 1
            raise ValueError(
                f"PricePath: times_s must be strictly increasing; times_s[{i}]={times[i]!r} "
                f"<= times_s[{i - 1}]={times[i - 1]!r}"
            )
        bad = ~(np.isfinite(prices) & (prices > 0))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"PricePath: prices must be finite and > 0; prices[{i}]={prices[i]!r}")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("PricePath: start must be timezone-aware (UTC)")
        times.flags.writeable = False
        prices.flags.writeable = False
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "prices", prices)

    def __len__(self) -> int:
        """Number of points."""
        return int(self.times_s.size)

    @property
    def interval_s(self) -> float:
        """Median spacing between consecutive points, in seconds (robust to gaps)."""
        return float(np.median(np.diff(self.times_s)))

    @property
    def duration_s(self) -> float:
        """Time of the last point, in seconds since the first."""
        return float(self.times_s[-1])

    def price_at(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """Last known price at time(s) ``t_s`` (seconds since the first point).

        Piecewise-constant, right-continuous: at a point's own time its price is
        returned; after the last point the last price holds. A tolerance of
        ``1e-9 s + 1e-12 * t`` absorbs float round-off in computed grid times
        (so ``k * 0.1`` counts as reaching a point stored as ``0.1 * k``).

        Raises:
            ValueError: a time before 0 (beyond the tolerance) or not finite.
        """
        t = np.asarray(t_s, dtype=np.float64)
        if not np.all(np.isfinite(t)):
            raise ValueError("price_at: t_s must be finite")
        if np.any(t < -1e-9):
            raise ValueError(f"price_at: t_s must be >= 0, got min {float(np.min(t))!r}")
        idx = np.searchsorted(self.times_s, t + (1e-9 + 1e-12 * np.abs(t)), side="right") - 1
        out = self.prices[np.maximum(idx, 0)]
        return float(out) if out.ndim == 0 else out

    def resample(self, step_s: float, n: int | None = None) -> PricePath:
        """Sample the path on a regular grid ``t_k = k * step_s``, ``k = 0..n-1``.

        The value at ``t_k`` is the last known price at or before ``t_k``
        (piecewise-constant, no interpolation, no look-ahead); past the last point
        the last price is held. Gaps in the source are therefore filled with the
        price before the gap.

        Args:
            step_s: grid spacing in seconds, finite and > 0.
            n: number of grid points, >= 2. Default: the smallest grid that covers
                the whole path, ``ceil(duration_s / step_s) + 1`` (its last point is
                at or just after the last source point).

        Returns:
            A new :class:`PricePath` with the same ``start`` and
            ``source + " resampled(step_s=...)"``.

        Raises:
            ValueError: ``step_s`` not finite and positive, or ``n < 2``.
        """
        step = float(step_s)
        if not np.isfinite(step) or step <= 0:
            raise ValueError(f"resample: step_s must be finite and > 0, got {step_s!r}")
        if n is None:
            n = int(np.ceil(self.duration_s / step - 1e-9)) + 1
            n = max(n, 2)
        elif isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise ValueError(f"resample: n must be an int, got {n!r}")
        if n < 2:
            raise ValueError(f"resample: n must be >= 2, got {n}")
        grid = np.arange(int(n), dtype=np.float64) * step
        return PricePath(
            times_s=grid,
            prices=np.asarray(self.price_at(grid)),
            start=self.start,
            source=f"{self.source} resampled(step_s={step!r})",
        )
