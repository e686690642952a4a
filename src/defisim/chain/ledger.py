"""The ledger: assets, parties, accounts and transfers, in integer base units.

An account is identified by a key tuple ``(type, owner, asset, market)``:

============================  ==========================================
key                           meaning
============================  ==========================================
``general(party, asset)``     a party's free collateral
``margin(party, market, a)``  collateral locked against a party's position
``bond(party, market, a)``    a liquidity provider's bond
``settlement(market, a)``     transit account of mark-to-market (zero between blocks)
``insurance(market, a)``      the market's insurance pool
``fee_infrastructure(a)``     network-wide infrastructure fees
``fee_liquidity(market, a)``  liquidity fees waiting to be distributed
``global_insurance(a)``       where a settled market's insurance pool goes
============================  ==========================================

Amounts are Python integers (no overflow, no floats). Money is only created by
:meth:`Ledger.mint` (the faucet) and destroyed by :meth:`Ledger.burn`, so for each
asset the sum of all balances equals minted minus burned: the conservation
invariant checked at block end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .events import AssetCreated, Burned, Event, Minted, PartyCreated, Transfer, TransferBatch

AccountKey = tuple[str, str, str, str]

NETWORK_PARTY = "network"
"""The network party: takes over distressed positions; never margined."""


def general(party: str, asset: str) -> AccountKey:
    """Key of ``party``'s general account in ``asset``."""
    return ("general", party, asset, "")


def margin(party: str, market: str, asset: str) -> AccountKey:
    """Key of ``party``'s margin account in ``market`` (settled in ``asset``)."""
    return ("margin", party, asset, market)


def bond(party: str, market: str, asset: str) -> AccountKey:
    """Key of ``party``'s liquidity bond account in ``market``."""
    return ("bond", party, asset, market)


def settlement(market: str, asset: str) -> AccountKey:
    """Key of ``market``'s settlement (transit) account."""
    return ("settlement", "", asset, market)


def insurance(market: str, asset: str) -> AccountKey:
    """Key of ``market``'s insurance pool."""
    return ("insurance", "", asset, market)


def fee_infrastructure(asset: str) -> AccountKey:
    """Key of the network's infrastructure fee account for ``asset``."""
    return ("fee_infrastructure", "", asset, "")


def fee_liquidity(market: str, asset: str) -> AccountKey:
    """Key of ``market``'s liquidity fee account."""
    return ("fee_liquidity", "", asset, market)


def global_insurance(asset: str) -> AccountKey:
    """Key of the network's global insurance pool for ``asset``."""
    return ("global_insurance", "", asset, "")


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
        self.parties: set[str] = {NETWORK_PARTY}
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
