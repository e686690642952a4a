"""Transaction arguments as canonical JSON text, and back: :func:`encode_args`,
:func:`decode_args` (the ``transactions`` table of a run store, replay).

Arguments round-trip exactly, type included. JSON's own values stand for
themselves (``int`` at any size, ``str``, ``bool``, ``None``); every other type is
a one-key object naming it:

- ``{"f": "0x1.8p+1"}``: a ``float`` by :meth:`float.hex` (exact, NaN and infinities too);
- ``{"t": [...]}`` a tuple, ``{"l": [...]}`` a list;
- ``{"d": [[key, value], ...]}`` a dict (keys of any type, in the dict's order);
- ``{"b": "00ff"}`` bytes (hex);
- ``{"e": "module:Qualname", "v": value}`` an enum member by value;
- ``{"c": "module:Qualname", "v": {field: value}}`` a dataclass by its init fields.

Classes are looked up by module and qualified name when decoding; only classes in
the ``defisim`` package are accepted (a stored run names no arbitrary code).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from enum import Enum
from typing import Any

_ALLOWED_ROOT = "defisim"


def to_json_value(v: Any) -> Any:
    """``v`` as a JSON-ready value (module docstring).

    Raises:
        TypeError: a value of another type (a numpy array, an arbitrary object).
    """
    t = type(v)
    if v is None or t is bool or t is int or t is str:
        return v
    if t is float:
        return {"f": v.hex()}
    if t is tuple:
        return {"t": [to_json_value(x) for x in v]}
    if t is list:
        return {"l": [to_json_value(x) for x in v]}
    if t is dict:
        return {"d": [[to_json_value(k), to_json_value(x)] for k, x in v.items()]}
    if t is bytes:
        return {"b": v.hex()}
    if isinstance(v, Enum):
        return {"e": _class_name(t), "v": to_json_value(v.value)}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        fields = {f.name: to_json_value(getattr(v, f.name)) for f in dataclasses.fields(v) if f.init}
        return {"c": _class_name(t), "v": fields}
    if hasattr(v, "item") and hasattr(v, "dtype"):  # a numpy scalar: its Python value
        return to_json_value(v.item())
    raise TypeError(f"cannot encode a transaction argument of type {t.__qualname__}: {v!r}")


def from_json_value(v: Any) -> Any:
    """The inverse of :func:`to_json_value`.

    Raises:
        ValueError: a malformed value or a class outside ``defisim``.
    """
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, dict) and len(v) in (1, 2):
        if "f" in v:
            return float.fromhex(v["f"])
        if "t" in v:
            return tuple(from_json_value(x) for x in v["t"])
        if "l" in v:
            return [from_json_value(x) for x in v["l"]]
        if "d" in v:
            return {from_json_value(k): from_json_value(x) for k, x in v["d"]}
        if "b" in v:
            return bytes.fromhex(v["b"])
        if "e" in v:
            return _class(v["e"])(from_json_value(v["v"]))
        if "c" in v:
            cls = _class(v["c"])
            return cls(**{k: from_json_value(x) for k, x in v["v"].items()})
    raise ValueError(f"malformed transaction argument {v!r}")


def encode_args(args: tuple) -> str:
    """``args`` as compact JSON text (a list of :func:`to_json_value`)."""
    return json.dumps([to_json_value(a) for a in args], separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def decode_args(text: str) -> tuple:
    """The arguments of :func:`encode_args`' text.

    Raises:
        ValueError: malformed text.
    """
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError(f"transaction arguments must be a JSON list, got {text[:80]!r}")
    return tuple(from_json_value(a) for a in raw)


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: str) -> Any:
    module, _, qual = name.partition(":")
    if not qual or (module != _ALLOWED_ROOT and not module.startswith(_ALLOWED_ROOT + ".")):
        raise ValueError(f"transaction argument class {name!r} is not a defisim class")
    obj: Any = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{name!r} is not a class")
    return obj
