"""Events of the token-economy protocol (amounts in base units, times in ns).

Every event names the component it concerns in ``market`` (a token's asset id, a
grant, router, minter, vesting wallet, staking pool or marketplace id) and the acting
party in ``party``, the fields the run's ``events`` table reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.chain.events import Event


@dataclass(frozen=True, slots=True)
class TokenCreated(Event):
    """Token ``market`` (an asset) is managed by the protocol; ``initial``: the supply it
    already had (adopted), ``cap`` -1 for none."""

    market: str
    decimals: int
    cap: int
    initial: int


@dataclass(frozen=True, slots=True)
class TokensMinted(Event):
    """``party`` (a minter, or a minter contract's id) minted ``amount`` of ``market``
    to ``receiver``."""

    market: str
    party: str
    receiver: str
    amount: int


@dataclass(frozen=True, slots=True)
class TokensBurned(Event):
    """``party`` burned ``amount`` of ``market`` from its general account."""

    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class GrantCreated(Event):
    market: str
    party: str
    receiver: str
    asset: str
    total: int
    n_grants: int
    interval_ns: int
    start_ns: int


@dataclass(frozen=True, slots=True)
class GrantPaid(Event):
    """Grant number ``number`` (from 1) of schedule ``market``, disbursed by ``party``."""

    market: str
    party: str
    receiver: str
    asset: str
    amount: int
    number: int


@dataclass(frozen=True, slots=True)
class RouterCreated(Event):
    """``receivers``: ``((receiver, fraction in parts per 10**18), ...)``."""

    market: str
    receivers: tuple


@dataclass(frozen=True, slots=True)
class Deposited(Event):
    """``party`` paid ``amount`` of ``asset`` into component ``market``."""

    market: str
    party: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class Routed(Event):
    """Router ``market`` split ``amount`` of ``asset``: ``payments`` ``((receiver,
    amount), ...)``; ``party`` called it."""

    market: str
    party: str
    asset: str
    amount: int
    payments: tuple


@dataclass(frozen=True, slots=True)
class MinterCreated(Event):
    market: str
    asset: str
    receiver: str
    total: int
    schedule: str
    interval_ns: int
    start_ns: int


@dataclass(frozen=True, slots=True)
class ScheduledMint(Event):
    """Minter ``market`` minted ``amount`` (mint number ``number``, from 1) to
    ``receiver``; ``party`` called ``mint_due``."""

    market: str
    party: str
    asset: str
    receiver: str
    amount: int
    number: int


@dataclass(frozen=True, slots=True)
class VestingWalletCreated(Event):
    market: str
    beneficiary: str
    start_s: int
    duration_s: int


@dataclass(frozen=True, slots=True)
class Released(Event):
    """Vesting wallet ``market`` paid ``amount`` of ``asset`` to ``beneficiary``."""

    market: str
    party: str
    beneficiary: str
    asset: str
    amount: int


@dataclass(frozen=True, slots=True)
class StakingPoolCreated(Event):
    market: str
    asset: str
    reward_asset: str


@dataclass(frozen=True, slots=True)
class Staked(Event):
    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class Unstaked(Event):
    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class RewardsDistributed(Event):
    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class RewardsClaimed(Event):
    market: str
    party: str
    amount: int


@dataclass(frozen=True, slots=True)
class MarketplaceCreated(Event):
    market: str
    toll_receiver: str
    toll_wad: int


@dataclass(frozen=True, slots=True)
class Sale(Event):
    """``party`` (the buyer) paid ``price`` of ``asset``: ``price - toll`` to ``seller``,
    ``toll`` to ``toll_receiver``."""

    market: str
    party: str
    seller: str
    asset: str
    price: int
    toll: int
    toll_receiver: str
