"""Contract ABIs: function look-up by name, argument checks, output and event decoding,
and the deterministic EVM address of a party.

A :class:`ContractAbi` is built from a contract's JSON ABI (the ``abi`` list of an
artifact). It checks arguments with ``eth-abi`` (MIT, PyPI) before anything reaches the
EVM, so a wrong argument is a Python ``TypeError`` naming the function and the
parameter, and an unknown function is an :class:`UnknownFunction` naming the function
and the known ones. Addresses are lower-case ``0x`` strings everywhere.

``eth_abi`` and ``eth_hash`` come with the ``evm`` extra and are imported on first use
(:func:`defisim.extras.require`), so the core install imports this module too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from defisim.extras import require

__all__ = [
    "ZERO_ADDRESS",
    "AbiFunction",
    "ContractAbi",
    "EvmError",
    "UnknownFunction",
    "keccak",
    "party_address",
]

ZERO_ADDRESS = "0x" + "00" * 20


class EvmError(RuntimeError):
    """An EVM set-up or usage error (not a revert: reverts are rejections)."""


class UnknownFunction(EvmError, LookupError):
    """The contract's ABI has no function of that name (the message lists the known ones)."""


def _eth_abi() -> Any:
    return require("evm", "eth_abi", feature="defisim.evm")


def keccak(data: bytes) -> bytes:
    """keccak-256 of ``data`` (eth-hash with the pycryptodome backend)."""
    return require("evm", "eth_hash.auto", feature="defisim.evm").keccak(data)


@lru_cache(maxsize=65536)
def party_address(party: str) -> str:
    """The EVM address of a party: the last 20 bytes of
    ``keccak256("defisim:party:" + party)``, lower case. Deterministic: the same name
    gives the same address in every run."""
    return "0x" + keccak(b"defisim:party:" + party.encode()).hex()[-40:]


def _canon(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter (tuples spelled out: ``(uint256,address)[]``)."""
    t = param["type"]
    if t.startswith("tuple"):
        inner = ",".join(_canon(c) for c in param.get("components", []))
        return f"({inner}){t[5:]}"
    if t == "uint" or t.startswith("uint["):
        return "uint256" + t[4:]
    if t == "int" or t.startswith("int["):
        return "int256" + t[3:]
    return t


def _unsigned(param: dict[str, Any]) -> dict[str, Any]:
    """The parameter with every ``intN`` made ``uintN`` (simular-evm 0.3.0 decodes signed
    integers through ``as_i64``, losing any value outside 64 bits; the two's complement
    is undone in :func:`_signed`)."""
    p = dict(param)
    t = p["type"]
    if t.startswith("int"):
        p["type"] = "u" + t
    if "components" in p:
        p["components"] = [_unsigned(c) for c in p["components"]]
    return p


def _signed(param: dict[str, Any], value: Any) -> Any:
    """Undo :func:`_unsigned` on a decoded value; addresses to lower case, bytes to bytes."""
    t: str = param["type"]
    if t.endswith("]"):
        elem = dict(param, type=t[: t.rindex("[")])
        return tuple(_signed(elem, v) for v in value)
    if t == "tuple":
        return tuple(_signed(c, v) for c, v in zip(param["components"], value, strict=True))
    if t.startswith("int"):
        # a negative intN comes sign-extended to 256 bits, which the decoder (told uintN)
        # hands over whole: keep the low N bits, then undo the two's complement
        bits = int(t[3:] or 256)
        value &= (1 << bits) - 1
        return value - (1 << bits) if value >= 1 << (bits - 1) else value
    if t == "address":
        return value.lower()
    if t.startswith("bytes") and isinstance(value, list):
        return bytes(value)
    return value


def _fmt(t: str, value: Any) -> str:
    """One argument as the text simular-evm parses (alloy's ``DynSolType::coerce_str``)."""
    if t.endswith("]"):
        elem = t[: t.rindex("[")]
        return "[" + ",".join(_fmt(elem, v) for v in value) + "]"
    if t.startswith("("):
        types = _split(t[1:-1])
        return "(" + ",".join(_fmt(et, v) for et, v in zip(types, value, strict=True)) + ")"
    if t == "bool":
        return "true" if value else "false"
    if t.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if t == "string":
        if any(c in value for c in ',()[]"\''):
            raise TypeError(f"string argument {value!r}: the embedded EVM's argument parser "
                            "takes no , ( ) [ ] or quotes in strings")
        return value
    return str(value)


def _split(types: str) -> list[str]:
    """Split a tuple's inner type list at its top-level commas."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(types):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(types[start:i])
            start = i + 1
    if types:
        out.append(types[start:])
    return out


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _uint_check(bits: int) -> Any:
    top = 1 << bits
    return lambda v: type(v) is int and 0 <= v < top


def _int_check(bits: int) -> Any:
    low, top = -(1 << (bits - 1)), 1 << (bits - 1)
    return lambda v: type(v) is int and low <= v < top


_FAST: dict[str, Any] = {
    **{f"uint{b}": _uint_check(b) for b in range(8, 257, 8)},
    **{f"int{b}": _int_check(b) for b in range(8, 257, 8)},
    "address": lambda v: type(v) is str and _ADDRESS.fullmatch(v) is not None,
    "bool": lambda v: type(v) is bool,
    "bytes": lambda v: type(v) is bytes,
}
"""Checks of the common static types, without eth-abi (whose ``is_encodable`` is the
cost of a call); other types go to eth-abi."""


@dataclass(frozen=True)
class AbiFunction:
    """One function of an ABI: ``name``, canonical ``input_types``, ``outputs`` (ABI
    parameters), ``mutability`` (``view``, ``pure``, ``nonpayable``, ``payable``)."""

    name: str
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    outputs: tuple[dict[str, Any], ...]
    mutability: str

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"


@dataclass(frozen=True)
class AbiEvent:
    """One event of an ABI: ``name`` and its ``inputs`` (ABI parameters, in ABI order)."""

    name: str
    inputs: tuple[dict[str, Any], ...]

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(p.get("name", "") for p in self.inputs)


class ContractAbi:
    """A contract's ABI by name: its functions, constructor and events.

    Overloaded functions (two of one name) are not supported by the embedded backend,
    which calls by name: the constructor raises :class:`EvmError` for them.
    """

    def __init__(self, name: str, abi: list[dict[str, Any]]) -> None:
        self.name = name
        self.abi = abi
        self.functions: dict[str, AbiFunction] = {}
        self.events: dict[str, AbiEvent] = {}
        self.constructor_types: tuple[str, ...] = ()
        for item in abi:
            kind = item.get("type", "function")
            if kind == "function":
                fn = AbiFunction(
                    item["name"],
                    tuple(p.get("name", "") for p in item.get("inputs", [])),
                    tuple(_canon(p) for p in item.get("inputs", [])),
                    tuple(item.get("outputs", [])),
                    item.get("stateMutability")
                    or ("view" if item.get("constant") else "nonpayable"),
                )
                if fn.name in self.functions:
                    raise EvmError(f"contract {name}: overloaded function {fn.name!r} "
                                   "(the embedded backend calls functions by name)")
                self.functions[fn.name] = fn
            elif kind == "event":
                self.events[item["name"]] = AbiEvent(item["name"], tuple(item.get("inputs", [])))
            elif kind == "constructor":
                self.constructor_types = tuple(_canon(p) for p in item.get("inputs", []))
        self.event_rank = {n: i for i, n in enumerate(self.events)}
        """Event name -> its position among the ABI's events."""

    def __deepcopy__(self, memo: dict) -> ContractAbi:
        # read-only once built: a fork or a protocol snapshot shares it (and the
        # backend's cache of compiled ABIs, keyed by its identity, stays warm)
        return self

    def function(self, fn: str) -> AbiFunction:
        """The function named ``fn``.

        Raises:
            UnknownFunction: the ABI has none (the message names the known functions).
        """
        try:
            return self.functions[fn]
        except KeyError:
            raise UnknownFunction(f"contract {self.name} has no function {fn!r}; known: "
                                  f"{', '.join(sorted(self.functions))}") from None

    def check_args(self, what: str, types: tuple[str, ...], args: tuple[Any, ...]) -> str:
        """Check ``args`` against ``types`` and return them as the embedded EVM's argument
        text.

        Raises:
            TypeError: wrong number of arguments, or one the type cannot encode.
        """
        if len(args) != len(types):
            raise TypeError(f"{self.name}.{what} takes {len(types)} arguments "
                            f"({', '.join(types)}), got {len(args)}")
        is_encodable = None
        for i, (t, v) in enumerate(zip(types, args, strict=True)):
            fast = _FAST.get(t)
            if fast is not None:
                ok = fast(v)
            elif isinstance(v, bool) and t != "bool":
                ok = False
            else:
                is_encodable = is_encodable or _eth_abi().is_encodable
                ok = is_encodable(t, v)
            if not ok:
                raise TypeError(f"{self.name}.{what}: argument {i} ({t}) cannot be {v!r}")
        return "(" + ",".join(_fmt(t, v) for t, v in zip(types, args, strict=True)) + ")"

    def decode_outputs(self, fn: AbiFunction, raw: Any) -> tuple[Any, ...]:
        """The embedded EVM's decoded output as a tuple, one value per ABI output."""
        outs = fn.outputs
        if not outs:
            return ()
        values = [raw] if len(outs) == 1 else list(raw)
        return tuple(_signed(p, v) for p, v in zip(outs, values, strict=True))

    def decode_event(self, name: str, values: list[Any]) -> tuple[Any, ...]:
        """An event's fields in ABI order, from the embedded EVM's order (the indexed
        fields first, then the data fields, each in ABI order)."""
        ev = self.events.get(name)
        if ev is None:
            return tuple(values)
        order = [i for i, p in enumerate(ev.inputs) if p.get("indexed")]
        order += [i for i, p in enumerate(ev.inputs) if not p.get("indexed")]
        out: list[Any] = [None] * len(order)
        for i, v in zip(order, values, strict=True):
            out[i] = _signed(ev.inputs[i], v)
        return tuple(out)

    def backend_json(self) -> str:
        """The ABI for simular-evm: every signed function output made unsigned (events
        keep their types: an event's topic is the hash of its signature)."""
        out = []
        for item in self.abi:
            if item.get("type") == "function":
                item = dict(item, outputs=[_unsigned(p) for p in item.get("outputs", [])])
            out.append(item)
        return json.dumps(out)
