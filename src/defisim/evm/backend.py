"""The EVM backend interface (:class:`EvmBackend`) and the embedded implementation
(:class:`EmbeddedBackend`, on simular-evm).

A backend executes contract code and nothing else: deployment, read-only calls,
state-changing transactions with their decoded events, snapshots of the whole EVM
state, and the block environment (number, timestamp) that the chain protocol
(:class:`~defisim.evm.protocol.EvmProtocol`) keeps equal to the chain's clock. It knows
no party, no ledger and no event log. A revert is an :class:`EvmRevert` carrying the
decoded reason; everything else that goes wrong is an :class:`~defisim.evm.abi.EvmError`.

The embedded backend is simular-evm 0.3.0 (Apache-2.0, its wheel's
``METADATA``/``licenses/LICENSE``; revm inside), chosen over pyrevm 0.3.7, whose wheel
and repository state no licence. Its limits, worked around here or documented:

- functions are called by name with the arguments as text (:meth:`ContractAbi.check_args`
  checks and formats them first; its parser would panic on bad input);
- signed integer outputs are decoded through ``i64``: function outputs are declared
  unsigned to it and converted back (:mod:`defisim.evm.abi`); signed *event* fields
  beyond 64 bits are not recoverable;
- the events of a transaction come back as one dict by event name (a Rust hash map,
  in no stable order), decoded with the called contract's ABI: logs of another contract
  appear only when the called ABI has an event of the same signature, a repeated event
  keeps its last occurrence, the emitting address is not given, and the emission order
  is lost (:meth:`EmbeddedBackend.transact` sorts them in the ABI's order of events);
- its clock starts at the wall-clock time and only moves forward by
  ``advance_block(seconds)`` (one block each): :meth:`EmbeddedBackend.set_block` moves
  it there, or rewrites its state snapshot (which holds ``block_num`` and ``timestamp``)
  to go anywhere else, so runs never see the wall clock;
- wheels exist for CPython 3.10 and 3.11 only (``Requires-Python: <3.12``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from defisim.extras import require

from .abi import ContractAbi, EvmError

__all__ = ["EmbeddedBackend", "EvmBackend", "EvmRevert", "TxResult"]


class EvmRevert(EvmError):
    """A call or transaction reverted: ``reason`` is the decoded revert string (the
    ``Error(string)`` payload, e.g. ``"UniswapV2: K"``), ``gas_used`` the gas it burned."""

    def __init__(self, reason: str, gas_used: int = 0, detail: str = "") -> None:
        self.reason = reason
        self.gas_used = gas_used
        super().__init__(detail or f"reverted: {reason}")


@dataclass(frozen=True, slots=True)
class TxResult:
    """A transaction's outcome: ``output`` (the function's decoded return values, one per
    ABI output), ``events`` (``(event name, decoded args)``, in the ABI's order of events),
    ``gas_used``."""

    output: tuple[Any, ...]
    events: tuple[tuple[str, tuple[Any, ...]], ...]
    gas_used: int


class EvmBackend:
    """What the chain protocol needs of an EVM. Addresses are lower-case ``0x`` strings,
    amounts integers (wei, token base units)."""

    def deploy(self, sender: str, abi: ContractAbi, bytecode: bytes,
               args: tuple[Any, ...] = (), value: int = 0) -> str:
        """Deploy ``bytecode`` with constructor ``args``; return the new address.
        Raises :class:`EvmRevert` when the constructor reverts."""
        raise NotImplementedError

    def call(self, address: str, abi: ContractAbi, fn: str, args: tuple[Any, ...] = ()) -> tuple:
        """A read-only call: the decoded outputs; nothing changes. Raises
        :class:`EvmRevert`."""
        raise NotImplementedError

    def transact(self, sender: str, address: str, abi: ContractAbi, fn: str,
                 args: tuple[Any, ...] = (), value: int = 0) -> TxResult:
        """A state-changing call from ``sender``, committed unless it reverts (then
        :class:`EvmRevert`, and nothing changed)."""
        raise NotImplementedError

    def snapshot(self) -> Any:
        """The whole EVM state (accounts, code, storage, block), restorable any number of
        times by :meth:`restore`."""
        raise NotImplementedError

    def restore(self, state: Any) -> None:
        raise NotImplementedError

    def canonical_state(self) -> Any:
        """The whole EVM state as plain values for the chain's state hash (accounts,
        code, storage, block). The default raises: a backend that cannot read its
        state cheaply is not hashed.

        Raises:
            NotImplementedError: always, naming the backend.
        """
        raise NotImplementedError(f"the EVM backend {type(self).__name__} gives no state "
                                  "for a state hash")

    def set_block(self, number: int, timestamp: int) -> None:
        """Make ``block.number`` and ``block.timestamp`` (seconds) these values."""
        raise NotImplementedError

    @property
    def block(self) -> tuple[int, int]:
        """``(block.number, block.timestamp)``."""
        raise NotImplementedError

    def fund(self, address: str, wei: int) -> None:
        """Create ``address`` holding ``wei`` of ether (a faucet, for set-up)."""
        raise NotImplementedError

    def set_storage(self, address: str, slots: dict[int, int]) -> None:
        """Write storage words of the contract at ``address`` (slot -> uint256 value),
        as a test node's ``setStorageAt`` does: for imposing a state that no transaction
        can produce (a replay starting from observed chain state). Raises ``ValueError``
        for a slot or value outside uint256."""
        raise NotImplementedError

    def balance(self, address: str) -> int:
        """The ether balance of ``address`` in wei."""
        raise NotImplementedError


_REVERT = re.compile(r'Reverted: "(?:revert: )?(.*)"\. Gas used: (\d+)', re.S)
_REVERT_NO_REASON = re.compile(r"Reverted with no reason\. Gas used: (\d+)")
_MAX_STEPS = 64
"""At most this many ``advance_block`` calls for one :meth:`EmbeddedBackend.set_block`;
beyond, the snapshot is rewritten."""


def _check_words(slots: dict[int, int]) -> None:
    for slot, value in slots.items():
        if not (0 <= slot < 1 << 256 and 0 <= value < 1 << 256):
            raise ValueError(f"storage slot {slot} / value {value} is not a uint256")


def _simular() -> Any:
    return require("evm", "simular", feature="the embedded EVM backend")


class EmbeddedBackend(EvmBackend):
    """The embedded EVM: simular-evm's in-memory revm, in this process.

    Args:
        number: the first ``block.number``.
        timestamp: the first ``block.timestamp`` (seconds).

    Raises:
        defisim.extras.MissingExtraError: simular-evm is not installed (the ``evm`` extra).
    """

    def __init__(self, number: int = 1, timestamp: int = 0) -> None:
        self._sim = _simular()
        self._evm = self._sim.PyEvm()
        self._pyabis: dict[tuple[int, bytes], tuple[ContractAbi, Any]] = {}
        self._number, self._timestamp = -1, -1
        self._rewrite_block(number, timestamp)

    def __deepcopy__(self, memo: dict) -> EmbeddedBackend:
        """A fork (``Simulation.snapshot``): an independent EVM with the same state."""
        new = object.__new__(EmbeddedBackend)
        new._sim = self._sim
        new._pyabis = {}
        new._number, new._timestamp = self._number, self._timestamp
        new._evm = self._sim.PyEvm.from_snapshot(self._evm.create_snapshot())
        memo[id(self)] = new
        return new

    def __getstate__(self) -> dict:
        """Pickling (an RL session's warm-up blob, a worker process): the EVM as its
        snapshot text; the compiled-ABI cache is rebuilt on use."""
        return {"evm": self._evm.create_snapshot(), "number": self._number,
                "timestamp": self._timestamp}

    def __setstate__(self, state: dict) -> None:
        self._sim = _simular()
        self._pyabis = {}
        self._number, self._timestamp = state["number"], state["timestamp"]
        self._evm = self._sim.PyEvm.from_snapshot(state["evm"])

    # -- helpers ---------------------------------------------------------------------
    def _pyabi(self, abi: ContractAbi, bytecode: bytes = b"") -> Any:
        key = (id(abi), bytecode)
        hit = self._pyabis.get(key)
        if hit is None:
            pa = self._sim.PyAbi.from_abi_bytecode(abi.backend_json(), bytecode or None)
            hit = self._pyabis[key] = (abi, pa)  # holds abi: its id stays unique
        return hit[1]

    def _run(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except RuntimeError as exc:
            msg = str(exc)
            m = _REVERT.search(msg)
            if m:
                raise EvmRevert(m.group(1), int(m.group(2)), f"{what} reverted: {m.group(1)}") from None
            m = _REVERT_NO_REASON.search(msg)
            if m:  # a bare require / revert(), or a custom error: the reason is ""
                raise EvmRevert("", int(m.group(1)), f"{what} reverted with no reason") from None
            raise EvmRevert(msg.split("\n")[0], 0, f"{what} failed: {msg.splitlines()[0]}") from None
        except BaseException as exc:  # pyo3's PanicException derives from BaseException
            if type(exc).__name__ != "PanicException":
                raise
            first = str(exc).split("\n")[0]
            if "Overrun" in first:
                raise EvmError(f"{what}: no contract code answered at this address "
                               f"(empty return data): {first}") from None
            raise EvmError(f"{what}: the embedded EVM panicked: {first}") from None

    # -- contracts -------------------------------------------------------------------
    def deploy(self, sender: str, abi: ContractAbi, bytecode: bytes,
               args: tuple[Any, ...] = (), value: int = 0) -> str:
        text = abi.check_args("constructor", abi.constructor_types, tuple(args))
        pa = self._pyabi(abi, bytecode)
        return self._run(f"deploying {abi.name}", self._evm.deploy, text, sender, value, pa).lower()

    def call(self, address: str, abi: ContractAbi, fn: str, args: tuple[Any, ...] = ()) -> tuple:
        f = abi.function(fn)
        text = abi.check_args(fn, f.input_types, tuple(args))
        raw = self._run(f"{abi.name}.{fn}", self._evm.call, fn, text, address, self._pyabi(abi))
        return abi.decode_outputs(f, raw)

    def transact(self, sender: str, address: str, abi: ContractAbi, fn: str,
                 args: tuple[Any, ...] = (), value: int = 0) -> TxResult:
        f = abi.function(fn)
        text = abi.check_args(fn, f.input_types, tuple(args))
        res = self._run(f"{abi.name}.{fn}", self._evm.transact, fn, text, sender, address,
                        value, self._pyabi(abi))
        # simular-evm keeps the events in a hash map: its order changes from run to run,
        # so they come in the ABI's order of events (deterministic; not emission order)
        rank = abi.event_rank
        found = sorted((res.event or {}).items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
        events = tuple((name, abi.decode_event(name, vals)) for name, vals in found)
        return TxResult(abi.decode_outputs(f, res.output), events, res.gas_used)

    # -- state -----------------------------------------------------------------------
    def snapshot(self) -> Any:
        return (self._evm.create_snapshot(), self._number, self._timestamp)

    def canonical_state(self) -> Any:
        """revm's own snapshot (accounts, code, storage, block; JSON whose maps the
        state hash sorts) with the block number and time."""
        return (json.loads(self._evm.create_snapshot()), self._number, self._timestamp)

    def restore(self, state: Any) -> None:
        raw, self._number, self._timestamp = state
        self._evm = self._sim.PyEvm.from_snapshot(raw)

    def _rewrite_block(self, number: int, timestamp: int) -> None:
        snap = json.loads(self._evm.create_snapshot())
        snap["block_num"] = number
        snap["timestamp"] = timestamp
        self._evm = self._sim.PyEvm.from_snapshot(json.dumps(snap))
        self._number, self._timestamp = number, timestamp

    def set_block(self, number: int, timestamp: int) -> None:
        n, ts = self._number, self._timestamp
        if number == n and timestamp == ts:
            return
        steps = number - n
        if 1 <= steps <= _MAX_STEPS and timestamp >= ts:
            advance = self._evm.advance_block
            for _ in range(steps - 1):
                advance(0)
            advance(timestamp - ts)
            self._number, self._timestamp = number, timestamp
        else:
            self._rewrite_block(number, timestamp)

    @property
    def block(self) -> tuple[int, int]:
        return self._number, self._timestamp

    def fund(self, address: str, wei: int) -> None:
        self._run("funding", self._evm.create_account, address, wei)

    def balance(self, address: str) -> int:
        return self._run("balance", self._evm.get_balance, address)

    def set_storage(self, address: str, slots: dict[int, int]) -> None:
        # simular-evm has no storage setter: rewrite its state snapshot (one round trip
        # for all the slots; storage keys and values are minimal hex there)
        _check_words(slots)
        snap = json.loads(self._evm.create_snapshot())
        account = snap["accounts"].get(address.lower())
        if account is None:
            account = next((a for k, a in snap["accounts"].items()
                            if k.lower() == address.lower()), None)
        if account is None:
            raise EvmError(f"set_storage: no account at {address}")
        storage = account.setdefault("storage", {})
        for slot, value in slots.items():
            key = hex(slot)
            if value:
                storage[key] = hex(value)
            else:
                storage.pop(key, None)
        self._evm = self._sim.PyEvm.from_snapshot(json.dumps(snap))
