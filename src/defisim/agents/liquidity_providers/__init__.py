"""Liquidity providers: a bonded liquidity commitment plus the quotes that meet (or
miss) its obligation (:class:`LiquidityProvider`, :func:`level_weights`)."""

from .provider import LiquidityProvider, level_weights

__all__ = ["LiquidityProvider", "level_weights"]
