"""The EIP-1559 fee market of mempool mode with the ``priority`` policy.

Each block has a gas limit and a gas target (``limit // elasticity``). The base fee
per gas of the next block follows EIP-1559 (``ethereum/EIPs`` EIP-1559,
"Specification"):

- ``used == target``: unchanged;
- ``used > target``: ``base + max(base * (used - target) // target // 8, 1)``;
- ``used < target``: ``base - base * (target - used) // target // 8``.

A transaction pays ``gas_used x effective price`` with ``effective = min(max_fee,
base + max_priority)``: ``gas_used x base`` is burned and ``gas_used x (effective -
base)`` is the tip paid to the block producer. The sender locks ``gas_limit x
max_fee`` up front and gets back what it did not pay, so locked = burned + tip +
refund, in base units of the native asset.
"""

from __future__ import annotations

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

    @property
    def gas_target(self) -> int:
        return self.gas_limit // self.elasticity


def next_base_fee(base_fee: int, gas_used: int, gas_target: int) -> int:
    """The base fee per gas of the next block (EIP-1559 update rule, module docstring).

    Raises:
        ValueError: negative base fee or gas used, or a non-positive target.
    """
    if base_fee < 0 or gas_used < 0 or gas_target <= 0:
        raise ValueError(f"bad fee market state: base {base_fee}, used {gas_used}, target {gas_target}")
    if gas_used == gas_target:
        return base_fee
    if gas_used > gas_target:
        delta = base_fee * (gas_used - gas_target) // gas_target // BASE_FEE_MAX_CHANGE_DENOMINATOR
        return base_fee + max(delta, 1)
    delta = base_fee * (gas_target - gas_used) // gas_target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return base_fee - delta


def effective_gas_price(base_fee: int, max_fee: int, max_priority_fee: int) -> int:
    """``min(max_fee, base_fee + max_priority_fee)`` per gas (EIP-1559)."""
    return min(max_fee, base_fee + max_priority_fee)
