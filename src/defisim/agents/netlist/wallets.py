"""TokenSPICE's and DARC-SPICE's wallet rules on defisim's ledger
(``../shared/specs/token-netlists.md`` 1.6).

EVM-style wallets (TokenSPICE ``AgentWalletEvm`` OCEAN, every DARC-SPICE agent) hold
integer wei; a float amount becomes wei as ``int(x·1e18)`` (:func:`to_base18`: the float
product, then truncation) and wei become a float as ``n/1e18`` (:func:`from_base18`).
A transfer of 0 wei does nothing, a transfer from an empty wallet or above the balance
raises :class:`WalletError` (TokenSPICE raises and the run stops; a netlist may catch
it), and an amount within a relative 1e-12 of the balance sends the whole balance.
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


def hex_name(prefix: str, i: int) -> str:
    """DARC-SPICE's agent names ``"%s%x" % (prefix, i)``: researcher9, researchera, ... (spec 5.0)."""
    return f"{prefix}{i:x}"


def _amount_wei(sim: Simulation, party: str, asset: str, amount: float) -> int:
    have = int(sim.balance(party, asset, raw=True))
    wei = to_base18(amount)
    if wei == 0:
        return 0
    if have == 0:
        raise WalletError(f"{party}: transfer of {amount} {asset} from an empty wallet")
    if wei != have and abs(wei / have - 1.0) <= 1e-12:
        wei = have  # within 1e-12 of the balance: send it all (spec 1.6)
    if wei > have:
        raise WalletError(f"{party}: transfer of {amount} {asset} above its balance {have / 1e18}")
    return wei


def evm_transfer(sim: Simulation, src: str, dst: str, asset: str, amount: float) -> int:
    """Move ``amount`` (asset units, a float) of ``asset`` from ``src`` to ``dst`` with
    the EVM wallet rules (module docstring); returns the wei moved.

    Raises:
        WalletError: an empty wallet or an amount above the balance.
    """
    from decimal import Decimal

    wei = _amount_wei(sim, src, asset, amount)
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


__all__ = ["WEI", "WalletError", "evm_transfer", "evm_withdraw", "from_base18", "hex_name", "to_base18"]
