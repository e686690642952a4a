"""The message bus wired into the ``compute`` protocol (spec 2.1, 2.3): two scripted
parties negotiate through ``sim.compute`` with 1 s blocks; vector 9(a) a1 (Kalman
against Kalman) reproduces every price of the two-party driver and ends with the
client's escrow then ``accept``; row 11 closes the topic when the deal closes."""

from __future__ import annotations

import numpy as np

from defisim.agents.compute import Accept, Counter, PolicyContext, PolicyMemory, make_policy
from defisim.agents.compute.policy import round_price
from defisim.protocols.compute.schemes import Envelope, MessageRejected
from defisim.protocols.compute.types import Job, Terms
from defisim.service import Simulation

A1 = [200, 466.666667, 415.053763, 446.021506, 428.878648, 441.123546, 432.657937,
      439.242300, 434.210853, 438.327492, 434.996471, 437.815027, 435.448163, 437.499445,
      435.731489, 437.291450]


def world(**params):
    from defisim.protocols.compute.protocol import ComputeProtocol

    sim = Simulation(seed=1, protocols=[ComputeProtocol(params)])
    sim.create_asset("USDC", 6)
    for p in ("C", "P", "M1"):
        sim.create_party(p)
    sim.mint("C", "USDC", 10_000)
    sim.mint("P", "USDC", 10_000)
    sim.compute.subscribe("P", "requests")
    return sim


def terms(price: int) -> Terms:
    return Terms(price=price, client_deposit=5 * 10**6, timeout_deposit=3 * 10**6,
                 cheating_multiplier=10**6, instruction_count=2, verification="optimistic",
                 mediators=("M1",), mediation_fee=10**6)


JOB = Job("j1", "C", "cpu-small", 2, 0, 4, 600, 2, 3000.0, 500.0)


def negotiate_a1(sim):
    """Drive both sides one block (1 s) at a time; returns the price messages
    ``(t, sender, amount)`` of the topic, the escrow uid and the topic id."""
    cx = sim.compute
    pol = {"C": make_policy("kalman", "client"), "P": make_policy("kalman", "provider")}
    mem = {"C": PolicyMemory(), "P": PolicyMemory()}
    rng = {"C": np.random.default_rng(0), "P": np.random.default_rng(1)}
    role = {"C": "client", "P": "provider"}

    def ctx(who, amount=None):
        return PolicyContext(role[who], sim.now, mem[who], rng[who], JOB, amount)

    x0 = pol["C"].open(JOB, ctx("C"))
    out = cx.publish("C", "requests", "request",
                     {"request_id": "r1", "job": JOB, "terms": terms(round_price(x0, "client"))})
    assert isinstance(out, Envelope)
    uid = None
    for _ in range(40):
        sim.forward_time(1)
        for who in ("C", "P"):
            for env in cx.inbox(who):
                if env.type not in ("request", "offer"):
                    continue
                topic = "r1/P" if env.topic == "requests" else env.topic
                amount = env.body["terms"].price
                d = pol[who].respond(env, ctx(who, amount))
                if isinstance(d, Accept) and who == "C":
                    t = env.body["terms"]
                    uid = cx.escrow("C", JOB.cid, t, "P").value
                    ok = cx.publish("C", topic, "accept", {"terms_hash": t.hash, "escrow_uid": uid})
                    assert isinstance(ok, Envelope), ok
                    return uid, topic
                assert isinstance(d, Counter)
                ok = cx.publish(who, topic, "offer", {"terms": env.body["terms"].with_price(d.amount)})
                assert isinstance(ok, Envelope), ok
    raise AssertionError("no agreement")


def test_vector_9a_a1_through_the_simulation():
    sim = world()
    uid, topic = negotiate_a1(sim)
    tp = sim.compute.topic(topic)
    prices = [(e.time, e.sender, e.body["terms"].price) for e in tp.history
              if e.type in ("request", "offer")]
    assert prices == [(float(i), "C" if i % 2 == 0 else "P", round(x * 10**6))
                      for i, x in enumerate(A1)]
    assert tp.state == "AGREED" and tp.history[-1].type == "accept"
    assert tp.history[-1].time == 16.0 and tp.data["escrow_uid"] == uid
    d = sim.compute.deal(uid)
    assert d.terms.price == 437_291_450 and d.escrow == 437_291_450 + 5 * 10**6
    assert sim.compute.topic_of_escrow(uid) == topic


def test_a_chain_close_closes_the_topic_row_11():
    sim = world(commit_window_s=10)
    uid, topic = negotiate_a1(sim)
    sim.forward_time(11)
    assert sim.compute.cancel_escrow("C", uid).accepted
    tp = sim.compute.topic(topic)
    assert (tp.state, tp.close_reason) == ("CLOSED", "cancelled")
    assert tp.history[-1].type == "terminate" and tp.history[-1].sender == "scheme"
    sim.forward_time(1)
    assert [e.type for e in sim.compute.inbox("P")][-1] == "terminate"
    assert sim.balance("C", "USDC") == 10_000


def test_an_invalid_message_is_an_event_shown_to_its_sender():
    sim = world()
    out = sim.compute.publish("P", "r9/P", "offer", {"terms": terms(10)})
    assert isinstance(out, MessageRejected) and out.reason == "unknown_topic"
    assert sim.compute.rejections("P") == [out]
    assert sim.compute.rejections("P") == []
    assert out in sim.chain.events
    # the sender's out-of-turn move in a live topic
    sim.compute.publish("C", "requests", "request", {"request_id": "r1", "job": JOB,
                                                     "terms": terms(100)})
    sim.forward_time(1)
    assert [e.type for e in sim.compute.inbox("P")] == ["request"]
    assert sim.compute.open_requests() == ["r1"]
    sim.compute.publish("P", "r1/P", "offer", {"terms": terms(300)})
    bad = sim.compute.publish("P", "r1/P", "offer", {"terms": terms(290)})
    assert isinstance(bad, MessageRejected) and bad.reason == "not_your_turn"
    sim.forward_time(1)
    assert [e.body["terms"].price for e in sim.compute.inbox("C")] == [300]


def test_the_reply_timer_fires_at_a_block():
    sim = world()
    sim.compute.publish("C", "requests", "request", {"request_id": "r1", "job": JOB,
                                                     "terms": terms(100)})
    sim.forward_time(1)
    sim.compute.publish("P", "r1/P", "offer", {"terms": terms(300)})
    for _ in range(31):
        sim.forward_time(1)
    tp = sim.compute.topic("r1/P")
    assert (tp.state, tp.close_reason, tp.closed_at) == ("CLOSED", "timeout", 31.0)


def test_a_pending_delivery_and_a_scheme_timer_are_deadlines_of_the_chain():
    """A run that skips idle time (``next_deadline_ns``) still wakes for a message's
    delivery (latency 1 s) and for the scheme's reply timer (30 s)."""
    sim = world()
    sim.forward_time(5)
    assert sim.next_deadline_ns() is None
    sim.compute.publish("C", "requests", "request",
                        {"request_id": "r1", "job": JOB, "terms": terms(200 * 10**6)})
    assert sim.next_deadline_ns() == 6 * 10**9  # delivered at 5 + 1 s
    sim.forward_time(1)
    assert [e.type for e in sim.compute.inbox("P")] == ["request"]
    assert isinstance(sim.compute.publish("P", "r1/P", "offer", {"terms": terms(300 * 10**6)}),
                      Envelope)
    sim.forward_time(1)
    sim.compute.inbox("C")
    # the client must answer within 30 s of the offer (published at 6 s)
    assert sim.next_deadline_ns() == 36 * 10**9


def test_snapshots_and_forks_carry_the_bus():
    sim = world()
    sim.compute.publish("C", "requests", "request",
                        {"request_id": "r1", "job": JOB, "terms": terms(200 * 10**6)})
    sim.forward_time(1)
    assert [e.type for e in sim.compute.inbox("P")] == ["request"]
    state = sim.chain.state_snapshot()
    assert isinstance(sim.compute.publish("P", "r1/P", "offer", {"terms": terms(300 * 10**6)}),
                      Envelope)
    fork = sim.snapshot()
    sim.chain.restore_state(state)  # as a reverted bundle: the offer is gone
    assert sim.compute.topic("r1/P") is None
    assert isinstance(sim.compute.publish("P", "r1/P", "offer", {"terms": terms(250 * 10**6)}),
                      Envelope)
    sim.forward_time(1)
    fork.forward_time(1)
    assert [e.body["terms"].price for e in sim.compute.inbox("C")] == [250 * 10**6]
    assert [e.body["terms"].price for e in fork.compute.inbox("C")] == [300 * 10**6]
