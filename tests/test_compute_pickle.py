"""Schemes pickle (their rule checks are bound methods and module-level functions, not
closures), so a simulation carrying the ``compute`` protocol can be snapshotted, as
the environments do (``defisim.envs.compute.ComputeSession``). A copy taken mid-way
continues exactly as the original: same messages, rejections, timers, balances."""

from __future__ import annotations

import pickle

import numpy as np

from defisim.protocols.compute.schemes import (
    INITIAL_OFFERS,
    CoophiveScheme,
    Envelope,
    FieldSpec,
    MessageBus,
    MessageRejected,
    MessageType,
    SchemeDefinition,
    TableScheme,
    Timers,
    Transition,
)
from defisim.protocols.compute.types import Job, Terms
from defisim.service import Simulation

JOB = Job("j1", "C", "cpu-small", 2, 0, 4, 600, 2, 3000.0, 500.0)


def terms(price: int) -> Terms:
    return Terms(price=price, client_deposit=5 * 10**6, timeout_deposit=3 * 10**6,
                 cheating_multiplier=10**6, instruction_count=2, verification="optimistic",
                 mediators=("M1",), mediation_fee=10**6)


def compute_sim_mid_negotiation() -> Simulation:
    """Client C asked 100, provider P countered 300: NEGOTIATING, C to move, the reply
    timer armed."""
    from defisim.protocols.compute.protocol import ComputeProtocol

    sim = Simulation(seed=1, protocols=[ComputeProtocol({})])
    sim.create_asset("USDC", 6)
    for p in ("C", "P", "M1"):
        sim.create_party(p)
    sim.mint("C", "USDC", 10_000)
    sim.compute.subscribe("P", "requests")
    sim.compute.publish("C", "requests", "request",
                        {"request_id": "r1", "job": JOB, "terms": terms(100)})
    sim.forward_time(1)
    sim.compute.publish("P", "r1/P", "offer", {"terms": terms(300)})
    sim.forward_time(1)
    return sim


def continue_compute(sim: Simulation) -> list:
    """Counter-offers (one out of turn), an accept with an escrow, a wrong attestation,
    then silence until the reply timer closes the topic; everything observable."""
    cx, n0, log = sim.compute, len(sim.chain.events), []

    def observe():
        log.append((sim.now, [(e.type, e.sender, e.time) for p in "CP" for e in cx.inbox(p)],
                    [(r.reason, r.detail) for p in "CP" for r in cx.rejections(p)]))

    observe()
    cx.publish("P", "r1/P", "offer", {"terms": terms(290)})  # not_your_turn
    cx.publish("C", "r1/P", "offer", {"terms": terms(200)})
    sim.forward_time(1)
    observe()
    cx.publish("P", "r1/P", "offer", {"terms": terms(250)})
    sim.forward_time(1)
    t = cx.last_offer_terms("r1/P")
    uid = cx.escrow("C", JOB.cid, t, "P").value
    cx.publish("C", "r1/P", "accept", {"terms_hash": t.hash, "escrow_uid": uid})
    cx.publish("P", "r1/P", "attestation", {"kind": "result", "uid": "nope"})
    for _ in range(40):
        sim.forward_time(1)
        observe()
    tp = cx.topic("r1/P")
    log.append((tp.state, tp.close_reason, tp.closed_at, tp.data, cx.topic_of_escrow(uid),
                [(e.time, e.sender, e.type) for e in tp.history],
                sim.balance("C", "USDC"), [repr(e) for e in sim.chain.events[n0:]]))
    return log


def test_a_compute_simulation_pickled_mid_negotiation_continues_identically():
    sim = compute_sim_mid_negotiation()
    copy = pickle.loads(pickle.dumps(sim))
    scheme = copy.compute.protocol.scheme
    # the copy's rule checks act on the copy's registries, not the original's
    assert scheme.definition.checks["new_request"].__self__ is scheme
    assert scheme.definition.checks["collateral_refs_escrow"].func.__self__ is scheme
    a, b = continue_compute(sim), continue_compute(copy)
    assert a == b
    state, reason, closed_at, data, topic, history, _, events = a[-1]
    assert (state, reason, topic) == ("CLOSED", "timeout", "r1/P")
    assert closed_at == 34.0 and data["terms"].price == 250  # AGREED at 4 s + 30 s
    assert [x[2] for x in history] == ["request", "offer", "offer", "offer", "accept",
                                       "terminate"]
    assert [r for entry in a[:-1] for r in entry[2]] == [
        ("not_your_turn", "the sender sent the last price"), ("invalid_in_state", "kind_commence")]
    assert sum("MessageRejected" in e for e in events) == 2
    # the original was not touched by the copy's run
    assert sim.compute.protocol.scheme.requests.keys() == scheme.requests.keys()


# -- a user's table scheme (its checks must be module-level functions to pickle) ------
def next_n(c):
    prev = c.topic.history[-1].body["n"]
    return None if c.envelope.body["n"] == prev + 1 else "wrong_number"


PINGPONG = SchemeDefinition(
    name="pingpong", roles=("pinger", "ponger"),
    messages=(MessageType("ping", ("pinger",), (FieldSpec("n", (int,)),)),
              MessageType("pong", ("ponger",), (FieldSpec("n", (int,)),)),
              MessageType("quit", ("pinger", "ponger"))),
    states=("IDLE", "WAITING", "DONE", "GONE"), initial_state="IDLE",
    terminal_states=("DONE", "GONE"),
    transitions=(Transition("IDLE", ("pinger",), "ping", "WAITING"),
                 Transition("WAITING", ("ponger",), "pong", "DONE", ("next_n",)),
                 Transition("WAITING", ("pinger", "ponger"), "quit", "GONE")),
    checks={"next_n": next_n}, closed_state="GONE",
    timers=Timers(reply_timeout_s=5.0, reply_states=("WAITING",)))


def _outcome(out) -> tuple:
    if isinstance(out, MessageRejected):
        return ("rejected", out.reason)
    assert isinstance(out, Envelope)
    return ("ok", out.topic, out.seq, out.type)


def test_a_table_scheme_bus_pickled_mid_topic_continues_identically():
    bus = MessageBus(TableScheme(PINGPONG, "pinger", "ponger", close_message=("quit", "why")),
                     np.random.default_rng(0))
    bus.subscribe("Z", "t1")
    bus.publish("A", "t1", "ping", {"n": 1}, 0.0)
    bus.publish("A", "t2", "ping", {"n": 1}, 0.5)
    copy = pickle.loads(pickle.dumps(bus))
    assert copy.scheme.bus is copy

    def go(b):
        return [[(r, e.topic, e.seq) for r, e in b.due(1.0)],
                _outcome(b.publish("Z", "t1", "pong", {"n": 7}, 1.0)),
                _outcome(b.publish("Z", "t1", "pong", {"n": 2}, 1.0)),
                [(e.topic, e.type, dict(e.body), e.time) for e in b.tick(20.0)],
                [(t, s.state, s.close_reason) for t, s in sorted(b.topics.items())]]

    a = go(bus)
    assert a == go(copy)
    assert a[1:] == [("rejected", "wrong_number"), ("ok", "t1", 1, "pong"),
                     [("t2", "quit", {"why": "timeout"}, 5.5)],
                     [("t1", "DONE", "done"), ("t2", "GONE", "timeout")]]


def test_a_coophive_bus_pickled_mid_topic_continues_identically():
    def offer(oid="o1", initial=None, amt=100):
        body = {"offerId": oid, "query": "Dockerfile",
                "tokens": [{"ERC20": True, "address": "USDC", "amt": amt}]}
        if initial is not None:
            body["initial"] = initial
        return body

    bus = MessageBus(CoophiveScheme(), np.random.default_rng(1))
    for s in ("S1", "S2"):
        bus.subscribe(s, INITIAL_OFFERS)
    bus.publish("B", INITIAL_OFFERS, "offer", offer(initial=True), 0.0)
    bus.publish("S1", "o1", "offer", offer(amt=120), 1.0)
    copy = pickle.loads(pickle.dumps(bus))
    assert copy.scheme.definition.effects["join"].__self__ is copy.scheme

    def go(b):
        return [_outcome(b.publish("S2", "o1", "offer", offer(), 2.0)),       # joins
                _outcome(b.publish("S2", "o1", "offer", offer(), 2.5)),       # no new input
                _outcome(b.publish("B", INITIAL_OFFERS, "offer", offer(initial=True), 3.0)),
                _outcome(b.publish("B", "o1", "buyAttest",
                                   {"offerId": "o1", "attestation": "E1"}, 4.0)),
                _outcome(b.publish("S1", "o1", "sellAttest",
                                   {"offerId": "o1", "attestation": "R1"}, 5.0)),
                sorted(b.subscribers["o1"]), b.topic_state("o1").state,
                [(r.sender, r.reason) for r in b.rejections]]

    a = go(bus)
    assert a == go(copy)
    assert a[0] == ("ok", "o1", 2, "offer") and a[2] == ("rejected", "invalid_response")
    assert a[6] == "DONE"


def test_a_marketplace_run_pickled_with_transactions_in_flight_continues_identically():
    """Mempool mode: agents wait for their receipts (``functools.partial`` follow-ups,
    no closures), so a run pickled with a transaction in flight continues as the
    original does, step for step."""
    from defisim.runner import Run
    from defisim.scenarios import get_scenario

    scen = get_scenario("compute_marketplace")
    sc = scen(scen.Params(hours=0.2, n_clients=10, n_providers=6))
    run = Run(sc, 3)
    run.start()
    for _ in range(300):
        run.advance(1)
        if any(a._inflight for g in sc.agents.values() for a in g):
            break
    inflight = sum(len(a._inflight) for g in sc.agents.values() for a in g)
    assert inflight > 0
    copy = pickle.loads(pickle.dumps(run))
    for _ in range(60):
        run.advance(1)
        copy.advance(1)
        assert sc.kpis(run.sim) == copy.scenario.kpis(copy.sim)
    assert sc.kpis(run.sim)["deals"] > 0
