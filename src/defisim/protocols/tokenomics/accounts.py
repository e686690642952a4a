"""Ledger account keys of the token-economy components.

Account types share one namespace on the ledger, so each is prefixed ``tokenomics_``.
The scope field is the component's id. Components that hold money for nobody in
particular (a grant's escrow, a router, a vesting wallet, a staking pool's rewards)
have owner ``""``; a party's stake in a staking pool is owned by the party, so it
counts in ``sim.equity(party, asset)``.
"""

from __future__ import annotations

from defisim.chain.ledger import AccountKey

GRANT = "tokenomics_grant"
ROUTER = "tokenomics_router"
VESTING = "tokenomics_vesting"
STAKE = "tokenomics_stake"
REWARDS = "tokenomics_rewards"


def grant_escrow(grant_id: str, asset: str) -> AccountKey:
    """The funds a grant schedule has yet to pay."""
    return (GRANT, "", asset, grant_id)


def router_account(router_id: str, asset: str) -> AccountKey:
    """What a router holds until it routes it."""
    return (ROUTER, "", asset, router_id)


def vesting_account(wallet_id: str, asset: str) -> AccountKey:
    """What a vesting wallet holds (vested or not) until released."""
    return (VESTING, "", asset, wallet_id)


def stake_account(pool_id: str, party: str, asset: str) -> AccountKey:
    """``party``'s stake in staking pool ``pool_id``."""
    return (STAKE, party, asset, pool_id)


def rewards_account(pool_id: str, asset: str) -> AccountKey:
    """A staking pool's distributed, not yet claimed rewards."""
    return (REWARDS, "", asset, pool_id)
