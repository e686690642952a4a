"""The user- and agent-facing API."""

from .simulation import AccountView, OrderView, Simulation

__all__ = ["AccountView", "OrderView", "Simulation"]
