"""The transaction log: numbers, executes and records fuzz transactions and block
markers, in order, so that a run can be replayed exactly (:class:`TxLog`)."""

from __future__ import annotations

import pickle
import tempfile
import zlib
from collections import Counter
from typing import TYPE_CHECKING, BinaryIO, Protocol

from .execution import execute

if TYPE_CHECKING:
    from defisim.service import Simulation

BLOCK = "block"
"""Kind of a block marker: close the open block and open the next at ``t_ns``."""

RECENT_ORDERS = 50
"""The generator's "an order some transaction created" picks among this many latest."""

EXPECTED_ERRORS: dict[str, tuple[type[BaseException], ...]] = {
    "mint": (ValueError,),  # a setup call: documented ValueError for bad input
    "settle": (ValueError, KeyError),  # documented: non-positive price, cannot settle, unknown
    "terminate": (KeyError,),  # unknown market
}
"""Exceptions a call documents for bad input (counted as rejections, not crashes)."""


class CrashSink(Protocol):
    """Where a :class:`TxLog` reports a crash (e.g. the fuzz scenario's crash monitor,
    which turns it into an invariant violation at the block end)."""

    def crash(self, tx: dict, exc: BaseException) -> None: ...


class CrashMonitor:
    """A :class:`CrashSink` that turns every transaction that raised an undocumented
    exception into an invariant violation at the next block end (the service promises
    rejection events, never exceptions, for bad transactions). The fuzz scenario
    registers :meth:`invariant_errors` with ``Simulation.add_invariant_check``."""

    def __init__(self) -> None:
        self.crashes: list[str] = []

    def invariant_errors(self) -> list[str]:
        return list(self.crashes)

    def crash(self, tx: dict, exc: BaseException) -> None:
        self.crashes.append(
            f"transaction {tx.get('id')} ({tx.get('kind')}) raised {type(exc).__name__}: {exc}"
        )


class TxLog:
    """Numbers, executes and records transactions and block markers, in order.

    Args:
        monitor: where crashes go (``None``: crashes are only counted).
        keep: keep the entries (the replayable sequence) and outcomes; off, only
            statistics.
        spill_after: keep at most about this many entries in memory; older ones (and
            their outcomes) go, pickled and zlib-compressed in chunks, to an anonymous
            temporary file that :attr:`entries` and :attr:`outcomes` read back
            (``None``: all in memory). Memory then stays flat however long the run.
        max_order_refs: when the order references (:attr:`tx_of_order`) exceed this,
            forget those of orders no longer open, except the :data:`RECENT_ORDERS`
            latest (``None``: keep all; with more open orders than this, the next
            pruning waits until the references have doubled). Only what :meth:`order_ref` and the generator
            look up is kept, so the transactions generated do not change. For the log
            of a generating run, not of a replay (a replayed ``ref`` may target any
            order its original run could).

    Attributes:
        entries: transactions (with their ``id``) and block markers, in order.
        stats: ``(kind, "accepted" | "rejected" | "crashed", outcome) -> count``.
        outcomes: transaction id -> outcome text (when ``keep``).
        order_of_tx, tx_of_order: which transaction created which order.
    """

    def __init__(self, monitor: CrashSink | None = None, keep: bool = True,
                 spill_after: int | None = None, max_order_refs: int | None = None) -> None:
        self.monitor = monitor
        self.keep = keep
        self.spill_after = spill_after
        self.max_order_refs = max_order_refs
        self._prune_at = max_order_refs or 0  # prune beyond this many references
        self._entries: list[dict] = []  # the newest entries (all of them without a spill)
        self._outcomes: dict[int, str] = {}  # the outcomes of the transactions in _entries
        self._spill: BinaryIO | None = None  # older chunks: pickled (entries, outcomes), zlib
        self._spilled = 0  # entries in the spill file
        self.stats: Counter[tuple[str, str, str]] = Counter()
        self.order_of_tx: dict[int, int] = {}
        self.tx_of_order: dict[int, int] = {}
        self.next_id = 1
        self.crashes = 0

    def __len__(self) -> int:
        return self._spilled + len(self._entries)

    @property
    def entries(self) -> list[dict]:
        """Every kept entry, in order (read back from the spill file if there is one:
        a new list then, so only for the end of a run)."""
        if not self._spilled:
            return self._entries
        out: list[dict] = []
        for chunk, _ in self._chunks():
            out += chunk
        return out + self._entries

    @property
    def outcomes(self) -> dict[int, str]:
        """Transaction id -> outcome text of every kept transaction (see :attr:`entries`)."""
        if not self._spilled:
            return self._outcomes
        out: dict[int, str] = {}
        for _, outcomes in self._chunks():
            out.update(outcomes)
        out.update(self._outcomes)
        return out

    @property
    def spilled(self) -> int:
        """Entries written to the spill file so far."""
        return self._spilled

    def _chunks(self):
        f = self._spill
        assert f is not None
        f.seek(0)
        while header := f.read(8):
            data = f.read(int.from_bytes(header, "little"))
            yield pickle.loads(zlib.decompress(data))
        f.seek(0, 2)

    def _spill_entries(self) -> None:
        """Move the in-memory entries and their outcomes into the spill file."""
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="defisim-txlog-")
        data = zlib.compress(pickle.dumps((self._entries, self._outcomes),
                                          protocol=pickle.HIGHEST_PROTOCOL), 1)
        self._spill.write(len(data).to_bytes(8, "little") + data)
        self._spilled += len(self._entries)
        self._entries = []
        self._outcomes = {}

    def _append(self, entry: dict) -> None:
        if self.spill_after is not None and len(self._entries) >= self.spill_after:
            self._spill_entries()
        self._entries.append(entry)

    def close(self) -> None:
        """Delete the spill file (the entries it held are gone)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
            self._spilled = 0

    def __getstate__(self) -> dict:
        """Pickled with every entry in memory (a spill file does not pickle)."""
        state = dict(self.__dict__)
        if self._spilled:
            state["_entries"], state["_outcomes"] = self.entries, self.outcomes
        state["_spill"], state["_spilled"] = None, 0
        return state

    @property
    def transactions(self) -> int:
        """Transactions sent (block markers excluded)."""
        return sum(self.stats.values())

    def block(self, t_ns: int) -> None:
        """Record a block marker (the caller opens the block)."""
        if self.keep:
            self._append({"kind": BLOCK, "t_ns": int(t_ns)})

    def run(self, sim: Simulation, tx: dict) -> str:
        """Number (if new), record and execute ``tx``; return its outcome text."""
        if "id" not in tx:
            tx["id"] = self.next_id
        self.next_id = max(self.next_id, tx["id"] + 1)
        if self.keep:
            self._append(tx)
        try:
            ok, outcome, oid = execute(sim, tx, self.order_of_tx)
            label = "accepted" if ok else "rejected"
        except Exception as exc:  # classified: documented (a rejection) or a crash
            oid = 0
            if isinstance(exc, EXPECTED_ERRORS.get(tx["kind"], ())):
                label, outcome = "rejected", f"raised {type(exc).__name__}"
            else:
                label, outcome = "crashed", f"raised {type(exc).__name__}: {exc}"
                self.crashes += 1
                if self.monitor is not None:
                    self.monitor.crash(tx, exc)
        if oid:
            self.order_of_tx[tx["id"]] = oid
            self.tx_of_order[oid] = tx["id"]
            if self.max_order_refs is not None and len(self.tx_of_order) > self._prune_at:
                self._prune_order_refs(sim)
        self.stats[(tx["kind"], label, outcome.split(":")[0] if label == "crashed" else outcome)] += 1
        text = f"{label} {outcome}"
        if self.keep:
            self._outcomes[tx["id"]] = text
        return text

    def _prune_order_refs(self, sim: Simulation) -> None:
        """Keep the references of open orders and of the :data:`RECENT_ORDERS` latest
        (in their order: the generator picks among the latest)."""
        live = {v.order_id for v in sim.futures.open_orders()}
        keys = list(self.tx_of_order)
        recent = set(keys[-RECENT_ORDERS:])
        kept = [(oid, self.tx_of_order[oid]) for oid in keys if oid in live or oid in recent]
        self.tx_of_order = dict(kept)
        self.order_of_tx = {tx_id: oid for oid, tx_id in kept}
        # many open orders: prune again only when the references have doubled (amortised)
        self._prune_at = max(self.max_order_refs or 0, 2 * len(kept))

    def order_ref(self, order_id: int) -> dict:
        """``{"ref": tx id}`` for an order a logged transaction created, else ``{"order_id"}``."""
        ref = self.tx_of_order.get(order_id)
        return {"ref": ref, "order_id": order_id} if ref is not None else {"order_id": order_id}

    def summary(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{kind: {"accepted"|"rejected"|"crashed": {outcome: count}}}``."""
        out: dict[str, dict[str, dict[str, int]]] = {}
        for (kind, label, outcome), n in sorted(self.stats.items()):
            out.setdefault(kind, {}).setdefault(label, {})[outcome] = n
        return out
