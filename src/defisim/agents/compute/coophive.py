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
client ``terminate``                nothing: a buyer's ``cancel`` closes the topic for all
provider ``terminate``,             nothing: a seller's ``cancel`` would be the other
``collateral_missing``              sellers' input (spec 2.2) and void their next offers
==================================  ======================================================

Not mapped (coophive has no counterpart): ``terminate`` with its reasons and
``collateral_missing`` (nobody cancels; the client's unclaimed escrow is cancelled after the
commit window), the scheme's timers (reply / negotiation timeouts, request TTL:
coophive topics stay open), row 11 (a deal closing on chain does not close the
topic), max offers / max deals. Bodies carry the ``compute`` objects beside
coophive's fields (``terms``, ``job``, and ``seller``: the seller a buyer's message is
meant for, since all sellers of a topic see it).
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


def _offer_id(topic: str) -> str:
    return topic.rpartition("/")[0] or topic


def _offer(offer_id: str, terms: Terms, seller: str, **extra: Any) -> dict[str, Any]:
    return {"offerId": offer_id, "query": offer_id, "tokens": [terms.price], "terms": terms,
            "seller": seller, **extra}


class CoophiveClient(ComputeClient):
    """:class:`ComputeClient` on the ``coophive`` scheme (module docstring)."""

    closed_states = ("PAID", "DONE", "CANCELLED")

    def _publish_request(self, sim: Simulation, job: Job, terms: Terms) -> bool:
        body = _offer(job.job_id, terms, "", initial=True, job=job)
        return self._send(sim, INITIAL_OFFERS, "offer", body)

    def _topic(self, sim: Simulation, topic: str) -> Any:
        return sim.compute.topic(_offer_id(topic))

    def _on_message(self, sim: Simulation, env: Any) -> None:
        # a seller's offer on one of our topics, as the compute offer of topic offerId/seller
        if env.type != "offer" or env.topic not in self.requests or env.sender == self.name:
            return
        super()._on_message(sim, replace(env, topic=f"{env.topic}/{env.sender}"))

    def _publish(self, sim: Simulation, topic: str, type: str, body: dict) -> bool:
        oid, seller = _offer_id(topic), topic.rpartition("/")[2]
        if type == "offer":
            return self._send(sim, oid, "offer", _offer(oid, body["terms"], seller))
        if type == "accept":
            return self._send(sim, oid, "buyAttest", {
                "offerId": oid, "attestation": body["escrow_uid"],
                "terms_hash": body["terms_hash"], "seller": seller})
        return True  # terminate: the buyer just stops answering this seller

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
        if type == "offer":
            self._terms[f"{oid}/{self.name}"] = body["terms"]
            return self._send(sim, oid, "offer", _offer(oid, body["terms"], self.name))
        if type in ("terminate", "collateral_missing"):
            # a seller's cancel would become the other sellers' "input" on the shared
            # topic and void their next offer (spec 2.2's input rule): it stops answering
            return False
        if type == "attestation" and body.get("kind") == "result":
            return self._send(sim, oid, "sellAttest", {"offerId": oid,
                                                       "attestation": str(body["uid"])})
        return True  # attestation(commence): the provider commences silently on chain

    def _send(self, sim: Simulation, channel: str, type: str, body: dict) -> bool:
        return not isinstance(sim.compute.publish(self.name, channel, type, body), Event)
