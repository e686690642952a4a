"""Gas of every compute-marketplace action (``compute-marketplace.md`` 4.6, 4.7).

The sources give no gas figures; these are the spec's estimates of an EAS-based
implementation, and they are parameters (:class:`~.params.ComputeParams` ``gas``).
Fees follow the chain's EIP-1559 fee market (:mod:`defisim.chain.fee_market`): the
sender pays ``gas x min(max_fee, base_fee + tip)`` in wei of the native asset, and a
transaction included but refused by a protocol rule pays :data:`REVERT_GAS`.
"""

from __future__ import annotations

GAS: dict[str, int] = {
    "approve": 46_000,
    "escrow": 180_000,
    "cancel_escrow": 70_000,
    "commence": 160_000,
    "post_result": 250_000,
    "collect": 95_000,
    "challenge": 110_000,
    "mediate": 140_000,
    "claim_timeout": 90_000,
    "transfer": 52_000,
    "coophive_result": 150_000,
    "set_l1_base_fee": 50_000,
}
"""Gas units per action (spec 4.7). ``approve`` is a transaction that only costs gas
(the ledger has no allowances); ``transfer`` and ``coophive_result`` are listed for
agents and schemes that price them. ``set_l1_base_fee`` is the L1 fee oracle's post
(not in the spec's table; OP's ``L1Block`` update is a system transaction)."""

CALLDATA_BYTES: dict[str, int] = {
    "approve": 68, "escrow": 356, "cancel_escrow": 36, "commence": 260, "post_result": 228,
    "collect": 68, "challenge": 36, "mediate": 68, "claim_timeout": 36, "transfer": 68,
    "coophive_result": 196, "set_l1_base_fee": 36,
}
"""Calldata bytes per action (spec 4.7), for the optional L1 data fee."""

REVERT_GAS = 25_000
"""Gas paid by a transaction that is included and then refused (spec 4.6)."""


def l1_data_fee(l1_base_fee: int, calldata_bytes: int) -> float:
    """The OP-stack Bedrock L1 data fee (spec 4.6), wei:
    ``l1_base_fee * (16*calldata_bytes + 188) * 0.684``. Off by default; when on, the compute
    protocol charges :func:`l1_data_fee_wei` (:mod:`.l1_fee`)."""
    if l1_base_fee < 0 or calldata_bytes < 0:
        raise ValueError(f"l1_base_fee and calldata_bytes must be >= 0, got {l1_base_fee}, {calldata_bytes}")
    return l1_base_fee * (16 * calldata_bytes + 188) * 0.684


def l1_data_fee_wei(l1_base_fee: int, calldata_bytes: int) -> int:
    """:func:`l1_data_fee` in whole wei, exactly: ``l1_base_fee * (16*calldata_bytes +
    188) * 684 // 1000`` (floored), what the compute protocol charges when the L1 data
    fee is on (:mod:`.l1_fee`).

    Raises:
        ValueError: a negative fee or byte count.
    """
    if l1_base_fee < 0 or calldata_bytes < 0:
        raise ValueError(f"l1_base_fee and calldata_bytes must be >= 0, got {l1_base_fee}, {calldata_bytes}")
    return l1_base_fee * (16 * calldata_bytes + 188) * 684 // 1000
