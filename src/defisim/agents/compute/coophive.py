"""The default client and provider speaking the ``coophive`` scheme (spec 2.2) instead of
``compute`` (2.3), by the mapping of spec 2.3's "Mapping between the schemes".

The agents keep their ``compute`` logic and talk through a translation layer: each
pairs a buyer and a seller of a coophive topic ``offerId`` as a virtual ``compute``
topic ``offerId/seller`` (coophive sellers share one topic), translating messages at
the edges:

==================================  ======================================================
compute (what the agent decides)    coophive (what goes on the bus)
==================================  ======================================================
``request`` on ``requests``         initial ``offer`` on ``initial_offers``
``offer``                           ``offer`` (``tokens = [price]``)
``accept`` (after the escrow)       ``buyAttest`` (``attestation`` = escrow uid)
``attestation(result)``             ``sellAttest`` (``attestation`` = result uid)
``attestation(commence)``           nothing: the provider commences silently on chain
provider ``terminate``,             ``cancel`` (``error`` = the reason) while the topic
``collateral_missing``              negotiates and the seller joined it; else nothing
client ``terminate``                ``cancel`` once no joined seller is left to negotiate
                                    with (the topic closes for all); nothing after its
                                    ``buyAttest`` (which tells the other sellers)
request deadline passed, unfilled   the buyer's ``cancel`` (coophive has no timers)
==================================  ======================================================

Shared topics (spec 2.2's quirk): a reply's input is the topic's last message sent by
someone else, so one seller's ``cancel`` becomes the input of the buyer and of the
other sellers, and only a ``cancel`` may answer it (rule 1). The agents send nothing
the scheme would refuse: before an ``offer``, ``buyAttest`` or ``sellAttest`` each
checks its input (:func:`input_of`); a negotiation whose input is no longer an
``offer`` is over -- a seller drops it, the buyer cancels the topic. A seller never
cancels once the topic is PAID (its ``cancel`` would become the paid seller's input
and void its ``sellAttest``).

Not mapped (coophive has no counterpart): the scheme's reply / negotiation timeouts,
row 11 (a deal closing on chain does not close the topic), max offers / max deals.
Bodies carry the ``compute`` objects beside coophive's fields (``terms``, ``job``, and
``seller``: the seller a buyer's message is meant for, since all sellers of a topic
see it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from defisim.chain.events import Event
from defisim.protocols.compute.types import Job, Terms

from .client import ComputeClient
from .provider import ComputeProvider

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["CoophiveClient", "CoophiveProvider"]

INITIAL_OFFERS = "initial_offers"
LIVE = ("INITIAL", "NEGOTIATING")


def input_of(topic: Any, party: str) -> Any:
    """The input of ``party``'s next reply on a coophive ``topic`` (spec 2.2): the
    initial offer for a party not in the topic, else the last message sent by someone
    else; ``None`` if there is none."""
    if party not in topic.participants:
        return topic.history[0] if topic.history else None
    return next((e for e in reversed(topic.history) if e.sender != party), None)


def last_from(topic: Any, party: str) -> Any:
    """``party``'s last message on a coophive ``topic`` (``None`` if none): what a
    reply to that party answers (its ``reply_to``, spec 2.2: each message a CoopHive
    agent is handed is the input of its reply, whatever others wrote since)."""
    return next((e for e in reversed(topic.history) if e.sender == party), None)


def _to_seller(topic: Any, buyer: str, seller: str) -> Any:
    """The buyer's last message on ``topic`` meant for ``seller`` (naming it, or the
    initial offer); ``None`` if none."""
    return next((e for e in reversed(topic.history) if e.sender == buyer and (
        e.body.get("seller") == seller or e.body.get("initial") is True)), None)


def _offer_id(topic: str) -> str:
    return topic.rpartition("/")[0] or topic


def _offer(offer_id: str, terms: Terms, seller: str, **extra: Any) -> dict[str, Any]:
    return {"offerId": offer_id, "query": offer_id, "tokens": [terms.price], "terms": terms,
            "seller": seller, **extra}


class CoophiveClient(ComputeClient):
    """:class:`ComputeClient` on the ``coophive`` scheme (module docstring)."""

    closed_states = ("PAID", "DONE", "CANCELLED")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dropped: dict[str, set[str]] = {}  # offerId -> sellers no longer answered
        self._unfilled: set[str] = set()  # offerIds to cancel at their job's deadline

    def _publish_request(self, sim: Simulation, job: Job, terms: Terms) -> bool:
        body = _offer(job.job_id, terms, "", initial=True, job=job)
        ok = self._send(sim, INITIAL_OFFERS, "offer", body)
        if ok:
            self._unfilled.add(job.job_id)
        return ok

    def _topic(self, sim: Simulation, topic: str) -> Any:
        return sim.compute.topic(_offer_id(topic))

    def _on_message(self, sim: Simulation, env: Any) -> None:
        # a seller's offer on one of our topics, as the compute offer of topic offerId/seller
        if env.type != "offer" or env.topic not in self.requests or env.sender == self.name:
            return
        super()._on_message(sim, replace(env, topic=f"{env.topic}/{env.sender}"))

    def _publish(self, sim: Simulation, topic: str, type: str, body: dict) -> bool:
        oid, seller = _offer_id(topic), topic.rpartition("/")[2]
        tp = sim.compute.topic(oid)
        if tp is None or tp.state not in LIVE:
            return False
        if type == "terminate":
            self._drop(sim, tp, seller, body.get("reason", "cancelled"))
            return True
        inp = last_from(tp, seller)
        if inp is None or inp.type != "offer":  # the seller left: stop answering it
            self._drop(sim, tp, seller, "seller_left")
            return False
        if type == "offer":
            return self._send(sim, oid, "offer",
                              _offer(oid, body["terms"], seller, reply_to=inp.seq))
        if type == "accept":
            return self._send(sim, oid, "buyAttest", {
                "offerId": oid, "attestation": body["escrow_uid"],
                "terms_hash": body["terms_hash"], "seller": seller, "reply_to": inp.seq})
        return False

    def _drop(self, sim: Simulation, tp: Any, seller: str, reason: str) -> None:
        """Stop negotiating with ``seller``; cancel the topic when no joined seller is
        left (the buyer's cancel closes it for all, spec 2.2)."""
        dropped = self._dropped.setdefault(tp.topic, set())
        dropped.add(seller)
        live = {p for p, role in tp.participants.items() if role == "seller"} - dropped
        if not live:
            self._cancel(sim, tp.topic, reason)

    def _cancel(self, sim: Simulation, oid: str, reason: str) -> None:
        tp = sim.compute.topic(oid)
        if tp is not None and tp.state in LIVE:
            self._send(sim, oid, "cancel", {"offerId": oid, "error": reason})

    def _upkeep(self, sim: Simulation) -> None:
        super()._upkeep(sim)
        for rid in [r for r in self._unfilled if self.requests[r].filled]:
            self._unfilled.discard(rid)
        for rid in sorted(self._unfilled):
            if sim.now > self.requests[rid].job.deadline:  # coophive has no timers
                self._unfilled.discard(rid)
                self._cancel(sim, rid, "deadline")

    def _send(self, sim: Simulation, channel: str, type: str, body: dict) -> bool:
        return not isinstance(sim.compute.publish(self.name, channel, type, body), Event)


class CoophiveProvider(ComputeProvider):
    """:class:`ComputeProvider` on the ``coophive`` scheme (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._terms: dict[str, Terms] = {}  # virtual topic -> last terms with its buyer

    def initialise(self, sim: Simulation) -> None:
        super().initialise(sim)
        sim.compute.subscribe(self.name, INITIAL_OFFERS)

    def _last_terms(self, sim: Simulation, topic: str) -> Terms | None:
        return self._terms.get(topic)

    def _on_message(self, sim: Simulation, env: Any) -> None:
        if env.topic == INITIAL_OFFERS:
            if env.type == "offer" and env.body.get("initial") is True and "job" in env.body:
                self._terms[f"{env.body['offerId']}/{self.name}"] = env.body["terms"]
                self._on_request(sim, replace(env, topic="requests", type="request", body={
                    "request_id": env.body["offerId"], "job": env.body["job"],
                    "terms": env.body["terms"]}))
            return
        tp = sim.compute.topic(env.topic)
        if tp is None or tp.participants.get(env.sender) != "buyer":
            return
        topic = f"{env.topic}/{self.name}"
        info = self.topics.get(topic)
        if info is None:
            return
        if env.type == "cancel" or tp.state == "CANCELLED":
            self.topics.pop(topic, None)
        elif env.body.get("seller") != self.name:
            if env.type == "buyAttest":  # the buyer paid another seller
                self.topics.pop(topic, None)
        elif env.type == "offer" and tp.state in LIVE:
            self._terms[topic] = env.body["terms"]
            self._answer(sim, topic, info, env.body["terms"], replace(env, topic=topic))
        elif env.type == "buyAttest":
            self._on_accept(sim, topic, info, env.body["attestation"])

    def _publish(self, sim: Simulation, topic: str, type: str, body: dict) -> bool:
        oid = _offer_id(topic)
        tp = sim.compute.topic(oid)
        if tp is None:
            return False
        if type in ("terminate", "collateral_missing"):
            # leave a negotiation it joined; never after PAID (module docstring)
            if self.name in tp.participants and tp.state in LIVE:
                reason = body.get("reason", type)
                return self._send(sim, oid, "cancel", {"offerId": oid, "error": reason})
            return False
        if type == "attestation" and body.get("kind") != "result":
            return True  # attestation(commence): the provider commences silently on chain
        buyer = next((p for p, role in tp.participants.items() if role == "buyer"), "")
        inp = input_of(tp, self.name) if self.name not in tp.participants \
            else _to_seller(tp, buyer, self.name)
        want = "buyAttest" if type == "attestation" else "offer"
        if inp is None or inp.type != want or tp.state not in (("PAID",) if want == "buyAttest"
                                                                else LIVE):
            self.topics.pop(f"{oid}/{self.name}", None)  # over: the scheme would refuse it
            return False
        if type == "offer":
            self._terms[f"{oid}/{self.name}"] = body["terms"]
            return self._send(sim, oid, "offer",
                              _offer(oid, body["terms"], self.name, reply_to=inp.seq))
        return self._send(sim, oid, "sellAttest", {"offerId": oid, "reply_to": inp.seq,
                                                   "attestation": str(body["uid"])})

    def _send(self, sim: Simulation, channel: str, type: str, body: dict) -> bool:
        return not isinstance(sim.compute.publish(self.name, channel, type, body), Event)
