"""The null chain: clock, blocks, ledger, events, protocols, invariants, snapshots."""

from __future__ import annotations

import copy
from collections import deque
from typing import Protocol as TypingProtocol

from .events import BlockEnded, BlockStarted, Event, TransactionRejected
from .invariants import InvariantViolation
from .ledger import Ledger
from .rng import RandomStreams

NS_PER_SECOND = 1_000_000_000


class Protocol(TypingProtocol):
    """What an app on the chain implements (duck-typed).

    ``begin_block`` runs when a block opens (expiries happen there),
    ``end_block`` when it closes (mark-to-market, auctions, closeouts), and
    ``invariant_errors`` returns one line per broken protocol invariant.
    """

    name: str

    def begin_block(self) -> None: ...

    def end_block(self) -> None: ...

    def invariant_errors(self) -> list[str]: ...


class Chain:
    """A deterministic in-process chain.

    Time is simulated, in integer nanoseconds since the run's start, and only
    moves when :meth:`begin_block` is called with a later time. Transactions
    are executed as they arrive inside the open block. Every state change emits
    an :class:`~defisim.chain.events.Event` into :attr:`events` (drained by the
    recorder) and into a short ring of recent events used in error reports.

    Args:
        seed: root seed of every random stream of the run.
        check_invariants: run the invariant checks at every block end.
        keep_events: keep emitted events in :attr:`events` until drained
            (turn off for benchmarks that do not record).
    """

    def __init__(self, seed: int = 0, check_invariants: bool = True, keep_events: bool = True):
        self.rng = RandomStreams(seed)
        self.seed = seed
        self.now: int = 0
        self.block: int = 0
        self.block_open = False
        self.check_invariants = check_invariants
        self.keep_events = keep_events
        self.events: list[Event] = []
        self.recent: deque[Event] = deque(maxlen=200)
        self.event_count = 0
        self.protocols: list = []
        self.ledger = Ledger(self.emit, self.stamp)

    # -- events ---------------------------------------------------------------
    def stamp(self) -> tuple[int, int]:
        """``(block, time_ns)`` to put on a new event."""
        return self.block, self.now

    def emit(self, event: Event) -> None:
        """Record ``event``."""
        self.event_count += 1
        self.recent.append(event)
        if self.keep_events:
            self.events.append(event)

    def drain_events(self) -> list[Event]:
        """Return and forget the events emitted since the last drain."""
        out = self.events
        self.events = []
        return out

    def reject(
        self, tx: str, party: str, market: str, reason: str, detail: str, order_id: int = 0
    ) -> TransactionRejected:
        """Emit and return a :class:`TransactionRejected` event."""
        ev = TransactionRejected(self.block, self.now, tx, party, market, reason, detail, order_id)
        self.emit(ev)
        return ev

    # -- protocols --------------------------------------------------------------
    def register(self, protocol) -> None:
        """Attach a protocol; its hooks run in registration order."""
        self.protocols.append(protocol)

    # -- blocks -----------------------------------------------------------------
    def begin_block(self, time_ns: int) -> None:
        """Open the next block at ``time_ns`` (>= the current time).

        Raises:
            RuntimeError: a block is already open.
            ValueError: ``time_ns`` is earlier than the current time.
        """
        if self.block_open:
            raise RuntimeError(f"block {self.block} is still open")
        if time_ns < self.now:
            raise ValueError(f"time cannot go back: {time_ns} < {self.now}")
        self.now = int(time_ns)
        self.block += 1
        self.block_open = True
        self.emit(BlockStarted(self.block, self.now))
        for p in self.protocols:
            p.begin_block()

    def end_block(self) -> None:
        """Close the open block: protocol hooks, then invariants (if enabled).

        Raises:
            InvariantViolation: an invariant failed (only when checks are on).
        """
        if not self.block_open:
            raise RuntimeError("no block is open")
        for p in self.protocols:
            p.end_block()
        self.block_open = False
        self.emit(BlockEnded(self.block, self.now))
        if self.check_invariants:
            self.assert_invariants()

    def invariant_errors(self) -> list[str]:
        """All broken invariants now (ledger conservation, then each protocol's)."""
        errors = self.ledger.conservation_errors()
        for p in self.protocols:
            errors.extend(p.invariant_errors())
        return errors

    def assert_invariants(self) -> None:
        """Raise :class:`InvariantViolation` if any invariant is broken."""
        errors = self.invariant_errors()
        if errors:
            raise InvariantViolation(self.block, self.now, errors, list(self.recent))

    # -- snapshots --------------------------------------------------------------
    def snapshot(self) -> Chain:
        """A deep copy of the whole chain state (fork a run, reset an episode)."""
        return copy.deepcopy(self)
