"""The mempool and its ordering policies.

In mempool mode transactions wait here until their block closes; the block then
executes them in the order of a policy:

``fifo``
    arrival order.
``random``
    a seeded random order (one draw per entry from the chain's
    ``"mempool:order"`` stream, in arrival order), reproducible from the run's seed.
``priority``
    highest tip per gas first (``effective price - base fee``, EIP-1559), ties by
    arrival.

Under every policy an entry whose fee cap is below the block's base fee waits (with
a fee market; a bundle waits until every one of its transactions' caps reaches the
base fee), and each sender's transactions keep their nonce order (a sender's second
transaction never runs before its first, as on Ethereum): an entry runs only after
the earlier entries of each of its senders, so the order is a merge of per-sender
queues by the policy's key. A bundle is one entry, keyed by its first transaction,
that waits for every one of its senders. With a gas limit (the fee market), entries
that no longer fit wait for the next block, and so does every later entry of their
senders.

A bundle may *pull in* transactions that are pending on their own (a searcher's
bundle around another sender's swap, :meth:`Mempool.place_pulled`): the bundle takes
the place, in the arrival list, of the earliest transaction it pulls, and the pulled
transactions leave their own places. Every sender's transactions stay in nonce order
along the arrival list (bundles expanded) -- that is what the per-sender queues above
run -- so a bundle that would break it is refused: the victim has a later pending
transaction before another one the bundle pulls, or the bundle's own sender has
pending transactions after that place (its new transactions have higher nonces).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

import numpy as np

from .transactions import Bundle, Transaction

POLICIES = ("fifo", "random", "priority")

Entry = Transaction | Bundle


def _first(entry: Entry) -> Transaction:
    return entry.transactions[0] if isinstance(entry, Bundle) else entry


def _txs(entry: Entry) -> list[Transaction] | tuple[Transaction]:
    return entry.transactions if isinstance(entry, Bundle) else (entry,)


def entry_gas(entry: Entry, gas_of: Callable[[Transaction], int]) -> int:
    """Gas limit of an entry (a bundle: the sum over its transactions)."""
    if isinstance(entry, Bundle):
        return sum(gas_of(t) for t in entry.transactions)
    return gas_of(entry)


class Mempool:
    """Pending transactions and bundles, in arrival order.

    Args:
        policy: ``"fifo"``, ``"random"`` or ``"priority"``.
        rng: the generator of the ``random`` policy.

    Raises:
        ValueError: unknown policy.
    """

    def __init__(self, policy: str, rng: np.random.Generator | None = None) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown ordering policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        self.rng = rng
        self.pending: list[Entry] = []

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, entry: Entry) -> None:
        self.pending.append(entry)

    def standalone(self, tx_id: int) -> Transaction | None:
        """The transaction ``tx_id`` if it is pending as an entry of its own (not inside
        a bundle), else ``None``."""
        for e in self.pending:
            if not isinstance(e, Bundle) and e.tx_id == tx_id:
                return e
        return None

    def place_pulled(self, bundle: Bundle) -> str:
        """Insert ``bundle``, whose ``pulled`` transactions are pending on their own, at
        the place of the earliest of them, and remove them from their own places.

        Every transaction of the bundle must carry its nonce (the new ones: the nonces
        they will get). Returns ``""`` when done, or (nothing changed) why the bundle
        would break the nonce order of one of its senders: along the new arrival list,
        bundles expanded, each sender's nonces must increase (the order
        :meth:`select` runs a sender's transactions in).
        """
        pulled = set(bundle.pulled)
        where = [i for i, e in enumerate(self.pending)
                 if not isinstance(e, Bundle) and e.tx_id in pulled]
        if len(where) != len(pulled):
            return "a pulled transaction is not pending on its own"
        gone = set(where)
        first = where[0]
        entries = [e for i, e in enumerate(self.pending[:first]) if i not in gone]
        entries.append(bundle)
        entries.extend(e for i, e in enumerate(self.pending[first:], first) if i not in gone)
        senders = {t.sender for t in bundle.transactions}
        last: dict[str, int] = {}
        for e in entries:
            for t in _txs(e):
                if t.sender in senders:
                    prev = last.get(t.sender)
                    if prev is not None and t.nonce <= prev:
                        return (f"{t.sender}'s transaction of nonce {t.nonce} would run after its "
                                f"nonce {prev}")
                    last[t.sender] = t.nonce
        self.pending = entries
        return ""

    def transactions(self) -> list[Transaction]:
        """Every pending transaction (bundles expanded), in arrival order."""
        out: list[Transaction] = []
        for e in self.pending:
            out.extend(e.transactions if isinstance(e, Bundle) else (e,))
        return out

    def select(
        self,
        base_fee: int = 0,
        gas_limit: int | None = None,
        gas_of: Callable[[Transaction], int] | None = None,
    ) -> list[Entry]:
        """Remove and return the entries this block executes, in execution order.

        Args:
            base_fee: the block's base fee per gas (entries with a lower fee cap
                wait; ``priority``: tips are above it).
            gas_limit: the block's gas limit (``None``: no limit).
            gas_of: gas limit of a transaction (needed with ``gas_limit``).
        """
        entries = self.pending
        if not entries:
            return []
        keys = self._keys(entries, base_fee)
        # nonce order: an entry waits for the previous entry of each of its senders
        # (per-sender queues; a bundle sits in the queue of every sender it holds)
        waits = [0] * len(entries)
        after: list[list[int]] = [[] for _ in entries]
        last: dict[str, int] = {}
        for i, e in enumerate(entries):
            for sender in dict.fromkeys(t.sender for t in _txs(e)):
                j = last.get(sender)
                if j is not None:
                    waits[i] += 1
                    after[j].append(i)
                last[sender] = i
        # None: a fee cap below the base fee, the entry (and its senders' later ones) wait
        heap = [(keys[i], i) for i in range(len(entries)) if not waits[i] and keys[i] is not None]
        heapq.heapify(heap)
        chosen: list[int] = []
        left = gas_limit
        while heap:
            _, i = heapq.heappop(heap)
            e = entries[i]
            if left is not None:
                g = entry_gas(e, gas_of)  # type: ignore[arg-type]
                if g > left:
                    continue  # does not fit: it and its senders' later ones wait
                left -= g
            chosen.append(i)
            for j in after[i]:
                waits[j] -= 1
                if not waits[j] and keys[j] is not None:
                    heapq.heappush(heap, (keys[j], j))
        taken = set(chosen)
        self.pending = [e for i, e in enumerate(entries) if i not in taken]
        return [entries[i] for i in chosen]

    def _keys(self, entries: list[Entry], base_fee: int) -> list[Any]:
        # a fee cap below the base fee (only possible with a fee market): None, waits
        ok = [all(t.max_fee_per_gas >= base_fee for t in _txs(e)) for e in entries]
        if self.policy == "fifo":
            return [_first(e).arrival if k else None for e, k in zip(entries, ok, strict=True)]
        if self.policy == "random":
            if self.rng is None:
                raise ValueError("the random policy needs a generator")
            draws = self.rng.random(len(entries)).tolist()
            return [(d, _first(e).arrival) if k else None
                    for d, e, k in zip(draws, entries, ok, strict=True)]
        keys: list[Any] = []
        for e, k in zip(entries, ok, strict=True):
            t = _first(e)
            if not k:
                keys.append(None)
            else:
                tip = min(t.max_fee_per_gas - base_fee, t.max_priority_fee_per_gas)
                keys.append((-tip, t.arrival))
        return keys
