"""Load a reference price path from a CSV file (Binance klines or any named columns).

Reading goes through ``pyarrow.csv`` and vectorised parsing. When anything in the
file is off, the file is read again row by row with the ``csv`` module so that the
error can name the exact line; that second pass is also a lenient fallback (it
accepts a few spellings pyarrow refuses, e.g. a number padded with spaces).
"""

from __future__ import annotations

import csv
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .path import MAX_PRICE, PriceFileError, PricePath

__all__ = ["EPOCH_UNIT_LIMITS", "PRICE_COLUMN_NAMES", "TIME_COLUMN_NAMES", "load_price_csv"]

#: Names tried, in order and case-insensitively, when ``time_column`` is not given.
TIME_COLUMN_NAMES = ("timestamp", "datetime", "date", "open_time", "time", "ts")
#: Names tried, in order and case-insensitively, when ``price_column`` is not given.
PRICE_COLUMN_NAMES = ("close", "price", "mid", "mid_price", "close_price", "last", "last_price")
#: Numeric timestamps are Unix epoch times whose unit is chosen by the magnitude of
#: the largest absolute value in the column: ``(upper bound, units per second, name)``.
#: 1e11 s is the year 5138; 1e11 ms is March 1973.
EPOCH_UNIT_LIMITS = (
    (1e11, 1.0, "s"),
    (1e14, 1e3, "ms"),
    (1e17, 1e6, "us"),
    (math.inf, 1e9, "ns"),
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Retry(Exception):
    """The fast path found something it cannot pin to a line: read again row by row."""


def load_price_csv(
    path: str | os.PathLike[str],
    time_column: str | None = None,
    price_column: str | None = None,
) -> PricePath:
    """Load a price path from a CSV file with a header row.

    Column choice: a name given by the caller must match a header name (exactly,
    or else case-insensitively ignoring surrounding spaces). Otherwise the first of
    :data:`TIME_COLUMN_NAMES` (``timestamp, datetime, date, open_time, time, ts``)
    and :data:`PRICE_COLUMN_NAMES` (``close, price, mid, mid_price, close_price,
    last, last_price``) present in the header is used, so Binance kline exports
    (``date,open,high,low,close,volume,ticker``, or ``open_time,...,close,...``)
    load with no arguments. Every row must have as many fields as the header;
    blank lines are skipped; a UTF-8 byte-order mark is ignored.

    Timestamps, decided from the first data row:

    - text: ISO 8601 (``2021-04-04 20:00:00``, ``2021-04-04T20:00:00.5Z``,
      ``2021-04-04T22:00:00+02:00``, ``2021-04-04``). Times without an offset are
      taken as UTC; times with one are converted to UTC.
    - numbers: Unix epoch times. The unit comes from the magnitude of the largest
      absolute value in the column (:data:`EPOCH_UNIT_LIMITS`): below 1e11
      seconds, below 1e14 milliseconds, below 1e17 microseconds, else
      nanoseconds. Small numbers (e.g. ``0, 60, 120``) are therefore read as
      seconds, and ``start`` is then a date in January 1970.

    Timestamps must be strictly increasing; gaps are allowed.

    Args:
        path: the CSV file.
        time_column: header name of the time column, or ``None`` to detect it.
        price_column: header name of the price column, or ``None`` to detect it.

    Returns:
        A :class:`PricePath` with ``times_s`` relative to the first row,
        ``start`` the first row's UTC time, ``source`` the path as given.

    Raises:
        PriceFileError: (a ``ValueError``) with one line naming the file, and the
            1-based line and column where it applies: missing file, empty file, no
            header row, unknown column (the message lists the columns), a row with
            the wrong number of fields, a price that is not a finite positive
            number or is above :data:`~defisim.prices.MAX_PRICE` (1e15, the
            largest price the chain represents), an unparseable timestamp,
            timestamps not strictly increasing, fewer than 2 data rows.
    """
    if time_column is not None and not isinstance(time_column, str):
        raise TypeError(f"time_column must be a str or None, got {time_column!r}")
    if price_column is not None and not isinstance(price_column, str):
        raise TypeError(f"price_column must be a str or None, got {price_column!r}")
    p = Path(os.fspath(path))
    header = _read_header(p)
    ti = _pick_column(p, header, time_column, TIME_COLUMN_NAMES, "time")
    pi = _pick_column(p, header, price_column, PRICE_COLUMN_NAMES, "price")
    if ti == pi:
        raise PriceFileError(p, f"the time and price columns are the same column ({header[ti]!r})")
    for idx in (ti, pi):
        dup = [j + 1 for j, h in enumerate(header) if h == header[idx]]
        if len(dup) > 1:
            raise PriceFileError(
                p,
                f"column name {header[idx]!r} appears more than once in the header "
                f"(columns {', '.join(map(str, dup))})",
            )
    try:
        return _load_fast(p, header, ti, pi)
    except _Retry:
        return _load_slow(p, header, ti, pi)


# ----------------------------------------------------------------------------- header


def _read_header(p: Path) -> list[str]:
    if not p.exists():
        raise PriceFileError(p, "no such file")
    if p.is_dir():
        raise PriceFileError(p, "is a directory, not a CSV file")
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if row and any(cell.strip() for cell in row):
                    return row
    except UnicodeDecodeError as exc:
        raise PriceFileError(p, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise PriceFileError(p, f"cannot parse the header: {exc}") from None
    raise PriceFileError(p, "is empty (no header row, no data)")


def _looks_like_data(header: list[str]) -> bool:
    """True when every header cell is a number or a date: the file has no header."""
    for cell in header:
        s = cell.strip()
        if not s:
            return False
        if _as_number(s) is None:
            try:
                datetime.fromisoformat(s)
            except ValueError:
                return False
    return True


def _pick_column(
    p: Path, header: list[str], wanted: str | None, candidates: tuple[str, ...], kind: str
) -> int:
    norm = [h.strip().lower() for h in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        key = wanted.strip().lower()
        if norm.count(key) == 1:
            return norm.index(key)
    else:
        for name in candidates:
            if name in norm:
                return norm.index(name)
    cols = ", ".join(repr(h) for h in header)
    if _looks_like_data(header):
        raise PriceFileError(
            p,
            f"has no header row: line 1 looks like data ({cols}); add a header naming the columns",
        )
    if wanted is not None:
        raise PriceFileError(p, f"no {kind} column {wanted!r}; the columns are: {cols}")
    raise PriceFileError(
        p,
        f"cannot find a {kind} column (looked for {', '.join(candidates)}); the columns "
        f"are: {cols}; pass {kind}_column=...",
    )


# ------------------------------------------------------------------------ fast path


def _load_fast(p: Path, header: list[str], ti: int, pi: int) -> PricePath:
    tname, pname = header[ti], header[pi]
    try:
        table = pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                include_columns=[tname, pname],
                column_types={tname: pa.string(), pname: pa.string()},
            ),
        )
        prices = pc.cast(table.column(pname), pa.float64()).to_numpy()
    except (pa.ArrowException, KeyError, ValueError) as exc:
        raise _Retry from exc
    traw = table.column(tname)
    if len(traw) == 0:
        _check_count(p, 0)
    values, per_second = _times_fast(traw)
    return _finish(p, header, ti, pi, values, per_second, prices, None, None, None)


def _times_fast(traw: pa.ChunkedArray) -> tuple[np.ndarray, float]:
    """Vectorised timestamp parsing; :class:`_Retry` on anything unusual."""
    first = traw[0].as_py()
    if _as_number(first.strip()) is not None:
        for target in (pa.int64(), pa.float64()):
            try:
                values = pc.cast(traw, target).to_numpy()
            except pa.ArrowException:
                continue
            if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                raise _Retry
            return values, _epoch_units(values)
        raise _Retry
    for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            ts = pc.cast(traw, target)
        except pa.ArrowException:
            continue
        return pc.cast(ts, pa.int64()).to_numpy(), 1e9
    raise _Retry


# ------------------------------------------------------------------------ slow path


def _load_slow(p: Path, header: list[str], ti: int, pi: int) -> PricePath:
    """Row-by-row reading with exact line numbers for every error."""
    tname, pname = header[ti], header[pi]
    lines: list[int] = []
    t_raw: list[str] = []
    p_raw: list[str] = []
    prices: list[float] = []
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            seen_header = False
            for row in reader:
                if not row or not any(cell.strip() for cell in row):
                    continue
                if not seen_header:
                    seen_header = True
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise PriceFileError(
                        p, f"has {len(row)} fields but the header has {len(header)}", line=line
                    )
                ts, ps = row[ti], row[pi]
                value = _as_number(ps.strip())
                if value is None or not math.isfinite(value) or value <= 0:
                    raise PriceFileError(
                        p,
                        f"price {ps!r} is not a finite positive number",
                        line=line,
                        column=pi + 1,
                        column_name=pname,
                    )
                if value > MAX_PRICE:
                    raise PriceFileError(
                        p, _too_large(ps), line=line, column=pi + 1, column_name=pname
                    )
                lines.append(line)
                t_raw.append(ts)
                p_raw.append(ps)
                prices.append(float(value))
    except UnicodeDecodeError as exc:
        raise PriceFileError(p, f"is not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise PriceFileError(p, f"CSV syntax error: {exc}", line=reader.line_num) from None
    _check_count(p, len(lines))
    values, per_second = _times_slow(p, t_raw, lines, ti, tname)
    return _finish(
        p, header, ti, pi, values, per_second, np.array(prices), np.array(lines), t_raw, p_raw
    )


def _times_slow(
    p: Path, t_raw: list[str], lines: list[int], ti: int, tname: str
) -> tuple[np.ndarray, float]:
    numeric = _as_number(t_raw[0].strip()) is not None
    out: list[int | float] = []
    for s, line in zip(t_raw, lines, strict=True):
        s = s.strip()
        if numeric:
            v = _as_number(s)
            if v is None or not math.isfinite(v):
                raise PriceFileError(
                    p,
                    f"timestamp {s!r} is not a finite number (the first row's timestamp "
                    "is a number, so all must be epoch times)",
                    line=line,
                    column=ti + 1,
                    column_name=tname,
                )
            out.append(v)
            continue
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise PriceFileError(
                p,
                f"timestamp {s!r} is not an ISO 8601 date/time",
                line=line,
                column=ti + 1,
                column_name=tname,
            ) from None
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
        out.append(((dt - _EPOCH) // timedelta(microseconds=1)) * 1000)
    if all(isinstance(v, int) for v in out) and max(abs(v) for v in out) < 2**63:
        values = np.array(out, dtype=np.int64)
    else:
        values = np.array(out, dtype=np.float64)
    return values, (_epoch_units(values) if numeric else 1e9)


# -------------------------------------------------------------------------- shared


def _as_number(s: str) -> int | float | None:
    """``int`` for integer text, ``float`` for other numeric text, else ``None``."""
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return None


def _too_large(raw: str) -> str:
    return (f"price {raw!r} is above {MAX_PRICE:.0e}, the largest price the chain "
            "represents (defisim.numeric.bounds)")


def _epoch_units(values: np.ndarray) -> float:
    biggest = float(np.max(np.abs(values)))
    for limit, per_second, _name in EPOCH_UNIT_LIMITS:
        if biggest < limit:
            return per_second
    return 1e9  # pragma: no cover - the last limit is infinite


def _check_count(p: Path, n: int) -> None:
    if n < 2:
        raise PriceFileError(p, f"needs at least 2 data rows, found {n}")


def _finish(
    p: Path,
    header: list[str],
    ti: int,
    pi: int,
    values: np.ndarray,
    per_second: float,
    prices: np.ndarray,
    lines: np.ndarray | None,
    t_raw: list[str] | None,
    p_raw: list[str] | None,
) -> PricePath:
    """Validate parsed columns and build the path; :class:`_Retry` if lines are unknown."""
    _check_count(p, int(prices.size))
    bad = ~(np.isfinite(prices) & (prices > 0) & (prices <= MAX_PRICE))
    if np.any(bad):
        if lines is None or p_raw is None:
            raise _Retry
        i = int(np.argmax(bad))
        too_large = bool(np.isfinite(prices[i]) and prices[i] > MAX_PRICE)
        raise PriceFileError(
            p,
            _too_large(p_raw[i]) if too_large else f"price {p_raw[i]!r} is not a finite positive number",
            line=int(lines[i]),
            column=pi + 1,
            column_name=header[pi],
        )
    steps = np.diff(values)
    if np.any(steps <= 0):
        if lines is None or t_raw is None:
            raise _Retry
        i = int(np.argmax(steps <= 0)) + 1
        raise PriceFileError(
            p,
            f"timestamp {t_raw[i].strip()!r} is not after the previous row's "
            f"{t_raw[i - 1].strip()!r} (line {int(lines[i - 1])}); timestamps must be "
            "strictly increasing",
            line=int(lines[i]),
            column=ti + 1,
            column_name=header[ti],
        )
    v0 = values[0]
    times_s = (values - v0).astype(np.float64) / per_second
    if np.any(np.diff(times_s) <= 0):
        raise PriceFileError(p, "timestamps too close together to tell apart as float64 seconds")
    try:
        if values.dtype.kind == "i" and per_second == 1e9:
            start = _EPOCH + timedelta(microseconds=int(v0) // 1000)
        else:
            start = _EPOCH + timedelta(seconds=float(v0) / per_second)
    except OverflowError:
        start = None
    return PricePath(times_s=times_s, prices=prices, start=start, source=str(p))


def load_step_path(
    path,
    step_seconds: float | None = None,
    *,
    time_column: str | None = None,
    price_column: str | None = None,
    start_row: int = 0,
) -> tuple[PricePath, float]:
    """A price file as one price per simulation step: ``(path, step seconds)``.

    With ``step_seconds=None`` every row is one step of the file's median interval
    (gaps in the file are collapsed); otherwise the file is resampled on that grid
    (last price at or before each time). ``start_row`` drops the first rows. The
    returned path's times are ``k * step``.

    Raises:
        PriceFileError: a missing or malformed file (see :func:`load_price_csv`).
        ValueError: ``start_row`` leaves fewer than 2 rows.
    """
    loaded = load_price_csv(path, time_column=time_column, price_column=price_column)
    if step_seconds is None:
        step = loaded.interval_s
        prices = loaded.prices
        times = loaded.times_s
        how = f"one row per {step:g} s step"
    else:
        step = float(step_seconds)
        prices = loaded.resample(step).prices
        times = np.arange(len(prices)) * step
        how = f"resampled every {step:g} s"
    start = loaded.start
    if start_row:
        prices = prices[start_row:]
        how = f"rows from {start_row}, {how}"
        if start is not None and start_row < len(times):
            start = start + timedelta(seconds=float(times[start_row]))
    if len(prices) < 2:
        raise ValueError(f"start_row {start_row} leaves {len(prices)} rows of {path}")
    grid = PricePath(np.arange(len(prices)) * step, prices, start, f"{loaded.source} ({how})")
    return grid, step
