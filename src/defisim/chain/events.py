"""Typed events of the null chain.

Every state change on the chain emits one event: a frozen dataclass with
``__slots__``. Events are the source of truth: the store records them, tests
assert on them, and a rejected transaction is an event with a reason code
(:class:`TransactionRejected`), never an exception that stops the chain.

Protocols define their own events by subclassing :class:`Event`; the first two
fields of every event are the block height and the simulated time in integer
nanoseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of all events: ``block`` height and ``time_ns`` (ns since run start)."""

    block: int
    time_ns: int


@dataclass(frozen=True, slots=True)
class BlockStarted(Event):
    """A block was opened at ``time_ns``."""


@dataclass(frozen=True, slots=True)
class BlockEnded(Event):
    """A block was closed (after the protocols' end-of-block hooks ran)."""


@dataclass(frozen=True, slots=True)
class AssetCreated(Event):
    """An asset ``asset`` with ``decimals`` decimal places (base units = 10**-decimals)."""

    asset: str
    decimals: int
    quantum: int


@dataclass(frozen=True, slots=True)
class PartyCreated(Event):
    """A party (an actor that holds accounts and sends transactions) was created."""

    party: str


@dataclass(frozen=True, slots=True)
class Minted(Event):
    """The faucet minted ``amount`` base units of ``asset`` into ``account``."""

    account: tuple
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Issued(Event):
    """A protocol issued ``amount`` base units of ``asset`` into ``account`` (``kind``:
    why). Issuance is not a deposit: it does not count in the owner's PnL baseline."""

    account: tuple
    asset: str
    amount: int
    kind: str


@dataclass(frozen=True, slots=True)
class Burned(Event):
    """``amount`` base units of ``asset`` were burned from ``account``."""

    account: tuple
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Transfer(Event):
    """``amount`` base units moved from ``source`` to ``destination``.

    ``kind`` says why (for example ``"margin_top_up"``, ``"mtm_loss"``,
    ``"fee_maker"``). Account keys are the tuples of :mod:`defisim.chain.ledger`.
    """

    source: tuple
    destination: tuple
    asset: str
    amount: int
    kind: str


@dataclass(frozen=True, slots=True)
class TransferBatch(Event):
    """Many transfers of one ``kind`` and ``asset`` applied together, in order.

    ``moves`` is a tuple of ``(source, destination, amount)``; each is exactly what
    one :class:`Transfer` would have said. Mark-to-market moves money between every
    positioned party and the settlement account at every mark; one event per leg
    (losses in, wins out) keeps that record complete at a fraction of the cost.
    """

    asset: str
    kind: str
    moves: tuple


@dataclass(frozen=True, slots=True)
class TransactionRejected(Event):
    """A transaction was refused. ``reason`` is a stable upper-case code, ``detail`` prose.

    ``tx`` names the transaction (``"submit_order"``, ``"amend_order"``, ...);
    ``party`` and ``market`` are empty strings when they do not apply.
    """

    tx: str
    party: str
    market: str
    reason: str
    detail: str
    order_id: int = 0


@dataclass(frozen=True, slots=True)
class TransactionIncluded(Event):
    """Mempool mode: a transaction was executed (or dropped) by its block.

    ``status`` is ``EXECUTED``, ``REJECTED`` (a :class:`TransactionRejected` says why)
    or ``DROPPED`` (could not lock its fee cap); ``gas_used``, ``fee_burned`` and
    ``tip`` are in gas and base units of the native asset."""

    tx_id: int
    sender: str
    protocol: str
    call: str
    status: str
    reason: str
    gas_used: int
    fee_burned: int
    tip: int


@dataclass(frozen=True, slots=True)
class BundleReverted(Event):
    """A bundle's transaction ``failed_index`` (id ``tx_id``) was rejected, so every
    change of the bundle was undone (``reason``: the rejection's code)."""

    bundle_id: int
    failed_index: int
    tx_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class BaseFeeUpdated(Event):
    """EIP-1559: the block used ``gas_used``; the base fee per gas goes from
    ``base_fee`` to ``next_base_fee`` for the next block."""

    gas_used: int
    base_fee: int
    next_base_fee: int


def iter_transfers(events: Iterable[Event]) -> Iterator[tuple[tuple, tuple, str, int, str]]:
    """Every money movement in ``events`` as ``(source, destination, asset, amount, kind)``,
    :class:`TransferBatch` moves expanded in order among the single :class:`Transfer` s."""
    for e in events:
        t = type(e)
        if t is Transfer:
            yield e.source, e.destination, e.asset, e.amount, e.kind
        elif t is TransferBatch:
            for source, destination, amount in e.moves:
                yield source, destination, e.asset, amount, e.kind


@cache
def event_field_names(cls: type) -> tuple[str, ...]:
    """Field names of an event class, in declaration order (cached)."""
    return tuple(f.name for f in fields(cls))


def event_payload(event: Event) -> dict[str, Any]:
    """The fields of ``event`` other than ``block`` and ``time_ns``, as a dict."""
    return {n: getattr(event, n) for n in event_field_names(type(event))[2:]}
