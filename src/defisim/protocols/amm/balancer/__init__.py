"""Balancer V1 weighted pool core (``BPool`` of balancer-core, and the Ocean V3 /
TokenSPICE copy), with the contracts' exact ``BNum`` rounding (spec section 3).

``bnum``: ``BConst`` and ``BNum`` (3.1, 3.2); ``bmath``: the seven ``calc*`` (3.3);
``pool``: :class:`BPool` and its events (3.4, 3.5, 5).
"""

from . import bmath, bnum
from .pool import (
    LOG_EXIT,
    LOG_JOIN,
    LOG_SWAP,
    ZERO_ADDRESS,
    Approval,
    BPool,
    Record,
    Result,
    Transfer,
    ocean_v3_pool,
)

__all__ = [
    "LOG_EXIT",
    "LOG_JOIN",
    "LOG_SWAP",
    "ZERO_ADDRESS",
    "Approval",
    "BPool",
    "Record",
    "Result",
    "Transfer",
    "bmath",
    "bnum",
    "ocean_v3_pool",
]
