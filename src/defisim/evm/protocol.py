"""The ``evm`` chain protocol: contracts on an EVM backend, inside a run.

:class:`EvmProtocol` plugs an :class:`~defisim.evm.backend.EvmBackend` (by default the
embedded one) into the null chain like any protocol (``docs/protocols.md``):

- **clock**: before every EVM operation the backend's ``block.number`` is the chain's
  block and ``block.timestamp`` is ``genesis_timestamp + chain time`` in whole seconds;
- **snapshots**: the protocol's :meth:`snapshot`/:meth:`restore` carry the whole EVM
  state, so ``Chain.state_snapshot``, forks and bundle reverts include it;
- **parties**: a party acts from :func:`~defisim.evm.abi.party_address` (a hash of its
  name), the same in every run;
- **transactions**: ``Transaction(sender, "evm", "transact", (contract, fn, args,
  value))`` runs ``fn`` of a deployed contract (by label or address) from the sender's
  address. A revert is a ``TransactionRejected`` event with reason ``EVM_REVERT`` and
  the decoded revert string as its detail; an unknown contract or function, or
  arguments the ABI cannot encode, are rejections too (``CONTRACT_NOT_FOUND``,
  ``UNKNOWN_FUNCTION``, ``INVALID_ARGUMENTS``). The decoded events of an executed
  transaction go into the run's event log as :class:`EvmLog` events;
- **ledger assets** cross both ways through the bridge (:mod:`.bridge`):
  :meth:`EvmProtocol.bridge` deploys an asset's ERC-20, and ``deposit`` / ``withdraw``
  transactions move a party's funds between its ledger account and its EVM address.

Set-up calls (:meth:`EvmProtocol.deploy`, :meth:`EvmProtocol.contract`) are plain
methods that raise, as for every protocol. :class:`Contract` wraps one deployed
contract: ``c.call("getReserves")``, ``c.transact("swap", a0, a1, to, b"",
sender="bob")``, or ``c.functions.swap(a0, a1, to, b"").transact(sender="bob")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from defisim.chain import NS_PER_SECOND, ChainProtocol, Receipt, Transaction
from defisim.chain.events import Event
from defisim.chain.transactions import EXECUTED

from .abi import ContractAbi, UnknownFunction, party_address
from .artifacts import Artifact
from .backend import EmbeddedBackend, EvmBackend, EvmRevert
from .bridge import BridgeMixin

__all__ = [
    "DEFAULT_GENESIS_TIMESTAMP",
    "Contract",
    "ContractDeployed",
    "EvmLog",
    "EvmProtocol",
    "Reason",
]

DEFAULT_GENESIS_TIMESTAMP = 1_700_000_000
"""``block.timestamp`` at chain time 0 (2023-11-14T22:13:20Z)."""


class Reason:
    """Rejection codes of the ``evm`` protocol."""

    EVM_REVERT = "EVM_REVERT"
    CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND"
    UNKNOWN_FUNCTION = "UNKNOWN_FUNCTION"
    INVALID_ARGUMENTS = "INVALID_ARGUMENTS"
    PARTY_NOT_FOUND = "PARTY_NOT_FOUND"
    UNKNOWN_ASSET = "UNKNOWN_ASSET"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


@dataclass(frozen=True, slots=True)
class ContractDeployed(Event):
    """A contract was deployed: ``market`` is its label, ``address`` its EVM address,
    ``contract`` the artifact's name."""

    market: str
    party: str
    address: str
    contract: str


@dataclass(frozen=True, slots=True)
class EvmLog(Event):
    """An event a transaction emitted, decoded with the called contract's ABI:
    ``market`` is the called contract's label, ``party`` the sender, ``event`` the
    event's name and ``args`` its fields in ABI order (addresses lower-case ``0x``)."""

    market: str
    party: str
    event: str
    args: tuple


@dataclass
class _Deployed:
    label: str
    address: str
    abi: ContractAbi


class EvmProtocol(BridgeMixin, ChainProtocol):
    """Contracts on an EVM backend, in step with the chain (see the module doc).

    Args:
        backend: an :class:`EvmBackend`, or ``"embedded"`` (the default: a new
            :class:`EmbeddedBackend`, needs the ``evm`` extra) or ``"external"`` (a new
            :class:`~defisim.evm.external.ExternalBackend`: a local anvil node, installed
            from npm on first use). ``Simulation(protocols=[EvmProtocol("external")])``.
        genesis_timestamp: ``block.timestamp`` at chain time 0, in seconds.
    """

    name: ClassVar[str] = "evm"
    gas: ClassVar[dict[str, int]] = {"transact": 150_000, "deposit": 60_000, "withdraw": 60_000}

    def __init__(self, backend: EvmBackend | str | None = None,
                 genesis_timestamp: int = DEFAULT_GENESIS_TIMESTAMP) -> None:
        if backend is None or backend == "embedded":
            backend = EmbeddedBackend(0, genesis_timestamp)
        elif backend == "external":
            from .external import ExternalBackend

            backend = ExternalBackend(0, genesis_timestamp)
        elif isinstance(backend, str):
            raise ValueError(f"unknown EVM backend {backend!r}; known: 'embedded', 'external'")
        self.backend = backend
        self.genesis_timestamp = genesis_timestamp
        self.contracts: dict[str, _Deployed] = {}  # label -> contract
        self.by_address: dict[str, _Deployed] = {}
        self.parties: dict[str, str] = {}  # EVM address -> party
        self.bridges: dict[str, str] = {}  # ledger asset -> its bridge token's label

    # -- clock --------------------------------------------------------------------------
    def evm_timestamp(self) -> int:
        """``block.timestamp`` now: genesis + whole seconds of chain time."""
        return self.genesis_timestamp + self.chain.now // NS_PER_SECOND

    def _sync(self) -> None:
        self.backend.set_block(self.chain.block, self.evm_timestamp())

    # -- parties ----------------------------------------------------------------------------
    def address_of(self, party: str) -> str:
        """The EVM address of ``party`` (remembered, so events can name the party)."""
        addr = party_address(party)
        self.parties[addr] = party
        return addr

    def party_of(self, address: str) -> str | None:
        """The party acting from ``address``, if any acted or was looked up."""
        return self.parties.get(address.lower())

    def fund(self, party: str, wei: int) -> None:
        """Give ``party``'s address ``wei`` of ether (set-up)."""
        self.backend.fund(self.address_of(party), wei)

    # -- contracts --------------------------------------------------------------------------
    def deploy(self, label: str, artifact: Artifact, *args: Any, sender: str = "deployer",
               value: int = 0) -> Contract:
        """Deploy ``artifact`` with constructor ``args`` from ``sender``'s address, under
        ``label`` (its ``market`` in events). A set-up call.

        Raises:
            ValueError: the label is taken. TypeError: bad constructor arguments.
            EvmRevert: the constructor reverted. EvmError: the backend failed.
        """
        if label in self.contracts:
            raise ValueError(f"a contract labelled {label!r} is already deployed")
        abi = ContractAbi(artifact.name, artifact.abi)
        self._sync()
        address = self.backend.deploy(self.address_of(sender), abi, artifact.bytecode,
                                      tuple(args), value)
        self._register(label, address, abi)
        self.chain.emit(ContractDeployed(*self.chain.stamp(), label, sender, address, artifact.name))
        return Contract(self, self.contracts[label])

    def at(self, label: str, address: str, artifact: Artifact | ContractAbi) -> Contract:
        """A contract that is already deployed at ``address`` (created by another
        contract: a Uniswap pair made by its factory), known from now on as ``label``."""
        if label in self.contracts:
            raise ValueError(f"a contract labelled {label!r} is already deployed")
        abi = artifact if isinstance(artifact, ContractAbi) else ContractAbi(artifact.name, artifact.abi)
        self._register(label, address.lower(), abi)
        return Contract(self, self.contracts[label])

    def _register(self, label: str, address: str, abi: ContractAbi) -> None:
        d = _Deployed(label, address, abi)
        self.contracts[label] = d
        self.by_address[address] = d

    def _lookup(self, contract: str) -> _Deployed | None:
        d = self.contracts.get(contract)
        if d is None and isinstance(contract, str):
            d = self.by_address.get(contract.lower())
        return d

    def contract(self, contract: str) -> Contract:
        """The deployed contract of this label or address.

        Raises:
            KeyError: none (the message names the known labels)."""
        d = self._lookup(contract)
        if d is None:
            raise KeyError(f"no contract {contract!r}; deployed: {sorted(self.contracts)}")
        return Contract(self, d)

    def call(self, contract: str, fn: str, *args: Any) -> Any:
        """A read-only call at the current block: the single output, a tuple of several,
        or None. Raises KeyError (contract), UnknownFunction, TypeError, EvmRevert."""
        d = self._lookup(contract)
        if d is None:
            raise KeyError(f"no contract {contract!r}; deployed: {sorted(self.contracts)}")
        self._sync()
        return _unwrap(self.backend.call(d.address, d.abi, fn, tuple(args)))

    # -- transactions --------------------------------------------------------------------------
    def tx_transact(self, sender: str, contract: str, fn: str, args: tuple = (),
                    value: int = 0) -> Receipt:
        """Run ``fn(*args)`` of ``contract`` from ``sender``; ``value`` wei attached.
        The receipt's ``value`` is the function's output (one value, a tuple, or None)."""
        d = self._lookup(contract) if isinstance(contract, str) else None
        market = d.label if d is not None else str(contract)
        if d is None:
            return self.reject("transact", sender, Reason.CONTRACT_NOT_FOUND,
                               f"no contract {contract!r}", market)
        if not isinstance(sender, str) or not sender:
            return self.reject("transact", str(sender), Reason.PARTY_NOT_FOUND,
                               f"bad sender {sender!r}", market)
        if not isinstance(args, tuple | list) or type(value) is not int or value < 0:
            return self.reject("transact", sender, Reason.INVALID_ARGUMENTS,
                               f"args must be a tuple and value an int >= 0: {args!r}, {value!r}",
                               market)
        self._sync()
        try:
            res = self.backend.transact(self.address_of(sender), d.address, d.abi, fn,
                                        tuple(args), value)
        except UnknownFunction as exc:
            return self.reject("transact", sender, Reason.UNKNOWN_FUNCTION, str(exc), market)
        except TypeError as exc:
            return self.reject("transact", sender, Reason.INVALID_ARGUMENTS, str(exc), market)
        except EvmRevert as exc:
            return self.reject("transact", sender, Reason.EVM_REVERT, exc.reason, market)
        emit, stamp = self.chain.emit, self.chain.stamp()
        for name, ev_args in res.events:
            emit(EvmLog(*stamp, market, sender, name, ev_args))
        return Receipt(EXECUTED, block=self.chain.block, value=_unwrap(res.output))

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> Any:
        return (self.backend.snapshot(), dict(self.contracts), dict(self.by_address),
                dict(self.parties), dict(self.bridges))

    def restore(self, state: Any) -> None:
        evm, contracts, by_address, parties, bridges = state
        self.backend.restore(evm)
        self.contracts, self.by_address, self.parties = dict(contracts), dict(by_address), dict(parties)
        self.bridges = dict(bridges)

    # -- checks -------------------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        """The bridge: each bridged asset's escrow equals its token's supply."""
        return self.bridge_invariant_errors()


def _unwrap(out: tuple) -> Any:
    if not out:
        return None
    return out[0] if len(out) == 1 else out


class _Function:
    __slots__ = ("contract", "fn", "args")

    def __init__(self, contract: Contract, fn: str, args: tuple) -> None:
        self.contract, self.fn, self.args = contract, fn, args

    def call(self) -> Any:
        return self.contract.call(self.fn, *self.args)

    def transact(self, sender: str, value: int = 0) -> Any:
        return self.contract.transact(self.fn, *self.args, sender=sender, value=value)

    def tx(self, sender: str, value: int = 0) -> Transaction:
        return self.contract.tx(self.fn, *self.args, sender=sender, value=value)


class _Functions:
    __slots__ = ("_contract",)

    def __init__(self, contract: Contract) -> None:
        self._contract = contract

    def __getattr__(self, fn: str) -> Any:
        if fn.startswith("__"):
            raise AttributeError(fn)
        self._contract.abi.function(fn)  # UnknownFunction naming the known ones
        return lambda *args: _Function(self._contract, fn, args)

    def __dir__(self) -> list[str]:
        return sorted(self._contract.abi.functions)


class Contract:
    """A deployed contract, through the ``evm`` protocol: ``label``, ``address``, ``abi``.

    ``call`` reads at the current block; ``transact`` sends a transaction through the
    chain (executed now, or at the block's close in mempool mode) and returns its
    receipt; ``functions.<name>(*args)`` offers both, and raises
    :class:`~defisim.evm.abi.UnknownFunction` for a name the ABI does not have.
    """

    __slots__ = ("_protocol", "label", "address", "abi")

    def __init__(self, protocol: EvmProtocol, deployed: _Deployed) -> None:
        self._protocol = protocol
        self.label = deployed.label
        self.address = deployed.address
        self.abi = deployed.abi

    @property
    def functions(self) -> _Functions:
        return _Functions(self)

    def call(self, fn: str, *args: Any) -> Any:
        return self._protocol.call(self.label, fn, *args)

    def tx(self, fn: str, *args: Any, sender: str, value: int = 0) -> Transaction:
        """The raw transaction (for bundles and the mempool)."""
        return Transaction(sender, EvmProtocol.name, "transact", (self.label, fn, tuple(args), value))

    def transact(self, fn: str, *args: Any, sender: str, value: int = 0) -> Any:
        return self._protocol.chain.submit(self.tx(fn, *args, sender=sender, value=value))

    def __repr__(self) -> str:
        return f"Contract({self.label!r}, {self.abi.name}, {self.address})"

