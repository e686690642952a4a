"""The EIP-1559 fee market of mempool mode with the ``priority`` policy.

Each block has a gas limit and a gas target (``limit // elasticity``). The base fee
per gas of the next block follows EIP-1559 (``ethereum/EIPs`` EIP-1559,
"Specification"):

- ``used == target``: unchanged;
- ``used > target``: ``base + max(base * (used - target) // target // d, 1)``;
- ``used < target``: ``base - base * (target - used) // target // d``;

with the max-change denominator ``d`` (8 on Ethereum, 250 on the OP stack) and, when
set, a floor ``min_base_fee`` (Arbitrum's minimum base fee; the compute
marketplace's vectors, ``compute-marketplace.md`` 9(b), keep the base fee at 1e7 wei).

A transaction pays ``gas_used x effective price`` with ``effective = min(max_fee,
base + max_priority)``: ``gas_used x base`` is burned and ``gas_used x (effective -
base)`` is the tip paid to the block producer. The sender locks ``gas_limit x
max_fee`` up front and gets back what it did not pay, so locked = burned + tip +
refund, in base units of the native asset.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
"""EIP-1559: the base fee moves by at most 1/8 per block."""


class FeeMarketParams(BaseModel):
    """Parameters of the fee market (defaults: Ethereum mainnet after London)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    native_asset: str = "ETH"
    """The chain's native asset (``Simulation.create_party`` creates it when missing and
    ``endowment`` > 0; without it every transaction is dropped)."""
    native_decimals: int = Field(18, ge=0, le=36)
    initial_base_fee: int = Field(1_000_000_000, ge=0)
    """Base fee per gas of the first block (1 gwei)."""
    gas_limit: int = Field(30_000_000, gt=0)
    """Most gas per block; transactions that do not fit wait for the next block."""
    elasticity: int = Field(2, ge=1)
    """Gas target = ``gas_limit // elasticity``."""
    block_producer: str = "block_producer"
    """Reserved party that receives the tips."""
    endowment: float = Field(1.0, ge=0)
    """Native units minted to each party when it is created, to pay gas."""
    base_fee_max_change_denominator: int = Field(BASE_FEE_MAX_CHANGE_DENOMINATOR, ge=1)
    """The base fee moves by at most ``1/denominator`` per block (8 on Ethereum)."""
    min_base_fee: int = Field(0, ge=0)
    """Floor of the base fee per gas (0: none, as on Ethereum)."""
    default_tip: int = Field(0, ge=0)
    """Tip per gas of a party that set no gas price (``Chain.set_gas_price``); the
    compute marketplace's default wallet uses 1e6 wei (spec 4.6)."""
    low_fee: Literal["wait", "reject"] = "wait"
    """A transaction whose fee cap is below the base fee: ``wait`` in the mempool until
    the base fee falls (a node's pool), or ``reject`` it before inclusion
    (``FEE_TOO_LOW``, no nonce, no cost; compute-marketplace spec 4.6)."""

    low_funds: Literal["drop", "reject"] = "drop"
    """A sender whose native balance cannot lock ``gas_limit x max_fee``: its transaction
    is ``drop``-ped when its block executes it (``DROPPED``, the default), or
    ``reject``-ed at submission (``INSUFFICIENT_GAS_FUNDS``, a ``REJECTED`` receipt, no
    nonce, no cost; compute-marketplace spec 4.6)."""

    @property
    def gas_target(self) -> int:
        return self.gas_limit // self.elasticity

    @classmethod
    def op_stack(cls, **fields: object) -> FeeMarketParams:
        """The OP-stack (Bedrock, after Canyon) preset: elasticity 6, max-change
        denominator 250; ``fields`` override any parameter (spec 9(d))."""
        return cls(**{"elasticity": 6, "base_fee_max_change_denominator": 250, **fields})

    def next_base_fee(self, base_fee: int, gas_used: int) -> int:
        """The next block's base fee under these parameters (:func:`next_base_fee`
        with this denominator, then the floor)."""
        new = next_base_fee(base_fee, gas_used, self.gas_target, self.base_fee_max_change_denominator)
        return max(new, self.min_base_fee)


def next_base_fee(base_fee: int, gas_used: int, gas_target: int,
                  denominator: int = BASE_FEE_MAX_CHANGE_DENOMINATOR) -> int:
    """The base fee per gas of the next block (EIP-1559 update rule, module docstring;
    ``denominator``: the max-change denominator, 8 on Ethereum).

    Raises:
        ValueError: negative base fee or gas used, or a non-positive target.
    """
    if base_fee < 0 or gas_used < 0 or gas_target <= 0 or denominator <= 0:
        raise ValueError(f"bad fee market state: base {base_fee}, used {gas_used}, target {gas_target}")
    if gas_used == gas_target:
        return base_fee
    if gas_used > gas_target:
        delta = base_fee * (gas_used - gas_target) // gas_target // denominator
        return base_fee + max(delta, 1)
    delta = base_fee * (gas_target - gas_used) // gas_target // denominator
    return base_fee - delta


def effective_gas_price(base_fee: int, max_fee: int, max_priority_fee: int) -> int:
    """``min(max_fee, base_fee + max_priority_fee)`` per gas (EIP-1559)."""
    return min(max_fee, base_fee + max_priority_fee)
