"""Token-economy building blocks (TokenSPICE / DARC-SPICE netlists, issue 12): a chain
protocol, ``tokenomics``, whose components keep exact books in base units and move
tokens on the ledger. See :mod:`.protocol` for the transactions and invariants and
each component's module for its rules and sources:

- :mod:`.tokens` (supply, cap, minter roles), :mod:`.grants` (grant schedules),
  :mod:`.routers` (fraction splits), :mod:`.schedules` and :mod:`.minters` (linear,
  exponential and ramped-exponential minting), :mod:`.vesting` (OpenZeppelin
  ``VestingWallet``), :mod:`.staking` (reward-per-share staking pools),
  :mod:`.marketplaces` (sales that pay a toll);
- :mod:`.accounts` (ledger keys), :mod:`.events`.

The facade is :class:`defisim.service.tokenomics.TokenomicsFacade` (``sim.tokenomics``);
the protocol is not in the default set: ``Simulation(protocols=[..., "tokenomics"])``.
"""

from .protocol import NAME, Reason, TokenomicsProtocol
from .schedules import ExpFunc, LinearSchedule, RampedExpFunc

__all__ = ["NAME", "ExpFunc", "LinearSchedule", "RampedExpFunc", "Reason", "TokenomicsProtocol"]
