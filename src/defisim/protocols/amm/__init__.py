"""AMM pools: Uniswap V2 pairs, Uniswap V3 pools and Balancer V1 weighted pools, with
the contracts' exact integer math (``../shared/specs/amm.md``).

The pool cores (``v2``, ``v3``, ``balancer``) are pure integer state machines: they
hold a pool's state and its token balances (the contract's ``balanceOf(pool)``),
check every operation completely before changing anything, and raise
:class:`PoolError` with the contract's revert string (spec section 0) otherwise.
They import nothing from the chain: the protocol plug-in moves the tokens on the
ledger and turns a :class:`PoolError` into a rejection event.
"""

from .errors import PoolError

__all__ = ["PoolError"]
