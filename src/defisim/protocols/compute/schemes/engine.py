"""A declarative scheme engine (spec 2): a scheme is DATA -- message types with body
field specs, roles, states, a transition table, named requirement checks and
effects, timers and terminal states. :func:`evaluate` judges one message against a
topic's state; the bus (:mod:`.bus`) applies the result.

A user defines a new scheme by building a :class:`SchemeDefinition` (see the toy
scheme in ``tests/test_compute_schemes.py``); the engine is not touched. A
malformed definition raises one :class:`ValueError` naming the problem.

Order of the generic checks (first failure wins): unknown message type
(``unknown_type``) -> topic in a terminal state (``topic_closed``) -> sender role not
among the message type's senders (``wrong_role``) -> no row for (state, type)
(``invalid_in_state``) -> no row of that state and type for the sender's role
(``wrong_role``) -> the row needs the sender to move and it sent the last price
(``not_your_turn``) -> body fields (``bad_body``, or ``bad_price`` for a price
field) -> the row's named checks in order. Among several rows for the same
(state, type, role) the first whose checks all pass is taken; if none, the first
row's failure is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Check",
    "CheckContext",
    "Effect",
    "Envelope",
    "Fail",
    "FieldSpec",
    "MessageType",
    "Reject",
    "SchemeDefinition",
    "Step",
    "Timers",
    "TopicState",
    "Transition",
    "evaluate",
]


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message on the bus (spec 2.1): ``topic`` (a topic id or a broadcast channel),
    ``seq`` (0, 1, ... per topic, set by the bus), ``sender`` (address), ``time``
    (publish time, s), ``type``, ``body`` (a dict)."""

    topic: str
    seq: int
    sender: str
    time: float
    type: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A body field: ``name``, accepted python ``types``; ``required``; ``choices``
    (allowed values, or None for any)."""

    name: str
    types: tuple[type, ...] = (object,)
    required: bool = True
    choices: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class MessageType:
    """A message type: ``name``, the roles that may send it (``senders``), body
    ``fields``; ``price``: a price message (counts toward turns and max rounds)."""

    name: str
    senders: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = ()
    price: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of a transition table: in ``state``, a sender of one of ``roles`` may
    send ``message`` if the named ``requires`` checks pass; the topic moves to
    ``next``. ``turn``: the sender must not have sent the last price message.
    ``effects``: named effects applied after the move (subscribe, record, ...)."""

    state: str
    roles: tuple[str, ...]
    message: str
    next: str
    requires: tuple[str, ...] = ()
    turn: bool = False
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Timers:
    """Scheme timers, seconds (spec 2.3 row 10): ``reply_timeout_s`` in
    ``reply_states``; ``negotiation_timeout_s`` (from the topic's opening) in
    ``negotiation_states``; ``request_ttl_s`` (a request's life). None disables."""

    reply_timeout_s: float | None = None
    negotiation_timeout_s: float | None = None
    request_ttl_s: float | None = None
    reply_states: tuple[str, ...] = ()
    negotiation_states: tuple[str, ...] = ()


@dataclass(slots=True)
class TopicState:
    """The shared state of one topic: ``state``; ``participants`` (address -> role);
    ``history`` (accepted envelopes in seq order); ``opened_at`` and ``last_time``
    (s); ``last_price_sender``, ``price_count``; ``data``: the scheme's own record
    (escrow uid, last terms, ...); ``close_reason`` once terminal."""

    topic: str
    state: str
    opened_at: float
    participants: dict[str, str] = field(default_factory=dict)
    history: list[Envelope] = field(default_factory=list)
    last_time: float = 0.0
    last_price_sender: str | None = None
    price_count: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    close_reason: str | None = None
    closed_at: float | None = None

    @property
    def next_seq(self) -> int:
        """The seq the next accepted message gets (history holds seq 0, 1, ...)."""
        return len(self.history)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check sees: the ``topic``, the candidate ``envelope``, the sender's
    ``role``, the scheme object ``scheme`` (its registries and lookups)."""

    topic: TopicState
    envelope: Envelope
    role: str
    scheme: Any


@dataclass(frozen=True, slots=True)
class Fail:
    """A failed check: ``reason``; ``close``: the failure also closes the topic with
    that reason (``max_rounds``)."""

    reason: str
    close: bool = False
    detail: str = ""


Check = Callable[[CheckContext], "Fail | str | None"]
"""A requirement check: None when it holds, else a reason code or a :class:`Fail`."""

Effect = Callable[[CheckContext], None]
"""An effect applied after an accepted move (records into ``topic.data``, ...)."""


@dataclass(frozen=True, slots=True)
class Step:
    """An accepted move: the ``row`` taken and the ``next`` state."""

    row: Transition
    next: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A refused move: ``reason``, ``close`` (close the topic with this reason),
    ``detail``."""

    reason: str
    close: bool = False
    detail: str = ""


def _is_price(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


BUILTIN_CHECKS: dict[str, Check] = {}
"""Checks every scheme may name without declaring them."""


@dataclass(frozen=True)
class SchemeDefinition:
    """A scheme as data (spec 2).

    Attributes:
        name: the scheme's name.
        roles: role names (``client``, ``provider``, ...).
        messages: the message types.
        states: state names; ``initial_state`` is a topic's state before its first
            accepted message; ``terminal_states`` end a topic.
        transitions: the table; every state and message it names must be declared.
        checks, effects: named functions the rows refer to (module-level functions,
            bound methods or ``functools.partial`` of them -- not closures or lambdas --
            so that a simulation holding the scheme pickles, as environment snapshots need).
        timers: :class:`Timers`; ``closed_state``: where timers and the chain close a
            topic (a terminal state).
        price_field: the body field holding a price message's price (checked as a
            positive integer, else ``bad_price``), or None.
        reject_as: if set, every reason but ``bad_signature`` is reported as this
            one code (``coophive``'s ``invalid_response``).

    Raises:
        ValueError: one message naming the first problem found (an unknown state,
            message or role in a row, a message type with no sender role, duplicate
            rows, an undeclared check or effect, a duplicate message name).
    """

    name: str
    roles: tuple[str, ...]
    messages: tuple[MessageType, ...]
    states: tuple[str, ...]
    initial_state: str
    terminal_states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    checks: Mapping[str, Check] = field(default_factory=dict)
    effects: Mapping[str, Effect] = field(default_factory=dict)
    timers: Timers = field(default_factory=Timers)
    closed_state: str | None = None
    price_field: str | None = None
    reject_as: str | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"scheme {self.name!r}: {problem}")

    def _problem(self) -> str | None:
        states, roles = set(self.states), set(self.roles)
        names = [m.name for m in self.messages]
        if len(names) != len(set(names)):
            return f"duplicate message type in {names}"
        for m in self.messages:
            if not m.senders:
                return f"message type {m.name!r} has no sender role"
            if unknown := set(m.senders) - roles:
                return f"message type {m.name!r} names unknown roles {sorted(unknown)}"
        if self.initial_state not in states:
            return f"unknown initial state {self.initial_state!r}"
        for s in (*self.terminal_states, *([self.closed_state] if self.closed_state else []),
                  *self.timers.reply_states, *self.timers.negotiation_states):
            if s not in states:
                return f"unknown state {s!r} in terminal states or timers"
        seen: set[tuple] = set()
        for i, row in enumerate(self.transitions):
            where = f"transition {i} ({row.state}, {row.message})"
            for s in (row.state, row.next):
                if s not in states:
                    return f"{where}: unknown state {s!r}"
            if row.message not in names:
                return f"{where}: unknown message type {row.message!r}"
            if not row.roles or (unknown := set(row.roles) - roles):
                return f"{where}: unknown or missing roles {list(row.roles)}"
            for c in row.requires:
                if c not in self.checks and c not in BUILTIN_CHECKS:
                    return f"{where}: undeclared check {c!r}"
            for e in row.effects:
                if e not in self.effects:
                    return f"{where}: undeclared effect {e!r}"
            key = (row.state, row.message, frozenset(row.roles), row.turn, row.requires)
            if key in seen:
                return f"{where}: duplicate row"
            seen.add(key)
        return None

    def message(self, name: str) -> MessageType | None:
        """The message type called ``name``, or None."""
        for m in self.messages:
            if m.name == name:
                return m
        return None


def _body_problem(defn: SchemeDefinition, mtype: MessageType, body: Mapping) -> str | None:
    for f in mtype.fields:
        if f.name not in body:
            if f.required:
                return f"missing field {f.name!r}"
            continue
        v = body[f.name]
        if not isinstance(v, f.types):
            return f"field {f.name!r} has type {type(v).__name__}"
        if f.choices is not None and v not in f.choices:
            return f"field {f.name!r} = {v!r} not in {f.choices}"
    return None


def evaluate(defn: SchemeDefinition, topic: TopicState, env: Envelope, role: str | None,
             scheme: Any = None) -> Step | Reject:
    """Judge ``env`` (from a sender of ``role``; None = not a participant) against
    ``topic`` under ``defn``: a :class:`Step` to apply, or a :class:`Reject` with the
    reason. Never raises for a bad message; the order of checks is in the module
    docstring."""
    mtype = defn.message(env.type)
    if mtype is None:
        return Reject("unknown_type", detail=f"no message type {env.type!r}")
    if topic.state in defn.terminal_states:
        return Reject("topic_closed", detail=f"topic is {topic.state}")
    if role is None or role not in mtype.senders:
        return Reject("wrong_role", detail=f"{role} may not send {env.type}")
    rows = [r for r in defn.transitions if r.state == topic.state and r.message == env.type]
    if not rows:
        return Reject("invalid_in_state", detail=f"{env.type} in {topic.state}")
    rows = [r for r in rows if role in r.roles]
    if not rows:
        return Reject("wrong_role", detail=f"{role} may not send {env.type} in {topic.state}")
    if all(r.turn for r in rows) and topic.last_price_sender == env.sender:
        return Reject("not_your_turn", detail="the sender sent the last price")
    problem = _body_problem(defn, mtype, env.body)
    if problem:
        return Reject("bad_body", detail=problem)
    if mtype.price and defn.price_field is not None:
        price = _price_of(env.body.get(defn.price_field))
        if not _is_price(price):
            return Reject("bad_price", detail=f"price {price!r} is not a positive integer")
    ctx = CheckContext(topic, env, role, scheme)
    first: Reject | None = None
    for row in rows:
        if row.turn and topic.last_price_sender == env.sender:
            continue
        failure = _run_checks(defn, row, ctx)
        if failure is None:
            return Step(row, row.next)
        first = first or failure
    assert first is not None
    return first


def _price_of(value: Any) -> Any:
    # a price field holds a price or an object with one (compute's Terms)
    return getattr(value, "price", value)


def _run_checks(defn: SchemeDefinition, row: Transition, ctx: CheckContext) -> Reject | None:
    for name in row.requires:
        check = defn.checks.get(name) or BUILTIN_CHECKS[name]
        out = check(ctx)
        if out is None:
            continue
        if isinstance(out, Fail):
            return Reject(out.reason, out.close, out.detail or name)
        return Reject(str(out), detail=name)
    return None
