"""One EVM shared by the pool cores of an AMM plug-in (:class:`EvmMachine`).

The machine holds the backend (embedded or an external node), the **bridge token** of
every ledger asset a V2 or Balancer pool uses (a V3 pool gets a pair of its own, sorted
as its assets: :mod:`.v3`) (``defisim/evm/contracts/BridgeToken.sol``: an
OpenZeppelin ERC-20 that the bridge mints and burns), the EVM address of every core-level account (a
party, the plug-in's LP holder, the zero address), and the block clock.

Why a bridge: the run's ledger stays the source of truth for what parties hold, so
``sim.balance``, the agents and the recorder do not change. What a contract must see
is minted to it when the plug-in moves the same amount on the ledger (a deposit into
a pool's reserves) and burned when it leaves the contract (a swap's output paid to a
party). Each pool's ERC-20 balances therefore equal its ledger reserve accounts, which
the plug-in's block-end invariants check.

Clock: the Python cores take ``time=`` (whole seconds of chain time); an EVM core calls
:meth:`EvmMachine.set_time` with it, so ``block.timestamp = genesis + time``, and
``block.number`` moves one block each time the time moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from defisim.evm import (
    ZERO_ADDRESS,
    Artifact,
    ContractAbi,
    EmbeddedBackend,
    EvmBackend,
    TxResult,
    compile_solidity,
    party_address,
)
from defisim.evm.bridge import bridge_token_artifact
from defisim.evm.protocol import DEFAULT_GENESIS_TIMESTAMP

__all__ = ["CONTRACTS", "OPERATOR", "EvmMachine", "our_contract"]

CONTRACTS = Path(__file__).with_name("contracts")
"""defisim's own helper contracts (Solidity source, compiled offline with solc-js)."""

OPERATOR = "defisim:operator"
"""The account that deploys the contracts and mints and burns bridge tokens."""


def our_contract(name: str) -> Artifact:
    """Compile ``contracts/<name>.sol`` (cached after the first time).

    Raises:
        defisim.evm.SolidityError, defisim.evm.NpmUnavailable: see
            :func:`defisim.evm.compile_solidity`."""
    return compile_solidity(CONTRACTS / f"{name}.sol", name)


def _backend(backend: EvmBackend | str | None, genesis_timestamp: int) -> EvmBackend:
    if backend is None or backend == "embedded":
        return EmbeddedBackend(0, genesis_timestamp)
    if backend == "external":
        from defisim.evm.external import ExternalBackend

        return ExternalBackend(0, genesis_timestamp)
    if isinstance(backend, EvmBackend):
        return backend
    raise ValueError(f"unknown EVM backend {backend!r}; known: 'embedded', 'external' "
                     "or an EvmBackend")


class EvmMachine:
    """The EVM under an AMM plug-in's cores (module doc).

    Args:
        backend: ``"embedded"`` (default; simular-evm in this process, the ``evm``
            extra), ``"external"`` (a local anvil node the project starts and stops) or
            an :class:`~defisim.evm.EvmBackend`.
        genesis_timestamp: ``block.timestamp`` at chain time 0, seconds.

    Raises:
        ValueError: an unknown backend name.
        defisim.extras.MissingExtraError: the ``evm`` extra is not installed.
        defisim.evm.NpmUnavailable: solc-js/OpenZeppelin cannot be installed (the
            bridge token is compiled on first use, then cached).
    """

    def __init__(self, backend: EvmBackend | str | None = None,
                 genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP) -> None:
        self.backend = _backend(backend, genesis_timestamp)
        self.genesis_timestamp = genesis_timestamp
        self._time = 0
        self._accounts: dict[str, str] = {}  # account -> address
        self._by_address: dict[str, str] = {}
        self._tokens: dict[str, str] = {}  # asset -> token address
        self._assets: dict[str, str] = {}
        self._minters: list[str] = []  # helper contracts allowed on every bridge token
        self._token_artifact = bridge_token_artifact()
        self.token_abi = ContractAbi("BridgeToken", self._token_artifact.abi)
        self.operator = self.address(OPERATOR)
        self.backend.fund(self.operator, 10**30)

    # -- clock ----------------------------------------------------------------------
    @property
    def time(self) -> int:
        """Chain seconds of the current EVM block."""
        return self._time

    def set_time(self, time_s: int) -> None:
        """Make ``block.timestamp`` ``genesis + time_s``; a move forward mines one block.
        Raises ``ValueError`` for a time before the current one."""
        if time_s == self._time:
            return
        if time_s < self._time:
            raise ValueError(f"EVM time cannot go back: {time_s} s < {self._time} s")
        number, _ = self.backend.block
        self.backend.set_block(number + 1, self.genesis_timestamp + time_s)
        self._time = time_s

    # -- accounts -------------------------------------------------------------------
    def address(self, account: str) -> str:
        """The EVM address of a core-level ``account`` (a party, the LP holder, a pool
        id; :data:`~defisim.evm.ZERO_ADDRESS` stays itself), remembered for
        :meth:`account_of`."""
        addr = self._accounts.get(account)
        if addr is None:
            addr = ZERO_ADDRESS if account == ZERO_ADDRESS else party_address(account)
            self._accounts[account] = addr
            self._by_address[addr] = account
        return addr

    def account_of(self, address: str) -> str:
        """The account of an address from :meth:`address`. Raises ``KeyError``."""
        try:
            return self._by_address[address.lower()]
        except KeyError:
            raise KeyError(f"no account has EVM address {address}") from None

    def name(self, address: str, account: str) -> None:
        """Know ``address`` (a contract) as ``account`` from now on."""
        address = address.lower()
        self._accounts[account] = address
        self._by_address[address] = account

    # -- contracts --------------------------------------------------------------------
    def deploy(self, artifact: Artifact, *args: Any, abi: ContractAbi | None = None) -> str:
        """Deploy ``artifact`` from the operator; its address. Raises ``EvmRevert``."""
        abi = abi or ContractAbi(artifact.name, artifact.abi)
        return self.backend.deploy(self.operator, abi, artifact.bytecode, tuple(args))

    def call(self, address: str, abi: ContractAbi, fn: str, *args: Any) -> tuple:
        """A read-only call at the current block: the decoded outputs."""
        return self.backend.call(address, abi, fn, args)

    def transact(self, sender: str, address: str, abi: ContractAbi, fn: str,
                 *args: Any) -> TxResult:
        """A transaction from the EVM address ``sender``. Raises ``EvmRevert``
        (nothing changed)."""
        return self.backend.transact(sender, address, abi, fn, args)

    # -- bridge tokens ------------------------------------------------------------------
    def token(self, asset: str) -> str:
        """The bridge ERC-20 of ledger ``asset`` (deployed on first use, 18 decimals:
        amounts are the ledger's base units whatever the asset's decimals)."""
        addr = self._tokens.get(asset)
        if addr is None:
            addr = self.deploy(self._token_artifact, asset, asset, 18, abi=self.token_abi)
            self._tokens[asset] = addr
            self._assets[addr] = asset
            for m in self._minters:
                self.transact(self.operator, addr, self.token_abi, "setMinter", m, True)
        return addr

    def asset_of(self, token: str) -> str:
        """The ledger asset of a bridge token address. Raises ``KeyError``."""
        try:
            return self._assets[token.lower()]
        except KeyError:
            raise KeyError(f"{token} is not a bridge token") from None

    def mint(self, asset: str, to: str, amount: int) -> None:
        """Mint ``amount`` of ``asset``'s bridge token to the EVM address ``to``."""
        if amount:
            self.transact(self.operator, self.token(asset), self.token_abi, "mint", to, amount)

    def burn(self, asset: str, holder: str, amount: int) -> None:
        """Burn ``amount`` of ``asset``'s bridge token held by ``holder``."""
        if amount:
            self.transact(self.operator, self.token(asset), self.token_abi, "burn", holder, amount)

    def balance_of(self, asset: str, holder: str) -> int:
        """``holder``'s balance of ``asset``'s bridge token, base units."""
        return self.call(self.token(asset), self.token_abi, "balanceOf", holder)[0]

    def total_supply(self, asset: str) -> int:
        """The bridge token's supply of ``asset``."""
        return self.call(self.token(asset), self.token_abi, "totalSupply")[0]

    def approve(self, asset: str, owner: str, spender: str, amount: int) -> None:
        """``owner`` (an EVM address) lets ``spender`` take ``amount`` of ``asset``."""
        self.transact(owner, self.token(asset), self.token_abi, "approve", spender, amount)

    def allow_minter(self, address: str, asset: str | None = None) -> None:
        """Let ``address`` (a helper contract of ours, e.g. a callback payer) mint and
        burn ``asset``'s bridge token, or every bridge token made so far and later."""
        if asset is None:
            self._minters.append(address)
        for a in [asset] if asset is not None else list(self._tokens):
            self.transact(self.operator, self.token(a), self.token_abi, "setMinter", address, True)

    # -- state ----------------------------------------------------------------------------
    def snapshot(self) -> Any:
        """The EVM state and the registries, restorable any number of times."""
        return (self.backend.snapshot(), self._time, dict(self._accounts), dict(self._by_address),
                dict(self._tokens), dict(self._assets), list(self._minters))

    def restore(self, state: Any) -> None:
        """Back to a :meth:`snapshot`: the EVM, the clock and the registries."""
        evm, self._time, accounts, by_address, tokens, assets, minters = state
        self.backend.restore(evm)
        self._accounts, self._by_address = dict(accounts), dict(by_address)
        self._tokens, self._assets, self._minters = dict(tokens), dict(assets), list(minters)
