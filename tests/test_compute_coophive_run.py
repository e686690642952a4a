"""The compute marketplace over the ``coophive`` scheme (spec 2.2), its agents mapped by
spec 2.3's "Mapping between the schemes" (:mod:`defisim.agents.compute.coophive`): a
short run makes deals that complete, conserves USDC and puts only coophive messages on
the bus; the default scheme stays ``compute``."""

from __future__ import annotations

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")
COOPHIVE_TYPES = {"offer", "cancel", "buyAttest", "sellAttest"}


def run(**params):
    seen: dict = {"usdc": []}

    def hook(run_, step, kpis):
        seen["sim"] = run_.sim
        led = run_.sim.chain.ledger
        seen["usdc"].append(sum(b for key, b in led.balances.items() if key[2] == "USDC"))

    sc = SCEN(SCEN.Params(**params))
    r = run_scenario(sc, seed=1, record=False, progress=False, hooks=[hook])
    return sc, r, seen


def test_a_coophive_run_makes_deals_and_conserves_usdc():
    sc, r, seen = run(hours=0.5, n_clients=10, n_providers=6, scheme="coophive")
    assert r.error is None
    p = sc.params
    minted = (p.n_clients * p.client_capital + p.n_providers * p.provider_capital
              + p.n_mediators * p.mediator_capital) * 10**6
    assert set(seen["usdc"]) == {minted}
    k = r.kpis
    assert k["deals"] >= 3 and k["commenced"] == k["deals"] and k["completed"] >= 1
    assert k["invalid_messages"] == 0
    sim = seen["sim"]
    assert sim.compute.scheme_name == "coophive"
    topics = sim.compute.protocol.bus.topics
    assert topics and {e.type for tp in topics.values() for e in tp.history} <= COOPHIVE_TYPES
    done = [tp for tp in topics.values() if tp.state == "DONE"]
    assert len(done) >= k["completed"]
    for tp in done:  # offer ... buyAttest(escrow uid) ... sellAttest(result uid)
        pay = next(e for e in tp.history if e.type == "buyAttest")
        last = tp.history[-1]
        assert last.type == "sellAttest" and last.sender == pay.body["seller"]
        assert sim.compute.topic_of_escrow(pay.body["attestation"]) == tp.topic
        assert sim.compute.deal(pay.body["attestation"]).result_cid


def test_the_default_scheme_is_compute():
    assert SCEN.Params().scheme == "compute"
    _, r, seen = run(hours=0.05, n_clients=4, n_providers=3)
    assert r.error is None and seen["sim"].compute.scheme_name == "compute"
    assert seen["sim"].compute.broadcast_channel == "requests"


def test_the_scheme_is_chosen_before_the_first_message():
    _, _, seen = run(hours=0.05, n_clients=4, n_providers=3)
    with pytest.raises(ValueError, match="before the first message"):
        seen["sim"].compute.use_scheme("coophive")
    with pytest.raises(ValueError, match="unknown scheme 'ebay'"):
        seen["sim"].compute.use_scheme("ebay")
    with pytest.raises(ValueError):
        SCEN.Params(scheme="ebay")


@pytest.mark.slow
def test_terminate_maps_to_cancel_without_rejections():
    """Spec 2.3's mapping: a seller's terminate is a ``cancel`` on the shared topic,
    the buyer cancels its topic when no seller is left or its job's deadline passed;
    no agent sends a reply the scheme refuses (each reply names the message it answers,
    ``reply_to``), and USDC is conserved."""
    sc, r, seen = run(hours=1.0, scheme="coophive")
    assert r.error is None
    p = sc.params
    minted = (p.n_clients * p.client_capital + p.n_providers * p.provider_capital
              + p.n_mediators * p.mediator_capital) * 10**6
    assert set(seen["usdc"]) == {minted}
    assert r.kpis["invalid_messages"] == 0 and r.kpis["deals"] >= 20
    sim = seen["sim"]
    topics = sim.compute.protocol.bus.topics
    cancels = [e for tp in topics.values() for e in tp.history if e.type == "cancel"]
    by_role = {tp.participants.get(e.sender, "seller") for tp in topics.values()
               for e in tp.history if e.type == "cancel"}
    assert cancels and by_role == {"buyer", "seller"}
    reasons = {e.body.get("error") for e in cancels}
    assert "deadline" in reasons
    # replies name their input (reply_to): some answer a message other sellers wrote after
    late = [e for tp in topics.values() for e in tp.history
            if "reply_to" in e.body and e.body["reply_to"] != e.seq - 1]
    assert late and all(tp.history[e.body["reply_to"]].sender != e.sender for e in late
                        for tp in [topics[e.topic]])
    for tp in topics.values():  # a seller never cancels once the buyer has paid
        paid = next((e.seq for e in tp.history if e.type == "buyAttest"), None)
        if paid is not None:
            assert not any(e.type == "cancel" and e.seq > paid for e in tp.history)
    # every request past its deadline without a deal is closed
    jobs = {jid: req for c in sc.agents["client"] for jid, req in c.requests.items()}
    expired = [oid for oid, req in jobs.items() if req.job.deadline < sim.now - 1
               and not req.filled]
    assert expired and all(topics[oid].state == "CANCELLED" for oid in expired)
