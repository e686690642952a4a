"""Agents of token economies (TokenSPICE / DARC-SPICE netlists, issue 12), acting
through ``sim.tokenomics`` and ``sim.amm``:

- :class:`BuyAndBurnAgent`: buys a token through an AMM pool and burns what it bought;
- :class:`OCEANBurnerAgent`: TokenSPICE's accounting-only burner (no token moves);
- :class:`KeeperAgent`: pokes the permissionless calls of token-economy components
  (``disburse``, ``mint_due``, ``route``, ``release``, ``claim``) every step, in order.
"""

from .burners import BuyAndBurnAgent, OCEANBurnerAgent
from .keeper import KeeperAgent

__all__ = ["BuyAndBurnAgent", "KeeperAgent", "OCEANBurnerAgent"]
