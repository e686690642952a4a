"""The off-chain message bus of the ``compute`` protocol (spec 2.1, 2.3), a mixin of
:class:`~.protocol.ComputeProtocol` that keeps the protocol module small.

At attach the protocol builds one :class:`~.schemes.MessageBus` running the
``compute`` scheme against its attestation registry, with the bus parameters of
:class:`~.params.ComputeParams` and the chain's ``compute:bus`` random stream; bus
events (``MessageRejected``, ``TopicClosed``) go into the chain's event log.

Messages are not transactions: :meth:`MessagingMixin.publish` is judged at once, at
the chain's time in seconds, costs no gas and never raises. Deliveries: at each block
opening the bus fires its timers due by then (row 10, ``terminate(timeout)``) and
hands the deliveries due by then to per-party inboxes, drained by :meth:`inbox`. A
refused message is returned to its caller, logged as an event and also kept for its
sender (:meth:`rejections`). Row 11: when a deal closes on chain its topic closes with
the scheme reason of :data:`~.deals.TOPIC_REASON`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .schemes import (
    INITIAL_OFFERS,
    ComputeScheme,
    CoophiveScheme,
    Envelope,
    MessageBus,
    MessageRejected,
    TopicState,
)
from .schemes import ComputeParams as SchemeParams

BUS_STREAM = "compute:bus"
NS = 1_000_000_000
SCHEMES = ("compute", "coophive")
"""The schemes the bus can run (spec 2.3, 2.2); ``compute`` is the default."""


class MessagingMixin:
    """The bus half of :class:`~.protocol.ComputeProtocol` (module docstring).

    Attributes (after :meth:`_attach_bus`): ``bus`` (:class:`MessageBus`), ``scheme``
    (:class:`ComputeScheme`), ``inboxes`` (party -> undelivered-to-agent envelopes),
    ``rejected`` (party -> its refused messages not yet read)."""

    chain: Any
    params: Any
    registry: Any

    def _attach_bus(self, chain: Any, scheme: str = "compute") -> None:
        p = self.params
        self.scheme_name = scheme
        self.escrow_topics: dict[str, str] = {}  # coophive: buyAttest's escrow uid -> topic
        if scheme == "coophive":
            self.scheme: Any = CoophiveScheme()
        else:
            self.scheme = ComputeScheme(lookup=self.registry, params=SchemeParams(
                max_offers=p.max_offers, request_ttl_s=p.request_ttl_s,
                max_deals=p.max_deals, reply_timeout_s=p.reply_timeout_s,
                negotiation_timeout_s=p.negotiation_timeout_s))
        self.bus = MessageBus(self.scheme, rng=chain.rng.generator(BUS_STREAM),
                              latency_s=p.latency_s, jitter_s=p.jitter_s, think_s=p.think_s,
                              on_event=self._bus_event, stamp=chain.stamp)
        self.inboxes: dict[str, list[Envelope]] = {}
        self.rejected: dict[str, list[MessageRejected]] = {}

    def use_scheme(self, name: str) -> None:
        """Run the bus under scheme ``name`` (:data:`SCHEMES`) from now on; only before
        any message was published (a scenario's build).

        Raises:
            ValueError: an unknown scheme, or the bus already carried messages.
        """
        if name not in SCHEMES:
            raise ValueError(f"unknown scheme {name!r}; known: {list(SCHEMES)}")
        if self.bus.topics or self.bus.rejections or any(self.bus.subscribers.values()):
            raise ValueError("the scheme can only change before the first message or "
                             "subscription")
        if name != self.scheme_name:
            self._attach_bus(self.chain, name)

    @property
    def broadcast_channel(self) -> str:
        """The scheme's broadcast channel: ``requests`` (compute) or
        ``initial_offers`` (coophive)."""
        return INITIAL_OFFERS if self.scheme_name == "coophive" else "requests"

    def topic_of_escrow(self, escrow_uid: str) -> str | None:
        """The topic whose ``accept`` (compute) or ``buyAttest`` (coophive) carried
        ``escrow_uid``, or None."""
        if self.scheme_name == "coophive":
            return self.escrow_topics.get(escrow_uid)
        return self.scheme.topic_of_escrow(escrow_uid)

    def _bus_event(self, event: Any) -> None:
        if isinstance(event, MessageRejected):
            self.rejected.setdefault(event.sender, []).append(event)
        self.chain.emit(event)

    @property
    def bus_now(self) -> float:
        """The chain's time in seconds (float: the bus's clock)."""
        return self.chain.now / NS

    # -- off-chain calls ----------------------------------------------------------------
    def publish(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
                signed_by: str | None = None) -> Envelope | MessageRejected:
        """Publish on ``channel`` (``"requests"`` or a topic id) at the chain's now.
        Returns the accepted envelope or the :class:`MessageRejected` event."""
        out = self.bus.publish(sender, channel, type, body, self.bus_now, signed_by=signed_by)
        if self.scheme_name == "coophive" and type == "buyAttest" and \
                isinstance(out, Envelope):  # coophive keeps no escrow link: the bus does
            self.escrow_topics[str(body["attestation"])] = channel
        return out

    def subscribe(self, party: str, channel: str) -> None:
        """Deliver ``channel``'s messages to ``party`` from now on."""
        self.bus.subscribe(party, channel)

    def inbox(self, party: str) -> list[Envelope]:
        """Drain and return what was delivered to ``party``, in delivery order."""
        return self.inboxes.pop(party, [])

    def rejections(self, party: str) -> list[MessageRejected]:
        """Drain and return ``party``'s refused messages, in order."""
        return self.rejected.pop(party, [])

    def topic(self, topic: str) -> TopicState | None:
        """The state of ``topic`` (None if it never opened). Read it, never change it."""
        return self.bus.topic_state(topic)

    def topic_ids(self, live_only: bool = False) -> list[str]:
        """Ids of the topics opened so far, in opening order; ``live_only``: those not
        in a terminal state of the scheme."""
        terminal = set(self.scheme.definition.terminal_states)
        return [t for t, s in self.bus.topics.items()
                if not live_only or s.state not in terminal]

    def open_requests(self) -> list[str]:
        """Request ids not expired and not filled now (coophive: none tracked, [])."""
        if self.scheme_name == "coophive":
            return []
        return self.scheme.open_requests(self.bus_now)

    # -- hooks ----------------------------------------------------------------------------
    def _deliver(self) -> None:
        """Block opening: timers first (row 10), then the deliveries due by now."""
        now = self.bus_now
        self.bus.tick(now)
        for recipient, env in self.bus.due(now):
            self.inboxes.setdefault(recipient, []).append(env)

    def _chain_closed(self, escrow_uid: str, reason: str) -> None:
        """Row 11: the deal of ``escrow_uid`` closed with scheme ``reason`` (coophive
        has no chain link: its topics end by sellAttest or cancel)."""
        if self.scheme_name == "coophive":
            return
        topic = self.scheme.topic_of_escrow(escrow_uid)
        if topic is not None:
            self.scheme.chain_closed(topic, reason, self.bus_now)
