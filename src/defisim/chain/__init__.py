"""Null chain: clock, blocks, ledger, events, transactions and the mempool, random
streams, the protocol plug-in interface, invariants, snapshots.

Protocol-agnostic: imports nothing else of defisim.
"""

from . import ledger
from .chain import EXECUTION_MODES, NS_PER_SECOND, SETUP, Chain, Protocol
from .events import (
    AssetCreated,
    BaseFeeUpdated,
    BlockEnded,
    BlockStarted,
    BundleReverted,
    Burned,
    Event,
    Issued,
    Minted,
    PartyCreated,
    TransactionIncluded,
    TransactionRejected,
    Transfer,
    TransferBatch,
    event_field_names,
    event_payload,
    iter_transfers,
)
from .fee_market import FeeMarketParams, effective_gas_price, next_base_fee
from .invariants import InvariantViolation
from .ledger import AccountKey, Asset, Ledger, LedgerError
from .mempool import POLICIES, Mempool
from .protocol import DEFAULT_GAS, ChainProtocol
from .rng import RandomStreams
from .transactions import Bundle, Receipt, Transaction

__all__ = [
    "DEFAULT_GAS",
    "EXECUTION_MODES",
    "NS_PER_SECOND",
    "SETUP",
    "POLICIES",
    "AccountKey",
    "Asset",
    "AssetCreated",
    "BaseFeeUpdated",
    "BlockEnded",
    "BlockStarted",
    "Bundle",
    "BundleReverted",
    "Burned",
    "Chain",
    "ChainProtocol",
    "Event",
    "FeeMarketParams",
    "InvariantViolation",
    "Issued",
    "Ledger",
    "LedgerError",
    "Mempool",
    "Minted",
    "PartyCreated",
    "Protocol",
    "RandomStreams",
    "Receipt",
    "Transaction",
    "TransactionIncluded",
    "TransactionRejected",
    "Transfer",
    "TransferBatch",
    "effective_gas_price",
    "event_field_names",
    "event_payload",
    "iter_transfers",
    "ledger",
    "next_base_fee",
]
