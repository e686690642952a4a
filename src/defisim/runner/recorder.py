"""Recording a run into the run store: every event, per-step KPIs and accounts, and
each protocol's own tables.

The :class:`Recorder` is called by the runner once per step, after the block has
closed. It drains the chain's events into the ``events`` table, records the
scenario's KPIs and samples the ``accounts``, and hands each protocol's
:meth:`~defisim.chain.ChainProtocol.recording` the events and the step so it adds
its own rows (the futures protocol's ``trades``, ``orders``, ``book_top``,
``positions`` and built-in KPIs: :mod:`defisim.protocols.futures.recording`). The
store (:class:`defisim.store.RunStore`) buffers rows and writes them in batches,
always at a step boundary and in one transaction with the step
(``RunStore.flush(step=...)``): a run killed at any point, even by SIGKILL, leaves
every table holding exactly the steps up to the store's recorded last step
(``RunStore.progress()``), committed at least every :attr:`Recorder.COMMIT_SECONDS`.
With ``store=None`` it only counts (a run with ``record=False`` still reports
trades, orders and final KPIs).

Chain tables (DuckDB types):

``events``
    ``seq BIGINT`` (0, 1, ... in emission order), ``step INTEGER``, ``block BIGINT``,
    ``time_ns BIGINT``, ``type VARCHAR`` (event class name), ``market VARCHAR``
    (NULL if the event has none), ``party VARCHAR`` (the ``party`` field, the owner
    of a ``Minted``/``Burned`` account, else NULL), ``payload VARCHAR`` (JSON object
    of the fields after ``block`` and ``time_ns``; account keys are arrays).
``accounts``
    every ``accounts_every`` steps (and at the final record), every account that
    ever held money: ``step, time_ns, account_type, owner, asset, market,
    balance_raw HUGEINT, balance DOUBLE``.
``block_hashes``, ``transactions``
    with ``state_hash=True``: :mod:`defisim.runner.replay_log`.
``kpis``
    long format, per step: ``step, time_s, market, name, value``. ``market`` is NULL
    for the scenario's KPIs (:meth:`Scenario.kpis`) and the market (or pool) id for a
    protocol's built-ins. ``None``/NaN values are not recorded.

The final record (after ``Scenario.finish`` and the agents' ``finalise``) has
``step`` = the number of steps run.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from defisim.chain import NS_PER_SECOND

from .replay_log import REPLAY_TABLES, ReplayLog

if TYPE_CHECKING:
    from defisim.service import Simulation

CHAIN_TABLES: dict[str, dict[str, str]] = {
    "events": {
        "seq": "BIGINT",
        "step": "INTEGER",
        "block": "BIGINT",
        "time_ns": "BIGINT",
        "type": "VARCHAR",
        "market": "VARCHAR",
        "party": "VARCHAR",
        "payload": "VARCHAR",
    },
    "accounts": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "account_type": "VARCHAR",
        "owner": "VARCHAR",
        "asset": "VARCHAR",
        "market": "VARCHAR",
        "balance_raw": "HUGEINT",
        "balance": "DOUBLE",
    },
    "kpis": {
        "step": "INTEGER",
        "time_s": "DOUBLE",
        "market": "VARCHAR",
        "name": "VARCHAR",
        "value": "DOUBLE",
    },
}
"""Column names and DuckDB types of the chain's tables."""

# ----------------------------------------------------------------- event encoding
_json_encode = json.JSONEncoder(
    separators=(",", ":"), check_circular=False, ensure_ascii=False
).encode


def _str_tuple(v: tuple) -> str:
    """A tuple of strings (an account key) as a JSON array; TypeError for anything else."""
    if type(v) is not tuple:
        raise TypeError("not a tuple")
    return "[" + ",".join([encode_basestring(x) for x in v]) + "]"


class _TupleCache(dict):
    """Encoded account keys: a run has few accounts and each appears in many events."""

    def __missing__(self, key: tuple) -> str:
        text = _str_tuple(key)
        if len(self) < 200_000:
            self[key] = text
        return text


_TUPLES = _TupleCache()


def _owner(account: Any) -> str | None:
    """The owner of an account key tuple ``(type, owner, asset, market)``, or None."""
    if type(account) is tuple and len(account) > 1 and isinstance(account[1], str):
        return account[1] or None
    return None


_json_safe = json.JSONEncoder(
    separators=(",", ":"), check_circular=False, ensure_ascii=False, default=repr
).encode


class _EventCodec:
    """How to turn one event class into an ``events`` row, compiled once per class.

    ``row(seq, step, event)`` is a generated function that returns the whole row;
    its payload is an f-string building the JSON object text directly
    (``encode_basestring`` for ``str`` fields, ``:d`` for ``int`` fields, cached
    arrays for ``tuple`` fields of strings, the account keys): about 1 us per
    event, a third of ``json.dumps`` of a dict. A field of another declared type
    goes through :mod:`json`; an event whose values do not fit their declared
    types goes through :meth:`slow_row` (``json`` with ``repr`` for the
    unknown).
    """

    __slots__ = ("type_name", "names", "row", "market_of", "party_of")

    def __init__(self, cls: type) -> None:
        self.type_name = cls.__name__
        flds = list(fields(cls))[2:]  # after block, time_ns
        self.names = tuple(f.name for f in flds)
        parts = []
        for f in flds:
            ann = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            key = json.dumps(f.name).replace("{", "{{").replace("}", "}}").replace("'", "\\'")
            if ann == "str":
                parts.append(f"{key}:{{_s(e.{f.name})}}")
            elif ann == "int":
                parts.append(f"{key}:{{e.{f.name}:d}}")
            elif ann == "tuple":
                parts.append(f"{key}:{{_t(e.{f.name})}}")
            else:
                parts.append(f"{key}:{{_j(e.{f.name})}}")
        names = set(self.names)
        self.market_of = "market" in names
        self.party_of = "party" if "party" in names else "account" if "account" in names else None
        market = "(e.market or None)" if self.market_of else "None"
        party = {"party": "(e.party or None)", "account": "_o(e.account)"}.get(
            self.party_of or "", "None"
        )
        body = ",".join(parts)
        src = (
            f"def row(seq, step, e):\n"
            f"    return (seq, step, e.block, e.time_ns, {self.type_name!r}, {market}, {party}, "
            f"f'{{{{{body}}}}}')\n"
        )
        ns: dict[str, Any] = {
            "_s": encode_basestring,
            "_j": _json_encode,
            "_t": _TUPLES.__getitem__,
            "_o": _owner,
        }
        exec(compile(src, f"<events row {cls.__name__}>", "exec"), ns)  # noqa: S102
        self.row: Callable[[int, int, Any], tuple] = ns["row"]

    def slow_row(self, seq: int, step: int, ev: Any) -> tuple:
        """The row of an event whose values do not fit their declared types."""
        market = getattr(ev, "market", None) if self.market_of else None
        if self.party_of == "party":
            party = getattr(ev, "party", None)
        elif self.party_of == "account":
            party = _owner(getattr(ev, "account", None))
        else:
            party = None
        return (
            seq,
            step,
            ev.block,
            ev.time_ns,
            self.type_name,
            market if isinstance(market, str) and market else None,
            party if isinstance(party, str) and party else None,
            _json_safe({n: getattr(ev, n) for n in self.names}),
        )


def event_rows(step: int, events: list, first_seq: int,
               codecs: dict[type, Any]) -> list[tuple]:
    """``events`` table rows of ``events`` (in emission order) numbered from
    ``first_seq``, exactly as the recorder writes them; ``codecs`` is the caller's
    cache (a dict kept between calls). For other holders of a run's history (the
    server's live source, :mod:`defisim.server.live_data`)."""
    out = []
    seq = first_seq
    for ev in events:
        codec = codecs.get(type(ev))
        if codec is None:
            codec = codecs[type(ev)] = _EventCodec(type(ev))
        try:
            out.append(codec.row(seq, step, ev))
        except (TypeError, ValueError, AttributeError):
            out.append(codec.slow_row(seq, step, ev))
        seq += 1
    return out


# --------------------------------------------------------------------- recorder
def protocol_tables(protocols: Any) -> dict[str, dict[str, str]]:
    """The tables of a run on ``protocols`` (registered names or ChainProtocol classes):
    the chain's plus each protocol's ``recording_tables``."""
    from defisim.service import PROTOCOLS

    out = dict(CHAIN_TABLES)
    for p in protocols:
        cls = PROTOCOLS[p][0] if isinstance(p, str) else p
        out.update(getattr(cls, "recording_tables", {}) or {})
    return out


def _default_schemas() -> dict[str, dict[str, str]]:
    from defisim.service import DEFAULT_PROTOCOLS

    return protocol_tables(DEFAULT_PROTOCOLS)


SCHEMAS: dict[str, dict[str, str]] = _default_schemas()
"""Every table of a run with ``Simulation``'s default protocols (the chain's and the
futures protocol's)."""


class Recorder:
    """Turns a running simulation into rows of the run store (see the module docstring).

    Args:
        store: an open :class:`defisim.store.RunStore`, or ``None`` to only count.
        accounts_every: record the ``accounts`` table every this many steps (0: only
            at the final record; negative: never).
        depth_levels: passed to the protocols' recordings (the futures ``book_top``
            depth).
        recordings: the protocols' recording parts (``ChainProtocol.recording``);
            ``None``: taken from the simulation at the first record.
        planned_steps: the steps the run is to make, kept in the store's progress
            row (``None``: not known).

    Attributes:
        counts: events per event class name.
        trades, order_updates, orders: from the protocols' counters (0 without them).
        last_kpis: the latest value of every KPI (``name`` for the scenario's,
            ``market.name`` for a protocol's built-ins).
        last_step: the last step recorded completely (``None`` before the first).
        finished: the final record was made.
    """

    def __init__(self, store: Any | None, accounts_every: int = 1, depth_levels: int = 10,
                 recordings: list | None = None, planned_steps: int | None = None,
                 state_hash: bool = False) -> None:
        self.store = store
        self.planned_steps = planned_steps
        self.last_step: int | None = None
        self.finished = False
        self._committed_at = time.perf_counter()
        self.accounts_every = accounts_every
        self.depth_levels = depth_levels
        self.seq = 0
        self.counts: dict[str, int] = {}
        self.last_kpis: dict[str, float] = {}
        self._codecs: dict[type, _EventCodec] = {}
        self._buf: dict[str, list[tuple]] = {name: [] for name in CHAIN_TABLES}
        self.recordings: list | None = None
        self._time_s = 0.0
        self.replay_log: ReplayLog | None = None
        if state_hash:  # each block's hash and the transactions (replay_log)
            self.replay_log = ReplayLog()
            self._buf.update({name: [] for name in REPLAY_TABLES})
        if store is not None:
            for name, cols in CHAIN_TABLES.items():
                store.declare(name, cols)
            if state_hash:
                for name, cols in REPLAY_TABLES.items():
                    store.declare(name, cols)
        if recordings is not None:
            self._attach(recordings)

    def _attach(self, recordings: list) -> None:
        self.recordings = [r for r in recordings if r is not None]
        for r in self.recordings:
            for name, cols in r.tables.items():
                if name in self._buf:
                    raise ValueError(f"two recordings declare table {name!r}")
                self._buf[name] = []
                if self.store is not None:
                    self.store.declare(name, cols)

    def _ensure(self, sim: Simulation) -> list:
        if self.recordings is None:
            self._attach(sim.recordings(depth_levels=self.depth_levels))
        return self.recordings  # type: ignore[return-value]

    # -- the sink protocols write to -------------------------------------------
    @property
    def recording(self) -> bool:
        """True when rows go to a store (False: only counts and KPIs)."""
        return self.store is not None

    def rows(self, table: str) -> list | None:
        """The row buffer of ``table`` (``None`` when not recording)."""
        return self._buf[table] if self.store is not None else None

    def kpi(self, step: int, market: str | None, name: str, value: float) -> None:
        """A protocol's built-in KPI ``name`` of ``market`` (kept as ``market.name``)."""
        self.last_kpis[f"{market}.{name}" if market else name] = value
        if self.store is not None:
            self._buf["kpis"].append((step, self._time_s, market, name, value))

    def _counter(self, name: str) -> int:
        return sum(r.counters().get(name, 0) for r in self.recordings or ())

    def counters(self) -> dict[str, int]:
        """Every protocol recording's run totals (``trades``, ``orders``, ``swaps``,
        ``mints``, ...), summed over the recordings that report them."""
        out: dict[str, int] = {}
        for r in self.recordings or ():
            for k, v in r.counters().items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def trades(self) -> int:
        return self._counter("trades")

    @property
    def orders(self) -> int:
        return self._counter("orders")

    @property
    def order_updates(self) -> int:
        return self._counter("order_updates")

    @property
    def events(self) -> int:
        return self.seq

    # ----------------------------------------------------------------- events
    def record_events(self, step: int, events: list, sim: Simulation) -> None:
        """Rows for ``events`` (drained from the chain, in emission order) in ``step``."""
        if not events:
            return
        recordings = self._ensure(sim)
        codecs = self._codecs
        counts = self.counts
        for cls, n in Counter(map(type, events)).items():
            codec = codecs.get(cls)
            if codec is None:
                codec = codecs[cls] = _EventCodec(cls)
            counts[codec.type_name] = counts.get(codec.type_name, 0) + n
        for r in recordings:
            r.on_events(step, events, self)
        seq = self.seq
        if self.store is not None:
            rows = self._buf["events"]
            append = rows.append
            for ev in events:
                codec = codecs[type(ev)]
                try:
                    append(codec.row(seq, step, ev))
                except (TypeError, ValueError, AttributeError):
                    append(codec.slow_row(seq, step, ev))
                seq += 1
        else:
            seq += len(events)
        self.seq = seq

    # ---------------------------------------------------------------- samples
    def record_step(
        self,
        step: int,
        sim: Simulation,
        scenario_kpis: dict[str, float] | None,
        final: bool = False,
    ) -> None:
        """Drain the events, then record the scenario's KPIs, each protocol's samples
        and the accounts at ``step``.

        ``final`` forces the ``accounts`` sample (the last record of a run).
        """
        recordings = self._ensure(sim)
        if self.replay_log is not None:
            self.replay_log.record(step, sim.chain, self._buf if self.store is not None else None)
        self.record_events(step, sim.drain_events(), sim)
        time_ns = sim.now_ns
        self._time_s = time_s = time_ns / NS_PER_SECOND
        store = self.store
        kpi_rows = self._buf["kpis"]
        last = self.last_kpis
        if scenario_kpis:
            for name, value in scenario_kpis.items():
                if value is None:
                    continue
                v = float(value)
                if math.isnan(v):
                    continue
                last[name] = v
                if store is not None:
                    kpi_rows.append((step, time_s, None, name, v))
        for r in recordings:
            r.sample(step, self)
        every = self.accounts_every
        if store is not None and every >= 0 and (final or (every > 0 and step % every == 0)):
            acc = self._buf["accounts"]
            ledger = sim.chain.ledger
            decimals = {a: 10**x.decimals for a, x in ledger.assets.items()}
            for (typ, owner, asset, market), bal in ledger.balances.items():
                acc.append((step, time_ns, typ, owner, asset, market, bal, bal / decimals[asset]))
        if store is not None:
            self.last_step = step
            self.finished = self.finished or final
            if (
                final
                or sum(map(len, self._buf.values())) >= self.HAND_OVER_ROWS
                or time.perf_counter() - self._committed_at >= self.COMMIT_SECONDS
            ):
                self._commit()

    HAND_OVER_ROWS = 150_000
    """Rows buffered here (all tables) before they are written in one transaction."""

    COMMIT_SECONDS = 2.0
    """The longest time between two commits (what a crash can lose, in wall time)."""

    def _hand_over(self) -> None:
        self.store.extend(self._buf)
        for name in self._buf:
            self._buf[name] = []

    def _commit(self) -> None:
        """Write every complete step so far in one transaction, with the progress row."""
        self._hand_over()
        if self.last_step is None:
            self.store.flush()
        else:
            self.store.flush(step=self.last_step, final=self.finished,
                             planned_steps=self.planned_steps)
        self._committed_at = time.perf_counter()

    def close(self) -> None:
        """Write what is buffered (the events of a step that stopped too) with the last
        complete step, in one transaction (the store stays open)."""
        if self.store is not None:
            self._commit()
