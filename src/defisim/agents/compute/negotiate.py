"""A minimal deterministic negotiation driver: one client policy against one provider
policy on one topic of the ``compute`` scheme (spec 2.3, 5, vector 9(a)).

It alternates the sides with a fixed latency, so price message i is sent at
``t = i * latency_s`` (both sides measure t from the request's publication, spec
10.3), rounds prices in the sender's favour (spec 5) and applies the scheme's rules
that a two-party negotiation meets: a provider's accept is an echo offer, only the
client sends ``accept``; at most ``max_offers`` price messages (the next is rejected
with ``max_rounds`` and the topic closes); ``terminate`` closes the topic; a silent
side is closed by the reply timer (``reply_timeout_s`` after the last message) and a
topic older than ``negotiation_timeout_s`` by the negotiation timer (spec 2.3 row 10).

It is the reference the agents' wiring is checked against: no chain, no escrow, no
bus; the real scheme engine checks the same moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from .policy import (
    Accept,
    Bounds,
    Counter,
    Noop,
    Policy,
    PolicyContext,
    PolicyMemory,
    Terminate,
    round_price,
)

if TYPE_CHECKING:
    from defisim.protocols.compute.types import Job

__all__ = ["NegotiationOutcome", "PriceMessage", "RejectedMessage", "negotiate"]


@dataclass(frozen=True, slots=True)
class PriceMessage:
    """A price message (the request or an offer): send time (s after the request),
    sender role, price in base units, and whether it echoes the received price."""

    t: float
    sender: str
    amount: int
    echo: bool = False


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A message the scheme rejected (a MessageRejected event): time, sender, the
    price it carried (base units) and the reason (``max_rounds``, ``bad_price``)."""

    t: float
    sender: str
    amount: int
    reason: str


@dataclass(frozen=True, slots=True)
class NegotiationOutcome:
    """How a topic ended.

    Attributes:
        messages: the price messages sent, in order (message 0 is the request).
        rejected: messages the scheme rejected.
        status: ``agreed`` (the client accepted) or ``closed`` (no deal).
        reason: None when agreed; else the terminate reason (``rejected``,
            ``deadline``, ``max_rounds``, ``timeout``, ``error``, ...).
        closed_by: ``client``, ``provider`` or ``scheme``.
        closed_at: seconds after the request when the topic reached AGREED or CLOSED.
        amount: the agreed price, base units (None if no deal).
    """

    messages: tuple[PriceMessage, ...]
    rejected: tuple[RejectedMessage, ...]
    status: Literal["agreed", "closed"]
    reason: str | None
    closed_by: str
    closed_at: float
    amount: int | None

    @property
    def rounds(self) -> int:
        """Completed rounds: price messages // 2."""
        return len(self.messages) // 2


def negotiate(
    client: Policy,
    provider: Policy,
    *,
    client_rng: np.random.Generator,
    provider_rng: np.random.Generator,
    job: Job | None = None,
    decimals: int = 6,
    latency_s: float = 1.0,
    max_offers: int = 100,
    reply_timeout_s: float = 30.0,
    negotiation_timeout_s: float = 300.0,
    client_bounds: Bounds | None = None,
    provider_bounds: Bounds | None = None,
) -> NegotiationOutcome:
    """Run one negotiation to its end (spec 2.3 with section-5 policies).

    Each side has its own fresh :class:`PolicyMemory` and Generator. The client opens
    at ``t = 0``; the side to move answers the last price message one latency later.

    Raises:
        ValueError: roles of the policies are not client and provider, the request
            price rounds to <= 0, or a non-positive latency / max_offers.
    """
    if client.role != "client" or provider.role != "provider":
        raise ValueError(f"need a client and a provider policy, got {client.role!r} "
                         f"and {provider.role!r}")
    if latency_s <= 0 or max_offers < 1:
        raise ValueError(f"need latency_s > 0 and max_offers >= 1, got {latency_s!r}, "
                         f"{max_offers!r}")
    sides = {
        "client": (client, PolicyMemory(), client_rng, client_bounds),
        "provider": (provider, PolicyMemory(), provider_rng, provider_bounds),
    }

    def ctx(role: str, t: float, amount: int | None) -> PolicyContext:
        _, mem, rng, bounds = sides[role]
        return PolicyContext(role=role, t=t, memory=mem, rng=rng, job=job,
                             received_amount=amount, decimals=decimals, bounds=bounds)

    x0 = client.open(job, ctx("client", 0.0, None))
    amount0 = round_price(x0, "client", decimals)
    if amount0 <= 0:
        raise ValueError(f"the request price {x0!r} rounds to {amount0} base units; "
                         "it must be > 0")
    messages = [PriceMessage(0.0, "client", amount0)]
    rejected: list[RejectedMessage] = []

    def end(status, reason, by, t, amount=None) -> NegotiationOutcome:
        return NegotiationOutcome(tuple(messages), tuple(rejected), status, reason, by,
                                  t, amount)

    i = 1
    while True:
        t = i * latency_s
        last = messages[-1]
        if t > latency_s + negotiation_timeout_s:  # the topic opened at t = latency
            return end("closed", "timeout", "scheme", latency_s + negotiation_timeout_s)
        role = "provider" if last.sender == "client" else "client"
        policy = sides[role][0]
        decision = policy.respond(last, ctx(role, t, last.amount))
        if isinstance(decision, Accept) and role == "client":
            return end("agreed", None, "client", t, last.amount)
        if isinstance(decision, Terminate):
            return end("closed", decision.reason, role, t)
        if isinstance(decision, Noop):
            return end("closed", "timeout", "scheme", last.t + reply_timeout_s)
        if isinstance(decision, Accept):  # a provider accepts by echoing
            msg = PriceMessage(t, role, last.amount, echo=True)
        else:
            assert isinstance(decision, Counter)
            msg = PriceMessage(t, role, decision.amount)
        if len(messages) >= max_offers:
            rejected.append(RejectedMessage(t, role, msg.amount, "max_rounds"))
            return end("closed", "max_rounds", "scheme", t)
        if msg.amount <= 0:
            rejected.append(RejectedMessage(t, role, msg.amount, "bad_price"))
            return end("closed", "timeout", "scheme", last.t + reply_timeout_s)
        messages.append(msg)
        i += 1

