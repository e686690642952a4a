"""What a run records for replay: each block's state hash and every transaction.

With ``run_scenario(..., state_hash=True)`` (``defisim run --state-hash``) the
recorder adds two tables, written with the step's other rows (the same store
transaction):

``block_hashes``
    one row per closed block: ``block BIGINT``, ``time_ns BIGINT``, ``step INTEGER``,
    ``hash VARCHAR`` (:meth:`defisim.chain.Chain.state_hash` right after the block
    closed, 64 hex digits).
``transactions``
    every transaction submitted, in submission order, with the set-up calls made
    while the run steps (faucet ``mint``, ``create_party``, ``create_asset``:
    futures ``settle_market``...: ``protocol`` = :data:`defisim.chain.SETUP`): ``seq BIGINT`` (0, 1, ...),
    ``block BIGINT`` (the block open when it was submitted), ``arrival BIGINT``
    (the chain's submission counter; 0 for a set-up call), ``tx_id BIGINT``,
    ``nonce BIGINT``, ``sender``, ``protocol``, ``call VARCHAR``, ``args VARCHAR``
    (:func:`defisim.chain.tx_codec.encode_args`: exact, typed), ``gas_limit``,
    ``max_fee_per_gas``, ``max_priority_fee_per_gas HUGEINT``.

The scenario's ``build`` (its markets, parties, funding) is not in the log: replay
builds it again from ``params.json``. The log starts after it
(:meth:`~defisim.chain.Chain.start_tx_log`), so every call of the agents, of
``scenario.finish`` and of the protocols' own hooks is in it.
"""

from __future__ import annotations

from typing import Any

from defisim.chain.tx_codec import encode_args

REPLAY_TABLES: dict[str, dict[str, str]] = {
    "block_hashes": {"block": "BIGINT", "time_ns": "BIGINT", "step": "INTEGER", "hash": "VARCHAR"},
    "transactions": {
        "seq": "BIGINT", "block": "BIGINT", "arrival": "BIGINT", "tx_id": "BIGINT",
        "nonce": "BIGINT", "sender": "VARCHAR", "protocol": "VARCHAR", "call": "VARCHAR",
        "args": "VARCHAR", "gas_limit": "HUGEINT", "max_fee_per_gas": "HUGEINT",
        "max_priority_fee_per_gas": "HUGEINT",
    },
}
"""Column names and DuckDB types of the replay tables."""


def transaction_row(seq: int, block: int, tx: Any) -> tuple:
    """The ``transactions`` row of ``tx`` (a :class:`~defisim.chain.Transaction`)."""
    return (seq, block, tx.arrival, tx.tx_id, tx.nonce, tx.sender, tx.protocol, tx.call,
            encode_args(tx.args), tx.gas_limit, tx.max_fee_per_gas, tx.max_priority_fee_per_gas)


class ReplayLog:
    """Adds a closed block's hash and the transactions submitted since the previous
    record to the recorder's buffers (``buffers``: table -> row list)."""

    def __init__(self) -> None:
        self.seq = 0

    def record(self, step: int, chain: Any, buffers: dict[str, list] | None) -> None:
        """Rows of the block ``chain`` just closed (call before the next block opens)."""
        log = chain.tx_log
        if log is None:
            raise RuntimeError("state hashing needs the chain's transaction log (start_tx_log)")
        block = chain.block
        h = chain.state_hash()
        if buffers is not None:
            rows = buffers["transactions"]
            seq = self.seq
            for tx in log:
                rows.append(transaction_row(seq, block, tx))
                seq += 1
            self.seq = seq
            buffers["block_hashes"].append((block, chain.now, step, h))
        log.clear()
