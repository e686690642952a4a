"""Replayed series for the global-state processes: a CSV of timestamp,value (spec section 6).

"Every process can replay a file instead: a CSV of timestamp and value, carried
forward between rows." The file has a header row naming two columns, ``timestamp``
and ``value`` (case-insensitive, in that order), then one row per change:
``timestamp`` in simulated seconds (the chain's clock, a finite number, strictly
increasing) and ``value`` a finite number. Between rows the last value holds; before
the first row the first row's value holds (there is nothing earlier to carry).
"""

from __future__ import annotations

import bisect
import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

from defisim.prices import PriceFileError

__all__ = ["ReplaySeries", "load_replay_csv"]

_HEADER = ("timestamp", "value")


@dataclass(frozen=True)
class ReplaySeries:
    """A step function of simulated time: ``times_s[i] -> values[i]``, carried forward.

    Attributes:
        times_s: strictly increasing simulated seconds, at least one.
        values: one finite value per time (the process's unit: USD, wei, USD/kWh).
        source: where it came from (a file path), for messages.

    Raises:
        ValueError: empty, unequal lengths, non-finite entries, times not
            strictly increasing.
    """

    times_s: tuple[float, ...]
    values: tuple[float, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if not self.times_s or len(self.times_s) != len(self.values):
            raise ValueError(
                f"{self.source}: a replay needs one value per time and at least one row, "
                f"got {len(self.times_s)} times and {len(self.values)} values"
            )
        for i, (t, v) in enumerate(zip(self.times_s, self.values, strict=True)):
            if not (math.isfinite(t) and math.isfinite(v)):
                raise ValueError(f"{self.source}: row {i}: non-finite time {t} or value {v}")
            if i and t <= self.times_s[i - 1]:
                raise ValueError(
                    f"{self.source}: row {i}: times must increase strictly, "
                    f"{t} after {self.times_s[i - 1]}"
                )

    def at(self, t_s: float) -> float:
        """The value at simulated time ``t_s``: the last row at or before it (else the first)."""
        i = bisect.bisect_right(self.times_s, t_s) - 1
        return self.values[max(i, 0)]


def load_replay_csv(path: str | os.PathLike[str]) -> ReplaySeries:
    """Read a ``timestamp,value`` CSV (module docstring) into a :class:`ReplaySeries`.

    Blank lines are skipped; a UTF-8 byte-order mark is ignored.

    Raises:
        PriceFileError: (a ``ValueError``) whose one-line message names the file
            and, where it applies, the 1-based line and column: missing file, no
            header, a header other than ``timestamp,value``, a row without exactly
            two fields, a field that is not a finite number, a timestamp not
            greater than the one before, no data rows.
    """
    p = Path(os.fspath(path))
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PriceFileError(p, f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise PriceFileError(p, "not UTF-8 text") from None
    times: list[float] = []
    values: list[float] = []
    header_seen = False
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not f.strip() for f in row):
            continue
        if not header_seen:
            names = tuple(f.strip().lower() for f in row)
            if names != _HEADER:
                raise PriceFileError(
                    p, f"the header must be 'timestamp,value', got {','.join(row)!r}", line=line_no
                )
            header_seen = True
            continue
        if len(row) != 2:
            raise PriceFileError(
                p, f"expected 2 fields (timestamp,value), got {len(row)}", line=line_no
            )
        parsed = []
        for col, (name, field) in enumerate(zip(_HEADER, row, strict=True), start=1):
            try:
                x = float(field)
            except ValueError:
                x = math.nan
            if not math.isfinite(x):
                raise PriceFileError(
                    p, f"not a finite number: {field!r}", line=line_no, column=col,
                    column_name=name,
                )
            parsed.append(x)
        t, v = parsed
        if times and t <= times[-1]:
            raise PriceFileError(
                p, f"timestamps must increase strictly, {t:g} after {times[-1]:g}",
                line=line_no, column=1, column_name="timestamp",
            )
        times.append(t)
        values.append(v)
    if not header_seen:
        raise PriceFileError(p, "empty file (expected a 'timestamp,value' header)")
    if not times:
        raise PriceFileError(p, "no data rows after the header")
    return ReplaySeries(tuple(times), tuple(values), str(path))
