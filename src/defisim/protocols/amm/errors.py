"""The one error of the AMM pool cores."""

from __future__ import annotations


class PoolError(Exception):
    """A pool operation the contract would revert, with nothing changed.

    Attributes:
        reason: the contract's revert string word for word (``"UniswapV2: K"``,
            ``"SPL"``, ``"ERR_LIMIT_OUT"``) or the bracketed code the spec gives for a
            revert without a message (``"V3_MINT_ZERO"``); ``../shared/specs/amm.md``
            section 0.
        detail: a human explanation with the numbers involved (may be empty).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
