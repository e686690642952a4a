"""Uniswap V3 pool event files (demeter-fetch ``tick.csv``): the reader and the tick-net
inference of spec ``amm.md`` 4.7.

Market data like the price files of :mod:`.csvfile`: it imports nothing of defisim, so
scenarios and agents (which replay a real day's flow into a pool) and the wei-exact
replay (:mod:`defisim.replay.uniswap_v3`, which checks it) share one reader.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Uniswap V3 TickMath bounds (spec amm.md 2.1); restated so this module stays a foundation
MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342

SWAP, MINT, BURN, COLLECT = 0, 1, 2, 3
TX_TYPES = {"SWAP": SWAP, "MINT": MINT, "BURN": BURN, "COLLECT": COLLECT}
"""``tx_type`` values and their codes in :attr:`UniswapV3Events.kind`."""

REQUIRED_COLUMNS = (
    "block_number",
    "tx_type",
    "pool_log_index",
    "amount0",
    "amount1",
    "total_liquidity",
    "sqrtPriceX96",
    "current_tick",
    "tick_lower",
    "tick_upper",
    "liquidity",
)
"""Header names the reader needs (the file has 19 columns; the others are not read)."""

_TICK_COLUMNS = frozenset({"current_tick", "tick_lower", "tick_upper"})  # written as 199045.0


class UniswapV3FormatError(ValueError):
    """A ``tick.csv`` file is malformed; the message names the file, the line (and data row)
    and the column."""


# -- parsing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class UniswapV3Events:
    """A parsed ``tick.csv`` as parallel lists, one entry per data row (``n`` rows).

    ``kind``: 0 SWAP, 1 MINT, 2 BURN, 3 COLLECT (:data:`TX_TYPES`). ``block``, ``log_index``
    (``pool_log_index``). ``amount0``/``amount1``: raw token units (SWAP: signed, pool's
    side, positive = paid in; MINT/BURN/COLLECT: the amounts deposited / released /
    collected). ``total_liquidity``: active liquidity L (exact on SWAP rows only).
    ``sqrt_price_x96`` (Q64.96) and ``tick``: the pool's after the event. ``tick_lower``,
    ``tick_upper``, ``liquidity`` (the position's liquidity change, unsigned): MINT/BURN
    rows, 0 elsewhere (COLLECT rows keep their ticks).
    """

    path: str
    kind: list[int] = field(default_factory=list)
    block: list[int] = field(default_factory=list)
    log_index: list[int] = field(default_factory=list)
    amount0: list[int] = field(default_factory=list)
    amount1: list[int] = field(default_factory=list)
    total_liquidity: list[int] = field(default_factory=list)
    sqrt_price_x96: list[int] = field(default_factory=list)
    tick: list[int] = field(default_factory=list)
    tick_lower: list[int] = field(default_factory=list)
    tick_upper: list[int] = field(default_factory=list)
    liquidity: list[int] = field(default_factory=list)
    timestamp: list[int] = field(default_factory=list)
    """Unix seconds of each row's block (``block_timestamp``, UTC); empty when the file has
    no such column."""

    def __len__(self) -> int:
        return len(self.kind)


def _where(path: str, row: int, column: str | None = None) -> str:
    col = f", column {column!r}" if column else ""
    return f"{path}: line {row + 2} (row {row}){col}"


def _parse_int(text: str, path: str, row: int, column: str) -> int:
    """``text`` as an int; tick columns may be written as floats with a zero fraction."""
    try:
        return int(text)
    except ValueError:
        pass
    if column in _TICK_COLUMNS:
        whole, dot, frac = text.partition(".")
        if dot and frac.strip("0") == "" and whole.lstrip("-").isdigit():
            return int(whole)
    what = "an integer" if text.strip() else "an integer, got an empty field"
    raise UniswapV3FormatError(
        f"{_where(path, row, column)}: not {what}" + (f": {text!r}" if text.strip() else "")
    )


def _parse_time(text: str, path: str, row: int) -> int:
    """``2024-01-05 00:00:23`` (UTC) or Unix seconds -> Unix seconds."""
    t = text.strip()
    try:
        if t.replace(".", "", 1).isdigit():
            return int(float(t))
        return int(datetime.fromisoformat(t).replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise UniswapV3FormatError(
            f"{_where(path, row, 'block_timestamp')}: not a date-time: {text!r}"
        ) from None


def read_tick_csv(path: str | os.PathLike[str]) -> UniswapV3Events:
    """Parse a demeter-fetch Uniswap V3 ``tick.csv`` (header row, one event per row).

    Every row needs the :data:`REQUIRED_COLUMNS` fields with ``tx_type`` in SWAP / MINT /
    BURN / COLLECT; ``amount0``, ``amount1``, ``total_liquidity``, ``sqrtPriceX96``,
    ``current_tick`` and ``block_number``/``pool_log_index`` integers (ticks may be written
    ``199045.0``); MINT and BURN rows also integer ``tick_lower`` < ``tick_upper`` and
    ``liquidity`` >= 0. sqrtPriceX96 must lie in [MIN_SQRT_RATIO, MAX_SQRT_RATIO) and ticks in
    [MIN_TICK, MAX_TICK] (spec 2.1).

    Returns:
        :class:`UniswapV3Events`, one entry per data row.

    Raises:
        FileNotFoundError: no such file.
        UniswapV3FormatError: empty file, no data rows, a missing column, a row with too
            few fields, a non-integer field, an unknown ``tx_type`` or a value out of range;
            the message names the line, the 0-based data row and the column.
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"{p}: no such file")
    ev = UniswapV3Events(path=p)
    with open(p, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise UniswapV3FormatError(f"{p}: line 1: the file is empty (expected a header row)")
        names = [h.strip() for h in header]
        for col in REQUIRED_COLUMNS:
            if col not in names:
                raise UniswapV3FormatError(f"{p}: line 1 (header): missing column {col!r}")
        idx = {col: names.index(col) for col in REQUIRED_COLUMNS}
        width = max(idx.values()) + 1
        i_type = idx["tx_type"]
        numeric = [
            (col, idx[col], getattr(ev, attr))
            for col, attr in (
                ("block_number", "block"),
                ("pool_log_index", "log_index"),
                ("amount0", "amount0"),
                ("amount1", "amount1"),
                ("total_liquidity", "total_liquidity"),
                ("sqrtPriceX96", "sqrt_price_x96"),
                ("current_tick", "tick"),
            )
        ]
        i_lo, i_up, i_liq = idx["tick_lower"], idx["tick_upper"], idx["liquidity"]
        i_ts = names.index("block_timestamp") if "block_timestamp" in names else -1
        kinds = ev.kind
        row = -1
        for row, fields in enumerate(reader):
            if len(fields) < width:
                if not fields:
                    raise UniswapV3FormatError(f"{_where(p, row)}: blank line")
                raise UniswapV3FormatError(
                    f"{_where(p, row)}: {len(fields)} fields, but the header has {len(names)}"
                )
            kind = TX_TYPES.get(fields[i_type].strip())
            if kind is None:
                raise UniswapV3FormatError(
                    f"{_where(p, row, 'tx_type')}: unknown tx_type {fields[i_type]!r} "
                    f"(expected SWAP, MINT, BURN or COLLECT)"
                )
            kinds.append(kind)
            for col, i, out in numeric:
                out.append(_parse_int(fields[i], p, row, col))
            if not MIN_SQRT_RATIO <= ev.sqrt_price_x96[-1] < MAX_SQRT_RATIO:
                raise UniswapV3FormatError(
                    f"{_where(p, row, 'sqrtPriceX96')}: {ev.sqrt_price_x96[-1]} outside "
                    f"[MIN_SQRT_RATIO, MAX_SQRT_RATIO)"
                )
            if not MIN_TICK <= ev.tick[-1] <= MAX_TICK:
                raise UniswapV3FormatError(
                    f"{_where(p, row, 'current_tick')}: {ev.tick[-1]} outside [MIN_TICK, MAX_TICK]"
                )
            if ev.total_liquidity[-1] < 0:
                raise UniswapV3FormatError(f"{_where(p, row, 'total_liquidity')}: negative")
            if kind == MINT or kind == BURN:
                lo = _parse_int(fields[i_lo], p, row, "tick_lower")
                up = _parse_int(fields[i_up], p, row, "tick_upper")
                liq = _parse_int(fields[i_liq], p, row, "liquidity")
                if not MIN_TICK <= lo < up <= MAX_TICK:
                    raise UniswapV3FormatError(
                        f"{_where(p, row, 'tick_upper')}: need MIN_TICK <= tick_lower < "
                        f"tick_upper <= MAX_TICK, got {lo} and {up}"
                    )
                if liq < 0:
                    raise UniswapV3FormatError(f"{_where(p, row, 'liquidity')}: negative")
            else:
                lo = up = liq = 0
            ev.tick_lower.append(lo)
            ev.tick_upper.append(up)
            ev.liquidity.append(liq)
            if 0 <= i_ts < len(fields):
                ev.timestamp.append(_parse_time(fields[i_ts], p, row))
    if row < 0:
        raise UniswapV3FormatError(f"{p}: line 2: no data rows after the header")
    return ev


# -- pass 1: tick nets ---------------------------------------------------------------------------


@dataclass
class TickNets:
    """What :func:`infer_tick_nets` learnt about the ticks.

    ``base``: tick → ``liquidityNet`` minus the MINT/BURN deltas at that tick between the
    first row and the one being looked at (so the net at the start of the file, for a file
    that begins before any MINT/BURN); liquidity units. ``equations``: liquidity-changing
    swaps seen; ``single``: those with one candidate tick. ``unresolved``: row → the candidate
    ticks of the swaps whose sum still has two or more unknown nets. ``conflicts``: rows whose
    equation disagrees with nets solved from other rows (0 on consistent data).
    """

    base: dict[int, int]
    equations: int
    single: int
    unresolved: dict[int, list[int]]
    conflicts: list[int]


def crossed_ticks(t0: int, t1: int, zero_for_one: bool, spacing: int) -> range:
    """Spacing multiples a swap from tick ``t0`` to ``t1`` crosses: (t1, t0] going down,
    (t0, t1] going up (spec 4.7)."""
    if zero_for_one:
        lo, hi = t1, t0  # T in (t1, t0]
    else:
        lo, hi = t0, t1  # T in (t0, t1]
    first = (lo // spacing + 1) * spacing
    return range(first, hi + 1, spacing)


def infer_tick_nets(ev: UniswapV3Events, tick_spacing: int = 10) -> TickNets:
    """Pass 1: infer each crossed tick's ``liquidityNet`` from the swaps that change L.

    State is carried from the last SWAP row's event (tick, L) plus the in-range MINT/BURN
    liquidity changes. Each liquidity-changing swap gives one equation "sum of the nets of
    its candidate ticks = ΔL" (see the module docstring); they are solved one unknown at a
    time until nothing new comes out (spec 4.7). Rows before the first SWAP only add deltas.

    Returns:
        :class:`TickNets`. Never raises on consistent input; inconsistent equations are
        listed in ``conflicts``.
    """
    kind, tick_col, liq_col = ev.kind, ev.tick, ev.total_liquidity
    deltas: dict[int, int] = {}
    eqs: list[tuple[int, list[int], int]] = []  # (row, candidate ticks, sum of their bases)
    tick = liquidity = None
    for i in range(len(kind)):
        k = kind[i]
        if k == SWAP:
            t1, l1 = tick_col[i], liq_col[i]
            if tick is not None and l1 != liquidity:
                zfo = ev.amount0[i] > 0
                cands = list(crossed_ticks(tick, t1, zfo, tick_spacing))
                change = liquidity - l1 if zfo else l1 - liquidity
                eqs.append((i, cands, change - sum(deltas.get(t, 0) for t in cands)))
            tick, liquidity = t1, l1
        elif k == MINT or k == BURN:
            d = ev.liquidity[i] if k == MINT else -ev.liquidity[i]
            lo, up = ev.tick_lower[i], ev.tick_upper[i]
            deltas[lo] = deltas.get(lo, 0) + d
            deltas[up] = deltas.get(up, 0) - d
            if tick is not None and lo <= tick < up:
                liquidity += d
    base: dict[int, int] = {}
    conflicts: list[int] = []
    pending = eqs
    changed = True
    while changed:
        changed = False
        rest = []
        for eq in pending:
            row, cands, rhs = eq
            unknown = [t for t in cands if t not in base]
            value = rhs - sum(base[t] for t in cands if t in base)
            if len(unknown) == 1:
                base[unknown[0]] = value
                changed = True
            elif not unknown:
                if value != 0:
                    conflicts.append(row)
            else:
                rest.append(eq)
        pending = rest
    return TickNets(
        base=base,
        equations=len(eqs),
        single=sum(1 for _, c, _ in eqs if len(c) == 1),
        unresolved={row: cands for row, cands, _ in pending},
        conflicts=sorted(conflicts),
    )


__all__ = ["BURN", "COLLECT", "MINT", "REQUIRED_COLUMNS", "SWAP", "TX_TYPES", "TickNets",
           "UniswapV3Events", "UniswapV3FormatError", "crossed_ticks", "infer_tick_nets", "read_tick_csv"]
