"""The ``compute`` scheme (spec 2.3), the default: a client's ``request`` on the
broadcast channel, then one topic ``request_id/provider`` per answering provider,
whose message 0 is the request.

States: ``START`` (a request not yet published; a pseudo-state of the broadcast
channel), ``REQUEST_OPEN`` (a topic before the provider's first answer),
``NEGOTIATING``, ``AGREED``, ``AWAITING_COLLATERAL``, ``RUNNING``, ``DELIVERED``,
``CLOSED``. The transition table :data:`COMPUTE_ROWS` is the spec's rows 1 to 9; row
10 is the bus's timers and row 11 :meth:`ComputeScheme.chain_closed`.

Choices the spec leaves open (documented here):
- a request's life ends at ``min(expires_at, publish time + request_ttl_s)``;
  ``expires_at`` may be omitted;
- a request counts as filled (``max_deals``) by its topics whose ``accept`` was
  taken, except those closed before commencement (AGREED or AWAITING_COLLATERAL);
- a reused ``request_id`` is ``invalid_in_state`` (row 1's state is "no request");
- the scheme checks attestations by schema and reference only (section 2.3, "Who
  verifies"); revocation is the provider's check;
- a malformed body (a missing field, a wrong type, a reason not in the list, terms
  with no mediator) is ``bad_body``; an unknown message type ``unknown_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from ..types import Job, Terms
from .bus import MessageBus, Route
from .engine import (
    CheckContext,
    Envelope,
    Fail,
    FieldSpec,
    MessageType,
    Reject,
    SchemeDefinition,
    Timers,
    TopicState,
    Transition,
)

__all__ = [
    "COLLATERAL_MISSING",
    "COMPUTE_MESSAGES",
    "COMPUTE_ROWS",
    "ComputeParams",
    "ComputeScheme",
    "OPEN_STATES",
    "REQUESTS",
    "TERMINATE_REASONS",
    "AttestationLookup",
    "RequestRecord",
]

REQUESTS = "requests"
"""The broadcast channel of ``compute``."""

TERMINATE_REASONS = ("completed", "cancelled", "rejected", "timeout", "max_rounds",
                     "capacity", "slashed", "error", "deadline")
COLLATERAL_MISSING = ("amount_short", "deposit_short", "token_mismatch", "demand_mismatch",
                      "wrong_recipient", "revoked")
OPEN_STATES = ("NEGOTIATING", "AGREED", "AWAITING_COLLATERAL", "RUNNING", "DELIVERED")
STATES = ("START", "REQUEST_OPEN", *OPEN_STATES, "CLOSED")
BOTH = ("client", "provider")

COMPUTE_MESSAGES: tuple[MessageType, ...] = (
    MessageType("request", ("client",), (
        FieldSpec("request_id", (str,)), FieldSpec("job", (Job, Mapping)),
        FieldSpec("terms", (Terms,)), FieldSpec("expires_at", (int, float), required=False),
    ), price=True),
    MessageType("offer", BOTH, (FieldSpec("terms", (Terms,)),), price=True),
    MessageType("accept", ("client",), (FieldSpec("terms_hash", (str,)),
                                        FieldSpec("escrow_uid", (str,)))),
    MessageType("collateral_missing", ("provider",), (
        FieldSpec("escrow_uid", (str,)), FieldSpec("missing", (list, tuple)))),
    MessageType("attestation", ("provider",), (
        FieldSpec("kind", (str,), choices=("commence", "result")), FieldSpec("uid", (str,)))),
    MessageType("terminate", BOTH, (
        FieldSpec("reason", (str,), choices=TERMINATE_REASONS),
        FieldSpec("detail", (str,), required=False))),
)
"""The message types of spec 2.3 with their bodies."""

_ACCEPT_CHECKS = ("terms_match", "escrow_exists", "request_not_filled")
COMPUTE_ROWS: tuple[Transition, ...] = (
    # 1: a client's request on the broadcast channel
    Transition("START", ("client",), "request", "REQUEST_OPEN",
               ("new_request", "terms_complete"), effects=("record_request",)),
    # 2: a provider's first answer opens the topic
    Transition("REQUEST_OPEN", ("provider",), "offer", "NEGOTIATING",
               ("request_not_expired", "request_not_filled"), effects=("record_topic",)),
    Transition("REQUEST_OPEN", ("provider",), "terminate", "CLOSED",
               ("request_not_expired", "request_not_filled"), effects=("record_topic",)),
    # 3: counter-offers, alternating
    Transition("NEGOTIATING", BOTH, "offer", "NEGOTIATING", ("below_max_offers",), turn=True),
    # 4, 7: the client accepts the provider's last offer with an escrow
    Transition("NEGOTIATING", ("client",), "accept", "AGREED", _ACCEPT_CHECKS, turn=True,
               effects=("record_deal",)),
    Transition("AWAITING_COLLATERAL", ("client",), "accept", "AGREED", _ACCEPT_CHECKS,
               effects=("record_deal",)),
    # 5, 6, 8: the provider's moves after agreement
    Transition("AGREED", ("provider",), "attestation", "RUNNING",
               ("kind_commence", "collateral_refs_escrow"), effects=("record_commenced",)),
    Transition("AGREED", ("provider",), "collateral_missing", "AWAITING_COLLATERAL",
               ("missing_known",)),
    Transition("RUNNING", ("provider",), "attestation", "DELIVERED",
               ("kind_result", "result_refs_escrow")),
    # 9: either participant ends the conversation in any open state
    *(Transition(s, BOTH, "terminate", "CLOSED") for s in OPEN_STATES),
)
"""Rows 1 to 9 of the transition table of spec 2.3."""


class AttestationLookup(Protocol):
    """The on-chain registry as the scheme sees it: ``get(uid)`` is None or an object
    with ``schema`` (the schema name), ``ref_uid`` and ``revocation_time``."""

    def get(self, uid: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class ComputeParams:
    """Defaults of spec 2.3: ``max_offers`` price messages per topic (the request
    included), ``request_ttl_s``, ``max_deals`` per request, ``reply_timeout_s``,
    ``negotiation_timeout_s`` (seconds)."""

    max_offers: int = 100
    request_ttl_s: float = 300.0
    max_deals: int = 1
    reply_timeout_s: float = 30.0
    negotiation_timeout_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("max_offers", "max_deals"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("request_ttl_s", "reply_timeout_s", "negotiation_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


@dataclass(slots=True)
class RequestRecord:
    """A published request: its ``envelope``, ``client``, ``expires_at`` (s), the
    ``topics`` spawned and the ``deals`` (topics holding a deal)."""

    envelope: Envelope
    client: str
    expires_at: float
    topics: list[str] = field(default_factory=list)
    deals: set[str] = field(default_factory=set)


def _rid(topic: TopicState) -> str:
    return topic.topic.rsplit("/", 1)[0]


class ComputeScheme:
    """The ``compute`` scheme for one bus: the definition plus its registries.

    Args:
        lookup: the attestation registry (:class:`AttestationLookup`).
        params: :class:`ComputeParams`.
    """

    broadcast = REQUESTS
    close_message = ("terminate", "reason")

    def __init__(self, lookup: AttestationLookup, params: ComputeParams | None = None) -> None:
        self.lookup = lookup
        self.params = params or ComputeParams()
        self.requests: dict[str, RequestRecord] = {}
        self.escrow_topic: dict[str, str] = {}
        self.bus: MessageBus | None = None
        p = self.params
        self.definition = SchemeDefinition(
            name="compute", roles=BOTH, messages=COMPUTE_MESSAGES, states=STATES,
            initial_state="START", terminal_states=("CLOSED",), transitions=COMPUTE_ROWS,
            checks=self._checks(), effects=self._effects(), closed_state="CLOSED",
            price_field="terms",
            timers=Timers(p.reply_timeout_s, p.negotiation_timeout_s, p.request_ttl_s,
                          reply_states=("NEGOTIATING", "AGREED", "AWAITING_COLLATERAL"),
                          negotiation_states=("NEGOTIATING",)))

    def bind(self, bus: MessageBus) -> None:
        self.bus = bus

    # -- routing --------------------------------------------------------------------
    def route(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
              now: float) -> Route | Reject:
        """The broadcast channel goes to the START pseudo-state; ``request_id/provider``
        to its topic, opened on the provider's first answer (spec 2.3, "Topics")."""
        if channel == REQUESTS:
            return Route(TopicState(REQUESTS, "START", now), "client", keep=False)
        bus = self.bus
        assert bus is not None, "bind the scheme to a bus first"
        topic = bus.topics.get(channel)
        if topic is not None:
            return Route(topic, topic.participants.get(sender))
        rid, _, provider = channel.rpartition("/")
        req = self.requests.get(rid)
        if req is None or not provider:
            return Reject("unknown_topic", detail=f"no request for topic {channel!r}")
        if sender != provider or provider == req.client:
            return Reject("wrong_role", detail=f"only provider {provider} opens {channel}")
        r = req.envelope
        first = Envelope(channel, 0, r.sender, r.time, r.type, r.body)
        return Route(TopicState(channel, "REQUEST_OPEN", float(now),
                                {req.client: "client", provider: "provider"}, [first],
                                last_time=r.time, last_price_sender=req.client,
                                price_count=1), "provider", new=True)

    # -- row 11 and queries -----------------------------------------------------------
    def chain_closed(self, topic: str, reason: str, now: float, detail: str = "") \
            -> Envelope | None:
        """Row 11: the chain closed the topic's escrow (collected, refunded, cancelled or
        slashed); the topic closes with ``reason`` from the chain event. Only from
        AGREED onward; otherwise (or unknown / closed topic) returns None and changes
        nothing."""
        assert self.bus is not None
        tp = self.bus.topics.get(topic)
        if tp is None or tp.state in ("REQUEST_OPEN", "NEGOTIATING"):
            return None
        return self.bus.close_topic(topic, reason, now, detail)

    def topic_of_escrow(self, escrow_uid: str) -> str | None:
        """The topic whose accepted ``accept`` carried ``escrow_uid``, or None."""
        return self.escrow_topic.get(escrow_uid)

    def to_move(self, topic: TopicState) -> str | None:
        """The address whose move the topic waits for (spec 2.3 rows 3 to 8): in
        NEGOTIATING the participant who did not send the last price, the provider in
        AGREED and RUNNING, the client in AWAITING_COLLATERAL; None otherwise."""
        by_role = {role: addr for addr, role in topic.participants.items()}
        if topic.state == "NEGOTIATING":
            return next((a for a in topic.participants if a != topic.last_price_sender), None)
        role = {"AGREED": "provider", "RUNNING": "provider",
                "AWAITING_COLLATERAL": "client"}.get(topic.state)
        return by_role.get(role) if role else None

    def open_requests(self, now: float) -> list[str]:
        """Request ids not expired at ``now`` and not filled."""
        return [rid for rid, r in self.requests.items()
                if now < r.expires_at and len(r.deals) < self.params.max_deals]

    def last_offer_terms(self, topic: TopicState) -> Terms | None:
        """The terms of the topic's last price message."""
        for env in reversed(topic.history):
            if env.type in ("request", "offer"):
                return env.body["terms"]
        return None

    def on_close(self, topic: TopicState) -> None:
        """A deal closed before commencement frees its request (module docstring)."""
        req = self.requests.get(_rid(topic))
        if req is not None and not topic.data.get("commenced"):
            req.deals.discard(topic.topic)

    # -- named checks and effects -------------------------------------------------------
    # Bound methods and partials of them, not closures, so that a simulation holding the
    # scheme pickles (the environments snapshot their warm-up state).
    def _checks(self) -> dict[str, Any]:
        return {"new_request": self._new_request, "terms_complete": _terms_complete,
                "request_not_expired": self._request_not_expired,
                "request_not_filled": self._request_not_filled,
                "below_max_offers": self._below_max_offers,
                "terms_match": self._terms_match, "escrow_exists": self._escrow_exists,
                "collateral_refs_escrow": partial(self._refs_escrow, "collateral"),
                "result_refs_escrow": partial(self._refs_escrow, "result"),
                "kind_commence": partial(_kind_is, "commence"),
                "kind_result": partial(_kind_is, "result"),
                "missing_known": _missing_known}

    def _effects(self) -> dict[str, Any]:
        return {"record_request": self._record_request, "record_deal": self._record_deal,
                "record_topic": self._record_topic,
                "record_commenced": _record_commenced}

    def _new_request(self, c: CheckContext) -> str | None:
        return "invalid_in_state" if c.envelope.body["request_id"] in self.requests else None

    def _request_not_expired(self, c: CheckContext) -> str | None:
        req = self.requests[_rid(c.topic)]
        return "request_expired" if c.envelope.time >= req.expires_at else None

    def _request_not_filled(self, c: CheckContext) -> str | None:
        deals = self.requests[_rid(c.topic)].deals - {c.topic.topic}
        return "request_filled" if len(deals) >= self.params.max_deals else None

    def _below_max_offers(self, c: CheckContext) -> Fail | None:
        if c.topic.price_count >= self.params.max_offers:
            return Fail("max_rounds", close=True, detail=f"{c.topic.price_count} price messages")
        return None

    def _terms_match(self, c: CheckContext) -> str | None:
        last = self.last_offer_terms(c.topic)
        ok = last is not None and c.envelope.body["terms_hash"] == last.hash
        return None if ok else "terms_mismatch"

    def _escrow_exists(self, c: CheckContext) -> str | None:
        a = self.lookup.get(c.envelope.body["escrow_uid"])
        return None if a is not None and a.schema == "escrow" else "unknown_attestation"

    def _refs_escrow(self, schema: str, c: CheckContext) -> str | None:
        a = self.lookup.get(c.envelope.body["uid"])
        ok = a is not None and a.schema == schema and a.ref_uid == c.topic.data.get("escrow_uid")
        return None if ok else "unknown_attestation"

    def _record_request(self, c: CheckContext) -> None:
        env, ttl = c.envelope, self.params.request_ttl_s
        expires = min(float(env.body.get("expires_at", env.time + ttl)), env.time + ttl)
        self.requests[env.body["request_id"]] = RequestRecord(env, env.sender, expires)

    def _record_deal(self, c: CheckContext) -> None:
        uid = c.envelope.body["escrow_uid"]
        c.topic.data["escrow_uid"] = uid
        c.topic.data["terms"] = self.last_offer_terms(c.topic)
        self.escrow_topic[uid] = c.topic.topic
        self.requests[_rid(c.topic)].deals.add(c.topic.topic)

    def _record_topic(self, c: CheckContext) -> None:
        self.requests[_rid(c.topic)].topics.append(c.topic.topic)


def _terms_complete(c: CheckContext) -> Fail | None:
    if not c.envelope.body["terms"].mediators:
        return Fail("bad_body", detail="terms need at least one mediator")
    return None


def _kind_is(kind: str, c: CheckContext) -> str | None:
    return None if c.envelope.body["kind"] == kind else "invalid_in_state"


def _missing_known(c: CheckContext) -> Fail | None:
    bad = [m for m in c.envelope.body["missing"] if m not in COLLATERAL_MISSING]
    return Fail("bad_body", detail=f"unknown missing items {bad}") if bad else None


def _record_commenced(c: CheckContext) -> None:
    c.topic.data["commenced"] = True
    c.topic.data["collateral_uid"] = c.envelope.body["uid"]
