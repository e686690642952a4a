"""The wire format of the service boundary: every value that crosses ``Simulation``'s
interface, as JSON text and back.

What an agent sends to and receives from a :class:`~defisim.service.Simulation` is
meant to be a plain value (DESIGN.md, "Agents see views"), the same from a local or a
remote simulation. This module is that promise made executable: :func:`encode` turns
such a value into strict JSON (RFC 8259: no ``NaN``/``Infinity`` literals) and
:func:`decode` builds an equal value of the same types from it. It is the codec of
:class:`~defisim.service.loopback.JsonLoopbackSimulation` and of a future remote API.

Round trip: for every supported ``x``, ``decode(encode(x)) == x`` with the same types
at every level (a tuple stays a tuple, an ``OrderStatus`` an ``OrderStatus``, a float
a float bit for bit, NaN and -0.0 included), with two documented exceptions:

- a class without value equality (the futures ``OrderResult`` compares by identity)
  comes back equal field by field but not ``==``; :func:`same` compares any two
  values by their encodings;
- numpy scalars (``np.float64``, ``np.int64``, ``np.bool_``) travel as the plain
  Python number (a wire carries numbers, not numpy types); exceptions travel as
  their type and ``args`` (exceptions have no value equality).

Shapes (JSON): ``None``, ``bool``, ``str``, finite ``float`` and ``int`` with
``|x| <= 2**53`` are themselves; ``list`` is an array; ``dict`` with ``str`` keys none
of which starts with ``$`` is an object. Everything else is an object with one tag
key starting with ``$``:

- ``{"$int": "0x1f"}``: an int beyond 2**53 (hex: any size, exact);
- ``{"$float": "nan" | "inf" | "-inf"}``: a non-finite float;
- ``{"$tuple": [...]}``; ``{"$set": [...]}`` / ``{"$frozenset": [...]}`` (items in
  the order of their encodings);
- ``{"$dict": [[k, v], ...]}``: a dict with a non-str key or a key starting with ``$``;
- ``{"$decimal": "1.25"}``; ``{"$bytes": "00ff"}`` (hex);
- ``{"$enum": N, "v": value}``: a member of the allowed enum ``N``;
- ``{"$obj": N, "f": {field: v}}``: an allowed dataclass (its ``init`` fields) or
  slotted class (its slots) ``N``, rebuilt with ``N(**fields)``;
- ``{"$model": N, "v": {...}}``: an allowed pydantic model (``model_dump`` /
  ``model_validate``);
- ``{"$error": N, "args": [...]}``: an exception of allowed type ``N`` (an exception
  whose constructor names its attributes, such as ``InvariantViolation``:
  ``{"$error": N, "f": {attr: v}}``). An exception of another type travels as its
  nearest allowed base class with its message (pydantic's ``ValidationError`` as a
  ``ValueError``).

Allow-list: decoding creates objects only of the types registered here (the
service's views, the chain's and the futures protocol's values, their enums and
parameter models, builtin exceptions; :func:`register` adds more, e.g. a new
protocol's views) and of subclasses of :class:`~defisim.chain.events.Event` (every
event is a frozen dataclass of plain fields by the chain's convention). A name in a
payload is only ever looked up in that table; nothing is imported.

Errors:
    TypeError: :func:`encode` of a value of a type that is not allowed (the message
        names the type), or :func:`decode` of a payload naming a type that is not
        allowed (the message names it).
    ValueError: :func:`decode` of text that is not JSON or not of the shapes above;
        :func:`encode` of a string with lone surrogates (not Unicode text).
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel

from defisim.chain.events import Event

__all__ = ["allowed_types", "decode", "encode", "from_wire", "register", "same", "to_wire"]

_MAX_PLAIN_INT = 2**53
"""Ints beyond this travel as hex strings (a JSON reader in another language may hold
numbers as doubles)."""


# ----------------------------------------------------------------- the allow-list
@dataclasses.dataclass(frozen=True)
class _Kind:
    name: str
    cls: type
    kind: str  # "enum" | "obj" | "model" | "error"
    fields: tuple[str, ...] = ()


_BY_NAME: dict[str, _Kind] = {}
_BY_CLASS: dict[type, _Kind] = {}
_defaults_loaded = False


def register(cls: type, name: str | None = None) -> type:
    """Allow ``cls`` on the wire under ``name`` (default: the class's ``__name__``);
    returns ``cls`` (usable as a class decorator).

    Supported: an :class:`enum.Enum`; a dataclass (its ``init`` fields travel, and
    ``cls(**fields)`` rebuilds it); a class with ``__slots__`` whose constructor takes
    every slot by name (``cls(**slots)``); a pydantic model (``model_dump`` /
    ``model_validate``); an exception (``cls(*args)``). Registering the same class
    twice is a no-op.

    Raises:
        TypeError: ``cls`` is none of these, or a slotted class whose constructor does
            not take every slot by name.
        ValueError: ``name`` is already used by another class.
    """
    _load_defaults()
    return _register(cls, name)


def _register(cls: type, name: str | None = None) -> type:
    name = name or cls.__name__
    known = _BY_CLASS.get(cls)
    if known is not None:
        if known.name != name:
            raise ValueError(f"wire: {_qualname(cls)} is already registered as {known.name!r}")
        return cls
    other = _BY_NAME.get(name)
    if other is not None:
        raise ValueError(f"wire: name {name!r} is already used by {_qualname(other.cls)}")
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        k = _Kind(name, cls, "enum")
    elif isinstance(cls, type) and issubclass(cls, BaseModel):
        k = _Kind(name, cls, "model")
    elif isinstance(cls, type) and issubclass(cls, BaseException):
        # an exception with its own Python constructor travels as the attributes its
        # constructor names (InvariantViolation); others as their args
        init = cls.__dict__.get("__init__") or next(
            (c.__dict__["__init__"] for c in cls.__mro__ if "__init__" in c.__dict__), None)
        names: tuple[str, ...] = ()
        if inspect.isfunction(init):
            names = tuple(p for p in inspect.signature(init).parameters if p != "self")
        k = _Kind(name, cls, "error", names)
    elif dataclasses.is_dataclass(cls) and isinstance(cls, type):
        k = _Kind(name, cls, "obj", tuple(f.name for f in dataclasses.fields(cls) if f.init))
    elif isinstance(cls, type) and _all_slots(cls):
        slots = _all_slots(cls)
        params = inspect.signature(cls).parameters
        missing = [s for s in slots if s not in params]
        if missing:
            raise TypeError(f"wire: cannot register {_qualname(cls)}: its constructor does not "
                            f"take the slots {missing} by name")
        k = _Kind(name, cls, "obj", slots)
    else:
        raise TypeError(f"wire: cannot register {_qualname(cls)}: not an enum, dataclass, "
                        "slotted class, pydantic model or exception")
    _BY_NAME[name] = k
    _BY_CLASS[cls] = k
    return cls


def _all_slots(cls: type) -> tuple[str, ...]:
    out: list[str] = []
    for c in reversed(cls.__mro__):
        s = c.__dict__.get("__slots__", ())
        for n in (s,) if isinstance(s, str) else s:
            if n not in ("__dict__", "__weakref__") and n not in out:
                out.append(n)
    return tuple(out)


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


_BUILTIN_ERRORS = (
    ArithmeticError, AssertionError, AttributeError, IndexError, KeyError, LookupError,
    PermissionError,  # the remote API refuses a call for another party with it
    NotImplementedError, OverflowError, RuntimeError, TypeError, ValueError,
    ZeroDivisionError, Exception,
)


def _load_defaults() -> None:
    """The default allow-list (imported lazily: the service package imports the
    protocols this names)."""
    global _defaults_loaded
    if _defaults_loaded:
        return
    _defaults_loaded = True
    from defisim.chain.fee_market import FeeMarketParams
    from defisim.chain.invariants import InvariantViolation
    from defisim.chain.ledger import LedgerError
    from defisim.chain.transactions import Bundle, Receipt, Transaction
    from defisim.numeric.units import UnitConverter
    from defisim.protocols.futures import liquidity, margin, params, perpetual, price_monitoring
    from defisim.protocols.futures import types as ftypes
    from defisim.protocols.futures.state import LiquidityResult, OrderResult

    from .amm import AmmPoolView, PositionView
    from .futures import MarketView, OrderView
    from .simulation import AccountView

    for cls in (
        # the service's views
        AccountView, MarketView, OrderView, UnitConverter, AmmPoolView, PositionView,
        # the chain's values
        Transaction, Bundle, Receipt, FeeMarketParams,
        # the futures protocol's results, enums and parameters
        OrderResult, LiquidityResult, margin.MarginLevels,
        ftypes.Side, ftypes.OrderType, ftypes.TimeInForce, ftypes.PegReference,
        ftypes.OrderStatus, ftypes.MarketState, ftypes.TradeType, ftypes.Reason,
        liquidity.LiquidityReason,
        params.MarketConfig, params.SimpleRiskModel, params.LogNormalRiskModel,
        params.MarginScaling, params.FeeFactors, params.CloseoutParams,
        perpetual.PerpetualParams, liquidity.LiquidityParams,
        price_monitoring.PriceMonitoringTrigger, price_monitoring.PriceMonitoringParams,
        # exceptions (an exception raised by the far side travels as its type and args)
        *_BUILTIN_ERRORS, LedgerError, InvariantViolation,
    ):
        _register(cls)
    _scan_events()


def _scan_events() -> None:
    """Allow every :class:`Event` subclass defined so far (under its class name, or
    its module-qualified name when another class holds that name)."""
    todo = list(Event.__subclasses__())
    seen: set[type] = set()
    while todo:
        c = todo.pop()
        if c in seen:
            continue
        seen.add(c)
        todo.extend(c.__subclasses__())
        _register_event(c)
    _register_event(Event)


def _register_event(c: type) -> _Kind | None:
    if c in _BY_CLASS:
        return _BY_CLASS[c]
    if not dataclasses.is_dataclass(c):
        return None
    name = c.__name__ if c.__name__ not in _BY_NAME else _qualname(c)
    if name in _BY_NAME:
        return None
    _register(c, name)
    return _BY_CLASS[c]


def allowed_types() -> dict[str, type]:
    """The allow-list: wire name -> class (events defined so far included)."""
    _load_defaults()
    _scan_events()
    return {n: k.cls for n, k in _BY_NAME.items()}


def _kind_of(cls: type) -> _Kind | None:
    k = _BY_CLASS.get(cls)
    if k is None and isinstance(cls, type) and issubclass(cls, Event):
        k = _register_event(cls)
    return k


def _kind_named(name: str) -> _Kind:
    k = _BY_NAME.get(name)
    if k is None:
        _scan_events()  # an event class defined since the last scan
        k = _BY_NAME.get(name)
    if k is None:
        raise TypeError(f"wire: type {name!r} is not on the allow-list; a payload can only "
                        "name registered types (defisim.service.wire.register)")
    return k


# ----------------------------------------------------------------------- encoding
def to_wire(x: Any) -> Any:
    """``x`` as a JSON-ready value (dicts, lists, str, numbers, bool, None) in the
    shapes of the module docstring.

    Raises:
        TypeError: a value of a type that is not allowed (the message names it).
        ValueError: a string with lone surrogates.
    """
    _load_defaults()
    return _to(x)


def _to(x: Any) -> Any:  # noqa: C901  (one dispatch over the value's type)
    t = type(x)
    if t is str:
        if not x.isascii():
            _check_unicode(x)
        return x
    if x is None or t is bool:
        return x
    if t is int:
        return x if -_MAX_PLAIN_INT <= x <= _MAX_PLAIN_INT else {"$int": hex(x)}
    if t is float:
        return x if math.isfinite(x) else {"$float": repr(x)}
    if t is list:
        return [_to(v) for v in x]
    if t is tuple:
        return {"$tuple": [_to(v) for v in x]}
    if t is dict:
        if all(type(k) is str and not k.startswith("$") for k in x):
            return {k: _to(v) for k, v in x.items()}
        return {"$dict": [[_to(k), _to(v)] for k, v in x.items()]}
    k = _kind_of(t)
    if k is not None:
        if k.kind == "enum":
            return {"$enum": k.name, "v": _to(x.value)}
        if k.kind == "obj":
            return {"$obj": k.name, "f": {f: _to(getattr(x, f)) for f in k.fields}}
        if k.kind == "model":
            return {"$model": k.name, "v": _to(x.model_dump())}
        return _error(x, k)
    if isinstance(x, np.generic):
        if isinstance(x, np.bool_):
            return bool(x)
        if isinstance(x, np.integer):
            return _to(int(x))
        if isinstance(x, np.floating):
            return _to(float(x))
    if t is set or t is frozenset:
        items = sorted((_to(v) for v in x), key=_canonical)
        return {"$set" if t is set else "$frozenset": items}
    if t is decimal.Decimal:
        return {"$decimal": str(x)}
    if t is bytes:
        return {"$bytes": x.hex()}
    if isinstance(x, BaseException):
        for base in t.__mro__[1:]:  # an unlisted exception: its nearest allowed base
            kb = _BY_CLASS.get(base)
            if kb is not None and kb.kind == "error":
                return _error(x, kb)
    raise TypeError(f"wire: cannot encode a value of type {_qualname(t)}: not on the "
                    "allow-list (plain values, the service's views and results; "
                    "defisim.service.wire.register adds a type)")


def _check_unicode(x: str) -> None:
    try:
        x.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"wire: the string {x!r} holds lone surrogates (not Unicode text; "
                         "JSON would pair them up)") from None


def _error(x: BaseException, k: _Kind) -> dict:
    if k.fields and type(x) is k.cls:
        try:
            return {"$error": k.name, "f": {f: _to(getattr(x, f)) for f in k.fields}}
        except (AttributeError, TypeError):
            pass
    for base in type(x).__mro__:  # the args form needs a constructor taking the args
        kb = _BY_CLASS.get(base)
        if kb is not None and kb.kind == "error" and not kb.fields:
            k = kb
            break
    args = None
    if k.cls is type(x) or x.args:
        try:
            args = _to(list(x.args))
        except TypeError:
            pass
    if args is None:  # args that cannot travel, or none (pydantic's ValidationError)
        args = [str(x)]
    return {"$error": k.name, "args": args}


def _canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), allow_nan=False)


def encode(x: Any) -> str:
    """``x`` as strict JSON text (see the module docstring for the shapes).

    Raises:
        TypeError: a value of a type that is not allowed (the message names it).
        ValueError: a string with lone surrogates.
    """
    return json.dumps(to_wire(x), separators=(",", ":"), allow_nan=False)


# ----------------------------------------------------------------------- decoding
def from_wire(v: Any) -> Any:
    """The value a JSON-ready ``v`` (:func:`to_wire`'s output) stands for.

    Raises:
        TypeError: a payload naming a type that is not allowed.
        ValueError: a malformed payload (an unknown ``$`` tag, a bad shape).
    """
    _load_defaults()
    return _from(v)


def _from(v: Any) -> Any:
    t = type(v)
    if v is None or t is bool or t is str or t is int or t is float:
        return v
    if t is list:
        return [_from(x) for x in v]
    if t is not dict:
        raise ValueError(f"wire: unexpected JSON value of type {t.__name__}")
    tag = next((k for k in v if k.startswith("$")), None)
    if tag is None:
        return {k: _from(x) for k, x in v.items()}
    fn = _TAGS.get(tag)
    if fn is None:
        raise ValueError(f"wire: unknown tag {tag!r}; known: {sorted(_TAGS)}")
    try:
        return fn(v[tag], v)
    except (TypeError, ValueError):
        raise
    except (KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"wire: malformed {tag} value {v!r}: {exc!r}") from None


def _list(v: Any, tag: str) -> list:
    if type(v) is not list:
        raise ValueError(f"wire: {tag} expects an array, got {type(v).__name__}")
    return [_from(x) for x in v]


def _dec_int(s: Any, _: dict) -> int:
    if type(s) is not str:
        raise ValueError(f"wire: $int expects a hex string, got {s!r}")
    return int(s, 16)


def _dec_float(s: Any, _: dict) -> float:
    if s not in ("nan", "inf", "-inf"):
        raise ValueError(f"wire: $float expects 'nan', 'inf' or '-inf', got {s!r}")
    return float(s)


def _dec_dict(items: Any, _: dict) -> dict:
    out = {}
    for pair in _list(items, "$dict"):
        if type(pair) is not list or len(pair) != 2:
            raise ValueError(f"wire: $dict expects [key, value] pairs, got {pair!r}")
        out[pair[0]] = pair[1]
    return out


def _dec_enum(name: Any, v: dict) -> Any:
    k = _kind_named(name)
    if k.kind != "enum":
        raise TypeError(f"wire: {name!r} is not an enum")
    return k.cls(_from(v["v"]))


def _dec_obj(name: Any, v: dict) -> Any:
    k = _kind_named(name)
    if k.kind != "obj":
        raise TypeError(f"wire: {name!r} is not a dataclass or slotted class")
    f = v["f"]
    if type(f) is not dict or set(f) != set(k.fields):
        raise ValueError(f"wire: {name} expects the fields {list(k.fields)}, got "
                         f"{list(f) if type(f) is dict else f!r}")
    return k.cls(**{n: _from(x) for n, x in f.items()})


def _dec_model(name: Any, v: dict) -> Any:
    k = _kind_named(name)
    if k.kind != "model":
        raise TypeError(f"wire: {name!r} is not a pydantic model")
    return k.cls.model_validate(_from(v["v"]))


def _dec_error(name: Any, v: dict) -> BaseException:
    k = _kind_named(name)
    if k.kind != "error":
        raise TypeError(f"wire: {name!r} is not an exception")
    if "f" in v:
        f = v["f"]
        if type(f) is not dict or set(f) != set(k.fields):
            raise ValueError(f"wire: {name} expects the fields {list(k.fields)}")
        return k.cls(**{n: _from(x) for n, x in f.items()})
    if k.fields:
        raise ValueError(f"wire: {name} travels as its fields {list(k.fields)}, not args")
    return k.cls(*_list(v["args"], "$error"))


def _dec_decimal(s: Any, _: dict) -> decimal.Decimal:
    if type(s) is not str:
        raise ValueError(f"wire: $decimal expects a string, got {s!r}")
    return decimal.Decimal(s)


def _dec_bytes(s: Any, _: dict) -> bytes:
    if type(s) is not str:
        raise ValueError(f"wire: $bytes expects a hex string, got {s!r}")
    return bytes.fromhex(s)


_TAGS: dict[str, Callable[[Any, dict], Any]] = {
    "$int": _dec_int,
    "$float": _dec_float,
    "$tuple": lambda x, _: tuple(_list(x, "$tuple")),
    "$set": lambda x, _: set(_list(x, "$set")),
    "$frozenset": lambda x, _: frozenset(_list(x, "$frozenset")),
    "$dict": _dec_dict,
    "$decimal": _dec_decimal,
    "$bytes": _dec_bytes,
    "$enum": _dec_enum,
    "$obj": _dec_obj,
    "$model": _dec_model,
    "$error": _dec_error,
}


def decode(text: str | bytes) -> Any:
    """The value :func:`encode` wrote as ``text``.

    Raises:
        TypeError: the payload names a type that is not allowed (the message names it).
        ValueError: not JSON (or non-standard JSON: ``NaN`` literals), or a malformed
            payload.
    """
    try:
        v = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"wire: not JSON: {exc}") from None
    return from_wire(v)


def _no_constant(name: str) -> Any:
    raise ValueError(f"wire: non-standard JSON constant {name} (non-finite floats are "
                     '{"$float": ...})')


def same(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` encode to the same text: the same types and values at
    every level, fields of classes without ``==`` (``OrderResult``) included. Stricter
    than ``==`` where that is lenient (``-0.0`` vs ``0.0``, ``1`` vs ``1.0``, dict
    order) and true for NaN against NaN.

    Raises:
        TypeError: either value cannot be encoded.
    """
    return encode(a) == encode(b)
