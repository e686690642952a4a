"""Replay LOBSTER message files through the futures order book and check every snapshot.

LOBSTER (lobsterdata.com) rebuilds NASDAQ TotalView-ITCH books. A sample comes as two
header-less CSV files with one row per event:

* message file, 6 columns: ``time`` (seconds after midnight), ``event_type`` (1 new limit
  order, 2 partial cancel, 3 deletion, 4 visible execution, 5 hidden execution, 6 cross
  trade, 7 trading halt), ``order_id``, ``size`` (shares), ``price`` (dollars x 10000) and
  ``direction`` (+1 buy limit order, -1 sell limit order);
* orderbook file, ``4 * L`` columns: ``ask_price_k, ask_size_k, bid_price_k, bid_size_k`` for
  ``k = 1..L``, the top ``L`` occupied levels *after* the message on the same row. Missing
  levels are padded with ask ``9999999999`` / bid ``-9999999999`` and size 0.

:func:`replay_lobster` feeds the messages into :class:`~defisim.protocols.futures.book.OrderBook`
(the matching core of the futures market) and compares the book's top ``L`` levels of each
side with the orderbook row after every message.

What the files cannot tell us, and what we do about it
------------------------------------------------------
A level-``L`` file only holds the events that touch the top ``L`` occupied levels. Liquidity
that rested before the file starts, or that was added, cancelled or amended deeper than
level ``L`` and later comes into view, has no message. We therefore split each side of
snapshot ``i`` in two:

* the *known region*: prices at or better than the ``L``-th level of snapshot ``i - 1``
  (every price when that snapshot had fewer than ``L`` levels, i.e. was padded). Every event
  there is in the message file, so after message ``i`` the book must agree with snapshot
  ``i`` exactly. These levels are never adjusted: a difference is a mismatch.
* the *unknown region*: prices worse than that. Before comparing, each level of snapshot
  ``i`` in this region is reconciled with the book: a shortfall is *seeded* as one resting
  order at the back of its level (the unseen orders arrived after the ones we know), an
  excess is *trimmed* (seeded liquidity first, then the newest known orders: something was
  cancelled out of view), and book levels the snapshot shows to be empty are *cleared*.
  Each of these is one *seeded adjustment*. Before the first message the book is seeded
  from the first snapshot with the effect of the first message taken out.

Messages about orders we do not hold (they rested before the file starts, or out of view)
are applied to the seeded liquidity at their price, front of the queue first; when that is
used up, to the oldest known orders there (an earlier trim took the wrong order). A deletion,
cancel or execution of a known order for more or less than it has left (a *size mismatch*:
it changed out of view, or a trim picked it) takes the order off the book and moves the
difference to or from unknown liquidity at its level, so the level total follows the
message. On the three sample files these choices (trim newest first, unknown ids oldest
first) gave the fewest out-of-priority executions and size mismatches of the orders tried.

Executions (type 4) are replayed as an aggressive order of the opposite side, limited at the
message price, for the message size: :meth:`OrderBook.plan` gives its fills in price-time
priority. When the named order is first (the plan is ``[(named order, size)]``), the fill is
applied as planned (*in priority*). When something else sits in front of it (seeded
liquidity, or an order we kept although it was cancelled out of view), the execution is
applied to the named order directly (``OrderBook.fill``), because the exchange says which
order traded; these are counted as ``executions_out_of_priority``. An execution of an
unknown id trades the seeded liquidity at its price through the plan when the plan holds only
seeded liquidity at that price (``executions_unknown_id_in_priority``), and otherwise takes
it as above.

Hidden executions (5) do not change the visible book. Cross trades (6) and halts (7) are
skipped and counted. Every snapshot is still compared.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import time
from bisect import bisect_left
from dataclasses import asdict, dataclass

from defisim.protocols.futures.book import OrderBook
from defisim.protocols.futures.types import Order, OrderType, TimeInForce

__all__ = [
    "ASK_PAD",
    "BID_PAD",
    "LobsterFormatError",
    "LobsterMessages",
    "ReplayResult",
    "format_result",
    "read_messages",
    "read_orderbook",
    "replay_lobster",
]

ASK_PAD = 9_999_999_999
"""Price LOBSTER writes for a missing ask level (its size is 0)."""
BID_PAD = -9_999_999_999
"""Price LOBSTER writes for a missing bid level (its size is 0)."""

MARKET = "LOBSTER"
PARTY = "lobster"  # every order of the message file
SEED_PARTY = "lobster:seed"  # liquidity seeded from the snapshots

_EVENT_TYPES = (1, 2, 3, 4, 5, 6, 7)


class LobsterFormatError(ValueError):
    """A LOBSTER file is malformed; the message names the file and the 1-based line."""


# -- parsing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class LobsterMessages:
    """A parsed message file as parallel Python lists, one entry per row (``n`` rows).

    ``time`` in seconds after midnight (float); ``event_type``, ``order_id``, ``size``
    (shares), ``price`` (dollars x 10000) and ``direction`` (+1 / -1) are ints.
    """

    path: str
    time: list[float]
    event_type: list[int]
    order_id: list[int]
    size: list[int]
    price: list[int]
    direction: list[int]

    def __len__(self) -> int:
        return len(self.event_type)


def _open_text(path: str) -> io.TextIOBase:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _locate_error(path: str, width: int, kinds: tuple[type, ...], cause: str) -> LobsterFormatError:
    """Scan ``path`` line by line for the first malformed row (slow; only after pyarrow failed).

    ``width`` is the field count every line needs; ``kinds`` the number type of each field
    (``float`` or ``int``; the last one repeats); ``cause`` pyarrow's message, used when the
    scan finds nothing wrong.
    """
    with _open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            text = line.rstrip("\r\n")
            if not text:  # pyarrow skips blank lines too
                continue
            fields = text.split(",")
            if len(fields) != width:
                return LobsterFormatError(
                    f"{path}:{n}: expected {width} comma-separated fields, got {len(fields)}"
                )
            for j, field in enumerate(fields):
                kind = kinds[min(j, len(kinds) - 1)]
                try:
                    value = kind(field)
                except ValueError:
                    what = "a number" if kind is float else "an integer"
                    return LobsterFormatError(f"{path}:{n}: field {j + 1} is not {what}: {field!r}")
                if kind is float and not math.isfinite(value):
                    return LobsterFormatError(f"{path}:{n}: field {j + 1} is not finite: {field!r}")
                if kind is int and not -(2**63) <= value < 2**63:
                    return LobsterFormatError(f"{path}:{n}: field {j + 1} is out of range: {field}")
    return LobsterFormatError(f"{path}: not a LOBSTER file ({cause})")


def _read_csv(path: str, width: int | None, kinds: tuple[type, ...]):
    """Read a header-less numeric CSV (``.gz`` too) with pyarrow into a ``pyarrow.Table``.

    ``width`` is the required field count; ``None`` takes it from the first line, which must
    then hold a positive multiple of 4 fields (an orderbook file). Raises
    ``FileNotFoundError`` or :class:`LobsterFormatError` (file and line) on any defect.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    with _open_text(path) as fh:
        first = fh.readline().rstrip("\r\n")
    if not first:
        raise LobsterFormatError(f"{path}:1: the file is empty or starts with a blank line")
    if width is None:
        width = len(first.split(","))
        if width % 4 != 0:
            raise LobsterFormatError(
                f"{path}:1: an orderbook row needs 4 x LEVEL fields (ask price, ask size, "
                f"bid price, bid size per level), got {width}"
            )
    names = [f"c{j}" for j in range(width)]
    types = {
        name: pa.float64() if kinds[min(j, len(kinds) - 1)] is float else pa.int64()
        for j, name in enumerate(names)
    }
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types=types),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise _locate_error(path, width, kinds, str(exc)) from None
    if any(col.null_count for col in table.columns):  # empty fields
        raise _locate_error(path, width, kinds, "empty field")
    return table


def _first_problem(path: str, checks: list[tuple[object, object]]) -> None:
    """Raise :class:`LobsterFormatError` for the earliest row flagged by any check.

    ``checks`` holds ``(mask, describe)``: a boolean array over rows and a function from a
    row index to the text of the problem.
    """
    import numpy as np

    first: tuple[int, str] | None = None
    for mask, describe in checks:
        if mask.any():
            i = int(np.argmax(mask))
            if first is None or i < first[0]:
                first = (i, describe(i))
    if first is not None:
        raise LobsterFormatError(f"{path}:{first[0] + 1}: {first[1]}")


def read_messages(path: str | os.PathLike[str]) -> LobsterMessages:
    """Parse a LOBSTER message file (``.csv`` or ``.csv.gz``, no header, 6 fields a row).

    Returns:
        :class:`LobsterMessages` with one entry per row.

    Raises:
        FileNotFoundError: no such file.
        LobsterFormatError: empty file, a row without exactly 6 fields, a non-numeric or
            non-finite field, an event type outside 1..7, a direction other than +1/-1, a
            non-positive order id or size on types 1-4, a negative size or a non-positive
            price on types 1-5. The message gives the file and the 1-based line.
    """
    import numpy as np

    p = os.fspath(path)
    table = _read_csv(p, 6, (float, int))
    t, etype, oid, size, price, direction = (c.to_numpy() for c in table.columns)
    visible = (etype >= 1) & (etype <= 4)
    order_event = (etype >= 1) & (etype <= 5)
    _first_problem(
        p,
        [
            (~np.isfinite(t), lambda i: f"time {t[i]} is not finite"),
            (~np.isin(etype, _EVENT_TYPES), lambda i: f"event type {etype[i]} is not one of 1..7"),
            (
                (direction != 1) & (direction != -1),
                lambda i: f"direction {direction[i]} is not +1 or -1",
            ),
            (visible & (oid <= 0), lambda i: f"order id {oid[i]} is not positive"),
            (visible & (size <= 0), lambda i: f"size {size[i]} is not positive"),
            (order_event & (size < 0), lambda i: f"size {size[i]} is negative"),
            (order_event & (price <= 0), lambda i: f"price {price[i]} is not positive"),
        ],
    )
    return LobsterMessages(
        p,
        t.tolist(),
        etype.tolist(),
        oid.tolist(),
        size.tolist(),
        price.tolist(),
        direction.tolist(),
    )


def read_orderbook(path: str | os.PathLike[str]) -> list[list[int]]:
    """Parse a LOBSTER orderbook file (``.csv`` or ``.csv.gz``, no header, ``4 * L`` fields).

    Returns:
        One list of ``4 * L`` ints per row: ``ask_price_k, ask_size_k, bid_price_k,
        bid_size_k`` for ``k = 1..L`` (prices in dollars x 10000, sizes in shares; missing
        levels are ``ASK_PAD`` / ``BID_PAD`` with size 0).

    Raises:
        FileNotFoundError: no such file.
        LobsterFormatError: empty file, a field count that is not a positive multiple of 4 or
            differs between rows, a non-integer field, a shown level without a positive size,
            a padded level with a size, ask prices that do not rise or bid prices that do not
            fall level by level (padding last), or a crossed row (bid_price_1 >= ask_price_1).
            The message gives the file and the 1-based line.
    """
    import numpy as np

    p = os.fspath(path)
    table = _read_csv(p, None, (int,))
    arr = np.column_stack([c.to_numpy() for c in table.columns])
    asks, ask_sizes = arr[:, 0::4], arr[:, 1::4]
    bids, bid_sizes = arr[:, 2::4], arr[:, 3::4]
    ask_shown, bid_shown = asks != ASK_PAD, bids != BID_PAD
    _first_problem(
        p,
        [
            ((ask_shown & (ask_sizes <= 0)).any(axis=1), lambda i: "an ask level has no size"),
            ((bid_shown & (bid_sizes <= 0)).any(axis=1), lambda i: "a bid level has no size"),
            (
                (~ask_shown & (ask_sizes != 0)).any(axis=1)
                | (~bid_shown & (bid_sizes != 0)).any(1),
                lambda i: "a padded (empty) level has a size",
            ),
            (
                ((np.diff(asks, axis=1) <= 0) & ask_shown[:, 1:]).any(axis=1),
                lambda i: "ask prices do not rise level by level",
            ),
            (
                ((np.diff(bids, axis=1) >= 0) & bid_shown[:, 1:]).any(axis=1),
                lambda i: "bid prices do not fall level by level",
            ),
            (
                ask_shown[:, 0] & bid_shown[:, 0] & (bids[:, 0] >= asks[:, 0]),
                lambda i: f"the book is crossed: bid {bids[i, 0]} >= ask {asks[i, 0]}",
            ),
        ],
    )
    return arr.tolist()


# -- result --------------------------------------------------------------------------------------


@dataclass
class ReplayResult:
    """Outcome of :func:`replay_lobster`. Counts are numbers of messages unless stated.

    Required by the CLI: ``messages``, ``snapshots_matched`` of ``snapshots_total`` (rows whose
    compared levels equal the book after the message), ``seeded_adjustments`` (level
    adjustments taken from the snapshots for liquidity no message explains:
    ``seeded_levels`` + ``trimmed_levels`` + ``cleared_levels``, see the module docstring),
    ``seconds`` (wall time of the replay loop: book updates and snapshot checks) and
    ``first_mismatch`` (file, line and both books of the first row that did not match).

    Breakdown: ``executions`` = ``executions_in_priority`` (the plan of the aggressive order
    fills the named order first) + ``executions_out_of_priority`` (something sat in front of
    it; ``out_of_priority_behind_seeded`` of them seeded liquidity) +
    ``executions_unknown_id`` (``executions_unknown_id_in_priority`` of them traded only
    seeded liquidity in priority). ``unknown_id_messages`` counts cancels, deletions and
    executions of ids the book does not hold; ``size_mismatches`` those of a known order for
    a size other than what it had left (volume moved between orders of one level, level total
    unchanged); ``adjusted_snapshots`` the rows checked after at least one seeded adjustment
    (the other rows matched on the messages alone); ``short_volume`` shares a message wanted
    but its level did not have (0 when all is well). Volumes are in shares; ``resyncs``
    counts book resets after a mismatch; ``duplicate_ids`` new orders reusing a live id.
    """

    messages: int
    snapshots_matched: int
    snapshots_total: int
    seeded_adjustments: int
    executions: int
    hidden_executions: int
    skipped: int
    seconds: float
    first_mismatch: str | None = None
    levels: int = 0
    parse_seconds: float = 0.0
    new_orders: int = 0
    cancels: int = 0
    deletions: int = 0
    cross_trades: int = 0
    halts: int = 0
    executions_in_priority: int = 0
    executions_out_of_priority: int = 0
    out_of_priority_behind_seeded: int = 0
    executions_unknown_id: int = 0
    executions_unknown_id_in_priority: int = 0
    unknown_id_messages: int = 0
    size_mismatches: int = 0
    short_volume: int = 0
    duplicate_ids: int = 0
    seeded_levels: int = 0
    trimmed_levels: int = 0
    cleared_levels: int = 0
    seeded_volume: int = 0
    trimmed_volume: int = 0
    adjusted_snapshots: int = 0
    resyncs: int = 0
    message_file: str = ""
    orderbook_file: str = ""

    @property
    def messages_per_second(self) -> float:
        """Messages replayed per second of the replay loop (parsing excluded)."""
        return self.messages / self.seconds if self.seconds > 0 else float("inf")

    @property
    def end_to_end_seconds(self) -> float:
        """Parsing plus replay, in seconds."""
        return self.parse_seconds + self.seconds

    @property
    def match_rate(self) -> float:
        """Share of the compared snapshots that matched, in [0, 1]."""
        return self.snapshots_matched / self.snapshots_total if self.snapshots_total else 1.0

    def to_json_dict(self) -> dict[str, int | float | str | None]:
        """Every field plus ``messages_per_second``, ``end_to_end_seconds`` and ``match_rate``
        (JSON-ready: ints, floats, strings, ``None``)."""
        d = asdict(self)
        d["messages_per_second"] = self.messages_per_second
        d["end_to_end_seconds"] = self.end_to_end_seconds
        d["match_rate"] = self.match_rate
        return d


def format_result(result: ReplayResult) -> str:
    """A short human summary of a :class:`ReplayResult`, several lines, no trailing newline."""
    r = result
    lines = [
        f"messages        {r.messages:,} (level {r.levels})",
        f"snapshots       {r.snapshots_matched:,} of {r.snapshots_total:,} matched "
        f"({100 * r.match_rate:.2f} %)",
        f"seeded          {r.seeded_adjustments:,} level adjustments from the snapshots "
        f"({r.seeded_levels:,} seeded {r.seeded_volume:,} shares, {r.trimmed_levels:,} trimmed "
        f"{r.trimmed_volume:,} shares, {r.cleared_levels:,} cleared) on "
        f"{r.adjusted_snapshots:,} snapshots",
        f"events          {r.new_orders:,} new, {r.cancels:,} partial cancels, "
        f"{r.deletions:,} deletions, {r.executions:,} executions, "
        f"{r.hidden_executions:,} hidden executions, {r.skipped:,} skipped",
        f"executions      {r.executions_in_priority:,} in price-time priority, "
        f"{r.executions_out_of_priority:,} out of priority "
        f"({r.out_of_priority_behind_seeded:,} behind seeded liquidity), "
        f"{r.executions_unknown_id:,} against unknown ids "
        f"({r.executions_unknown_id_in_priority:,} in priority)",
        f"unknown ids     {r.unknown_id_messages:,} messages; {r.size_mismatches:,} size "
        f"mismatches; {r.short_volume:,} shares short",
        f"speed           {r.messages_per_second:,.0f} messages/s replay ({r.seconds:.3f} s), "
        f"parse {r.parse_seconds:.3f} s, end to end {r.end_to_end_seconds:.3f} s",
    ]
    if r.resyncs:
        lines.append(f"resyncs         {r.resyncs:,} (book reset to the snapshot after a mismatch)")
    if r.first_mismatch:
        lines.append(f"first mismatch  {r.first_mismatch}")
    return "\n".join(lines)


# -- replay --------------------------------------------------------------------------------------


def replay_lobster(
    message_csv: str | os.PathLike[str],
    orderbook_csv: str | os.PathLike[str],
    levels: int | None = None,
) -> ReplayResult:
    """Replay a LOBSTER message file through :class:`OrderBook`, checking every snapshot.

    Args:
        message_csv: path of the message file (``.csv`` or ``.csv.gz``), ``n`` rows.
        orderbook_csv: path of the matching orderbook file, ``n`` rows of ``4 * L`` columns.
        levels: how many levels per side to compare, 1..L; ``None`` compares all ``L``
            levels of the file (inferred from its column count).

    Returns:
        A :class:`ReplayResult`: ``snapshots_matched`` of ``snapshots_total`` (= ``n``) rows
        where the top levels of both sides (prices and sizes, padding included) equal the
        book after the message; the counts described in the module docstring; the replay
        loop's wall time and the parse time in seconds.

    Raises:
        FileNotFoundError: a file does not exist.
        LobsterFormatError: a malformed file (see :func:`read_messages`,
            :func:`read_orderbook`) or files with different row counts.
        ValueError: ``levels`` outside 1..L.
    """
    t0 = time.perf_counter()
    msgs = read_messages(message_csv)
    rows = read_orderbook(orderbook_csv)
    parse_seconds = time.perf_counter() - t0
    if len(msgs) != len(rows):
        raise LobsterFormatError(
            f"{msgs.path} has {len(msgs):,} rows but {os.fspath(orderbook_csv)} has "
            f"{len(rows):,}: row i of the orderbook file is the book after message i, so the "
            f"two files must have the same number of rows"
        )
    file_levels = len(rows[0]) // 4
    if levels is None:
        levels = file_levels
    if not 1 <= levels <= file_levels:
        raise ValueError(
            f"levels={levels} but {os.fspath(orderbook_csv)} holds {file_levels} level(s)"
        )
    rep = _Replay(msgs, rows, file_levels, levels)
    t1 = time.perf_counter()
    rep.run()
    seconds = time.perf_counter() - t1
    return rep.result(seconds, parse_seconds, os.fspath(orderbook_csv))


class _Replay:
    """The replay state; :meth:`run` is the hot loop, the other methods its slow paths."""

    def __init__(self, msgs: LobsterMessages, rows: list[list[int]], file_levels: int, levels: int):
        self.msgs = msgs
        self.rows = rows
        self.file_levels = file_levels
        self.levels = levels
        self.book = OrderBook()
        self.orders: dict[int, Order] = {}
        self.next_seed = 0
        self.c: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        self.first_mismatch: str | None = None

    def result(self, seconds: float, parse_seconds: float, orderbook_file: str) -> ReplayResult:
        c = self.c
        return ReplayResult(
            messages=len(self.msgs),
            snapshots_matched=c["matched"],
            snapshots_total=len(self.rows),
            seeded_adjustments=c["seeded_levels"] + c["trimmed_levels"] + c["cleared_levels"],
            executions=c["executions"],
            hidden_executions=c["hidden_executions"],
            skipped=c["cross_trades"] + c["halts"],
            seconds=seconds,
            first_mismatch=self.first_mismatch,
            levels=self.levels,
            parse_seconds=parse_seconds,
            message_file=self.msgs.path,
            orderbook_file=orderbook_file,
            **{
                k: c[k]
                for k in _COUNTERS
                if k not in ("matched", "executions", "hidden_executions")
            },
        )

    # -- book helpers ---------------------------------------------------------------------------
    def rest_unknown(self, side: int, price: int, size: int) -> None:
        """Rest ``size`` of liquidity of unknown orders at the back of its level."""
        self.next_seed -= 1
        o = Order(
            self.next_seed, MARKET, SEED_PARTY, side, OrderType.LIMIT, TimeInForce.GTC, price, size
        )
        self.book.add(o)

    def seed(self, side: int, price: int, size: int) -> None:
        """Seed unknown liquidity shown by a snapshot (one seeded adjustment)."""
        self.rest_unknown(side, price, size)
        self.c["seeded_levels"] += 1
        self.c["seeded_volume"] += size

    def take(self, side: int, price: int, size: int, known_from_back: bool) -> int:
        """Take ``size`` off the level at ``price``: seeded orders first (front of the queue
        first), then known orders from the back (``known_from_back``) or the front.

        Returns the part of ``size`` the level could not give (0 normally).
        """
        book = self.book
        level = (book.bids if side > 0 else book.asks).levels.get(price)
        if level is None:
            return size
        fill = book.fill
        queue = level.queue  # fills never mutate this deque (compaction makes a new one)
        for o in queue:
            if o.resting and o.party is SEED_PARTY:
                if o.remaining > size:
                    fill(o, size)
                    return 0
                size -= o.remaining
                fill(o, o.remaining)
                if size == 0:
                    return 0
        orders = self.orders
        for o in reversed(queue) if known_from_back else queue:
            if o.resting:  # only known orders are left
                if o.remaining > size:
                    fill(o, size)
                    return 0
                size -= o.remaining
                fill(o, o.remaining)
                orders.pop(o.order_id, None)
                if size == 0:
                    return 0
        return size

    def flat(self, depth: int) -> list[int]:
        """The book's top ``depth`` levels in the orderbook-file layout, padding included."""
        book = self.book
        out = [ASK_PAD, 0, BID_PAD, 0] * depth
        j = 0
        levels = book.asks.levels
        for k in reversed(book.asks.keys[-depth:]):
            out[j] = -k
            out[j + 1] = levels[-k].volume
            j += 4
        j = 2
        levels = book.bids.levels
        for k in reversed(book.bids.keys[-depth:]):
            out[j] = k
            out[j + 1] = levels[k].volume
            j += 4
        return out

    # -- seeding and reconciliation -------------------------------------------------------------
    def initial_seed(self) -> tuple[int, int]:
        """Seed the book before message 0: snapshot 0 with message 0's effect taken out.

        Returns the worst shown ``(ask, bid)`` prices of that state (the padding price for a
        side with fewer than ``L`` levels): the edges of the known region for snapshot 0.
        """
        row = self.rows[0]
        fl = self.file_levels
        m = self.msgs
        etype, price, size, d = m.event_type[0], m.price[0], m.size[0], m.direction[0]
        sides: dict[int, dict[int, int]] = {1: {}, -1: {}}
        for j in range(0, 4 * fl, 4):
            ap, av, bp, bv = row[j : j + 4]
            if ap != ASK_PAD:
                sides[-1][ap] = av
            if bp != BID_PAD:
                sides[1][bp] = bv
        if etype == 1 and price in sides[d]:
            lv = sides[d]
            lv[price] -= size
            if lv[price] <= 0:
                del lv[price]
        elif etype in (2, 3, 4):
            sides[d][price] = sides[d].get(price, 0) + size
        for side, lv in sides.items():
            for p in sorted(lv, reverse=side > 0):
                self.seed(side, p, lv[p])
        return row[4 * (fl - 1)], row[4 * (fl - 1) + 2]

    def reconcile(self, side: int, edge: int, row: list[int]) -> None:
        """Make the levels of one side worse than ``edge`` (the unknown region) agree with
        ``row``: seed shortfalls, trim excesses, clear levels the row shows empty."""
        book = self.book
        if side > 0:
            bs, sign, first, pad = book.bids, 1, 2, BID_PAD
        else:
            bs, sign, first, pad = book.asks, -1, 0, ASK_PAD
        levels, keys = bs.levels, bs.keys
        sedge = edge * sign
        targets = []  # column of each shown price in the unknown region
        worst = None  # the worst shown price; None when the side ends within the row
        for j in range(first, len(row), 4):
            p = row[j]
            if p == pad:
                worst = None
                break
            worst = p
            if p * sign < sedge:
                targets.append(j)
        c = self.c
        lo = 0 if worst is None else bisect_left(keys, worst * sign)
        hi = bisect_left(keys, sedge)
        if hi > lo:  # book levels in the shown part of the unknown region
            shown = {row[j] for j in targets}
            for k in keys[lo:hi]:
                p = k * sign
                if p not in shown:
                    level = levels[p]
                    c["cleared_levels"] += 1
                    c["trimmed_volume"] += level.volume
                    for o in list(level.queue):
                        if o.resting:
                            book.remove(o)
                            self.orders.pop(o.order_id, None)
        for j in targets:
            p, v = row[j], row[j + 1]
            level = levels.get(p)
            have = level.volume if level is not None else 0
            if have < v:
                self.seed(side, p, v - have)
            elif have > v:
                c["trimmed_levels"] += 1
                c["trimmed_volume"] += have - v
                self.take(side, p, have - v, True)

    def resync(self, row: list[int]) -> None:
        """After a mismatch, make every shown level agree with ``row`` (counted)."""
        self.c["resyncs"] += 1
        self.reconcile(1, ASK_PAD, row)
        self.reconcile(-1, BID_PAD, row)

    def describe(self, i: int, row: list[int]) -> str:
        m = self.msgs
        L = self.levels
        return (
            f"{m.path}:{i + 1}: after message (time {m.time[i]!r}, type {m.event_type[i]}, "
            f"id {m.order_id[i]}, size {m.size[i]}, price {m.price[i]}, direction "
            f"{m.direction[i]}) the book is {self.flat(L)} but the orderbook file shows "
            f"{row[: 4 * L]}"
        )

    # -- slow paths of the message types --------------------------------------------------------
    def unknown(self, etype: int, side: int, price: int, size: int) -> None:
        """A cancel, deletion or execution of an order id the book does not hold: it rested
        before the file starts (or out of view), so take ``size`` from the seeded liquidity
        at ``price``, front first."""
        c = self.c
        c["unknown_id_messages"] += 1
        if etype == 4:
            c["executions_unknown_id"] += 1
            fills, _ = self.book.plan(-side, price, size, None)
            if sum(f for _, f in fills) == size and all(
                o.party is SEED_PARTY and o.price == price for o, _ in fills
            ):  # the aggressive order trades with seeded liquidity in priority
                c["executions_unknown_id_in_priority"] += 1
                for o, f in fills:
                    self.book.fill(o, f)
                return
        c["short_volume"] += self.take(side, price, size, False)

    def size_mismatch(self, o: Order, size: int) -> None:
        """A deletion, cancel or execution whose size is not what ``o`` has left.

        The level total was right at the last snapshot, so the difference belongs to other
        orders at the level: ``o`` leaves the book, and the excess is taken from (or the
        rest given to) unknown liquidity at its price. The level total ends as the message
        says; the count is ``size_mismatches``.
        """
        self.c["size_mismatches"] += 1
        side, price, left = o.side, o.price, o.remaining
        self.book.remove(o)
        self.orders.pop(o.order_id, None)
        if size > left:
            self.c["short_volume"] += self.take(side, price, size - left, False)
        elif size < left:
            self.rest_unknown(side, price, left - size)

    def execute(self, o: Order, size: int, fills: list[tuple[Order, int]]) -> None:
        """An execution whose plan does not fill exactly ``o`` first."""
        c = self.c
        if fills and fills[0][0] is o:  # first in the queue but holds less than the size
            c["executions_in_priority"] += 1
        else:
            c["executions_out_of_priority"] += 1
            ahead = fills[0][0] if fills else None
            if ahead is not None and ahead.party is SEED_PARTY:
                c["out_of_priority_behind_seeded"] += 1
        if size > o.remaining:
            self.size_mismatch(o, size)
        else:
            self.book.fill(o, size)
            if not o.resting:
                self.orders.pop(o.order_id, None)

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> None:
        m = self.msgs
        rows = self.rows
        book = self.book
        orders = self.orders
        c = self.c
        L = self.levels
        fl = self.file_levels
        add, remove, reduce_, fill, plan = book.add, book.remove, book.reduce, book.fill, book.plan
        asks, bids = book.asks, book.bids
        ask_keys, ask_levels, bid_keys, bid_levels = asks.keys, asks.levels, bids.keys, bids.levels
        flat, reconcile, unknown = self.flat, self.reconcile, self.unknown
        size_mismatch, execute = self.size_mismatch, self.execute
        edge_ask_col = 4 * (fl - 1)
        edge_bid_col = edge_ask_col + 2
        prev_ask, prev_bid = self.initial_seed()
        c["adjusted_snapshots"] = 1 if c["seeded_levels"] else 0
        cut = 4 * L if L < fl else None
        new = partial = deletions = executions = in_priority = hidden = other = matched = 0
        LIMIT, GTC = OrderType.LIMIT, TimeInForce.GTC
        for i, (etype, oid, size, price, d) in enumerate(
            zip(m.event_type, m.order_id, m.size, m.price, m.direction, strict=True)
        ):
            if etype == 1:
                new += 1
                o = Order(oid, MARKET, PARTY, d, LIMIT, GTC, price, size)
                add(o)
                if oid in orders:
                    c["duplicate_ids"] += 1
                orders[oid] = o
            elif etype == 3:
                deletions += 1
                o = orders.pop(oid, None)
                if o is None or not o.resting:
                    unknown(3, d, price, size)
                elif o.remaining == size:
                    remove(o)
                else:
                    size_mismatch(o, size)
            elif etype == 4:
                executions += 1
                o = orders.get(oid)
                if o is None or not o.resting:
                    unknown(4, d, price, size)
                else:
                    fills, _ = plan(-d, price, size, None)
                    if len(fills) == 1 and fills[0][0] is o:  # fills == [(o, size)]
                        in_priority += 1
                        fill(o, size)
                        if not o.resting:
                            del orders[oid]
                    else:
                        execute(o, size, fills)
            elif etype == 5:
                hidden += 1
            elif etype == 2:
                partial += 1
                o = orders.get(oid)
                if o is None or not o.resting:
                    unknown(2, d, price, size)
                elif o.remaining > size:
                    reduce_(o, o.remaining - size)
                elif o.remaining == size:
                    remove(o)
                    del orders[oid]
                else:
                    size_mismatch(o, size)
            else:  # 6 cross trade, 7 halt: no change to the visible book
                other += 1
                c["cross_trades" if etype == 6 else "halts"] += 1
            row = rows[i]
            edge_ask, edge_bid = row[edge_ask_col], row[edge_bid_col]
            if edge_ask > prev_ask or edge_bid < prev_bid:  # the unknown region is shown
                before = c["seeded_levels"] + c["trimmed_levels"] + c["cleared_levels"]
                if edge_ask > prev_ask:
                    reconcile(-1, prev_ask, row)
                if edge_bid < prev_bid:
                    reconcile(1, prev_bid, row)
                if c["seeded_levels"] + c["trimmed_levels"] + c["cleared_levels"] != before:
                    c["adjusted_snapshots"] += 1
            prev_ask, prev_bid = edge_ask, edge_bid
            if L == 1:
                if ask_keys:
                    p = -ask_keys[-1]
                    ok = row[0] == p and row[1] == ask_levels[p].volume
                else:
                    ok = row[0] == ASK_PAD and row[1] == 0
                if ok:
                    if bid_keys:
                        p = bid_keys[-1]
                        ok = row[2] == p and row[3] == bid_levels[p].volume
                    else:
                        ok = row[2] == BID_PAD and row[3] == 0
            else:
                ok = flat(L) == (row if cut is None else row[:cut])
            if ok:
                matched += 1
            else:
                if self.first_mismatch is None:
                    self.first_mismatch = self.describe(i, row)
                self.resync(row)
        c["matched"] = matched
        c["new_orders"] = new
        c["cancels"] = partial
        c["deletions"] = deletions
        c["executions"] = executions
        c["executions_in_priority"] += in_priority
        c["hidden_executions"] = hidden


_COUNTERS = (
    "matched",
    "new_orders",
    "cancels",
    "deletions",
    "executions",
    "hidden_executions",
    "cross_trades",
    "halts",
    "executions_in_priority",
    "executions_out_of_priority",
    "out_of_priority_behind_seeded",
    "executions_unknown_id",
    "executions_unknown_id_in_priority",
    "unknown_id_messages",
    "size_mismatches",
    "short_volume",
    "duplicate_ids",
    "seeded_levels",
    "trimmed_levels",
    "cleared_levels",
    "seeded_volume",
    "trimmed_volume",
    "adjusted_snapshots",
    "resyncs",
)
