"""The compute marketplace's on-chain side against ``compute-marketplace.md`` 9(b) and
9(c): balances at every stated time, rejections with their reasons, gas of 9(b) at
1.1e7 wei per gas on the chain's EIP-1559 fee market, conservation of USDC."""

from __future__ import annotations

import pytest
from compute_world import FAKE, GOOD, JOB_CID, USDC, World, vector_terms

from defisim.protocols.compute.events import DealClosed, MediationRequested

TOTAL = 1500 * USDC
GAS_PRICE = 11_000_000  # base 1e7 + tip 1e6


def _escrow_uid(w: World, t: int = 10, terms=None, approve: bool = True):
    terms = terms or vector_terms()
    calls = []
    if approve:
        calls.append(lambda: w.c.approve("client", "USDC"))
    calls.append(lambda: w.c.escrow("client", JOB_CID, terms, "provider"))
    rs = w.at(t, *calls)
    rc = rs[-1] if isinstance(rs, list) else rs
    assert rc.accepted, rc
    return rc.value


def _commence(w: World, uid: str, t: int = 12, approve: bool = True):
    calls = [lambda: w.c.approve("provider", "USDC")] if approve else []
    calls.append(lambda: w.c.commence("provider", uid, "m1"))
    rs = w.at(t, *calls)
    rc = rs[-1] if isinstance(rs, list) else rs
    assert rc.accepted, rc
    return rc


def test_9b_cheater_caught_timeline_and_gas():
    w = World()
    w.c.force_audit_draws(0.10)
    uid = _escrow_uid(w)
    assert w.balances() == (895, 500, 0)
    assert w.c.deal(uid).escrow == 105 * USDC
    _commence(w, uid)
    assert w.balances() == (895, 497, 0)
    d = w.c.deal(uid)
    assert (d.state, d.job_deadline, d.collateral) == ("committed", 612, 3 * USDC)
    rc = w.at(14, lambda: w.c.post_result("provider", uid, FAKE))
    assert rc.accepted
    assert w.balances() == (895, 400, 0)
    d = w.c.deal(uid)
    assert (d.state, d.challenge_deadline, d.collateral, d.mediation, d.panel) == (
        "delivered", 614, 100 * USDC, "pending", ("M1",))
    req = [e for e in w.sim.chain.events if isinstance(e, MediationRequested)]
    assert [(e.kind, e.u) for e in req] == [("audit", 0.10)]
    assert w.c.result_is_correct(uid) is False
    assert w.total_usdc() == TOTAL
    # M1 re-runs 14 -> 314; its verdict lands at 316
    rc = w.at(316, lambda: w.c.mediate("M1", d.validation_uid, w.c.result_is_correct(uid)))
    assert rc.accepted
    assert w.balances() == (1098, 400, 2)
    d = w.c.deal(uid)
    assert (d.state, d.close_reason, d.escrow, d.collateral, d.mediation) == ("closed", "slashed", 0, 0, "wrong")
    assert w.c.attestation(d.validation_uid).revocation_time == 316
    assert w.c.attestation(uid).revocation_time == 316
    assert not w.c.valid(uid)
    closed = [e for e in w.sim.chain.events if isinstance(e, DealClosed)]
    assert [(e.reason, e.topic_reason, e.to_client, e.to_mediators, e.to_treasury) for e in closed] == [
        ("slashed", "slashed", 98 * USDC + 105 * USDC, 2 * USDC, 0)]
    assert w.total_usdc() == TOTAL
    # gas of 9(b): every action so far, at 1.1e7 wei per gas
    spent = {p: w.wei_spent(p) for p in ("client", "provider", "M1")}
    assert spent == {"client": 226_000 * GAS_PRICE, "provider": 456_000 * GAS_PRICE,
                     "M1": 140_000 * GAS_PRICE}
    assert spent["client"] == 2_486_000_000_000 and spent["provider"] == 5_016_000_000_000
    assert spent["M1"] == 1_540_000_000_000
    gas_used = sum(r.gas_used for r in w.receipts)
    assert gas_used == 822_000
    assert sum(spent.values()) == 9_042_000_000_000
    assert sum(r.fee_burned + r.tip for r in w.receipts) == 9_042_000_000_000
    assert sum(spent.values()) / 1e18 * 3000 == pytest.approx(0.027126, abs=1e-12)
    # a collect at 616 is refused (escrow_closed) and pays revert_gas
    rc = w.at(616, lambda: w.c.collect("provider", uid))
    assert (rc.status, rc.reason, rc.gas_used) == ("REJECTED", "escrow_closed", 25_000)
    assert w.wei_spent("provider") == (456_000 + 25_000) * GAS_PRICE
    assert w.balances() == (1098, 400, 2)
    assert w.total_usdc() == TOTAL


def test_9b_control1_honest_provider_audited():
    w = World()
    w.c.force_audit_draws(0.10)
    uid = _escrow_uid(w)
    _commence(w, uid)
    # the job runs 12 -> 312; the result lands at 314
    assert w.at(314, lambda: w.c.post_result("provider", uid, GOOD)).accepted
    d = w.c.deal(uid)
    assert (d.challenge_deadline, d.mediation) == (914, "pending")
    assert w.balances() == (895, 400, 0)
    # M1 re-runs 314 -> 614; verdict "correct" lands at 616: M1 gets 2 from D
    assert w.at(616, lambda: w.c.mediate("M1", d.validation_uid, w.c.result_is_correct(uid))).accepted
    assert w.balances() == (895, 400, 2)
    assert w.c.deal(uid).escrow == 103 * USDC
    rc = w.at(914, lambda: w.c.collect("provider", uid))
    assert rc.reason == "period_open"
    assert w.at(916, lambda: w.c.collect("provider", uid)).accepted
    assert w.balances() == (898, 600, 2)
    d = w.c.deal(uid)
    assert (d.state, d.close_reason, d.escrow, d.collateral) == ("closed", "collected", 0, 0)
    assert w.total_usdc() == TOTAL


def test_9b_control2_cheat_not_audited():
    w = World()
    w.c.force_audit_draws(0.60)
    uid = _escrow_uid(w)
    _commence(w, uid)
    assert w.at(14, lambda: w.c.post_result("provider", uid, FAKE)).accepted
    assert w.c.deal(uid).mediation == ""
    assert w.at(614, lambda: w.c.collect("provider", uid)).reason == "period_open"
    assert w.at(616, lambda: w.c.collect("provider", uid)).accepted
    assert w.balances() == (900, 600, 0)  # the cheat goes undetected
    assert w.total_usdc() == TOTAL


def test_9c_c1_timeout_refund_post_result_before_claim():
    _c1(post_first=True)


def test_9c_c1_timeout_refund_post_result_after_claim():
    _c1(post_first=False)


def _c1(post_first: bool):
    w = World()
    uid = _escrow_uid(w)
    _commence(w, uid)
    rc = w.at(612, lambda: w.c.claim_timeout("client", uid))
    assert (rc.status, rc.reason) == ("REJECTED", "deadline_not_reached")
    post = lambda: w.c.post_result("provider", uid, GOOD)  # noqa: E731
    claim = lambda: w.c.claim_timeout("client", uid)  # noqa: E731
    rs = w.at(614, *((post, claim) if post_first else (claim, post)))
    p, c = (rs[0], rs[1]) if post_first else (rs[1], rs[0])
    assert (p.status, p.reason) == ("REJECTED", "deadline_passed")
    assert c.accepted
    assert (w.usdc("client"), w.usdc("provider")) == (1003, 497)
    closed = [e for e in w.sim.chain.events if isinstance(e, DealClosed)]
    assert [(e.reason, e.topic_reason, e.to_client) for e in closed] == [("refunded", "timeout", 108 * USDC)]
    assert w.total_usdc() == TOTAL


def test_9c_c2_cancel_escrow_and_late_commence():
    w = World()
    uid = _escrow_uid(w)
    rc = w.at(60, lambda: w.c.cancel_escrow("client", uid))
    assert (rc.status, rc.reason, rc.gas_used) == ("REJECTED", "commit_window_open", 25_000)
    assert w.at(130, lambda: w.c.cancel_escrow("client", uid)).reason == "commit_window_open"
    cancel, late = w.at(132, lambda: w.c.cancel_escrow("client", uid),
                        lambda: w.c.commence("provider", uid, "m1"))
    assert cancel.accepted
    assert (late.status, late.reason) == ("REJECTED", "commit_window_closed")
    assert w.usdc("client") == 1000 and w.usdc("provider") == 500
    assert w.c.deal(uid).close_reason == "cancelled"
    assert w.total_usdc() == TOTAL


def test_9c_c2_commence_at_window_end_then_too_late():
    w = World(gas=False)
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    w.goto(132)
    rc = w.c.commence("provider", uid)
    assert rc.reason == "commit_window_closed"
    w2 = World(gas=False)
    w2.goto(10)
    uid = w2.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    w2.goto(130)
    assert w2.c.commence("provider", uid).accepted  # now <= time + 120


def test_vectors_same_without_gas():
    """The balances of 9(b) do not depend on the execution mode."""
    w = World(gas=False)
    w.c.force_audit_draws(0.10)
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    w.goto(12)
    assert w.c.commence("provider", uid).accepted
    w.goto(14)
    assert w.c.post_result("provider", uid, FAKE).accepted
    w.goto(316)
    assert w.c.mediate("M1", w.c.deal(uid).validation_uid, False).accepted
    assert w.balances() == (1098, 400, 2)
    w.goto(616)
    assert w.c.collect("provider", uid).reason == "escrow_closed"
