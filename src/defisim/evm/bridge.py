"""Ledger assets on the EVM and back: the bridge of the ``evm`` protocol.

A scenario whose contracts take a ledger asset (a vault taking USDC, a token sale paid
in ETH) bridges it: :meth:`EvmProtocol.bridge` deploys the asset's **bridge token**
(``contracts/BridgeToken.sol``, an OpenZeppelin ERC-20 with the asset's decimals, owned
by the bridge), and two transactions move funds across:

- ``deposit(asset, amount)``: the sender's ledger ``amount`` (base units) goes to the
  bridge's escrow account ``("evm_bridge", "", asset, "")`` and the same amount of the
  token is minted to the sender's EVM address;
- ``withdraw(asset, amount)``: the token is burned from the sender's EVM address and
  the escrow pays the sender on the ledger.

Between the two the token is an ordinary ERC-20: contracts hold it, parties transfer
it, and whoever holds it withdraws it. The escrow's ledger balance equals the token's
``totalSupply`` at every block end (:meth:`BridgeMixin.bridge_invariant_errors`), so no
money is made or lost crossing. Rejections: ``UNKNOWN_ASSET`` (not bridged),
``INVALID_ARGUMENTS`` (not an int > 0), ``INSUFFICIENT_FUNDS`` (too little on the ledger,
or too little of the token to withdraw).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from defisim.chain import Receipt
from defisim.chain.ledger import general
from defisim.chain.transactions import EXECUTED

from .abi import ContractAbi
from .artifacts import Artifact

__all__ = ["BRIDGE_ACCOUNT_TYPE", "BRIDGE_OPERATOR", "BridgeMixin", "bridge_token_artifact",
           "escrow"]

BRIDGE_ACCOUNT_TYPE = "evm_bridge"
"""Ledger account type of the bridge's escrow (one account per bridged asset)."""
BRIDGE_OPERATOR = "defisim:bridge"
"""The account that deploys the bridge tokens and mints and burns them."""
CONTRACTS = Path(__file__).with_name("contracts")


def escrow(asset: str) -> tuple[str, str, str, str]:
    """The ledger key of the bridge's escrow in ``asset``."""
    return (BRIDGE_ACCOUNT_TYPE, "", asset, "")


def bridge_token_artifact() -> Artifact:
    """``BridgeToken`` compiled with solc-js (cached after the first time).

    Raises:
        SolidityError, NpmUnavailable: see :func:`defisim.evm.compile_solidity`."""
    from .solidity import compile_solidity

    return compile_solidity(CONTRACTS / "BridgeToken.sol", "BridgeToken")


class BridgeMixin:
    """The bridge's set-up, transactions and invariant, mixed into
    :class:`~defisim.evm.protocol.EvmProtocol` (which supplies ``chain``, ``backend``,
    ``address_of``, ``deploy``, ``reject`` and ``_sync``)."""

    chain: Any
    backend: Any
    bridges: dict[str, str]  # asset -> contract label

    def bridge(self, asset: str) -> Any:
        """The bridge token of ledger ``asset``, deployed on first call (label
        ``"bridge:<asset>"``, name and symbol the asset id, the asset's decimals).
        A set-up call: returns the :class:`~defisim.evm.protocol.Contract`.

        Raises:
            ValueError: ``asset`` is not a ledger asset.
            NpmUnavailable, SolidityError: the token cannot be compiled.
        """
        label = self.bridges.get(asset)
        if label is not None:
            return self.contract(label)  # type: ignore[attr-defined]
        assets = self.chain.ledger.assets
        if not isinstance(asset, str) or asset not in assets:
            raise ValueError(f"unknown asset {asset!r}; known: {sorted(assets)}")
        label = f"bridge:{asset}"
        token = self.deploy(label, bridge_token_artifact(), asset, asset,  # type: ignore[attr-defined]
                            assets[asset].decimals, sender=BRIDGE_OPERATOR)
        self.bridges[asset] = label
        return token

    def _token(self, asset: Any) -> tuple[str, ContractAbi] | None:
        label = self.bridges.get(asset) if isinstance(asset, str) else None
        if label is None:
            return None
        d = self.contracts[label]  # type: ignore[attr-defined]
        return d.address, d.abi

    def _bridge_args(self, tx: str, sender: Any, asset: Any, amount: Any) -> Receipt | None:
        if self._token(asset) is None:
            return self.reject(tx, str(sender), "UNKNOWN_ASSET",  # type: ignore[attr-defined]
                               f"{asset!r} is not bridged; bridged: {sorted(self.bridges)}", "")
        if type(amount) is not int or amount <= 0:
            return self.reject(tx, str(sender), "INVALID_ARGUMENTS",  # type: ignore[attr-defined]
                               f"amount must be an int > 0 (base units), got {amount!r}",
                               self.bridges[asset])
        return None

    def tx_deposit(self, sender: str, asset: str, amount: int) -> Receipt:
        """Move ``amount`` base units of ``asset`` from the sender's ledger account to
        its EVM address (minted bridge token). ``value``: the sender's token balance
        after."""
        bad = self._bridge_args("deposit", sender, asset, amount)
        if bad is not None:
            return bad
        led = self.chain.ledger
        have = led.balance(general(sender, asset))
        if have < amount:
            return self.reject("deposit", sender, "INSUFFICIENT_FUNDS",  # type: ignore[attr-defined]
                               f"{sender} holds {have} {asset}, deposits {amount}",
                               self.bridges[asset])
        address, abi = self._token(asset)  # type: ignore[misc]
        me = self.address_of(sender)  # type: ignore[attr-defined]
        self._sync()  # type: ignore[attr-defined]
        self.backend.transact(self.address_of(BRIDGE_OPERATOR), address, abi,  # type: ignore[attr-defined]
                              "mint", (me, amount))
        led.transfer(general(sender, asset), escrow(asset), amount, "evm_deposit")
        return Receipt(EXECUTED, block=self.chain.block,
                       value=self.backend.call(address, abi, "balanceOf", (me,))[0])

    def tx_withdraw(self, sender: str, asset: str, amount: int) -> Receipt:
        """Burn ``amount`` of ``asset``'s bridge token from the sender's EVM address and
        pay it on the ledger. ``value``: the sender's token balance after."""
        bad = self._bridge_args("withdraw", sender, asset, amount)
        if bad is not None:
            return bad
        address, abi = self._token(asset)  # type: ignore[misc]
        me = self.address_of(sender)  # type: ignore[attr-defined]
        self._sync()  # type: ignore[attr-defined]
        have = self.backend.call(address, abi, "balanceOf", (me,))[0]
        if have < amount:
            return self.reject("withdraw", sender, "INSUFFICIENT_FUNDS",  # type: ignore[attr-defined]
                               f"{sender} holds {have} bridged {asset}, withdraws {amount}",
                               self.bridges[asset])
        self.backend.transact(self.address_of(BRIDGE_OPERATOR), address, abi,  # type: ignore[attr-defined]
                              "burn", (me, amount))
        self.chain.ledger.transfer(escrow(asset), general(sender, asset), amount, "evm_withdrawal")
        return Receipt(EXECUTED, block=self.chain.block, value=have - amount)

    def bridge_invariant_errors(self) -> list[str]:
        """For every bridged asset: the escrow's ledger balance equals the bridge token's
        ``totalSupply``."""
        errors = []
        for asset in sorted(self.bridges):
            address, abi = self._token(asset)  # type: ignore[misc]
            supply = self.backend.call(address, abi, "totalSupply", ())[0]
            held = self.chain.ledger.balance(escrow(asset))
            if supply != held:
                errors.append(f"evm bridge {asset}: escrow holds {held}, token supply {supply}")
        return errors
