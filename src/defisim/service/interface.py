"""What the agents' interface of a :class:`~defisim.service.Simulation` is: the public
methods and properties its class and its protocols' facade classes define, less the
names of :data:`NOT_ON_WIRE` (DESIGN.md, "Agents see views").

Shared by the server half (:class:`~defisim.service.loopback.ServiceEndpoint`) and the
client half (:class:`~defisim.service.wire_client.WireSimulation`) of the wire, and by
the remote API's access rules (:mod:`defisim.server.access`).
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["NOT_ON_WIRE", "interface_of", "member_kind", "refusal"]

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
(accessing them through a wire client raises ``AttributeError`` with the reason)."""


def member_kind(obj: Any, name: str) -> str | None:
    """``"method"`` or ``"property"`` for a public member of ``obj``'s class, else None.

    Only names defined on the class count: instance attributes (a facade's ``sim``,
    ``chain``, ``protocol``) are internal state, never the interface."""
    return member_kind_of_class(type(obj), name)


def member_kind_of_class(cls: type, name: str) -> str | None:
    """:func:`member_kind` for a class (the remote API's access table is checked
    against the facade classes without building a simulation)."""
    if not name or name.startswith("_") or name in NOT_ON_WIRE:
        return None
    try:
        attr = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(attr, property):
        return "property"
    if isinstance(attr, staticmethod | classmethod) or inspect.isfunction(attr):
        return "method"
    if isinstance(attr, type) or callable(attr):
        return None
    return "property"  # a plain class-level constant


def interface_of(cls: type) -> dict[str, str]:
    """``{name: "method"|"property"}`` of a class's members of the interface."""
    out = {}
    for name in dir(cls):
        k = member_kind_of_class(cls, name)
        if k is not None:
            out[name] = k
    return out


def refusal(label: str, name: str) -> str:
    """The message of the ``AttributeError`` refusing ``label`` (member ``name``)."""
    why = NOT_ON_WIRE.get(name)
    if why is None and name.startswith("_"):
        why = "private names are not part of the interface"
    return (f"{label} is not part of the Simulation interface agents may use"
            + (f": {why}" if why else ""))
