"""The message bus (spec 2.1): a broadcast channel plus one channel per topic,
subscriptions, envelopes, latency with optional jitter, per-recipient FIFO per
topic, and a seeded order for deliveries due at the same instant.

Use::

    bus = MessageBus(ComputeScheme(lookup), rng=np.random.default_rng(seed))
    bus.subscribe("P1", bus.broadcast)
    out = bus.publish("C1", bus.broadcast, "request", body, now=0.0)  # Envelope | MessageRejected
    for recipient, env in bus.due(now=1.0): ...           # deliveries due by t = 1
    bus.tick(now)                                         # scheme timers (terminate(timeout))
    bus.close_topic(topic, "collected", now)              # row 11: the chain closed the escrow

Every message is judged by the scheme when it is published (the scheme state is the
sequence of accepted messages): a refused one is never delivered, leaves the topic
unchanged, and is returned as a :class:`~.events.MessageRejected` (also kept in
:attr:`MessageBus.rejections` and passed to ``on_event``). Nothing here raises for a
bad message. A reply should be published at ``delivery time + think_s``
(:meth:`MessageBus.reply_time`); the bus does not hold agents to it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from defisim.chain.events import Event

from .engine import CheckContext, Envelope, Reject, SchemeDefinition, Step, TopicState, evaluate
from .events import MessageRejected, TopicClosed

__all__ = ["SCHEME_SENDER", "MessageBus", "Route", "SchemeRules"]

SCHEME_SENDER = "scheme"
"""The sender of messages the scheme itself publishes (``terminate(timeout)``)."""


@dataclass(slots=True)
class Route:
    """Where a published message goes: the ``topic`` state it is judged against, the
    sender's ``role`` (None: not a participant), ``new``: the topic opens if the move
    is accepted (its ``participants`` are subscribed), ``keep``: the bus keeps the
    topic (False for a pseudo-topic such as a request's start state), ``join``: the
    sender joins the topic as ``role`` (and is subscribed) if the move is accepted."""

    topic: TopicState
    role: str | None
    new: bool = False
    keep: bool = True
    join: bool = False


class SchemeRules(Protocol):
    """What the bus needs of a scheme object (:class:`~.compute.ComputeScheme`,
    :class:`~.coophive.CoophiveScheme`, or a user's)."""

    definition: SchemeDefinition
    broadcast: str
    close_message: tuple[str, str] | None  # (message type, reason field) the scheme sends

    def bind(self, bus: MessageBus) -> None: ...

    def route(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
              now: float) -> Route | Reject: ...


@dataclass(order=True, slots=True)
class _Pending:
    time: float
    order: int
    recipient: str = field(compare=False)
    envelope: Envelope = field(compare=False)


class MessageBus:
    """The transport of spec 2.1 for one scheme.

    Args:
        scheme: the scheme object (rules, routing, registries).
        rng: the bus stream (jitter and same-instant order).
        latency_s: base latency, s (default 1). jitter_s: mean of an added
            ``Exp(jitter_s)`` per delivery, s (0 = none). think_s: the reply delay.
        on_event: called with every :class:`MessageRejected` / :class:`TopicClosed`
            (a chain protocol passes ``chain.emit``).
        stamp: ``() -> (block, time_ns)`` (``chain.stamp``) for the events' block;
            the events' time is the message's time.

    Raises:
        ValueError: a negative latency, jitter or think time.
    """

    def __init__(self, scheme: SchemeRules, rng: np.random.Generator, *, latency_s: float = 1.0,
                 jitter_s: float = 0.0, think_s: float = 0.0,
                 on_event: Callable[[Event], None] | None = None,
                 stamp: Callable[[], tuple[int, int]] | None = None) -> None:
        for name, v in (("latency_s", latency_s), ("jitter_s", jitter_s), ("think_s", think_s)):
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        self.scheme = scheme
        self.definition = scheme.definition
        self.broadcast = scheme.broadcast
        self.rng = rng
        self.latency_s, self.jitter_s, self.think_s = float(latency_s), float(jitter_s), \
            float(think_s)
        self.on_event, self.stamp = on_event, stamp
        self.subscribers: dict[str, set[str]] = {}
        self.topics: dict[str, TopicState] = {}
        self.channel_seq: dict[str, int] = {}
        self.rejections: list[MessageRejected] = []
        self.closed: list[TopicClosed] = []
        self._queue: list[_Pending] = []
        self._order = 0
        self._last_delivery: dict[tuple[str, str], float] = {}
        scheme.bind(self)

    # -- subscriptions ------------------------------------------------------------
    def subscribe(self, agent: str, channel: str) -> None:
        """Deliver what is published on ``channel`` to ``agent`` from now on."""
        self.subscribers.setdefault(channel, set()).add(agent)

    def unsubscribe(self, agent: str, channel: str) -> None:
        """Stop delivering ``channel`` to ``agent`` (no-op if not subscribed)."""
        self.subscribers.get(channel, set()).discard(agent)

    def topic_state(self, topic: str) -> TopicState | None:
        """The state of ``topic``, or None if it never opened."""
        return self.topics.get(topic)

    def reply_time(self, delivered_at: float) -> float:
        """When a reply to a message delivered at ``delivered_at`` is published (s)."""
        return delivered_at + self.think_s

    # -- publishing ---------------------------------------------------------------
    def publish(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
                now: float, *, signed_by: str | None = None) -> Envelope | MessageRejected:
        """Publish a message of ``type`` with ``body`` from ``sender`` on ``channel`` (the
        broadcast channel or a topic id) at ``now`` (s). ``signed_by``: the signing
        agent when known; a mismatch is ``bad_signature``.

        Returns the accepted :class:`Envelope` (queued for every subscriber but the
        sender), or the :class:`MessageRejected` event."""
        body = dict(body)
        if signed_by is not None and signed_by != sender:
            return self._reject(now, channel, sender, type,
                                Reject("bad_signature", detail=f"signed by {signed_by}"))
        existing = self.topics.get(channel)
        if existing is not None:
            self._fire_timers(existing, now)
        route = self.scheme.route(sender, channel, type, body, now)
        if isinstance(route, Reject):
            return self._reject(now, channel, sender, type, route)
        topic = route.topic
        seq = topic.next_seq if route.keep else self.channel_seq.get(channel, 0)
        env = Envelope(channel, seq, sender, float(now), type, body)
        result = evaluate(self.definition, topic, env, route.role, self.scheme)
        if isinstance(result, Reject):
            if result.close and route.keep and not route.new:
                self._close(topic, result.reason, now)
            return self._reject(now, channel, sender, type, result)
        self._apply(route, env, result)
        return env

    def _apply(self, route: Route, env: Envelope, step: Step) -> None:
        topic = route.topic
        if route.keep:
            if route.new:
                self.topics[topic.topic] = topic
                for agent in topic.participants:
                    self.subscribe(agent, topic.topic)
            if route.join and route.role is not None:
                topic.participants[env.sender] = route.role
                self.subscribe(env.sender, topic.topic)
            topic.history.append(env)
        else:
            self.channel_seq[env.topic] = env.seq + 1
        mtype = self.definition.message(env.type)
        if mtype is not None and mtype.price:
            topic.price_count += 1
            topic.last_price_sender = env.sender
        topic.state = step.next
        topic.last_time = env.time
        ctx = CheckContext(topic, env, topic.participants.get(env.sender, ""), self.scheme)
        for name in step.row.effects:
            self.definition.effects[name](ctx)
        self._enqueue(env)
        if route.keep and topic.state in self.definition.terminal_states:
            reason = str(env.body.get("reason", topic.state.lower()))
            self._mark_closed(topic, reason, env.time)

    def _enqueue(self, env: Envelope) -> None:
        for recipient in sorted(self.subscribers.get(env.topic, ())):
            if recipient == env.sender:
                continue  # never deliver a message to its own sender
            latency = self.latency_s
            if self.jitter_s > 0:
                latency += float(self.rng.exponential(self.jitter_s))
            key = (recipient, env.topic)
            at = max(env.time + latency, self._last_delivery.get(key, float("-inf")))
            self._last_delivery[key] = at
            heapq.heappush(self._queue, _Pending(at, self._order, recipient, env))
            self._order += 1

    # -- delivery -----------------------------------------------------------------
    def next_delivery_time(self) -> float | None:
        """The earliest pending delivery time, or None."""
        return self._queue[0].time if self._queue else None

    def due(self, now: float) -> list[tuple[str, Envelope]]:
        """Pop the deliveries due by ``now``: ``(recipient, envelope)`` by time; within
        one instant a seeded random order across topics, seq order within a topic."""
        popped: list[_Pending] = []
        while self._queue and self._queue[0].time <= now:
            popped.append(heapq.heappop(self._queue))
        out: list[tuple[str, Envelope]] = []
        i = 0
        while i < len(popped):
            j = i
            while j < len(popped) and popped[j].time == popped[i].time:
                j += 1
            out.extend((p.recipient, p.envelope) for p in self._shuffle(popped[i:j]))
            i = j
        return out

    def _shuffle(self, group: list[_Pending]) -> list[_Pending]:
        if len({p.envelope.topic for p in group}) < 2:
            return group
        keys = self.rng.random(len(group))
        by_topic: dict[str, list[int]] = {}
        for k, p in enumerate(group):
            by_topic.setdefault(p.envelope.topic, []).append(k)
        assigned = [0.0] * len(group)
        for idx in by_topic.values():  # keep each topic's own order
            for k, key in zip(idx, sorted(keys[idx]), strict=True):
                assigned[k] = float(key)
        return [group[k] for k in sorted(range(len(group)), key=assigned.__getitem__)]

    # -- timers and closing ---------------------------------------------------------
    def next_timer_time(self) -> float | None:
        """The earliest scheme timer deadline of an open topic, or None."""
        times = [t for t in (self._deadline(tp) for tp in self.topics.values()) if t is not None]
        return min(times) if times else None

    def _deadline(self, topic: TopicState) -> float | None:
        if topic.state in self.definition.terminal_states:
            return None
        timers, times = self.definition.timers, []
        if timers.reply_timeout_s is not None and topic.state in timers.reply_states:
            times.append(topic.last_time + timers.reply_timeout_s)
        if timers.negotiation_timeout_s is not None and topic.state in \
                timers.negotiation_states:
            times.append(topic.opened_at + timers.negotiation_timeout_s)
        return min(times) if times else None

    def tick(self, now: float) -> list[Envelope]:
        """Fire the timers due by ``now`` (spec 2.3 row 10): each such topic closes with
        the scheme's ``terminate(timeout)`` at its deadline. Returns those messages."""
        out = []
        for topic in list(self.topics.values()):
            env = self._fire_timers(topic, now)
            if env is not None:
                out.append(env)
        return out

    def _fire_timers(self, topic: TopicState, now: float) -> Envelope | None:
        deadline = self._deadline(topic)
        if deadline is None or deadline > now:
            return None
        return self._close(topic, "timeout", deadline)

    def close_topic(self, topic: str, reason: str, now: float, detail: str = "") -> \
            Envelope | None:
        """Close ``topic`` from outside (spec 2.3 row 11: the chain collected, refunded,
        cancelled or slashed its escrow) with ``reason``. Returns the scheme's closing
        message, or None if the topic is unknown or already closed (then nothing
        changes)."""
        tp = self.topics.get(topic)
        if tp is None or tp.state in self.definition.terminal_states:
            return None
        return self._close(tp, reason, now, detail)

    def _close(self, topic: TopicState, reason: str, now: float, detail: str = "") -> \
            Envelope | None:
        closed = self.definition.closed_state
        if closed is None or topic.state in self.definition.terminal_states:
            return None
        env = None
        if self.scheme.close_message is not None:
            mtype, field_name = self.scheme.close_message
            body: dict[str, Any] = {field_name: reason}
            if detail:
                body["detail"] = detail
            env = Envelope(topic.topic, topic.next_seq, SCHEME_SENDER, float(now), mtype, body)
            topic.history.append(env)
            self._enqueue(env)
        topic.state = closed
        topic.last_time = float(now)
        self._mark_closed(topic, reason, now)
        return env

    def _mark_closed(self, topic: TopicState, reason: str, now: float) -> None:
        topic.close_reason, topic.closed_at = reason, float(now)
        block = self.stamp()[0] if self.stamp else 0
        ev = TopicClosed(block, round(now * 1e9), topic.topic, reason)
        self.closed.append(ev)
        if self.on_event:
            self.on_event(ev)
        on_close = getattr(self.scheme, "on_close", None)
        if on_close:
            on_close(topic)

    def _reject(self, now: float, channel: str, sender: str, type: str, r: Reject) \
            -> MessageRejected:
        reason = r.reason
        if self.definition.reject_as and reason != "bad_signature":
            reason = self.definition.reject_as
        block = self.stamp()[0] if self.stamp else 0
        ev = MessageRejected(block, round(now * 1e9), channel, sender, type, reason,
                             r.detail if reason == r.reason else f"{r.reason}: {r.detail}")
        self.rejections.append(ev)
        if self.on_event:
            self.on_event(ev)
        return ev

    def open_topics(self) -> Iterable[TopicState]:
        """Topics not in a terminal state."""
        return [t for t in self.topics.values()
                if t.state not in self.definition.terminal_states]
