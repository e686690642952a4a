"""Account keys of the futures protocol (ledger keys ``(type, owner, asset, market)``).

============================  ==========================================
key                           meaning
============================  ==========================================
``margin(party, market, a)``  collateral locked against a party's position
``bond(party, market, a)``    a liquidity provider's bond
``settlement(market, a)``     transit account of mark-to-market (zero between blocks)
``insurance(market, a)``      the market's insurance pool
``fee_infrastructure(a)``     network-wide infrastructure fees
``fee_liquidity(market, a)``  liquidity fees waiting to be distributed
``global_insurance(a)``       where a settled market's insurance pool goes
============================  ==========================================

A party's free collateral is the chain's ``general(party, asset)`` account.
"""

from __future__ import annotations

from defisim.chain.ledger import AccountKey, general

__all__ = [
    "NETWORK_PARTY",
    "bond",
    "fee_infrastructure",
    "fee_liquidity",
    "general",
    "global_insurance",
    "insurance",
    "margin",
    "settlement",
]

NETWORK_PARTY = "network"
"""The network party: takes over distressed positions; never margined (spec section 6)."""


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
