"""Tokens with a supply, a cap and minter roles: the books of a ledger asset.

The ledger already knows assets and their supply (:meth:`Ledger.issue` creates,
:meth:`Ledger.burn` destroys). A :class:`Token` adds what an ERC-20 with
``ERC20Capped`` and a minter role adds (OpenZeppelin 4.x ``ERC20Capped``,
``AccessControl``'s ``MINTER_ROLE``; TokenSPICE's ``Simpletoken``/datatoken ``cap``):

- ``cap``: the most that may ever be in supply (``None``: no cap); a mint that would
  take the supply above it is rejected (``CAP_EXCEEDED``);
- ``minters``: the names allowed to mint (parties, and minter contracts of this
  protocol, which are added when created);
- the books ``minted`` and ``burned``, in base units. ``initial`` is the supply the
  token had when it was adopted (an asset that existed before), counted in ``minted``.

The invariant checked at block end: ``minted - burned == ledger supply``. A faucet mint
(``sim.mint``) or a chain burn (``sim.burn``) of a token breaks it: mint and burn a
token through this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Token:
    """Books of one token (base units)."""

    asset: str
    decimals: int
    cap: int | None = None
    minters: set[str] = field(default_factory=set)
    initial: int = 0
    minted: int = 0
    burned: int = 0

    @property
    def supply(self) -> int:
        """``minted - burned`` (equals the ledger's supply while the books hold)."""
        return self.minted - self.burned

    def room(self) -> int | None:
        """How much may still be minted under the cap (``None``: no cap)."""
        return None if self.cap is None else max(self.cap - self.supply, 0)

    def record_mint(self, amount: int) -> None:
        self.minted += amount

    def record_burn(self, amount: int) -> None:
        self.burned += amount
