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
endpoint is also the server half of the remote API (:mod:`defisim.server.remote`;
its client :class:`~defisim.service.remote.RemoteSimulation` sends the same requests
over HTTP). The client half is :class:`~defisim.service.wire_client.WireSimulation`.

Request (a wire value): ``{"op": "call"|"get"|"interface", "target": "" | facade,
"name": str, "args": tuple, "kwargs": dict}``. Response: ``{"ok": value}`` or
``{"error": exception}`` (re-raised by the client: the same type and arguments for
the allowed exception types, see :mod:`~defisim.service.wire`).
"""

from __future__ import annotations

from typing import Any

from defisim.chain.protocol import ChainProtocol

from . import wire
from .interface import NOT_ON_WIRE, interface_of, member_kind, refusal
from .wire_client import WireSimulation

__all__ = [
    "NOT_ON_WIRE", "JsonLoopbackSimulation", "ServiceEndpoint", "endpoint_of", "request_label",
]


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
        top = interface_of(type(self.sim))
        top.update({n: "facade" for n in facades})
        out = {"": top}
        out.update({n: interface_of(type(f)) for n, f in facades.items()})
        return out

    def resolve(self, req: Any) -> tuple[str, Any, str]:
        """Check a decoded request's shape and name: ``(label, object, kind)`` of the
        member it names (``kind`` ``"method"``/``"property"``; ``("", None,
        "interface")`` for the interface). Nothing runs.

        Raises:
            ValueError: not a request (not a dict, an unknown ``op``, bad field types).
            AttributeError: the member is not part of the interface (the reason).
        """
        if type(req) is not dict or req.get("op") not in ("call", "get", "interface"):
            raise ValueError(f"bad request {req!r}")
        if req["op"] == "interface":
            return "", None, "interface"
        target, name = req.get("target", ""), req.get("name", "")
        args, kwargs = req.get("args", ()), req.get("kwargs", {})
        if (type(target) is not str or type(name) is not str or type(args) not in (tuple, list)
                or type(kwargs) is not dict or not all(type(k) is str for k in kwargs)):
            raise ValueError("bad request: target and name must be strings, args a "
                             "sequence and kwargs a dict with string keys")
        label = f"{target}.{name}" if target else name
        obj = self.sim if target == "" else self.facades().get(target)
        if obj is None:
            raise AttributeError(f"no protocol facade {target!r} on this simulation")
        kind = member_kind(obj, name)
        if kind is None:
            raise AttributeError(refusal(label, name))
        if req["op"] == "get" and kind == "method":
            raise AttributeError(f"{label} is a method, not a property")
        if req["op"] == "call" and kind != "method":
            raise AttributeError(f"{label} is a property, not a method")
        return label, obj, kind

    def execute(self, req: Any) -> dict[str, Any]:
        """Execute one decoded request: ``{"ok": result}`` or ``{"error": exception}``
        (any exception, the checks of :meth:`resolve` included, is answered, never
        raised)."""
        try:
            label, obj, kind = self.resolve(req)
            if kind == "interface":
                return {"ok": self.interface()}
            if kind == "property":
                return {"ok": getattr(obj, req["name"])}
            return {"ok": getattr(obj, req["name"])(*req.get("args", ()), **req.get("kwargs", {}))}
        except Exception as exc:
            return {"error": exc}

    def answer(self, response: dict[str, Any], label: str = "?") -> str:
        """A response of :meth:`execute` as JSON text; a result that cannot cross the
        wire becomes a ``TypeError`` naming ``label`` and the type."""
        try:
            return wire.encode(response)
        except TypeError as exc:
            return wire.encode({"error": TypeError(
                f"{label}: its result cannot cross the wire ({exc})")})

    def handle(self, request: str) -> str:
        """Execute one request (JSON text); the response as JSON text."""
        try:
            req = wire.decode(request)
        except Exception as exc:
            return wire.encode({"error": exc})
        return self.answer(self.execute(req), request_label(req))


def request_label(req: Any) -> str:
    """``"target.name"`` (``"name"`` on the simulation) of a decoded request, ``"?"``
    when it has none."""
    if type(req) is not dict:
        return "?"
    target, name = req.get("target", ""), req.get("name", "")
    return f"{target}.{name}" if target else str(name)


class JsonLoopbackSimulation(WireSimulation):
    """The :class:`~defisim.service.Simulation` interface over a JSON loopback wire.

    Every method call (``loop.mint(...)``, ``loop.futures.submit_order(...)``) and
    property read (``loop.now``, ``loop.futures.markets``) is a request encoded to JSON,
    decoded, executed on ``sim`` by a :class:`ServiceEndpoint`, and answered with the
    result encoded and decoded again: the caller gets a copy made of plain values and
    allowed types, never a live object, and exceptions come back with their type and
    arguments (:mod:`~defisim.service.wire`). The client machinery (refusals,
    counters) is :class:`~defisim.service.wire_client.WireSimulation`'s.

    The exception is :meth:`rng`: a random generator is a live stateful object that
    cannot cross a wire, so it returns ``sim``'s own generator. Agents do not need it:
    the runner gives each agent its own generator (``agent.rng``) before it runs.

    Args:
        sim: the real simulation.

    Attributes:
        calls, errors, bytes_sent, bytes_received: as
            :class:`~defisim.service.wire_client.WireSimulation` (``"rng"`` in
            ``calls`` counts local generator hand-outs).

    The real simulation is not reachable from the loopback's public names (the
    runner holds it); :func:`endpoint_of` gives the server half.
    """

    def __init__(self, sim: Any) -> None:
        endpoint = ServiceEndpoint(sim)
        super().__init__(endpoint.handle, type(sim).__name__, _sim=sim, _endpoint=endpoint)

    def rng(self, name: str) -> Any:
        """``sim.rng(name)`` itself (not a copy): a generator cannot cross a wire.
        Agents get their own generator from the runner (``agent.rng``)."""
        self.calls["rng"] += 1
        return self._state.sim.rng(name)


def endpoint_of(loop: JsonLoopbackSimulation) -> ServiceEndpoint:
    """The server half behind ``loop`` (its ``sim`` is the real simulation): for the
    runner and tests, never for agents."""
    return object.__getattribute__(loop, "_loopback_state").endpoint
