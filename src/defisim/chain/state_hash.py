"""A canonical digest of the chain's state: :func:`state_hash`.

The state is walked and written as canonical bytes into SHA-256. The encoding is a
function of the values alone, never of memory addresses, insertion order of sets or
dicts, or pickling: equal states give equal hashes on every machine and in every
process, and any change of a value changes the bytes.

Encoding (one tag byte, then the payload; lengths are 8-byte big-endian):

- ``None``, ``True``, ``False``: the tag alone;
- ``int``: its signed decimal text (exact at any size); ``float``: its IEEE-754
  binary64 bytes (exact: ``0.1`` and ``0.1 + 1e-17`` differ, ``-0.0`` and ``0.0``
  differ); ``str``: UTF-8; ``bytes``: as is;
- ``Enum``: the class's qualified name and the member's value;
- ``tuple``, ``list``, ``deque``: the items in order; ``dict``: the items sorted by
  the bytes of their keys; ``set`` / ``frozenset``: the items' bytes sorted;
- numpy: a ``Generator`` as its bit generator's state, an array as dtype, shape and
  raw bytes, a scalar as its Python value;
- an object with ``canonical_state()`` (an EVM backend): what it returns;
- any other object (dataclasses, a market, an order book): its class's qualified
  name and its attributes (``__dict__`` and ``__slots__``) sorted by name, except
  the names in a class attribute ``state_exclude`` (caches, not state);
- a function or bound method: its qualified name and its ``self``;
- a mutable object met again (a shared order, a cycle): a back-reference to the
  order in which it was first met (the walk's order is itself canonical);
- the chain, its ledger and its protocols, met inside a protocol's state: their
  name (``refs``).

Anything else (a file, a lock) raises ``TypeError`` naming the type and the path to
it, so that uncovered state is found rather than silently left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections import deque
from enum import Enum
from types import BuiltinMethodType, FunctionType, MethodType
from typing import Any

import numpy as np

_LEN = struct.Struct(">Q").pack
_DOUBLE = struct.Struct(">d").pack
_MUTABLE_BUILTINS = (dict, list, set, deque, bytearray)


class CanonicalEncoder:
    """Writes values as canonical bytes (module docstring) into ``out``.

    Args:
        refs: ``id(object) -> name`` of objects written by name only (the chain,
            its ledger, the protocols).
    """

    def __init__(self, refs: dict[int, str] | None = None) -> None:
        self.out = bytearray()
        self.refs = refs or {}
        self._seen: dict[int, int] = {}
        self._keep: list[Any] = []  # keeps ids stable while the walk runs

    def encode(self, value: Any) -> bytes:
        """The canonical bytes of ``value`` alone (no back-references to earlier
        values: used for dict keys and set items)."""
        sub = CanonicalEncoder(self.refs)
        sub.write(value, "key")
        return bytes(sub.out)

    def write(self, v: Any, path: str = "state") -> None:
        """Append the encoding of ``v``; ``path`` names it in errors."""
        out = self.out
        t = type(v)
        if t is int:
            s = str(v).encode()
            out += b"i" + _LEN(len(s)) + s
        elif t is str:
            s = v.encode("utf-8", "surrogatepass")
            out += b"s" + _LEN(len(s)) + s
        elif v is None:
            out += b"n"
        elif t is bool:
            out += b"T" if v else b"F"
        elif t is float:
            out += b"d" + _DOUBLE(v)
        elif t is tuple:
            out += b"t" + _LEN(len(v))
            for i, x in enumerate(v):
                self.write(x, f"{path}[{i}]")
        elif t is bytes:
            out += b"b" + _LEN(len(v)) + v
        elif isinstance(v, Enum):
            self._name(b"e", t)
            self.write(v.value, path)
        elif id(v) in self.refs:
            name = self.refs[id(v)].encode()
            out += b"r" + _LEN(len(name)) + name
        elif isinstance(v, (int, float, str, bytes)):  # subclasses of the plain types
            self._name(b"v", t)
            self.write(t.__mro__[-2](v) if not isinstance(v, bool) else bool(v), path)
        elif isinstance(v, np.generic):
            self.write(v.item(), path)
        else:
            self._object(v, path)

    def _name(self, tag: bytes, cls: type) -> None:
        s = f"{cls.__module__}.{cls.__qualname__}".encode()
        self.out += tag + _LEN(len(s)) + s

    def _object(self, v: Any, path: str) -> None:
        out = self.out
        key = id(v)
        seen = self._seen.get(key)
        if seen is not None:
            out += b"p" + _LEN(seen)
            return
        if not isinstance(v, (tuple, frozenset)) and not _is_frozen_dataclass(v):
            self._seen[key] = len(self._seen)
            self._keep.append(v)
        if isinstance(v, dict):
            out += b"m" + _LEN(len(v))
            items = sorted(((self.encode(k), k, x) for k, x in v.items()), key=_first)
            for kb, k, x in items:
                out += kb
                self.write(x, f"{path}[{k!r}]")
        elif isinstance(v, (list, deque, tuple)):
            out += (b"l" if isinstance(v, list) else b"q" if isinstance(v, deque) else b"t")
            out += _LEN(len(v))
            for i, x in enumerate(v):
                self.write(x, f"{path}[{i}]")
        elif isinstance(v, (set, frozenset)):
            out += b"z" + _LEN(len(v))
            for b in sorted(self.encode(x) for x in v):
                out += b
        elif isinstance(v, bytearray):
            out += b"b" + _LEN(len(v)) + bytes(v)
        elif isinstance(v, np.random.Generator):
            out += b"g"
            self.write(v.bit_generator.state, f"{path}.bit_generator")
        elif isinstance(v, np.ndarray):
            out += b"a"
            self.write((str(v.dtype), tuple(v.shape)), path)
            data = np.ascontiguousarray(v).tobytes()
            out += _LEN(len(data)) + data
        elif isinstance(v, (MethodType, BuiltinMethodType)):
            self._name(b"c", type(v))
            name = v.__qualname__.encode()
            out += _LEN(len(name)) + name
            self.write(getattr(v, "__self__", None), f"{path}.__self__")
        elif isinstance(v, FunctionType):
            s = f"{v.__module__}.{v.__qualname__}".encode()
            out += b"f" + _LEN(len(s)) + s
        elif isinstance(v, type):
            self._name(b"y", v)
        elif callable(getattr(v, "canonical_state", None)):
            self._name(b"x", type(v))
            self.write(v.canonical_state(), f"{path}.canonical_state()")
        else:
            attrs = _attributes(v)
            if attrs is None:
                raise TypeError(f"state hash: cannot encode {type(v).__qualname__} at {path}")
            self._name(b"o", type(v))
            out += _LEN(len(attrs))
            for name in sorted(attrs):
                s = name.encode()
                out += _LEN(len(s)) + s
                self.write(attrs[name], f"{path}.{name}")


def _first(item: tuple) -> bytes:
    return item[0]


def _is_frozen_dataclass(v: Any) -> bool:
    params = getattr(type(v), "__dataclass_params__", None)
    return params is not None and params.frozen


def _attributes(v: Any) -> dict[str, Any] | None:
    """``name -> value`` of an object's state (``__dict__`` and every ``__slots__``),
    without its class's ``state_exclude`` names; ``None`` for an object with neither."""
    cls = type(v)
    exclude = getattr(cls, "state_exclude", ())
    attrs: dict[str, Any] = {}
    has = False
    d = getattr(v, "__dict__", None)
    if isinstance(d, dict):
        has = True
        attrs.update(d)
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for s in slots:
            if s in ("__dict__", "__weakref__"):
                continue
            has = True
            try:
                attrs[s] = getattr(v, s)
            except AttributeError:  # an unset slot is a state of its own
                attrs[s] = _Unset
    if not has and dataclasses.is_dataclass(v):
        has = True
    if not has:
        return None
    for name in exclude:
        attrs.pop(name, None)
    return attrs


class _Unset:
    """Stands for an unset slot."""


def canonical_bytes(value: Any, refs: dict[int, str] | None = None) -> bytes:
    """The canonical bytes of ``value`` (module docstring).

    Raises:
        TypeError: a value of a type the encoding does not cover (names the path).
    """
    enc = CanonicalEncoder(refs)
    enc.write(value)
    return bytes(enc.out)


def digest(value: Any, refs: dict[int, str] | None = None) -> str:
    """SHA-256 (hex) of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(value, refs)).hexdigest()
