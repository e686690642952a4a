"""Transactions, bundles and receipts: the one format of every state-changing call.

A :class:`Transaction` names a protocol (``""`` for the chain's own calls:
transfer, burn), a call and its raw arguments (integers: ticks, base units,
nanoseconds), plus the EIP-1559 fields a mempool orders by. The transaction log
(:attr:`Chain.tx_log`) is the shared format of replay, the fuzzer and the remote
API. Every call returns a result with ``status`` / ``reason`` / ``accepted``: the
protocol's own (for example the futures ``OrderResult``, which is a
:class:`Receipt`), or a :class:`Receipt`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING = "PENDING"
EXECUTED = "EXECUTED"
REJECTED = "REJECTED"
REVERTED = "REVERTED"
DROPPED = "DROPPED"


@dataclass(slots=True)
class Transaction:
    """One state-changing call.

    Attributes:
        sender: the party that signs it (pays gas in mempool mode).
        protocol: the protocol's name (``""``: the chain itself).
        call: the transaction kind (``"submit_order"``, ``"transfer"``, ...).
        args: raw positional arguments of the call, after ``sender``.
        nonce: the sender's sequence number, assigned on submission (-1 before).
        gas_limit: the most gas it may use (0: the protocol's gas for the call).
        max_fee_per_gas: EIP-1559 fee cap, base units of the native asset per gas
            (0: base fee + tip at submission).
        max_priority_fee_per_gas: EIP-1559 tip cap per gas.
        tx_id: unique id on the chain, assigned on submission (0 before).
        arrival: submission order on the chain (ties of a policy go by it).
    """

    sender: str
    protocol: str
    call: str
    args: tuple = ()
    nonce: int = -1
    gas_limit: int = 0
    max_fee_per_gas: int = 0
    max_priority_fee_per_gas: int = 0
    tx_id: int = 0
    arrival: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (args as a list)."""
        return {"sender": self.sender, "protocol": self.protocol, "call": self.call,
                "args": list(self.args), "nonce": self.nonce, "gas_limit": self.gas_limit,
                "max_fee_per_gas": self.max_fee_per_gas,
                "max_priority_fee_per_gas": self.max_priority_fee_per_gas,
                "tx_id": self.tx_id, "arrival": self.arrival}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transaction:
        """The inverse of :meth:`to_dict` (lists in args become tuples)."""
        args = tuple(tuple(a) if isinstance(a, list) else a for a in d.get("args", ()))
        return cls(d["sender"], d["protocol"], d["call"], args,
                   int(d.get("nonce", -1)), int(d.get("gas_limit", 0)),
                   int(d.get("max_fee_per_gas", 0)), int(d.get("max_priority_fee_per_gas", 0)),
                   int(d.get("tx_id", 0)), int(d.get("arrival", 0)))


@dataclass(slots=True)
class Bundle:
    """Transactions that execute together, in this order, or not at all (a searcher's
    bundle). A bundle is ordered by its first transaction; if any of its transactions
    is rejected, every change the bundle made is reverted.

    ``pulled`` holds the ids of the transactions that were pending on their own in the
    mempool when the bundle was submitted and that the bundle took in (another
    sender's swap that a searcher brackets, :meth:`~defisim.chain.Chain.submit_bundle`);
    if the bundle reverts they still execute, on their own, right after the revert."""

    transactions: list[Transaction]
    bundle_id: int = 0
    pulled: tuple[int, ...] = ()


@dataclass(slots=True)
class Receipt:
    """The outcome of a transaction.

    Attributes:
        status: ``PENDING`` (waiting in the mempool), ``EXECUTED``, ``REJECTED``
            (a rejection event says why), ``REVERTED`` (its bundle failed) or
            ``DROPPED`` (could not pay its fee cap); protocols' own result types
            use richer codes (an order's ``ACTIVE``, ``FILLED``, ...).
        reason: upper-case reason code when rejected, else ``""``.
        detail: prose.
        tx_id: the transaction's id (0 for a call made without one).
        block: block of execution (0 while pending).
        gas_used: gas charged (mempool mode).
        fee_burned: base fee x gas, burned (base units of the native asset).
        tip: priority fee x gas, paid to the block producer.
        l1_fee: an L1 data fee the protocol charged on top of gas (OP-stack receipts'
            ``l1Fee``; compute-marketplace spec 4.6), base units of the native asset.
        value: what the call returned (a protocol result, an id, ...).
    """

    status: str
    reason: str = ""
    detail: str = ""
    tx_id: int = 0
    block: int = 0
    gas_used: int = 0
    fee_burned: int = 0
    tip: int = 0
    value: Any = field(default=None)
    l1_fee: int = 0

    @property
    def accepted(self) -> bool:
        """True unless the transaction was rejected, reverted or dropped."""
        return self.status not in (REJECTED, REVERTED, DROPPED)

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @classmethod
    def waiting(cls, tx: Transaction) -> Receipt:
        """The receipt of ``tx`` while it waits in the mempool."""
        return cls(PENDING, tx_id=tx.tx_id)
