"""The schemes of the compute marketplace (spec 2.2, 2.3): every illegal move per role
refused with its reason and the topic unchanged, the happy paths, max rounds (vector
9(a) a7), the timers, row 11, a user's toy scheme and malformed definitions."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from defisim.protocols.compute.schemes import (
    INITIAL_OFFERS,
    REQUESTS,
    SCHEME_SENDER,
    ComputeParams,
    ComputeScheme,
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
from defisim.protocols.compute.schemes.coophive import offer_amount
from defisim.protocols.compute.types import Terms

USDC = 10**6
TERMS = Terms(price=150 * USDC, mediators=("M1",))


class Registry:
    """A stub of the attestation registry: ``get(uid)``."""

    def __init__(self) -> None:
        self.rows: dict[str, SimpleNamespace] = {}

    def add(self, uid: str, schema: str, ref_uid: str = "") -> None:
        self.rows[uid] = SimpleNamespace(schema=schema, ref_uid=ref_uid, revocation_time=0)

    def get(self, uid: str):
        return self.rows.get(uid)


def compute_bus(params: ComputeParams | None = None, seed: int = 0):
    reg = Registry()
    reg.add("E1", "escrow")
    reg.add("E2", "escrow")
    reg.add("COL1", "collateral", "E1")
    reg.add("COL2", "collateral", "E2")
    reg.add("COLX", "collateral", "E9")
    reg.add("RES1", "result", "E1")
    reg.add("RES2", "result", "E2")
    reg.add("RESX", "result", "E9")
    scheme = ComputeScheme(reg, params)
    bus = MessageBus(scheme, np.random.default_rng(seed))
    for p in ("P", "Q"):
        bus.subscribe(p, REQUESTS)
    return bus, scheme


def request(bus, t=0.0, rid="r1", terms=TERMS, **extra):
    body = {"request_id": rid, "job": {"job_class": "cpu-small"}, "terms": terms, **extra}
    return bus.publish("C", REQUESTS, "request", body, t)


def offer(price):
    return {"terms": TERMS.with_price(price)}


def accept(terms, uid="E1"):
    return {"terms_hash": terms.hash, "escrow_uid": uid}


def to_state(state: str):
    """A bus with topic r1/P in ``state`` (times 0, 1, 2, ...)."""
    bus, scheme = compute_bus()
    assert isinstance(request(bus), Envelope)
    steps = [("P", "offer", offer(160 * USDC)), ("C", "offer", offer(155 * USDC)),
             ("P", "offer", offer(157 * USDC)),
             ("C", "accept", accept(TERMS.with_price(157 * USDC))),
             ("P", "collateral_missing", {"escrow_uid": "E1", "missing": ["amount_short"]}),
             ("C", "accept", accept(TERMS.with_price(157 * USDC), "E2")),
             ("P", "attestation", {"kind": "commence", "uid": "COL2"})]
    stop = {"NEGOTIATING": 3, "AGREED": 4, "AWAITING_COLLATERAL": 5, "RUNNING": 7}[state]
    for t, (who, kind, body) in enumerate(steps[:stop], start=1):
        assert isinstance(bus.publish(who, "r1/P", kind, body, float(t)), Envelope)
    assert bus.topic_state("r1/P").state == state
    return bus, scheme, float(stop + 1)


def refused(bus, channel, sender, kind, body, now, reason, **kw):
    """Publish; assert the reason, nothing queued and the topic unchanged."""
    before = copy.deepcopy(bus.topics.get(channel))
    queued = len(bus._queue)
    out = bus.publish(sender, channel, kind, body, now, **kw)
    assert isinstance(out, MessageRejected), out
    assert (out.reason, out.topic, out.sender, out.type) == (reason, channel, sender, kind)
    assert out.time == now
    assert bus.rejections[-1] is out
    assert len(bus._queue) == queued
    assert bus.topics.get(channel) == before
    return out


# -- compute: the request (row 1) and opening a topic (row 2) ------------------------------
@pytest.mark.parametrize("terms, reason", [
    (TERMS.with_price(0), "bad_price"), (TERMS.with_price(-5), "bad_price"),
    (Terms(price=100, mediators=()), "bad_body")])
def test_request_refused_for_bad_price_or_incomplete_terms(terms, reason):
    bus, scheme = compute_bus()
    refused(bus, REQUESTS, "C", "request",
            {"request_id": "r1", "job": {}, "terms": terms}, 0.0, reason)
    assert scheme.requests == {}


def test_request_refusals_on_the_broadcast_channel():
    bus, _ = compute_bus()
    refused(bus, REQUESTS, "C", "request", {"job": {}, "terms": TERMS}, 0.0, "bad_body")
    refused(bus, REQUESTS, "C", "request",
            {"request_id": "r1", "job": {}, "terms": {"price": 5}}, 0.0, "bad_body")
    assert isinstance(request(bus), Envelope)
    refused(bus, REQUESTS, "C", "request",
            {"request_id": "r1", "job": {}, "terms": TERMS}, 1.0, "invalid_in_state")
    refused(bus, REQUESTS, "C", "offer", offer(100), 1.0, "invalid_in_state")
    refused(bus, REQUESTS, "C", "gossip", {}, 1.0, "unknown_type")
    refused(bus, REQUESTS, "C", "request", {"request_id": "r2", "job": {}, "terms": TERMS},
            1.0, "bad_signature", signed_by="X")


def test_opening_a_topic_refusals():
    bus, _ = compute_bus(ComputeParams(request_ttl_s=300))
    request(bus, expires_at=50.0)
    refused(bus, "r9/P", "P", "offer", offer(100), 1.0, "unknown_topic")
    refused(bus, "nonsense", "P", "offer", offer(100), 1.0, "unknown_topic")
    refused(bus, "r1/C", "C", "offer", offer(100), 1.0, "wrong_role")  # the client itself
    refused(bus, "r1/P", "Q", "offer", offer(100), 1.0, "wrong_role")  # not the topic's
    refused(bus, "r1/P", "P", "accept", accept(TERMS), 1.0, "wrong_role")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "COL1"}, 1.0,
            "invalid_in_state")
    refused(bus, "r1/P", "P", "offer", offer(0), 1.0, "bad_price")
    refused(bus, "r1/P", "P", "offer", offer(100), 50.0, "request_expired")
    assert bus.topics == {}
    assert isinstance(bus.publish("P", "r1/P", "offer", offer(100), 49.5), Envelope)


def test_request_ttl_caps_expiry_and_open_requests():
    bus, scheme = compute_bus()
    request(bus, t=10.0, expires_at=10_000.0)
    assert scheme.requests["r1"].expires_at == 310.0
    assert scheme.open_requests(309.9) == ["r1"] and scheme.open_requests(310.0) == []
    refused(bus, "r1/P", "P", "offer", offer(100), 310.0, "request_expired")
    assert isinstance(bus.publish("Q", "r1/Q", "terminate", {"reason": "rejected"}, 309.0),
                      Envelope)
    assert bus.topic_state("r1/Q").close_reason == "rejected"


def test_request_filled_and_freed_when_a_deal_closes_before_commencement():
    bus, scheme, t = to_state("AGREED")
    refused(bus, "r1/Q", "Q", "offer", offer(100), t, "request_filled")
    assert scheme.open_requests(t) == []
    bus.publish("C", "r1/P", "terminate", {"reason": "cancelled"}, t)
    assert isinstance(bus.publish("Q", "r1/Q", "offer", offer(100), t + 1), Envelope)
    assert scheme.requests["r1"].topics == ["r1/P", "r1/Q"]


def test_accept_refused_when_another_topic_holds_the_deal():
    bus, _ = compute_bus()
    request(bus)
    bus.publish("P", "r1/P", "offer", offer(200), 1.0)
    bus.publish("Q", "r1/Q", "offer", offer(190), 1.0)
    assert isinstance(bus.publish("C", "r1/Q", "accept", accept(TERMS.with_price(190)), 2.0),
                      Envelope)
    refused(bus, "r1/P", "C", "accept", accept(TERMS.with_price(200), "E2"), 2.0,
            "request_filled")


# -- compute: negotiating (rows 3, 4) ---------------------------------------------------------
def test_negotiating_refusals_per_role():
    bus, _, t = to_state("NEGOTIATING")  # last price: P at 157
    last = TERMS.with_price(157 * USDC)
    refused(bus, "r1/P", "P", "offer", offer(150 * USDC), t, "not_your_turn")
    refused(bus, "r1/P", "P", "accept", accept(last), t, "wrong_role")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "COL1"}, t,
            "invalid_in_state")
    refused(bus, "r1/P", "P", "collateral_missing", {"escrow_uid": "E1", "missing": []}, t,
            "invalid_in_state")
    refused(bus, "r1/P", "X", "offer", offer(150 * USDC), t, "wrong_role")
    refused(bus, "r1/P", "C", "offer", offer(0), t, "bad_price")
    refused(bus, "r1/P", "C", "offer", {"terms": TERMS.with_price(1.5)}, t, "bad_price")
    refused(bus, "r1/P", "C", "accept", accept(TERMS.with_price(155 * USDC)), t,
            "terms_mismatch")
    refused(bus, "r1/P", "C", "accept", accept(last, "NOPE"), t, "unknown_attestation")
    refused(bus, "r1/P", "C", "accept", accept(last, "COL1"), t, "unknown_attestation")
    refused(bus, "r1/P", "C", "terminate", {"reason": "bored"}, t, "bad_body")
    refused(bus, "r1/P", "C", "accept", accept(last), t, "bad_signature", signed_by="P")
    # the client counters, then may not accept its own price
    assert isinstance(bus.publish("C", "r1/P", "offer", offer(156 * USDC), t), Envelope)
    refused(bus, "r1/P", "C", "accept", accept(TERMS.with_price(156 * USDC)), t + 1,
            "not_your_turn")
    refused(bus, "r1/P", "C", "offer", offer(156 * USDC), t + 1, "not_your_turn")


def test_agreed_awaiting_running_refusals():
    bus, _, t = to_state("AGREED")
    last = TERMS.with_price(157 * USDC)
    refused(bus, "r1/P", "C", "offer", offer(100), t, "invalid_in_state")
    refused(bus, "r1/P", "C", "accept", accept(last), t, "invalid_in_state")
    refused(bus, "r1/P", "C", "attestation", {"kind": "commence", "uid": "COL1"}, t,
            "wrong_role")
    refused(bus, "r1/P", "P", "attestation", {"kind": "result", "uid": "RES1"}, t,
            "invalid_in_state")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "NOPE"}, t,
            "unknown_attestation")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "COLX"}, t,
            "unknown_attestation")  # refers to another escrow
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "E1"}, t,
            "unknown_attestation")  # right ref, wrong schema
    refused(bus, "r1/P", "P", "attestation", {"kind": "begin", "uid": "COL1"}, t, "bad_body")
    refused(bus, "r1/P", "P", "collateral_missing", {"escrow_uid": "E1", "missing": ["x"]},
            t, "bad_body")

    bus, _, t = to_state("AWAITING_COLLATERAL")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "COL1"}, t,
            "invalid_in_state")
    refused(bus, "r1/P", "P", "offer", offer(100), t, "invalid_in_state")
    refused(bus, "r1/P", "C", "accept", accept(TERMS), t, "terms_mismatch")
    refused(bus, "r1/P", "C", "accept", accept(last, "RES1"), t, "unknown_attestation")

    bus, _, t = to_state("RUNNING")
    refused(bus, "r1/P", "P", "attestation", {"kind": "commence", "uid": "COL2"}, t,
            "invalid_in_state")
    refused(bus, "r1/P", "P", "attestation", {"kind": "result", "uid": "RES1"}, t,
            "unknown_attestation")  # refers to E1, the deal's escrow is now E2
    refused(bus, "r1/P", "C", "accept", accept(last, "E2"), t, "invalid_in_state")
    refused(bus, "r1/P", "P", "collateral_missing", {"escrow_uid": "E2", "missing": []}, t,
            "invalid_in_state")


def test_closed_topic_refuses_everything():
    bus, _, t = to_state("NEGOTIATING")
    bus.publish("P", "r1/P", "terminate", {"reason": "capacity", "detail": "full"}, t)
    tp = bus.topic_state("r1/P")
    assert (tp.state, tp.close_reason, tp.closed_at) == ("CLOSED", "capacity", t)
    for who, kind, body in [("C", "offer", offer(100)), ("P", "offer", offer(100)),
                            ("C", "terminate", {"reason": "cancelled"})]:
        refused(bus, "r1/P", who, kind, body, t + 1, "topic_closed")


# -- compute: the happy path and row 11 -------------------------------------------------------
def test_happy_path_to_delivered_then_the_chain_closes():
    bus, scheme = compute_bus()
    request(bus)
    got = []
    last = TERMS.with_price(157 * USDC)
    moves = [("P", "offer", offer(160 * USDC)), ("C", "offer", offer(155 * USDC)),
             ("P", "offer", {"terms": last}), ("C", "accept", accept(last)),
             ("P", "attestation", {"kind": "commence", "uid": "COL1"}),
             ("P", "attestation", {"kind": "result", "uid": "RES1"})]
    for t, (who, kind, body) in enumerate(moves, start=1):
        assert isinstance(bus.publish(who, "r1/P", kind, body, float(t)), Envelope)
        got += bus.due(float(t))
    got += bus.due(7.0)
    tp = bus.topic_state("r1/P")
    assert tp.state == "DELIVERED" and tp.data["escrow_uid"] == "E1"
    assert tp.data["terms"] == last and scheme.topic_of_escrow("E1") == "r1/P"
    assert [e.seq for e in tp.history] == list(range(7))
    assert tp.history[0].type == "request" and tp.history[0].topic == "r1/P"
    # Q got the request; C got P's moves; P got C's, each one second later
    assert [(r, e.type, e.time) for r, e in got] == [
        ("P", "request", 0.0), ("Q", "request", 0.0), ("C", "offer", 1.0), ("P", "offer", 2.0),
        ("C", "offer", 3.0), ("P", "accept", 4.0), ("C", "attestation", 5.0),
        ("C", "attestation", 6.0)]
    assert scheme.chain_closed("r1/P", "collected", 9.0) is not None
    assert (tp.state, tp.close_reason) == ("CLOSED", "collected")
    out = bus.due(10.0)
    assert sorted(r for r, _ in out) == ["C", "P"]
    assert all(e.sender == SCHEME_SENDER and e.body == {"reason": "collected"} for _, e in out)
    assert bus.closed[-1].reason == "collected" and bus.rejections == []
    assert scheme.chain_closed("r1/P", "refunded", 11.0) is None


def test_to_move_names_the_party_the_topic_waits_for():
    bus, scheme, t = to_state("NEGOTIATING")
    assert scheme.to_move(bus.topic_state("r1/P")) == "C"
    bus.publish("C", "r1/P", "offer", offer(156 * USDC), t)
    assert scheme.to_move(bus.topic_state("r1/P")) == "P"
    for state, who in [("AGREED", "P"), ("AWAITING_COLLATERAL", "C"), ("RUNNING", "P")]:
        bus, scheme, t = to_state(state)
        assert scheme.to_move(bus.topic_state("r1/P")) == who
    assert isinstance(bus.publish("P", "r1/P", "attestation", {"kind": "result", "uid": "RES2"},
                                  t), Envelope)
    assert bus.topic_state("r1/P").state == "DELIVERED"
    assert scheme.to_move(bus.topic_state("r1/P")) is None


def test_chain_close_only_from_agreed_onward():
    bus, scheme, t = to_state("NEGOTIATING")
    assert scheme.chain_closed("r1/P", "refunded", t) is None
    assert scheme.chain_closed("nope/P", "refunded", t) is None
    assert bus.topic_state("r1/P").state == "NEGOTIATING"
    bus, scheme, t = to_state("RUNNING")
    scheme.chain_closed("r1/P", "slashed", t)
    assert bus.topic_state("r1/P").close_reason == "slashed"


def test_a7_identity_vs_identity_closes_at_the_101st_price_message():
    """Vector 9(a) a7: request 150, every message echoes 150, latency 1 s."""
    bus, _ = compute_bus()
    bus.unsubscribe("Q", REQUESTS)
    request(bus, terms=TERMS)
    accepted, rejected = [], []
    for t in range(1, 110):
        for recipient, env in bus.due(float(t)):
            if env.type in ("request", "offer"):
                out = bus.publish(recipient, "r1/P", "offer", {"terms": env.body["terms"]},
                                  float(t))
                (accepted if isinstance(out, Envelope) else rejected).append(out)
    tp = bus.topic_state("r1/P")
    assert [e.time for e in accepted] == [float(i) for i in range(1, 100)]
    assert all(e.body["terms"].price == 150 * USDC for e in accepted)
    assert len(rejected) == 1 and rejected[0].reason == "max_rounds"
    assert rejected[0].time == 100.0 and rejected[0].sender == "C"
    assert tp.price_count == 100 and tp.state == "CLOSED"
    assert (tp.close_reason, tp.closed_at) == ("max_rounds", 100.0)
    assert tp.history[-1].sender == SCHEME_SENDER and tp.history[-1].seq == 100


# -- compute: timers (row 10) -------------------------------------------------------------------
def test_reply_timeout_closes_a_silent_negotiation():
    bus, _ = compute_bus()
    request(bus)
    bus.publish("P", "r1/P", "offer", offer(200), 1.0)
    assert bus.next_timer_time() == 31.0
    assert bus.tick(30.99) == [] and bus.topic_state("r1/P").state == "NEGOTIATING"
    (env,) = bus.tick(40.0)
    assert (env.time, env.type, env.body["reason"]) == (31.0, "terminate", "timeout")
    tp = bus.topic_state("r1/P")
    assert (tp.state, tp.close_reason, tp.closed_at) == ("CLOSED", "timeout", 31.0)
    ends = [(r, e.time) for r, e in bus.due(40.0) if e.type == "terminate"]
    assert sorted(ends) == [("C", 31.0), ("P", 31.0)]  # sent at 31, so due at 32


def test_timeout_fires_before_a_late_message():
    bus, _, t = to_state("AGREED")  # accept at t = 4
    out = bus.publish("P", "r1/P", "attestation", {"kind": "commence", "uid": "COL1"}, 34.0)
    assert isinstance(out, MessageRejected) and out.reason == "topic_closed"
    tp = bus.topic_state("r1/P")
    assert (tp.close_reason, tp.closed_at) == ("timeout", 34.0)


def test_negotiation_timeout_with_lively_offers():
    bus, _ = compute_bus()
    request(bus)
    t, who, price = 1.0, "P", 300
    while True:
        out = bus.publish(who, "r1/P", "offer", offer(price), t)
        if isinstance(out, MessageRejected):
            break
        t, who, price = t + 20.0, "C" if who == "P" else "P", price - 1
    tp = bus.topic_state("r1/P")
    assert out.reason == "topic_closed" and t == 301.0
    assert (tp.close_reason, tp.closed_at) == ("timeout", 301.0)


def test_no_reply_timer_while_running_or_delivered():
    bus, _, t = to_state("RUNNING")
    assert bus.next_timer_time() is None
    assert bus.tick(10_000.0) == [] and bus.topic_state("r1/P").state == "RUNNING"


def test_compute_params_validate():
    with pytest.raises(ValueError, match="max_offers"):
        ComputeParams(max_offers=0)
    with pytest.raises(ValueError, match="reply_timeout_s"):
        ComputeParams(reply_timeout_s=0)


# -- coophive (2.2) --------------------------------------------------------------------------
def coophive_bus(sellers=("S1",)):
    bus = MessageBus(CoophiveScheme(), np.random.default_rng(1))
    for s in sellers:
        bus.subscribe(s, INITIAL_OFFERS)
    return bus


def ch_offer(oid="o1", initial=None, amt=100):
    body = {"offerId": oid, "query": "Dockerfile", "tokens": [
        {"ERC20": True, "address": "USDC", "amt": amt}]}
    if initial is not None:
        body["initial"] = initial
    return body


def test_coophive_happy_path_with_an_echo():
    bus = coophive_bus()
    assert isinstance(bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0),
                      Envelope)
    assert bus.subscribers["o1"] == {"B"} and bus.topic_state("o1").state == "INITIAL"
    assert [(r, e.topic) for r, e in bus.due(1.0)] == [("S1", INITIAL_OFFERS)]
    bus.publish("S1", "o1", "offer", ch_offer(), 1.0)  # rule 3: the echo
    assert bus.subscribers["o1"] == {"B", "S1"}
    bus.publish("B", "o1", "buyAttest", {"offerId": "o1", "attestation": "E1"}, 2.0)
    assert bus.topic_state("o1").state == "PAID"
    bus.publish("S1", "o1", "sellAttest", {"offerId": "o1", "attestation": "R1"}, 3.0)
    tp = bus.topic_state("o1")
    assert tp.state == "DONE" and bus.subscribers["o1"] == {"B"}  # the buyer stays
    assert [e.type for e in tp.history] == ["offer", "offer", "buyAttest", "sellAttest"]
    assert bus.rejections == []


def test_coophive_sellers_share_the_topic():
    bus = coophive_bus(("S1", "S2"))
    bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0)
    bus.publish("S1", "o1", "offer", ch_offer(amt=120), 1.0)
    bus.publish("S2", "o1", "offer", ch_offer(amt=110), 1.5)
    seen = [(r, e.sender) for r, e in bus.due(3.0) if e.topic == "o1"]
    assert ("S2", "S1") not in seen  # S2 joined after S1's offer went out
    bus.publish("B", "o1", "offer", ch_offer(amt=105), 3.0)
    bus.publish("S1", "o1", "offer", ch_offer(amt=108), 3.5)
    seen = [(r, e.sender) for r, e in bus.due(5.0)]
    assert ("S2", "S1") in seen and ("S1", "B") in seen and ("S2", "B") in seen


@pytest.mark.parametrize("channel, sender, kind, body, reason", [
    (INITIAL_OFFERS, "B", "offer", ch_offer("o2"), "invalid_response"),  # not initial
    (INITIAL_OFFERS, "B", "offer", ch_offer("o2", initial=False), "invalid_response"),
    (INITIAL_OFFERS, "B2", "offer", ch_offer("o1", initial=True), "invalid_response"),  # taken
    (INITIAL_OFFERS, "B", "buyAttest", {"offerId": "o2", "attestation": "E"},
     "invalid_response"),
    (INITIAL_OFFERS, "B", "cancel", {"offerId": "o2"}, "invalid_response"),
    ("o9", "S1", "offer", ch_offer("o9"), "invalid_response"),  # unknown topic
    ("o1", "S1", "offer", ch_offer("o2"), "invalid_response"),  # offerId mismatch
    ("o1", "B", "offer", ch_offer(), "invalid_response"),  # no input yet
    ("o1", "B", "cancel", {"offerId": "o1"}, "invalid_response"),  # no input yet
    ("o1", "B", "buyAttest", {"offerId": "o1", "attestation": "E"}, "invalid_response"),
    ("o1", "S1", "buyAttest", {"offerId": "o1", "attestation": "E"}, "invalid_response"),
    ("o1", "S1", "sellAttest", {"offerId": "o1", "attestation": "R"}, "invalid_response"),
    ("o1", "S1", "offer", {"offerId": "o1"}, "invalid_response"),  # no query
    ("o1", "S1", "offer", ch_offer(), "bad_signature"),
])
def test_coophive_refusals_in_initial(channel, sender, kind, body, reason):
    bus = coophive_bus()
    bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0)
    kw = {"signed_by": "S2"} if reason == "bad_signature" else {}
    out = refused(bus, channel, sender, kind, body, 1.0, reason, **kw)
    if reason == "invalid_response":
        assert out.detail  # the scheme's own reason survives in the detail


def test_coophive_refusals_later():
    bus = coophive_bus()
    bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0)
    bus.publish("S1", "o1", "offer", ch_offer(), 1.0)
    # NEGOTIATING: S1's input is B's initial offer, not a buyAttest
    refused(bus, "o1", "S1", "sellAttest", {"offerId": "o1", "attestation": "R"}, 2.0,
            "invalid_response")
    refused(bus, "o1", "B", "sellAttest", {"offerId": "o1", "attestation": "R"}, 2.0,
            "invalid_response")
    bus.publish("B", "o1", "buyAttest", {"offerId": "o1", "attestation": "E1"}, 2.0)
    refused(bus, "o1", "S1", "offer", ch_offer(), 3.0, "invalid_response")  # PAID
    refused(bus, "o1", "B", "buyAttest", {"offerId": "o1", "attestation": "E2"}, 3.0,
            "invalid_response")
    bus.publish("S1", "o1", "sellAttest", {"offerId": "o1", "attestation": "R1"}, 3.0)
    refused(bus, "o1", "B", "cancel", {"offerId": "o1"}, 4.0, "invalid_response")  # DONE


def test_coophive_reply_to_names_the_input():
    """A reply may answer the message it was handed (``reply_to``), not only the topic's
    last one: S1 offers, S2 joins and cancels, B still buys from S1 by naming S1's offer."""
    bus = coophive_bus(("S1", "S2"))
    bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0)
    bus.publish("S1", "o1", "offer", ch_offer(), 1.0)  # seq 1
    bus.publish("S2", "o1", "offer", ch_offer(amt=90), 1.0)  # seq 2
    bus.publish("S2", "o1", "cancel", {"offerId": "o1"}, 2.0)  # seq 3: S2 leaves
    # without reply_to B's input is S2's cancel: a buyAttest is refused
    refused(bus, "o1", "B", "buyAttest", {"offerId": "o1", "attestation": "E1"}, 3.0,
            "invalid_response")
    refused(bus, "o1", "B", "buyAttest", {"offerId": "o1", "attestation": "E1", "reply_to": 3},
            3.0, "invalid_response")  # naming the cancel does not help
    for bad in (0, 9, "1", None):  # own message, no such seq, not an int; None: the default
        refused(bus, "o1", "B", "buyAttest",
                {"offerId": "o1", "attestation": "E1", "reply_to": bad}, 3.0,
                "invalid_response")
    env = bus.publish("B", "o1", "buyAttest", {"offerId": "o1", "attestation": "E1",
                                               "reply_to": 1}, 3.0)
    assert isinstance(env, Envelope) and bus.topic_state("o1").state == "PAID"


@pytest.mark.parametrize("body, amount", [
    ({"tokens": [{"ERC20": True, "address": "USDC", "amt": 250}]}, 250),
    ({"tokens": [{"ERC721": True, "address": "NFT", "id": 3},
                 {"ERC20": True, "address": "USDC", "amt": "12"}]}, 12),
    ({"tokens": [{"ERC20": True, "address": "USDC"}]}, 0),
    ({"price": ["USDC", 77]}, 77), ({"price": ["USDC"]}, 0), ({}, 0)])
def test_coophive_offer_amount_reads_both_variants(body, amount):
    assert offer_amount(body) == amount


def test_coophive_cancels():
    bus = coophive_bus(("S1", "S2"))
    bus.publish("B", INITIAL_OFFERS, "offer", ch_offer(initial=True), 0.0)
    bus.publish("S1", "o1", "offer", ch_offer(), 1.0)
    assert isinstance(bus.publish("S2", "o1", "cancel", {"offerId": "o1"}, 1.0), Envelope)
    tp = bus.topic_state("o1")
    assert tp.state == "NEGOTIATING" and "S2" not in tp.participants
    assert isinstance(bus.publish("S1", "o1", "cancel", {"offerId": "o1", "error": "x"}, 2.0),
                      Envelope)
    assert tp.state == "NEGOTIATING" and bus.subscribers["o1"] == {"B"}
    assert isinstance(bus.publish("B", "o1", "cancel", {"offerId": "o1"}, 3.0), Envelope)
    assert tp.state == "CANCELLED" and tp.close_reason == "cancelled"
    refused(bus, "o1", "S1", "offer", ch_offer(), 4.0, "invalid_response")


# -- a user's scheme and malformed definitions ----------------------------------------------
def toy_definition(**changes) -> SchemeDefinition:
    """Ping-pong: a pinger pings (n), a ponger answers pong (n + 1) within 5 s."""
    def next_n(c):
        prev = c.topic.history[-1].body["n"]
        return None if c.envelope.body["n"] == prev + 1 else "wrong_number"

    spec = dict(
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
    spec.update(changes)
    return SchemeDefinition(**spec)


def test_a_user_scheme_runs_on_the_bus():
    bus = MessageBus(TableScheme(toy_definition(), "pinger", "ponger", close_message=("quit",
                     "why")), np.random.default_rng(0))
    bus.subscribe("Z", "t1")  # a ponger listening before the topic opens
    assert isinstance(bus.publish("A", "t1", "ping", {"n": 1}, 0.0), Envelope)
    refused(bus, "t1", "A", "ping", {"n": 2}, 0.5, "invalid_in_state")
    refused(bus, "t1", "A", "pong", {"n": 2}, 0.5, "wrong_role")
    refused(bus, "t1", "Z", "pong", {"n": 7}, 0.5, "wrong_number")
    refused(bus, "t1", "Z", "pong", {"n": "2"}, 0.5, "bad_body")
    assert [r for r, _ in bus.due(1.0)] == ["Z"]
    assert isinstance(bus.publish("Z", "t1", "pong", {"n": 2}, 1.0), Envelope)
    tp = bus.topic_state("t1")
    assert tp.state == "DONE" and tp.participants == {"A": "pinger", "Z": "ponger"}
    refused(bus, "t1", "Z", "quit", {}, 1.5, "topic_closed")
    # a second topic times out: the scheme sends its quit
    bus.publish("A", "t2", "ping", {"n": 1}, 10.0)
    (env,) = bus.tick(20.0)
    assert (env.type, env.body, env.time) == ("quit", {"why": "timeout"}, 15.0)
    assert bus.topic_state("t2").state == "GONE"


@pytest.mark.parametrize("changes, message", [
    ({"transitions": (Transition("IDLE", ("pinger",), "ping", "LIMBO"),)},
     "unknown state 'LIMBO'"),
    ({"transitions": (Transition("NOWHERE", ("pinger",), "ping", "DONE"),)},
     "unknown state 'NOWHERE'"),
    ({"messages": (MessageType("ping", ()),)}, "message type 'ping' has no sender role"),
    ({"messages": (MessageType("ping", ("king",)),)}, "unknown roles ['king']"),
    ({"transitions": (Transition("IDLE", ("pinger",), "ping", "WAITING"),) * 2},
     "duplicate row"),
    ({"transitions": (Transition("IDLE", ("pinger",), "pang", "WAITING"),)},
     "unknown message type 'pang'"),
    ({"transitions": (Transition("IDLE", ("pinger",), "ping", "WAITING", ("psychic",)),)},
     "undeclared check 'psychic'"),
    ({"transitions": (Transition("IDLE", ("pinger",), "ping", "WAITING",
                                 effects=("boom",)),)}, "undeclared effect 'boom'"),
    ({"transitions": (Transition("IDLE", ("ghost",), "ping", "WAITING"),)},
     "unknown or missing roles"),
    ({"initial_state": "BEGIN"}, "unknown initial state 'BEGIN'"),
    ({"terminal_states": ("END",)}, "unknown state 'END'"),
])
def test_malformed_definitions_raise_one_clear_error(changes, message):
    with pytest.raises(ValueError, match="scheme 'pingpong': .*" + message.replace(
            "[", r"\[").replace("]", r"\]")):
        toy_definition(**changes)


def test_table_scheme_rejects_unknown_role():
    with pytest.raises(ValueError, match="unknown role 'judge'"):
        TableScheme(toy_definition(), "judge")
