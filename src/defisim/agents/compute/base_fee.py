"""Base-fee processes with background demand: the L2 and L1 fees of spec section 6.

The update rule (spec section 6, "L2 base fee"; EIP-1559 with a free denominator and
a floor), with target ``G* = gas_limit // elasticity``:

- ``G == G*``: unchanged;
- ``G > G*``: ``b' = b + max(b (G - G*) // G* // denom, 1)``;
- ``G < G*``: ``b' = b - b (G* - G) // G* // denom``;

then ``b' = max(b', min_base_fee)``. ``G`` is the block's gas: background demand
``G_bg = min(gas_limit, round(G* exp(sigma_D eps - sigma_D^2/2) (b / b_ref)^(-e)))``
with ``eps ~ N(0, 1)`` per block, plus the marketplace's gas that fits after it.
The demand elasticity ``e`` makes the fee revert towards ``b_ref``.

The chain has its own EIP-1559 market (``defisim.chain.fee_market``, denominator 8);
this module imports nothing of the chain: it gives the background draw
(:class:`BackgroundDemand`) to feed the chain's blocks, and a standalone
:class:`BaseFeeProcess` for fees the chain does not run (L1 on 12 s blocks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .replay import ReplaySeries

__all__ = [
    "EIP1559",
    "L1_MAINNET",
    "OP_STACK",
    "OP_STACK_CANYON",
    "BackgroundDemand",
    "BaseFeeProcess",
    "FeeRule",
    "background_gas",
    "next_base_fee",
]


@dataclass(frozen=True)
class FeeRule:
    """Parameters of a base-fee update rule (spec section 6).

    Attributes:
        gas_limit: most gas per block (> 0).
        elasticity: ``G* = gas_limit // elasticity`` (>= 1).
        denom: the max-change denominator (>= 1; 8 in EIP-1559).
        b0: first base fee, wei per gas (>= 0).
        min_base_fee: floor, wei per gas (>= 0).
        block_time_s: seconds between blocks (> 0).

    Raises:
        ValueError: a parameter out of range (named).
    """

    gas_limit: int = 30_000_000
    elasticity: int = 2
    denom: int = 8
    b0: int = 10_000_000
    min_base_fee: int = 0
    block_time_s: float = 2.0

    def __post_init__(self) -> None:
        for name, lo in (("gas_limit", 1), ("elasticity", 1), ("denom", 1), ("b0", 0),
                         ("min_base_fee", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"FeeRule.{name} must be an int >= {lo}, got {v!r}")
        if not (math.isfinite(self.block_time_s) and self.block_time_s > 0):
            raise ValueError(f"FeeRule.block_time_s must be > 0, got {self.block_time_s!r}")

    @property
    def gas_target(self) -> int:
        """``G* = gas_limit // elasticity``."""
        return self.gas_limit // self.elasticity


EIP1559 = FeeRule()
"""L2 defaults: EIP-1559 (denom 8, elasticity 2, limit 30M), b0 = 1e7 wei, 2 s blocks."""
OP_STACK = replace(EIP1559, elasticity=6, denom=50)
"""Preset ``op-stack`` (before Canyon): elasticity 6, denom 50."""
OP_STACK_CANYON = replace(OP_STACK, denom=250)
"""Preset ``op-stack`` after the Canyon upgrade: denom 250 (vector 9(d): 1e7 -> 10,200,000)."""
L1_MAINNET = replace(EIP1559, b0=20_000_000_000, block_time_s=12.0)
"""The L1 fee: the same rule on 12 s blocks with b0 = 2e10 wei."""


def next_base_fee(base_fee: int, gas_used: int, rule: FeeRule) -> int:
    """The next block's base fee from the parent's (module docstring; spec section 6).

    Raises:
        ValueError: a negative base fee or gas used.
    """
    if base_fee < 0 or gas_used < 0:
        raise ValueError(f"base fee and gas used must be >= 0, got {base_fee}, {gas_used}")
    target = rule.gas_target
    if gas_used > target:
        b = base_fee + max(base_fee * (gas_used - target) // target // rule.denom, 1)
    elif gas_used < target:
        b = base_fee - base_fee * (target - gas_used) // target // rule.denom
    else:
        b = base_fee
    return max(b, rule.min_base_fee)


def background_gas(
    base_fee: int, rule: FeeRule, eps: float, sigma_d: float = 0.3, e: float = 1.0,
    b_ref: int | None = None,
) -> int:
    """Background gas demand of one block (spec section 6).

    ``min(gas_limit, round(G* exp(sigma_d eps - sigma_d^2/2) (b / b_ref)^(-e)))``;
    ``round`` is Python's (half to even). At ``b = 0`` with ``e > 0`` the demand is
    ``gas_limit`` (the limit of the formula).

    Args:
        base_fee: the block's base fee ``b``, wei per gas, >= 0.
        rule: gives ``G*`` and ``gas_limit``.
        eps: the block's standard-normal draw.
        sigma_d: log-volatility of demand (>= 0).
        e: price elasticity of demand (>= 0).
        b_ref: reference fee (> 0), default ``rule.b0``.

    Returns:
        gas units in ``[0, gas_limit]``.

    Raises:
        ValueError: a negative base fee or ``sigma_d``/``e``, ``b_ref`` not > 0.
    """
    ref = rule.b0 if b_ref is None else b_ref
    if base_fee < 0 or sigma_d < 0 or e < 0 or ref <= 0:
        raise ValueError(
            f"background_gas: need base_fee >= 0, sigma_d >= 0, e >= 0, b_ref > 0; "
            f"got {base_fee}, {sigma_d}, {e}, {ref}"
        )
    if base_fee == 0 and e > 0:
        return rule.gas_limit
    log_g = (math.log(rule.gas_target) + sigma_d * eps - 0.5 * sigma_d * sigma_d
             - e * math.log(base_fee / ref))
    if log_g >= math.log(rule.gas_limit):
        return rule.gas_limit
    return min(rule.gas_limit, round(math.exp(log_g)))


class BackgroundDemand:
    """Draws :func:`background_gas` per block from a named stream (one normal per block).

    For the lead's chain integration: at each L2 block, ``draw(base_fee)`` is the gas
    the background takes; the marketplace's transactions get ``gas_limit - draw``.

    Raises:
        ValueError: as :func:`background_gas`, or ``rng`` not a Generator.
    """

    def __init__(self, rule: FeeRule, rng: np.random.Generator, sigma_d: float = 0.3,
                 e: float = 1.0, b_ref: int | None = None) -> None:
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.rule, self.rng = rule, rng
        self.sigma_d, self.e = float(sigma_d), float(e)
        self.b_ref = rule.b0 if b_ref is None else int(b_ref)
        background_gas(rule.b0, rule, 0.0, self.sigma_d, self.e, self.b_ref)  # checks

    def draw(self, base_fee: int) -> int:
        """Background gas of the next block at ``base_fee`` (wei per gas)."""
        eps = float(self.rng.standard_normal())
        return background_gas(base_fee, self.rule, eps, self.sigma_d, self.e, self.b_ref)


class BaseFeeProcess:
    """A base fee driven by background demand (plus any marketplace gas), per block.

    Args:
        rule: the update rule and block time (e.g. :data:`L1_MAINNET`, :data:`EIP1559`).
        demand: the background demand (its ``rule`` should be ``rule``).
        replay: optional :class:`ReplaySeries` of the base fee; then :attr:`base_fee`
            is the file's value (rounded to wei) and nothing is drawn.

    Raises:
        ValueError: ``demand.rule`` is not ``rule``.

    Attributes:
        base_fee: the current block's base fee, wei per gas.
        t_s: simulated seconds since the start.
        blocks: blocks closed so far.
    """

    def __init__(self, rule: FeeRule, demand: BackgroundDemand,
                 replay: ReplaySeries | None = None) -> None:
        if demand.rule != rule:
            raise ValueError(f"the demand's rule {demand.rule} is not the process's rule {rule}")
        self.rule, self.demand, self.replay = rule, demand, replay
        self.base_fee = rule.b0 if replay is None else round(replay.at(0.0))
        self.t_s = 0.0
        self.blocks = 0

    def block(self, market_gas: int = 0) -> tuple[int, int]:
        """Close one block: background first, then ``market_gas`` while it fits.

        Returns ``(gas_used, market_gas_included)``; the base fee moves to the next
        block's. The caller keeps what did not fit for the next block.
        """
        if market_gas < 0:
            raise ValueError(f"market_gas must be >= 0, got {market_gas}")
        bg = self.demand.draw(self.base_fee)
        included = min(market_gas, self.rule.gas_limit - bg)
        used = bg + included
        self.base_fee = next_base_fee(self.base_fee, used, self.rule)
        self.blocks += 1
        return used, included

    def step(self, dt_s: float) -> int:
        """Advance ``dt_s`` seconds: close every block due (background only); return the fee.

        Blocks fall at multiples of ``rule.block_time_s`` of simulated time.
        """
        if not (math.isfinite(dt_s) and dt_s >= 0):
            raise ValueError(f"dt_s must be a finite number >= 0, got {dt_s!r}")
        self.t_s += float(dt_s)
        if self.replay is not None:
            self.base_fee = round(self.replay.at(self.t_s))
            return self.base_fee
        due = math.floor(self.t_s / self.rule.block_time_s + 1e-9)
        while self.blocks < due:
            self.block(0)
        return self.base_fee
