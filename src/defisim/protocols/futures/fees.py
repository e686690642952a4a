"""Trading fees (spec section 7, 0029-FEES) in exact integer arithmetic."""

from __future__ import annotations

from defisim.numeric.fixed import ONE, ceil_div, to_fixed

from .params import FeeFactors


class FeeCalculator:
    """Maker, infrastructure and liquidity fees of a trade.

    For a trade of value ``size * price`` (human units, converted to base units of
    the asset with the market's price factor): ``maker = ceil(f_m value)``,
    ``infrastructure = ceil(f_i value)``, ``liquidity = ceil(f_l value)``. In a
    price-monitoring auction there is no maker fee and each side pays half of the
    other two, each half rounded up. Source: spec section 7; test vectors
    fees-pdp-2 and 0029-FEES-013.
    """

    __slots__ = ("maker", "infrastructure", "liquidity", "_pf", "_den")

    def __init__(self, factors: FeeFactors, price_factor: int, position_decimals: int) -> None:
        self.maker = to_fixed(factors.maker)
        self.infrastructure = to_fixed(factors.infrastructure)
        self.liquidity = to_fixed(factors.liquidity)
        self._pf = price_factor
        self._den = ONE * 10**position_decimals

    def set_liquidity_factor(self, factor) -> None:
        """Change the liquidity fee factor (chosen by liquidity providers)."""
        self.liquidity = to_fixed(factor)

    def continuous(self, size: int, price: int) -> tuple[int, int, int]:
        """``(maker, infrastructure, liquidity)`` paid by the aggressor of a trade."""
        value = size * price * self._pf
        den = self._den
        return (
            ceil_div(self.maker * value, den),
            ceil_div(self.infrastructure * value, den),
            ceil_div(self.liquidity * value, den),
        )

    def auction_half(self, size: int, price: int) -> tuple[int, int]:
        """``(infrastructure, liquidity)`` paid by *each* side in a price-monitoring auction."""
        value = size * price * self._pf
        den = 2 * self._den
        return ceil_div(self.infrastructure * value, den), ceil_div(self.liquidity * value, den)

    def value(self, size: int, price: int) -> float:
        """Trade value in base units, exact as a float (for display)."""
        return size * price * self._pf / (self._den // ONE)
