"""A second implementation of the agents' interface: every call crosses a JSON wire.

:class:`JsonLoopbackSimulation` wraps a :class:`~defisim.service.Simulation` and
offers agents the same interface (``sim.now``, ``sim.balance(...)``,
``sim.futures.submit_order(...)``, ...), but every method call and property read is
encoded to JSON text with :mod:`defisim.service.wire`, decoded, executed on the real
simulation by a :class:`ServiceEndpoint`, and the result (or the exception) is
encoded, decoded and handed back as that copy. An agent that works against it only
ever holds plain values, exactly as it would against a remote simulation (DESIGN.md,
"Agents see views"); an agent that reaches past the interface (the chain, a
protocol engine, a private name) fails loudly with an ``AttributeError``.

It is generic: the interface is whatever public methods and properties the
simulation's class and its protocols' facade classes define (asked once from the
endpoint, over the wire), so a new service method works without a line here. The
endpoint is the server half of a future remote API (``RemoteSimulation`` over HTTP:
the same requests, another transport).

Request (a wire value): ``{"op": "call"|"get"|"interface", "target": "" | facade,
"name": str, "args": tuple, "kwargs": dict}``. Response: ``{"ok": value}`` or
``{"error": exception}`` (re-raised by the client: the same type and arguments for
the allowed exception types, see :mod:`~defisim.service.wire`).
"""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

from defisim.chain.protocol import ChainProtocol

from . import wire

__all__ = ["NOT_ON_WIRE", "JsonLoopbackSimulation", "ServiceEndpoint", "endpoint_of"]

NOT_ON_WIRE: dict[str, str] = {
    "chain": "the chain is the simulation's internal state; agents act through the service",
    "internal_market": "the live market engine is for protocol tests and the recorder; "
                       "read market_view / market_config / open_orders instead",
    "event_cursor": "a cursor is a live object on the event log; a remote API needs cursor ids "
                    "(read recent_events, or the run's recorder, instead)",
    "snapshot": "a snapshot is a whole live Simulation (a runner / environment call)",
    "add_protocol": "composing protocols is the scenario's set-up, not an agent call",
    "reseed": "random streams are the runner's (agents get their own generator)",
    "recordings": "the recorder's live parts are the runner's",
}
"""Public names of the service that are not part of the agents' wire interface, and why
(accessing them through the loopback raises ``AttributeError`` with the reason)."""

_FIELDS = ("calls", "errors", "bytes_sent", "bytes_received")
"""The client's own attributes (never names of the interface: checked at start)."""


def _member_kind(obj: Any, name: str) -> str | None:
    """``"method"`` or ``"property"`` for a public member of ``obj``'s class, else None.

    Only names defined on the class count: instance attributes (a facade's ``sim``,
    ``chain``, ``protocol``) are internal state, never the interface."""
    if not name or name.startswith("_") or name in NOT_ON_WIRE:
        return None
    try:
        attr = inspect.getattr_static(type(obj), name)
    except AttributeError:
        return None
    if isinstance(attr, property):
        return "property"
    if isinstance(attr, staticmethod | classmethod) or inspect.isfunction(attr):
        return "method"
    if isinstance(attr, type) or callable(attr):
        return None
    return "property"  # a plain class-level constant


def _interface_of(obj: Any) -> dict[str, str]:
    out = {}
    for name in dir(type(obj)):
        k = _member_kind(obj, name)
        if k is not None:
            out[name] = k
    return out


class ServiceEndpoint:
    """The server half: JSON requests in, JSON responses out, against a real
    :class:`~defisim.service.Simulation` (module docstring for the shapes).

    The request names only public members of the simulation's class or of a protocol
    facade's class; anything else is answered with an ``AttributeError``, never
    executed. A result that cannot cross the wire is answered with a ``TypeError``
    naming the call and the type (the call has run by then, as on a server).
    """

    def __init__(self, sim: Any) -> None:
        self.sim = sim

    def facades(self) -> dict[str, Any]:
        """The protocols' facades by protocol name (protocols without a facade are
        engines, not part of the interface)."""
        out = {}
        for name in self.sim.protocols:
            f = getattr(self.sim, name, None)
            if f is not None and not isinstance(f, ChainProtocol):
                out[name] = f
        return out

    def interface(self) -> dict[str, dict[str, str]]:
        """``{"": {name: "method"|"property"|"facade"}, facade: {name: kind}}``."""
        facades = self.facades()
        top = _interface_of(self.sim)
        top.update({n: "facade" for n in facades})
        out = {"": top}
        out.update({n: _interface_of(f) for n, f in facades.items()})
        return out

    def handle(self, request: str) -> str:
        """Execute one request (JSON text); the response as JSON text."""
        label = "?"
        try:
            req = wire.decode(request)
            if type(req) is not dict or req.get("op") not in ("call", "get", "interface"):
                raise ValueError(f"bad request {req!r}")
            if req["op"] == "interface":
                result = self.interface()
            else:
                target, name = req.get("target", ""), req.get("name", "")
                label = f"{target}.{name}" if target else str(name)
                obj = self.sim if target == "" else self.facades().get(target)
                if obj is None:
                    raise AttributeError(f"no protocol facade {target!r} on this simulation")
                kind = _member_kind(obj, name)
                if kind is None:
                    raise AttributeError(_refusal(label, name))
                if req["op"] == "get":
                    if kind == "method":
                        raise AttributeError(f"{label} is a method, not a property")
                    result = getattr(obj, name)
                else:
                    if kind != "method":
                        raise AttributeError(f"{label} is a property, not a method")
                    args, kwargs = req.get("args", ()), req.get("kwargs", {})
                    result = getattr(obj, name)(*args, **kwargs)
        except Exception as exc:
            return wire.encode({"error": exc})
        try:
            return wire.encode({"ok": result})
        except TypeError as exc:
            return wire.encode({"error": TypeError(
                f"{label}: its result cannot cross the wire ({exc})")})


def _refusal(label: str, name: str) -> str:
    why = NOT_ON_WIRE.get(name)
    if why is None and name.startswith("_"):
        why = "private names are not part of the interface"
    return (f"{label} is not part of the Simulation interface agents may use"
            + (f": {why}" if why else ""))


class _Method:
    """A method of the interface: calling it sends a request."""

    __slots__ = ("_client", "_target", "_name")

    def __init__(self, client: JsonLoopbackSimulation, target: str, name: str) -> None:
        self._client, self._target, self._name = client, target, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client._request("call", self._target, self._name, args, kwargs)

    def __repr__(self) -> str:
        t = f"{self._target}." if self._target else ""
        return f"<wire method {t}{self._name}>"


class _Facade:
    """A protocol facade of the interface (``loop.futures``)."""

    def __init__(self, client: JsonLoopbackSimulation, target: str, members: dict[str, str]) -> None:
        # one private name the facades never use (``futures._units`` is refused, not this)
        object.__setattr__(self, "_loopback_facade", (client, target, members, {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name if name.startswith("__") else _refusal(name, name))
        client, target, members, methods = object.__getattribute__(self, "_loopback_facade")
        return client._member(target, members, methods, name)

    def __setattr__(self, name: str, value: Any) -> None:
        target = object.__getattribute__(self, "_loopback_facade")[1]
        raise AttributeError(f"{target}: the interface is read-only (cannot set {name!r})")

    def __dir__(self) -> list[str]:
        return sorted(object.__getattribute__(self, "_loopback_facade")[2])

    def __repr__(self) -> str:
        return f"<wire facade {object.__getattribute__(self, '_loopback_facade')[1]!r}>"


class _ClientState:
    __slots__ = ("sim", "endpoint", "interface", "facades", "methods")

    def __init__(self, sim: Any, endpoint: ServiceEndpoint) -> None:
        self.sim = sim
        self.endpoint = endpoint
        self.interface: dict[str, dict[str, str]] = {}
        self.facades: dict[str, _Facade] = {}
        self.methods: dict[str, _Method] = {}


class JsonLoopbackSimulation:
    """The :class:`~defisim.service.Simulation` interface over a JSON loopback wire.

    Every method call (``loop.mint(...)``, ``loop.futures.submit_order(...)``) and
    property read (``loop.now``, ``loop.futures.markets``) is a request encoded to JSON,
    decoded, executed on ``sim`` by a :class:`ServiceEndpoint`, and answered with the
    result encoded and decoded again: the caller gets a copy made of plain values and
    allowed types, never a live object, and exceptions come back with their type and
    arguments (:mod:`~defisim.service.wire`).

    The exception is :meth:`rng`: a random generator is a live stateful object that
    cannot cross a wire, so it returns ``sim``'s own generator. Agents do not need it:
    the runner gives each agent its own generator (``agent.rng``) before it runs.

    Refused (``AttributeError`` with the reason): private names, ``chain``,
    ``internal_market`` and the other names of :data:`NOT_ON_WIRE`, instance state of
    a facade (``futures.sim``, ``futures.protocol``), protocols without a facade,
    anything the simulation's classes do not define. Setting attributes is refused.

    Args:
        sim: the real simulation.

    Attributes:
        calls: ``Counter`` of requests by name (``"now"``, ``"futures.submit_order"``;
            ``"rng"`` counts local generator hand-outs).
        errors: ``Counter`` of exceptions the far side raised, by ``"name: type"``.
        bytes_sent, bytes_received: JSON text sent and received (characters).

    The real simulation is not reachable from the loopback's public names (the
    runner holds it); :func:`endpoint_of` gives the server half.

    Raises:
        TypeError: (on a call) an argument that cannot cross the wire, or a result
            that cannot (the call ran on the far side).
    """

    def __init__(self, sim: Any) -> None:
        set_ = object.__setattr__
        set_(self, "calls", Counter())
        set_(self, "errors", Counter())
        set_(self, "bytes_sent", 0)
        set_(self, "bytes_received", 0)
        # the client's own state, under one private name the interface never uses, so
        # that ``loop._facades`` (the simulation's private name) is refused, not this
        set_(self, "_loopback_state", _ClientState(sim, ServiceEndpoint(sim)))
        self._refresh()

    @property
    def _state(self) -> _ClientState:
        return object.__getattribute__(self, "_loopback_state")

    # ------------------------------------------------------------- the wire
    def _transport(self, text: str) -> str:
        return self._state.endpoint.handle(text)

    def _request(self, op: str, target: str, name: str, args: tuple = (),
                 kwargs: dict | None = None) -> Any:
        label = f"{target}.{name}" if target else name
        self.calls[label if op != "interface" else "<interface>"] += 1
        req = {"op": op, "target": target, "name": name, "args": args, "kwargs": kwargs or {}}
        try:
            text = wire.encode(req)
        except TypeError as exc:
            raise TypeError(f"{label}: an argument cannot cross the wire ({exc})") from None
        answer = self._transport(text)
        object.__setattr__(self, "bytes_sent", self.bytes_sent + len(text))
        object.__setattr__(self, "bytes_received", self.bytes_received + len(answer))
        resp = wire.decode(answer)
        if "error" in resp:
            self.errors[f"{label}: {type(resp['error']).__name__}"] += 1
            raise resp["error"]
        return resp["ok"]

    def _refresh(self) -> None:
        interface = self._request("interface", "", "")
        clash = sorted(set(_FIELDS) & set(interface.get("", {})))
        if clash:
            raise TypeError(f"the Simulation interface now has members named like the "
                            f"loopback's own attributes: {clash}")
        st = self._state
        st.interface = interface
        st.facades.clear()
        st.methods.clear()

    def _member(self, target: str, members: dict[str, str], methods: dict[str, _Method],
                name: str) -> Any:
        m = methods.get(name)
        if m is not None:
            return m
        label = f"{target}.{name}" if target else name
        kind = members.get(name)
        if kind is None:
            raise AttributeError(_refusal(label, name) if name in NOT_ON_WIRE
                                 else f"{label} is not part of the Simulation interface "
                                      f"agents may use (known: {sorted(members)})")
        if kind == "property":
            return self._request("get", target, name)
        m = methods[name] = _Method(self, target, name)
        return m

    # ------------------------------------------------------------- interface
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # (also before __init__ ran: copy, pickle)
            raise AttributeError(name if name.startswith("__") else _refusal(name, name))
        st = self._state
        top = st.interface.get("", {})
        if name not in top and name not in NOT_ON_WIRE:
            self._refresh()  # a protocol (or a method) added since the last look
            top = st.interface[""]
        if top.get(name) == "facade":
            f = st.facades.get(name)
            if f is None:
                f = st.facades[name] = _Facade(self, name, st.interface[name])
            return f
        return self._member("", top, st.methods, name)

    def rng(self, name: str) -> Any:
        """``sim.rng(name)`` itself (not a copy): a generator cannot cross a wire.
        Agents get their own generator from the runner (``agent.rng``)."""
        self.calls["rng"] += 1
        return self._state.sim.rng(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the Simulation interface is read-only (cannot set {name!r})")

    def __dir__(self) -> list[str]:
        return sorted(set(self._state.interface.get("", {})) | {"rng", *_FIELDS})

    def __repr__(self) -> str:
        n = sum(self.calls.values())
        return f"<JsonLoopbackSimulation over {type(self._state.sim).__name__}: {n} requests>"


def endpoint_of(loop: JsonLoopbackSimulation) -> ServiceEndpoint:
    """The server half behind ``loop`` (its ``sim`` is the real simulation): for the
    runner and tests, never for agents."""
    return object.__getattribute__(loop, "_loopback_state").endpoint
