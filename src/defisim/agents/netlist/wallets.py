"""TokenSPICE's and DARC-SPICE's wallet rules on defisim's ledger
(``../shared/specs/token-netlists.md`` 1.6).

EVM-style wallets (TokenSPICE ``AgentWalletEvm`` OCEAN, every DARC-SPICE agent) hold
integer wei; a float amount becomes wei as ``int(x·1e18)`` (:func:`to_base18`: the float
product, then truncation) and wei become a float as ``n/1e18`` (:func:`from_base18`).
A transfer of 0 wei does nothing, a transfer from an empty wallet or above the balance
raises :class:`WalletError` (TokenSPICE raises and the run stops; a netlist may catch
it), and an amount within a relative 1e-12 of the balance sends the whole balance.

DARC-SPICE (``opscientia/darcspice`` 3f0602a, forked from the Oct-2021 web3.py TokenSPICE)
converts with ``web3tools/web3util.py``'s ``toBase(amt, 18) = int(amt * 1*10**18)`` and
``fromBase(n, 18) = float(n / (10**18))``: the read is the *integer* true division, rounded
once, where TokenSPICE's ``n/1e18`` rounds n to a float first (about a quarter of balances
above 2^53 wei read one ulp apart), and an int amount is converted exactly. Its
tolerance test is ``1-1e-12 <= amt/fromBase18(balance) <= 1+1e-12`` on the floats.
:func:`darc_to_base18`, :func:`darc_from_base18` and ``evm_transfer(..., darc=True)``
follow that code (checked against DARC-SPICE's own code: ``tests/darcspice_reference``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from defisim.service import Simulation

WEI = 10**18


class WalletError(ValueError):
    """A wallet operation TokenSPICE refuses (empty wallet, amount above the balance)."""


def to_base18(x: float) -> int:
    """``int(x·1e18)``: the float product, then truncation toward zero (``toBase18``)."""
    return int(x * 1e18)


def from_base18(n: int) -> float:
    """``n/1e18`` (``fromBase18``)."""
    return n / 1e18


def darc_to_base18(x: float) -> int:
    """DARC-SPICE's ``toBase18``: ``int(x * 10**18)`` (the float product for a float, exact
    for an int)."""
    return int(x * WEI)


def darc_from_base18(n: int) -> float:
    """DARC-SPICE's ``fromBase18``: ``float(n / 10**18)``, the integer true division
    (correctly rounded; ``n/1e18`` can be one ulp off)."""
    return float(int(n) / WEI)


def hex_name(prefix: str, i: int) -> str:
    """DARC-SPICE's agent names ``"%s%x" % (prefix, i)``: researcher9, researchera, ... (spec 5.0)."""
    return f"{prefix}{i:x}"


def _amount_wei(sim: Simulation, party: str, asset: str, amount: float, darc: bool = False) -> int:
    have = int(sim.balance(party, asset, raw=True))
    wei = darc_to_base18(amount) if darc else to_base18(amount)
    if wei == 0:
        return 0
    if have == 0:
        raise WalletError(f"{party}: transfer of {amount} {asset} from an empty wallet")
    if darc:
        if (1.0 - 1e-12) <= amount / darc_from_base18(have) <= (1.0 + 1e-12):
            wei = have  # DARC-SPICE's AgentWallet.transferOCEAN, literally
    elif wei != have and abs(wei / have - 1.0) <= 1e-12:
        wei = have  # within 1e-12 of the balance: send it all (spec 1.6)
    if wei > have:
        raise WalletError(f"{party}: transfer of {amount} {asset} above its balance {have / 1e18}")
    return wei


def evm_transfer(sim: Simulation, src: str, dst: str, asset: str, amount: float,
                 darc: bool = False) -> int:
    """Move ``amount`` (asset units, a float) of ``asset`` from ``src`` to ``dst`` with
    the EVM wallet rules (module docstring; ``darc``: DARC-SPICE's conversions); returns
    the wei moved.

    Raises:
        WalletError: an empty wallet or an amount above the balance.
    """
    from decimal import Decimal

    wei = _amount_wei(sim, src, asset, amount, darc)
    if wei:
        sim.transfer(src, dst, asset, Decimal(wei).scaleb(-18))
    return wei


def evm_withdraw(sim: Simulation, party: str, asset: str, amount: float) -> int:
    """Send ``amount`` to the burn address (``withdrawOCEAN``): burned on the ledger;
    returns the wei burned. Raises :class:`WalletError` as :func:`evm_transfer`."""
    from decimal import Decimal

    wei = _amount_wei(sim, party, asset, amount)
    if wei:
        sim.burn(party, asset, Decimal(wei).scaleb(-18))
    return wei


__all__ = ["WEI", "WalletError", "darc_from_base18", "darc_to_base18", "evm_transfer", "evm_withdraw",
           "from_base18", "hex_name", "to_base18"]
