"""The client half of the service wire: the :class:`~defisim.service.Simulation`
interface whose every call is a request sent through a transport.

:class:`WireSimulation` offers ``sim.now``, ``sim.balance(...)``,
``sim.futures.submit_order(...)``, ... and turns each into a request (JSON text, the
shapes of :mod:`defisim.service.loopback`) handed to a *transport*, a callable
``transport(request_text) -> response_text``; the answer is decoded (a copy made of
plain values) or its exception re-raised with its type and arguments
(:mod:`~defisim.service.wire`). The interface is asked once from the far side
(``{"op": "interface"}``) and again when a name is not known yet, so a new service
method works without a line here.

Transports: :class:`~defisim.service.loopback.JsonLoopbackSimulation` (the endpoint in
the same process) and :class:`~defisim.service.remote.RemoteSimulation` (HTTP).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from . import wire
from .interface import NOT_ON_WIRE, refusal

__all__ = ["Transport", "WireSimulation"]

Transport = Callable[[str], str]
"""``transport(request_text) -> response_text``: one round trip over the wire."""

_FIELDS = ("calls", "errors", "bytes_sent", "bytes_received")
"""The client's own attributes (never names of the interface: checked at start)."""


class _Method:
    """A method of the interface: calling it sends a request."""

    __slots__ = ("_client", "_target", "_name")

    def __init__(self, client: WireSimulation, target: str, name: str) -> None:
        self._client, self._target, self._name = client, target, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client._request("call", self._target, self._name, args, kwargs)

    def __repr__(self) -> str:
        t = f"{self._target}." if self._target else ""
        return f"<wire method {t}{self._name}>"


class _Facade:
    """A protocol facade of the interface (``client.futures``)."""

    def __init__(self, client: WireSimulation, target: str, members: dict[str, str]) -> None:
        # one private name the facades never use (``futures._units`` is refused, not this)
        object.__setattr__(self, "_loopback_facade", (client, target, members, {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name if name.startswith("__") else refusal(name, name))
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
    __slots__ = ("transport", "origin", "sim", "endpoint", "interface", "facades", "methods")

    def __init__(self, transport: Transport, origin: str, sim: Any, endpoint: Any) -> None:
        self.transport = transport
        self.origin = origin
        self.sim = sim  # the loopback's simulation (None across a process boundary)
        self.endpoint = endpoint
        self.interface: dict[str, dict[str, str]] = {}
        self.facades: dict[str, _Facade] = {}
        self.methods: dict[str, _Method] = {}


class WireSimulation:
    """The :class:`~defisim.service.Simulation` interface over a transport (module
    docstring). Subclasses choose the transport; this class is the whole client.

    Refused (``AttributeError`` with the reason): private names, ``chain``,
    ``internal_market`` and the other names of
    :data:`~defisim.service.interface.NOT_ON_WIRE`, instance state of a facade
    (``futures.sim``), protocols without a facade, anything the simulation's classes
    do not define. Setting attributes is refused. :meth:`rng` raises ``TypeError``: a
    random generator cannot cross a wire (agents draw from ``agent.rng``).

    Args:
        transport: ``transport(request_text) -> response_text``.
        origin: what the far side is, in words (``repr`` and error messages).

    Attributes:
        calls: ``Counter`` of requests by name (``"now"``, ``"futures.submit_order"``).
        errors: ``Counter`` of exceptions the far side raised, by ``"name: type"``.
        bytes_sent, bytes_received: JSON text sent and received (characters).

    Raises:
        TypeError: (on a call) an argument that cannot cross the wire, or a result
            that cannot (the call ran on the far side).
        RuntimeError: an answer that is not a response of the wire.
    """

    _own_names: tuple[str, ...] = (*_FIELDS, "rng")

    def __init__(self, transport: Transport, origin: str, *, _sim: Any = None,
                 _endpoint: Any = None) -> None:
        set_ = object.__setattr__
        set_(self, "calls", Counter())
        set_(self, "errors", Counter())
        set_(self, "bytes_sent", 0)
        set_(self, "bytes_received", 0)
        # the client's own state, under one private name the interface never uses, so
        # that ``client._facades`` (the simulation's private name) is refused, not this
        set_(self, "_loopback_state", _ClientState(transport, origin, _sim, _endpoint))
        self._refresh()

    @property
    def _state(self) -> _ClientState:
        return object.__getattribute__(self, "_loopback_state")

    # ------------------------------------------------------------- the wire
    def _request(self, op: str, target: str, name: str, args: tuple = (),
                 kwargs: dict | None = None) -> Any:
        label = f"{target}.{name}" if target else name
        self.calls[label if op != "interface" else "<interface>"] += 1
        req = {"op": op, "target": target, "name": name, "args": args, "kwargs": kwargs or {}}
        try:
            text = wire.encode(req)
        except TypeError as exc:
            raise TypeError(f"{label}: an argument cannot cross the wire ({exc})") from None
        st = self._state
        answer = st.transport(text)
        object.__setattr__(self, "bytes_sent", self.bytes_sent + len(text))
        object.__setattr__(self, "bytes_received", self.bytes_received + len(answer))
        try:
            resp = wire.decode(answer)
        except (TypeError, ValueError) as exc:
            raise RuntimeError(f"{st.origin}: {label}: the answer is not a wire response "
                               f"({exc})") from None
        if type(resp) is dict and isinstance(resp.get("error"), BaseException):
            self.errors[f"{label}: {type(resp['error']).__name__}"] += 1
            raise resp["error"]
        if type(resp) is not dict or "ok" not in resp:
            raise RuntimeError(f"{st.origin}: {label}: the answer is not a wire response "
                               f"({answer[:200]!r})")
        return resp["ok"]

    def _refresh(self) -> None:
        interface = self._request("interface", "", "")
        clash = sorted(set(type(self)._own_names) & set(interface.get("", {})) - {"rng"})
        if clash:
            raise TypeError(f"the Simulation interface now has members named like the "
                            f"client's own attributes: {clash}")
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
            raise AttributeError(refusal(label, name) if name in NOT_ON_WIRE
                                 else f"{label} is not part of the Simulation interface "
                                      f"agents may use (known: {sorted(members)})")
        if kind == "property":
            return self._request("get", target, name)
        m = methods[name] = _Method(self, target, name)
        return m

    # ------------------------------------------------------------- interface
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # (also before __init__ ran: copy, pickle)
            raise AttributeError(name if name.startswith("__") else refusal(name, name))
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
        """Refused: a random generator is a live object that cannot cross a wire.

        Raises:
            TypeError: always (agents draw from ``agent.rng``, given by the runner).
        """
        raise TypeError(f"rng({name!r}): a random generator cannot cross the wire to "
                        f"{self._state.origin}; an agent draws from its own agent.rng")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the Simulation interface is read-only (cannot set {name!r})")

    def __dir__(self) -> list[str]:
        return sorted(set(self._state.interface.get("", {})) | set(type(self)._own_names))

    def __repr__(self) -> str:
        n = sum(self.calls.values())
        return f"<{type(self).__name__} over {self._state.origin}: {n} requests>"
