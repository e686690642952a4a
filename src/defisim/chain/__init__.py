"""Null chain: clock, blocks, ledger, events, random streams, invariants, snapshots.

Protocol-agnostic: imports nothing else of defisim.
"""

from . import ledger
from .chain import NS_PER_SECOND, Chain, Protocol
from .events import (
    AssetCreated,
    BlockEnded,
    BlockStarted,
    Burned,
    Event,
    Minted,
    PartyCreated,
    TransactionRejected,
    Transfer,
    TransferBatch,
    event_field_names,
    event_payload,
    iter_transfers,
)
from .invariants import InvariantViolation
from .ledger import NETWORK_PARTY, AccountKey, Asset, Ledger, LedgerError
from .rng import RandomStreams

__all__ = [
    "NS_PER_SECOND",
    "NETWORK_PARTY",
    "AccountKey",
    "Asset",
    "AssetCreated",
    "BlockEnded",
    "BlockStarted",
    "Burned",
    "Chain",
    "Event",
    "InvariantViolation",
    "Ledger",
    "LedgerError",
    "Minted",
    "PartyCreated",
    "Protocol",
    "RandomStreams",
    "TransactionRejected",
    "Transfer",
    "TransferBatch",
    "iter_transfers",
    "event_field_names",
    "event_payload",
    "ledger",
]
