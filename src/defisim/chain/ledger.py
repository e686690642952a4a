"""The ledger: assets, parties, accounts and transfers, in integer base units.

An account is identified by a key tuple ``(type, owner, asset, scope)``. The chain
knows one type, a party's ``general`` account (its free funds, :func:`general`);
protocols define their own keys (the futures protocol's margin, bond, insurance
and fee accounts live in :mod:`defisim.protocols.futures.accounts`) and the ledger
treats every key alike.

Amounts are Python integers (no overflow, no floats). Money is only created by
:meth:`Ledger.mint` (the faucet that funds parties, counted in each party's PnL
baseline) and :meth:`Ledger.issue` (a protocol or minter creating tokens, not a
deposit), and destroyed by :meth:`Ledger.burn`, so for each asset the sum of all
balances equals created minus burned: the conservation invariant checked at block
end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .events import (
    AssetCreated,
    Burned,
    Event,
    Issued,
    Minted,
    PartyCreated,
    Transfer,
    TransferBatch,
)

AccountKey = tuple[str, str, str, str]

def general(party: str, asset: str) -> AccountKey:
    """Key of ``party``'s general account in ``asset`` (its free funds)."""
    return ("general", party, asset, "")


class LedgerError(Exception):
    """A protocol asked the ledger for something impossible (a bug, not a user error)."""


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset: ``decimals`` decimal places; ``quantum`` base units make one 'unit of account'."""

    asset_id: str
    decimals: int
    quantum: int


class Ledger:
    """Balances of every account, with conservation by construction.

    Args:
        emit: callable that records an event (the chain's ``emit``).
        stamp: callable returning the current ``(block, time_ns)``.
    """

    def __init__(self, emit: Callable[[Event], None], stamp: Callable[[], tuple[int, int]]):
        self._emit = emit
        self._stamp = stamp
        self.assets: dict[str, Asset] = {}
        self.parties: set[str] = set()
        self.reserved: set[str] = set()
        self.balances: dict[AccountKey, int] = {}
        self.supply: dict[str, int] = {}
        self.minted_to: dict[tuple[str, str], int] = {}

    # -- assets and parties -------------------------------------------------
    def create_asset(self, asset_id: str, decimals: int, quantum: int | None = None) -> Asset:
        """Register an asset. Raises ``ValueError`` on a duplicate id or bad decimals."""
        if not asset_id:
            raise ValueError("asset id must be a non-empty string")
        if asset_id in self.assets:
            raise ValueError(f"asset {asset_id!r} already exists")
        if not isinstance(decimals, int) or not 0 <= decimals <= 36:
            raise ValueError(f"asset decimals must be an integer in [0, 36], got {decimals!r}")
        q = 10**decimals if quantum is None else quantum
        a = Asset(asset_id, decimals, q)
        self.assets[asset_id] = a
        self.supply[asset_id] = 0
        self._emit(AssetCreated(*self._stamp(), asset_id, decimals, q))
        return a

    def create_party(self, party: str) -> None:
        """Register a party. Raises ``ValueError`` on a duplicate or reserved id."""
        if not party:
            raise ValueError("party id must be a non-empty string")
        if party in self.parties:
            raise ValueError(f"party {party!r} already exists")
        self.parties.add(party)
        self._emit(PartyCreated(*self._stamp(), party))

    def reserve_party(self, party: str) -> None:
        """Register a party that a protocol owns (the futures network party): it holds
        accounts like any party, but no user may create it and it emits no event."""
        self.parties.add(party)
        self.reserved.add(party)

    def asset(self, asset_id: str) -> Asset:
        """The asset ``asset_id``; ``KeyError`` naming the known assets otherwise."""
        try:
            return self.assets[asset_id]
        except KeyError:
            raise KeyError(f"unknown asset {asset_id!r}; known: {sorted(self.assets)}") from None

    # -- balances -------------------------------------------------------------
    def balance(self, key: AccountKey) -> int:
        """Balance of ``key`` in base units (0 for an account never used)."""
        return self.balances.get(key, 0)

    def accounts(self) -> Iterator[tuple[AccountKey, int]]:
        """All accounts that have ever held money, with their balances."""
        return iter(self.balances.items())

    # -- money movements -------------------------------------------------------
    def mint(self, key: AccountKey, amount: int) -> None:
        """Faucet: create ``amount`` base units in account ``key``."""
        asset = key[2]
        if asset not in self.assets:
            raise LedgerError(f"mint into unknown asset {asset!r}")
        if amount < 0:
            raise LedgerError(f"mint of negative amount {amount}")
        self.balances[key] = self.balances.get(key, 0) + amount
        self.supply[asset] += amount
        owner = (key[1], asset)
        self.minted_to[owner] = self.minted_to.get(owner, 0) + amount
        self._emit(Minted(*self._stamp(), key, asset, amount))

    def issue(self, key: AccountKey, amount: int, kind: str) -> None:
        """Issuance: a protocol or minter creates ``amount`` base units in ``key``.

        Unlike :meth:`mint` (the faucet), issued tokens are not a deposit: they do not
        enter the owner's PnL baseline (``minted_to``). ``kind`` says why (``"reward"``,
        ``"emission"``, ...).

        Raises:
            LedgerError: unknown asset or negative amount.
        """
        asset = key[2]
        if asset not in self.assets:
            raise LedgerError(f"issue into unknown asset {asset!r}")
        if amount < 0:
            raise LedgerError(f"issue of negative amount {amount}")
        self.balances[key] = self.balances.get(key, 0) + amount
        self.supply[asset] += amount
        self._emit(Issued(*self._stamp(), key, asset, amount, kind))

    def burn(self, key: AccountKey, amount: int) -> None:
        """Destroy ``amount`` base units from ``key``; ``LedgerError`` if it holds less."""
        bal = self.balances.get(key, 0)
        if amount < 0 or amount > bal:
            raise LedgerError(f"burn of {amount} from {key} holding {bal}")
        self.balances[key] = bal - amount
        self.supply[key[2]] -= amount
        self._emit(Burned(*self._stamp(), key, key[2], amount))

    def transfer(self, source: AccountKey, destination: AccountKey, amount: int, kind: str) -> None:
        """Move exactly ``amount`` from ``source`` to ``destination``.

        Raises:
            LedgerError: negative amount, different assets, or insufficient balance.
        """
        if amount == 0:
            return
        if amount < 0:
            raise LedgerError(f"negative transfer {amount} ({kind})")
        if source[2] != destination[2]:
            raise LedgerError(f"cross-asset transfer {source} -> {destination}")
        balances = self.balances
        bal = balances.get(source, 0)
        if bal < amount:
            raise LedgerError(f"{source} holds {bal}, cannot pay {amount} ({kind})")
        balances[source] = bal - amount
        balances[destination] = balances.get(destination, 0) + amount
        self._emit(Transfer(*self._stamp(), source, destination, source[2], amount, kind))

    def transfer_batch(self, moves: list[tuple[AccountKey, AccountKey, int]], kind: str) -> None:
        """Apply ``moves`` (``(source, destination, amount)``, amounts > 0, one asset) in
        order, as :meth:`transfer` would, recorded as one :class:`TransferBatch` event.

        Raises:
            LedgerError: a non-positive amount, a cross-asset move, or a source short
                of its amount; the moves before the bad one stay applied (as the same
                sequence of single transfers would leave them) and are recorded.
        """
        if not moves:
            return
        balances = self.balances
        asset = moves[0][0][2]
        done = 0
        try:
            for source, destination, amount in moves:
                if amount <= 0:
                    raise LedgerError(f"non-positive transfer {amount} ({kind})")
                if source[2] != asset or destination[2] != asset:
                    raise LedgerError(f"cross-asset transfer {source} -> {destination} in a batch of {asset}")
                bal = balances.get(source, 0)
                if bal < amount:
                    raise LedgerError(f"{source} holds {bal}, cannot pay {amount} ({kind})")
                balances[source] = bal - amount
                balances[destination] = balances.get(destination, 0) + amount
                done += 1
        finally:
            if done:
                self._emit(TransferBatch(*self._stamp(), asset, kind, tuple(moves[:done])))

    def transfer_up_to(
        self, source: AccountKey, destination: AccountKey, amount: int, kind: str
    ) -> int:
        """Move ``min(amount, balance of source)``; return what moved."""
        moved = min(amount, self.balances.get(source, 0))
        if moved > 0:
            self.transfer(source, destination, moved, kind)
        return max(moved, 0)

    def transfer_all(self, source: AccountKey, destination: AccountKey, kind: str) -> int:
        """Move the whole balance of ``source``; return what moved."""
        return self.transfer_up_to(source, destination, self.balances.get(source, 0), kind)

    # -- checks ---------------------------------------------------------------
    def conservation_errors(self) -> list[str]:
        """Violations of 'sum of balances = minted - burned' and 'no negative balance'."""
        totals = dict.fromkeys(self.assets, 0)
        errors = []
        for key, bal in self.balances.items():
            if bal < 0:
                errors.append(f"negative balance {bal} in {key}")
            totals[key[2]] = totals.get(key[2], 0) + bal
        for asset, total in totals.items():
            if total != self.supply.get(asset, 0):
                errors.append(
                    f"asset {asset}: accounts hold {total}, minted - burned = {self.supply.get(asset, 0)}"
                )
        return errors
