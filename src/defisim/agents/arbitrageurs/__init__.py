"""Arbitrageurs: trade the market back to a price seen elsewhere
(:class:`ReferenceArbitrageur`: the traded price back to the reference)."""

from .reference import ReferenceArbitrageur

__all__ = ["ReferenceArbitrageur"]
