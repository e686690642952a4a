"""The protocol plug-in interface: what the chain knows of an application on it.

A protocol (futures markets, AMM pools, token-economy building blocks, a compute
marketplace, governance) subclasses :class:`ChainProtocol` and is attached with
:meth:`Chain.register`. The chain then:

- calls :meth:`~ChainProtocol.begin_block` / :meth:`~ChainProtocol.end_block` of
  every protocol, in registration order, when a block opens and closes;
- executes the protocol's transactions (``Transaction(protocol=name, call=c)``
  runs ``tx_<c>(sender, *args)``), immediately or from the mempool;
- collects :meth:`~ChainProtocol.invariant_errors` at block end;
- snapshots and restores the protocol's own state with the chain's.

What a protocol records (its tables and built-in KPIs) is its
:meth:`~ChainProtocol.recording` (a :class:`Recording`); the runner's recorder asks
every protocol for it, so adding a protocol adds no line to the recorder.

The chain layer holds nothing of any protocol: a protocol's accounts are ledger
keys it defines, its events subclass :class:`~defisim.chain.events.Event`, and its
rejections are :class:`~defisim.chain.events.TransactionRejected` events.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar
from typing import Protocol as TypingProtocol

if TYPE_CHECKING:
    from .chain import Chain

DEFAULT_GAS = 50_000
"""Gas of a protocol call whose protocol declares none (mempool mode)."""


class ChainProtocol:
    """Base class of every protocol plug-in.

    Subclasses set :attr:`name` (unique on a chain), implement ``tx_<call>``
    methods for the transactions they accept, and override the hooks they need.

    Attributes:
        chain: the chain the protocol is registered on (set by :meth:`attach`).
        gas: gas used by each call in mempool mode (``call -> gas``); calls not
            listed use :data:`DEFAULT_GAS`.
        revert_gas: gas of a refused call (``None``: its full gas).
    """

    name: ClassVar[str] = ""
    gas: ClassVar[dict[str, int]] = {}
    revert_gas: ClassVar[int | None] = None
    """Gas a call refused by a protocol rule uses when included (mempool mode);
    ``None``: the call's full gas (the compute marketplace charges 25,000, spec 4.6)."""
    chain: Chain

    def attach(self, chain: Chain) -> None:
        """Called once by :meth:`Chain.register`: keep the chain, reserve parties, ..."""
        self.chain = chain

    # -- block hooks ------------------------------------------------------------
    def begin_block(self) -> None:
        """A block opened (expiries, enactments happen here)."""

    def end_block(self) -> None:
        """The block is closing (mark-to-market, auctions, epochs happen here)."""

    def next_deadline_ns(self) -> int | None:
        """The earliest future time (ns) at which a block end changes this protocol's
        state by itself (a mark, an auction end, an epoch), or ``None``. A runner
        that skips idle time must close a block at or before it."""
        return None

    # -- checks -------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        """One line per broken invariant of the protocol (empty when all hold)."""
        return []

    # -- transactions ---------------------------------------------------------------
    def reject(self, tx: str, party: str, reason: str, detail: str, scope: str = "",
               ref: int = 0) -> Any:
        """Reject a transaction: emit the chain's ``TransactionRejected`` event and return
        the matching ``REJECTED`` :class:`~defisim.chain.transactions.Receipt`.
        ``scope`` is the market or pool addressed (the event's ``market`` field and the
        ``events`` table's ``market`` column), ``ref`` the object addressed (an order id)."""
        from .transactions import REJECTED, Receipt

        self.chain.reject(tx, party, scope, reason, detail, ref)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def handler(self, call: str) -> Any:
        """The bound method executing transaction ``call``.

        Raises:
            KeyError: the protocol accepts no such transaction.
        """
        fn = getattr(self, "tx_" + call, None)
        if fn is None:
            known = sorted(n[3:] for n in dir(self) if n.startswith("tx_"))
            raise KeyError(f"protocol {self.name!r} has no transaction {call!r}; known: {known}")
        return fn

    def pending_result(self, tx: Any) -> Any:
        """What a call returns when its transaction waits in the mempool (the
        protocol's own result type with status ``PENDING``); the default is the
        chain's pending :class:`~defisim.chain.transactions.Receipt`."""
        from .transactions import Receipt

        return Receipt.waiting(tx)

    # -- snapshots --------------------------------------------------------------------
    def snapshot(self) -> Any:
        """A copy of the protocol's own state. References to the chain, its ledger and
        the protocol itself are kept, not copied (a market's bound ``next_order_id``
        keeps drawing from the live protocol)."""
        return copy.deepcopy({k: v for k, v in vars(self).items() if k != "chain"},
                             self._snapshot_memo())

    def restore(self, state: Any) -> None:
        """Put back a state taken by :meth:`snapshot` (it can be restored again). The
        protocol's attributes become fresh copies: holders of its inner objects (a
        market) must look them up again."""
        vars(self).update(copy.deepcopy(state, self._snapshot_memo()))

    def snapshot_shared(self) -> tuple:
        """Objects the protocol's state refers to but that keep their own state, outside
        Python (an EVM on a node): :meth:`snapshot` and :meth:`restore` keep them by
        reference, and an override saves and restores their state its own way."""
        return ()

    state_exclude: ClassVar[tuple[str, ...]] = ()
    """Attributes that are not state (caches rebuilt on demand): left out of
    :meth:`canonical_state`."""

    def canonical_state(self) -> Any:
        """The protocol's state as values for the chain's state hash
        (:func:`defisim.chain.state_hash.canonical_bytes` encodes them): by default
        every attribute but ``chain`` and :attr:`state_exclude`. Objects of
        :meth:`snapshot_shared` are encoded by their own ``canonical_state()`` (an
        EVM's accounts and storage). An override returns plain values (ints, strs,
        tuples, dicts, dataclasses) and must cover every field that can change."""
        exclude = self.state_exclude
        return {k: v for k, v in vars(self).items() if k != "chain" and k not in exclude}

    def _snapshot_memo(self) -> dict[int, Any]:
        chain = self.chain
        memo = {id(chain): chain, id(chain.ledger): chain.ledger, id(self): self}
        for obj in self.snapshot_shared():
            memo[id(obj)] = obj
        return memo

    # -- recording ----------------------------------------------------------------------
    recording_tables: ClassVar[dict[str, dict[str, str]]] = {}
    """The tables :meth:`recording` writes: ``table -> {column: DuckDB type}``."""

    def recording(self, **options: Any) -> Recording | None:
        """The protocol's part of a run's recording (:class:`Recording`), or ``None``
        when it records nothing beyond the chain's events, accounts and KPIs."""
        return None


class Recording(TypingProtocol):
    """A protocol's part of a run's recording, driven by the runner's recorder.

    ``tables`` declares its tables (``table -> {column: DuckDB type}``). Each step the
    recorder calls :meth:`on_events` with the step's events (all of them, in emission
    order; the protocol picks its own), then :meth:`sample`. Both write through
    ``sink``: ``sink.rows(table)`` is the table's row buffer (``None`` when the run
    records nothing), ``sink.kpi(step, scope, name, value)`` records a built-in KPI of
    a market or pool ``scope``, ``sink.recording`` says whether rows are kept.
    :meth:`counters` gives run totals for the summary (``trades``, ``orders``, ...).
    An optional ``kpi_names()`` lists the built-in KPIs it records (``scope.name``),
    so the KPIs of a run are known before it runs (:mod:`defisim.runner.kpis`).
    """

    tables: dict[str, dict[str, str]]

    def on_events(self, step: int, events: list, sink: Any) -> None: ...

    def sample(self, step: int, sink: Any) -> None: ...

    def counters(self) -> dict[str, int]: ...
