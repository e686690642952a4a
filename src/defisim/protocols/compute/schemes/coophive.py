"""The ``coophive`` scheme (spec 2.2): a replica of the scheme CoopHive runs.

Wire mapping: CoopHive's envelope ``{pubkey, offerId, initial?, data}`` is our
:class:`~.engine.Envelope` with ``sender = pubkey``, ``type = data._tag`` and a flat
``body`` holding ``offerId``, ``initial`` and ``data``'s other fields (``query``,
``tokens`` or the older ``price``, ``error``, ``attestation``, ``result``).

The response rules are the rows of :data:`COOPHIVE_ROWS`, tried in the spec's order.
A reply's *input* is, for a seller not yet in the topic, the initial offer; for a
reply whose body names ``reply_to`` (the ``seq`` of a message of the topic sent by
someone else), that message -- a CoopHive agent answers the message it was handed,
even when other sellers have written on the shared topic since; otherwise the topic's
last message sent by someone else. A reply with no input, or a ``offerId`` other than
its topic, fails. Every refusal but ``bad_signature`` is
reported as ``invalid_response``.

Start: a buyer publishes an initial ``offer`` (``initial=True``, a new ``offerId``)
on ``initial_offers``; the topic ``offerId`` opens with that offer as message 0 and
the buyer subscribed. Sellers subscribe to ``initial_offers`` themselves.

Choices: a seller's ``cancel`` makes that seller leave (unsubscribed, no longer a
participant) and leaves the topic's state alone, since other sellers may share the
topic; the buyer's ``cancel`` moves the topic to CANCELLED. DONE and CANCELLED are
terminal (the buyer stays subscribed, as in CoopHive). Quirks kept: sellers share
the topic ``offerId`` and see each other's messages; a seller accepts by echoing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from .bus import MessageBus, Route
from .engine import (
    CheckContext,
    Envelope,
    FieldSpec,
    MessageType,
    Reject,
    SchemeDefinition,
    TopicState,
    Transition,
)

__all__ = ["COOPHIVE_MESSAGES", "COOPHIVE_ROWS", "INITIAL_OFFERS", "CoophiveScheme",
           "offer_amount"]

INITIAL_OFFERS = "initial_offers"
"""The broadcast channel of ``coophive``."""

ANYONE = ("buyer", "seller")
_ID = FieldSpec("offerId", (str,))
COOPHIVE_MESSAGES: tuple[MessageType, ...] = (
    MessageType("offer", ANYONE, (
        _ID, FieldSpec("initial", (bool,), required=False), FieldSpec("query", (str,)),
        FieldSpec("tokens", (list, tuple), required=False),
        FieldSpec("price", (list, tuple), required=False))),
    MessageType("cancel", ANYONE, (_ID, FieldSpec("error", (str,), required=False))),
    MessageType("buyAttest", ("buyer",), (_ID, FieldSpec("attestation", (str,)))),
    MessageType("sellAttest", ("seller",), (
        _ID, FieldSpec("attestation", (str,)), FieldSpec("result", (str,), required=False))),
)
"""The tags of spec 2.2 with their bodies."""

_LIVE = ("INITIAL", "NEGOTIATING", "PAID")
COOPHIVE_ROWS: tuple[Transition, ...] = (
    Transition("START", ("buyer",), "offer", "INITIAL", ("is_initial", "new_offer_id"),
               effects=("open_topic",)),
    # rule 1: anyone, anything -> cancel (unsubscribe, then send)
    *(Transition(s, ("buyer",), "cancel", "CANCELLED", ("has_input",),
                 effects=("unsubscribe_sender",)) for s in _LIVE),
    *(Transition(s, ("seller",), "cancel", s, ("has_input",), effects=("leave",))
      for s in _LIVE),
    # rule 2: seller, buyAttest -> sellAttest (unsubscribe, then send; terminal)
    Transition("PAID", ("seller",), "sellAttest", "DONE", ("input_buy_attest",),
               effects=("unsubscribe_sender",)),
    # rule 3: seller, initial offer -> offer (subscribe, then send)
    *(Transition(s, ("seller",), "offer", "NEGOTIATING", ("new_seller",), effects=("join",))
      for s in ("INITIAL", "NEGOTIATING")),
    # rule 4: anyone, offer -> offer
    Transition("NEGOTIATING", ANYONE, "offer", "NEGOTIATING", ("input_offer",)),
    # rule 5: buyer, offer -> buyAttest
    Transition("NEGOTIATING", ("buyer",), "buyAttest", "PAID", ("input_offer",)),
)
"""The start rule and the five response rules of spec 2.2 as transition rows."""


def offer_amount(body: Mapping[str, Any]) -> int:
    """The ERC20 amount an ``offer`` asks (spec 2.2): the first ``{ERC20, address, amt}``
    of ``tokens``, else the older ``price: [token, amount]``; a missing amount is 0.
    Base units (``int(amt)``)."""
    for token in body.get("tokens") or ():
        if isinstance(token, Mapping) and "ERC20" in token:
            return int(token.get("amt") or 0)
    price = body.get("price")
    if isinstance(price, (list, tuple)) and len(price) > 1 and price[1] is not None:
        return int(price[1])
    return 0


def _input(topic: TopicState, sender: str, reply_to: Any = None) -> Envelope | None:
    if sender not in topic.participants:
        return topic.history[0] if topic.history else None
    if reply_to is not None:  # the message the reply answers (module docstring)
        if type(reply_to) is not int:
            return None
        env = next((e for e in topic.history if e.seq == reply_to), None)
        return env if env is not None and env.sender != sender else None
    for env in reversed(topic.history):
        if env.sender != sender:
            return env
    return None


class CoophiveScheme:
    """The ``coophive`` scheme for one bus (no timers, no chain checks: spec 2.2)."""

    broadcast = INITIAL_OFFERS
    close_message = ("cancel", "error")

    def __init__(self) -> None:
        self.bus: MessageBus | None = None
        self.definition = SchemeDefinition(
            name="coophive", roles=ANYONE, messages=COOPHIVE_MESSAGES,
            states=("START", "INITIAL", "NEGOTIATING", "PAID", "DONE", "CANCELLED"),
            initial_state="START", terminal_states=("DONE", "CANCELLED"),
            transitions=COOPHIVE_ROWS, checks=self._checks(), effects=self._effects(),
            closed_state="CANCELLED", reject_as="invalid_response")

    def bind(self, bus: MessageBus) -> None:
        self.bus = bus

    def route(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
              now: float) -> Route | Reject:
        """``initial_offers`` goes to the START pseudo-state (the sender is the buyer);
        a topic to its state (its buyer is ``buyer``, anyone else a ``seller``)."""
        if channel == INITIAL_OFFERS:
            return Route(TopicState(INITIAL_OFFERS, "START", now), "buyer", keep=False)
        assert self.bus is not None, "bind the scheme to a bus first"
        topic = self.bus.topics.get(channel)
        if topic is None:
            return Reject("unknown_topic", detail=f"no offer {channel!r}")
        if body.get("offerId") != channel:
            return Reject("offer_id_mismatch", detail=f"offerId {body.get('offerId')!r}")
        return Route(topic, topic.participants.get(sender, "seller"))

    # Bound methods and partials of them, not closures, so that a simulation holding the
    # scheme pickles.
    def _checks(self) -> dict[str, Any]:
        return {"input_buy_attest": partial(_input_of, "buyAttest", False),
                "input_offer": partial(_input_of, "offer", False),
                "has_input": _has_input, "is_initial": _is_initial,
                "new_offer_id": self._new_offer_id, "new_seller": _new_seller}

    def _effects(self) -> dict[str, Any]:
        return {"open_topic": self._open_topic, "join": self._join,
                "unsubscribe_sender": self._unsubscribe_sender, "leave": self._leave}

    def _new_offer_id(self, c: CheckContext) -> str | None:
        assert self.bus is not None
        oid = c.envelope.body["offerId"]
        return "offer_id_taken" if oid in self.bus.topics or oid == INITIAL_OFFERS else None

    def _open_topic(self, c: CheckContext) -> None:
        assert self.bus is not None
        env, oid = c.envelope, c.envelope.body["offerId"]
        first = Envelope(oid, 0, env.sender, env.time, env.type, env.body)
        self.bus.topics[oid] = TopicState(oid, "INITIAL", env.time, {env.sender: "buyer"},
                                          [first], last_time=env.time)
        self.bus.subscribe(env.sender, oid)

    def _join(self, c: CheckContext) -> None:
        assert self.bus is not None
        c.topic.participants[c.envelope.sender] = "seller"
        self.bus.subscribe(c.envelope.sender, c.topic.topic)

    def _unsubscribe_sender(self, c: CheckContext) -> None:
        assert self.bus is not None
        self.bus.unsubscribe(c.envelope.sender, c.topic.topic)

    def _leave(self, c: CheckContext) -> None:
        self._unsubscribe_sender(c)
        c.topic.participants.pop(c.envelope.sender, None)


def _input_of(tag: str, initial: bool, c: CheckContext) -> str | None:
    inp = _input(c.topic, c.envelope.sender, c.envelope.body.get("reply_to"))
    ok = inp is not None and inp.type == tag and (not initial or inp.body.get("initial") is True)
    return None if ok else "no_matching_input"


def _has_input(c: CheckContext) -> str | None:
    inp = _input(c.topic, c.envelope.sender, c.envelope.body.get("reply_to"))
    return None if inp is not None else "no_input"


def _is_initial(c: CheckContext) -> str | None:
    return None if c.envelope.body.get("initial") is True else "not_initial"


def _new_seller(c: CheckContext) -> str | None:
    if c.envelope.sender in c.topic.participants:
        return "already_joined"
    return _input_of("offer", True, c)
