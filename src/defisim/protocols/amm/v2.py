"""Uniswap V2 (``../shared/specs/amm.md`` section 1): the pair core (:mod:`.v2_pair`) and the
library and router (:mod:`.v2_router`), re-exported here."""

from .v2_pair import (
    MINIMUM_LIQUIDITY,
    Q112,
    ZERO_ADDRESS,
    Burn,
    Mint,
    Swap,
    Sync,
    Transfer,
    V2Factory,
    V2Pair,
)
from .v2_router import (
    ROUTER,
    add_liquidity,
    get_amount_in,
    get_amount_out,
    get_amounts_in,
    get_amounts_out,
    quote,
    remove_liquidity,
    sort_tokens,
    swap_exact_tokens_for_tokens,
    swap_tokens_for_exact_tokens,
)

__all__ = [
    "MINIMUM_LIQUIDITY",
    "Q112",
    "ROUTER",
    "ZERO_ADDRESS",
    "Burn",
    "Mint",
    "Swap",
    "Sync",
    "Transfer",
    "V2Factory",
    "V2Pair",
    "add_liquidity",
    "get_amount_in",
    "get_amount_out",
    "get_amounts_in",
    "get_amounts_out",
    "quote",
    "remove_liquidity",
    "sort_tokens",
    "swap_exact_tokens_for_tokens",
    "swap_tokens_for_exact_tokens",
]
