"""The transaction log: numbers, executes and records fuzz transactions and block
markers, in order, so that a run can be replayed exactly (:class:`TxLog`)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Protocol

from .execution import execute

if TYPE_CHECKING:
    from defisim.service import Simulation

BLOCK = "block"
"""Kind of a block marker: close the open block and open the next at ``t_ns``."""

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
        keep: keep the entries (the replayable sequence); off, only statistics.

    Attributes:
        entries: transactions (with their ``id``) and block markers, in order.
        stats: ``(kind, "accepted" | "rejected" | "crashed", outcome) -> count``.
        outcomes: transaction id -> outcome text (when ``keep``).
        order_of_tx, tx_of_order: which transaction created which order.
    """

    def __init__(self, monitor: CrashSink | None = None, keep: bool = True) -> None:
        self.monitor = monitor
        self.keep = keep
        self.entries: list[dict] = []
        self.stats: Counter[tuple[str, str, str]] = Counter()
        self.outcomes: dict[int, str] = {}
        self.order_of_tx: dict[int, int] = {}
        self.tx_of_order: dict[int, int] = {}
        self.next_id = 1
        self.crashes = 0

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def transactions(self) -> int:
        """Transactions sent (block markers excluded)."""
        return sum(self.stats.values())

    def block(self, t_ns: int) -> None:
        """Record a block marker (the caller opens the block)."""
        if self.keep:
            self.entries.append({"kind": BLOCK, "t_ns": int(t_ns)})

    def run(self, sim: Simulation, tx: dict) -> str:
        """Number (if new), record and execute ``tx``; return its outcome text."""
        if "id" not in tx:
            tx["id"] = self.next_id
        self.next_id = max(self.next_id, tx["id"] + 1)
        if self.keep:
            self.entries.append(tx)
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
        self.stats[(tx["kind"], label, outcome.split(":")[0] if label == "crashed" else outcome)] += 1
        text = f"{label} {outcome}"
        if self.keep:
            self.outcomes[tx["id"]] = text
        return text

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
