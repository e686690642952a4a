"""Every rejection reason of the ``compute`` protocol (``compute-marketplace.md`` 4.3,
4.4), tax and jackpot (4.5), panels and mediator timeouts (4.4), the attestation
registry (4.1, 4.2), and conservation of tokens over random action sequences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from compute_world import FAKE, GOOD, JOB_CID, USDC, World, vector_terms

from defisim.protocols.compute.attestations import AttestationRegistry
from defisim.protocols.compute.params import ComputeParams
from defisim.protocols.compute.settlement import tax_of


def _w(**kw) -> World:
    return World(gas=False, **kw)


def _reason(rc) -> str:
    assert not rc.accepted, rc
    return rc.reason


def _delivered(w: World, result=GOOD, terms=None, u=0.9):
    w.c.force_audit_draws(u)
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, terms or vector_terms(), "provider").value
    w.goto(12)
    assert w.c.commence("provider", uid).accepted
    w.goto(14)
    assert w.c.post_result("provider", uid, result).accepted
    return uid


def test_escrow_rejections():
    w = _w()
    e = w.c.escrow
    assert _reason(e("client", JOB_CID, "not terms")) == "bad_terms"
    assert _reason(e("client", JOB_CID, {"price": 1, "nonsense": 2})) == "bad_terms"
    assert _reason(e("client", JOB_CID, vector_terms(token="DAI"))) == "unknown_token"
    assert _reason(e("client", JOB_CID, vector_terms(price=0))) == "bad_price"
    assert _reason(e("client", JOB_CID, vector_terms(timeout_deposit=-1))) == "bad_price"
    assert _reason(e("client", JOB_CID, vector_terms(mediators=()))) == "no_mediators"
    assert _reason(e("client", JOB_CID, vector_terms(panel=2))) == "bad_panel"
    assert _reason(e("client", JOB_CID, vector_terms(threshold=2))) == "bad_panel"
    assert _reason(e("client", JOB_CID, vector_terms(client_deposit=1 * USDC))) == "deposit_too_small"
    assert _reason(e("client", JOB_CID, vector_terms(price=996 * USDC))) == "insufficient_funds"
    assert w.usdc("client") == 1000
    # method none needs no mediators and no deposit; optimistic needs no deposit at escrow
    assert e("client", JOB_CID, vector_terms(verification="none", mediators=(), client_deposit=0)).accepted
    assert e("client", JOB_CID, vector_terms(verification="optimistic", client_deposit=0)).accepted
    assert e("client", JOB_CID, vector_terms().to_dict()).accepted  # terms as a dict


def test_cancel_escrow_rejections():
    w = _w()
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    assert _reason(w.c.cancel_escrow("client", "nope")) == "unknown_escrow"
    assert _reason(w.c.cancel_escrow("client", ["unhashable"])) == "unknown_escrow"
    assert _reason(w.c.cancel_escrow("provider", uid)) == "not_client"
    assert _reason(w.c.cancel_escrow("client", uid)) == "commit_window_open"
    w.goto(12)
    assert w.c.commence("provider", uid).accepted
    w.goto(200)
    assert _reason(w.c.cancel_escrow("client", uid)) == "already_committed"
    w.goto(614)
    assert w.c.claim_timeout("client", uid).accepted
    assert _reason(w.c.cancel_escrow("client", uid)) == "escrow_closed"


def test_commence_rejections():
    w = _w(parties=("client", "provider", "M1", "other", "poor"))
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    open_uid = w.c.escrow("client", JOB_CID, vector_terms(), "").value
    assert _reason(w.c.commence("provider", "nope")) == "unknown_escrow"
    assert _reason(w.c.commence("other", uid)) == "wrong_provider"
    assert _reason(w.c.commence("poor", open_uid)) == "insufficient_funds"
    assert w.c.commence("provider", open_uid).accepted  # open escrow: any provider
    assert w.c.deal(open_uid).provider == "provider"
    assert w.c.commence("provider", uid).accepted
    assert _reason(w.c.commence("provider", uid)) == "already_committed"
    w2 = _w()
    w2.goto(10)
    uid2 = w2.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    w2.goto(132)
    assert w2.c.cancel_escrow("client", uid2).accepted
    assert _reason(w2.c.commence("provider", uid2)) == "commit_window_closed"
    w3 = _w()
    w3.goto(10)
    uid3 = w3.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    w3.sim.chain.protocol("compute").registry.revoke(uid3, "compute", 11)  # closed in the window
    assert _reason(w3.c.commence("provider", uid3)) == "escrow_closed"


def test_post_result_rejections():
    w = _w(parties=("client", "provider", "M1", "other"))
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(cheating_multiplier=300 * USDC), "provider").value
    assert _reason(w.c.post_result("provider", "nope", GOOD)) == "unknown_escrow"
    assert _reason(w.c.post_result("provider", uid, GOOD)) == "not_committed"
    w.goto(12)
    assert w.c.commence("provider", uid).accepted
    assert _reason(w.c.post_result("other", uid, GOOD)) == "not_provider"
    assert _reason(w.c.post_result("provider", uid, GOOD)) == "insufficient_funds"  # C = 600 > 497
    w.goto(614)
    assert _reason(w.c.post_result("provider", uid, GOOD)) == "deadline_passed"
    w2 = _w()
    uid2 = _delivered(w2)
    assert _reason(w2.c.post_result("provider", uid2, GOOD)) == "result_posted"
    # escrow closed, before the deadline: slashed deals refuse a second result
    w3 = _w()
    uid3 = _delivered(w3, FAKE, u=0.1)
    w3.goto(20)
    assert w3.c.mediate("M1", w3.c.deal(uid3).validation_uid, False).accepted
    assert _reason(w3.c.post_result("provider", uid3, GOOD)) == "escrow_closed"


def test_collect_rejections():
    w = _w()
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    assert _reason(w.c.collect("provider", "nope")) == "unknown_escrow"
    assert _reason(w.c.collect("client", uid)) == "not_provider"
    assert _reason(w.c.collect("provider", uid)) == "no_result"
    w2 = _w()
    uid2 = _delivered(w2, u=0.1)
    assert _reason(w2.c.collect("provider", uid2)) == "mediation_pending"
    w3 = _w()
    uid3 = _delivered(w3)
    assert _reason(w3.c.collect("provider", uid3)) == "period_open"
    w3.goto(616)
    assert w3.c.collect("provider", uid3).accepted
    assert _reason(w3.c.collect("provider", uid3)) == "escrow_closed"


def test_collect_at_once_under_method_none():
    w = _w()
    uid = _delivered(w, terms=vector_terms(verification="none", mediators=()))
    assert w.c.deal(uid).validation_uid == ""
    assert w.c.collect("provider", uid).accepted
    assert w.balances() == (900, 600, 0)


def test_challenge_rejections_and_paths():
    w = _w(parties=("client", "provider", "M1", "M2", "M3"))
    t = vector_terms(verification="optimistic", mediators=("M1", "M2", "M3"), panel=3, threshold=2,
                     client_deposit=6 * USDC)
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, t, "provider").value
    assert _reason(w.c.challenge("client", "nope")) == "unknown_escrow"
    assert _reason(w.c.challenge("provider", uid)) == "not_client"
    assert _reason(w.c.challenge("client", uid)) == "no_result"
    w.goto(12)
    w.c.commence("provider", uid)
    w.goto(14)
    w.c.post_result("provider", uid, FAKE)
    assert w.c.challenge("client", uid).accepted
    assert _reason(w.c.challenge("client", uid)) == "mediation_pending"
    v = w.c.deal(uid).validation_uid
    assert w.c.mediate("M1", v, True).accepted
    assert w.c.mediate("M2", v, False).accepted
    assert w.c.deal(uid).mediation == "pending"  # 1 wrong of threshold 2
    assert w.c.mediate("M3", v, False).accepted
    # wrong: 3 verdicts x 2 paid from C = 100; the client gets 94 and P + D back
    assert (w.usdc("client"), w.usdc("provider")) == (1000 + 94, 400)
    assert [w.usdc(m) for m in ("M1", "M2", "M3")] == [2, 2, 2]
    assert _reason(w.c.challenge("client", uid)) == "escrow_closed"
    w2 = _w()
    uid2 = _delivered(w2, terms=vector_terms(verification="none", mediators=()))
    assert _reason(w2.c.challenge("client", uid2)) == "no_validation"
    w3 = _w()
    uid3 = _delivered(w3, terms=vector_terms(verification="optimistic", client_deposit=1 * USDC))
    assert _reason(w3.c.challenge("client", uid3)) == "deposit_too_small"
    w3.goto(616)
    assert _reason(w3.c.challenge("client", uid3)) == "period_closed"


def test_mediate_rejections_and_timeout():
    w = _w(parties=("client", "provider", "M1", "M2"))
    t = vector_terms(mediators=("M1", "M2"))
    uid = _delivered(w, terms=t, u=0.0)
    d = w.c.deal(uid)
    (on,) = d.panel
    off = "M2" if on == "M1" else "M1"
    assert _reason(w.c.mediate(on, "nope", True)) == "unknown_validation"
    assert _reason(w.c.mediate(off, d.validation_uid, True)) == "not_on_panel"
    w.goto(616)
    assert _reason(w.c.mediate(on, d.validation_uid, True)) == "mediation_timeout"  # 616 > 14 + 600
    w.goto(618)  # the block end dropped the silent mediator: void, the result stands
    assert w.c.deal(uid).mediation == "void"
    assert _reason(w.c.mediate(on, d.validation_uid, True)) == "no_mediation"
    assert w.c.collect("provider", uid).accepted
    assert w.balances()[:2] == (900, 600)


def test_mediate_already_voted():
    w = _w(parties=("client", "provider", "M1", "M2"))
    t = vector_terms(mediators=("M1", "M2"), panel=2, threshold=2)
    uid = _delivered(w, terms=t.__class__(**{**t.to_dict(), "mediators": ("M1", "M2"),
                                            "client_deposit": 4 * USDC}), u=0.0)
    v = w.c.deal(uid).validation_uid
    assert w.c.mediate("M1", v, False).accepted
    assert _reason(w.c.mediate("M1", v, False)) == "already_voted"


def test_claim_timeout_rejections():
    w = _w()
    w.goto(10)
    uid = w.c.escrow("client", JOB_CID, vector_terms(), "provider").value
    assert _reason(w.c.claim_timeout("client", "nope")) == "unknown_escrow"
    assert _reason(w.c.claim_timeout("provider", uid)) == "not_client"
    assert _reason(w.c.claim_timeout("client", uid)) == "not_committed"
    w2 = _w()
    uid2 = _delivered(w2)
    w2.goto(700)
    assert _reason(w2.c.claim_timeout("client", uid2)) == "result_posted"
    assert w2.c.collect("provider", uid2).accepted
    assert _reason(w2.c.claim_timeout("client", uid2)) == "escrow_closed"


@pytest.mark.parametrize("rate,jf,price,expected", [
    (0.0, 0.0, 100, (0, 0)), (0.1, 0.0, 100, (10, 0)), (0.01, 0.5, 150, (1, 1)),
    (0.03, 0.25, 1000, (23, 7)), (0.1, 1.0, 7, (0, 1)),
])
def test_tax_and_jackpot_shares(rate, jf, price, expected):
    assert tax_of(price, ComputeParams(tax_rate=rate, jackpot_fraction=jf)) == expected


def test_tax_jackpot_and_cheat_reward_flows():
    params = {"tax_rate": 0.1, "jackpot_fraction": 0.5, "cheat_report_reward": 3 * USDC}
    w = _w(params=params)
    uid = _delivered(w)
    w.goto(616)
    assert w.c.collect("provider", uid).accepted
    # tax = 10 USDC: 5 to the treasury, 5 to the jackpot
    assert w.usdc("provider") == 500 + 90
    assert w.sim.balance("compute_treasury", "USDC") == 5 and w.sim.balance("compute_jackpot", "USDC") == 5
    # a second deal: the client's challenge finds a cheat and wins 3 from the jackpot
    w.goto(620)
    terms = vector_terms(verification="optimistic")
    uid2 = w.c.escrow("client", JOB_CID, terms, "provider").value
    w.goto(622)
    w.c.commence("provider", uid2)
    w.goto(624)
    w.c.post_result("provider", uid2, FAKE)
    before = w.usdc("client")
    w.c.challenge("client", uid2)
    w.c.mediate("M1", w.c.deal(uid2).validation_uid, False)
    assert w.usdc("client") - before == 105 + 98 + 3
    assert w.sim.balance("compute_jackpot", "USDC") == 2


def test_slash_to_client_share():
    w = _w(params={"slash_to_client": 0.5})
    uid = _delivered(w, FAKE, u=0.0)
    w.c.mediate("M1", w.c.deal(uid).validation_uid, False)
    assert w.usdc("client") == 1000 + 49  # floor(0.5 * 98)
    assert w.sim.balance("compute_treasury", "USDC") == 49


def test_registry_rules():
    r = AttestationRegistry()
    from defisim.protocols.compute.schemas import register_statement_schemas

    register_statement_schemas(r)
    with pytest.raises(ValueError, match="already registered"):
        r.register_schema("escrow", {})
    with pytest.raises(ValueError, match="unknown type"):
        r.register_schema("x", {"a": "decimal"})
    esc = {"token": "USDC", "amount": 1, "price": 1, "arbiter": "compute", "demand": {}}
    with pytest.raises(ValueError, match="takes fields"):
        r.attest("escrow", 0, "c", "compute", {"token": "USDC"})
    a = r.attest("escrow", 5, "c", "compute", esc)
    b = r.attest("escrow", 5, "c", "compute", esc)
    assert a.ok and b.ok and a.uid != b.uid and len(a.uid) == 64  # the nonce
    assert r.attest("collateral", 5, "p", "compute", {"token": "USDC", "timeout_deposit": 1,
                    "machine_id": "m", "job_deadline": 9}, ref_uid="nope").reason == "unknown_attestation"
    res = r.attest("result", 5, "p", "compute", {"result_cid": "x", "instruction_count": 1,
                   "cheating_collateral": 0}, ref_uid=a.uid)
    assert res.ok
    assert r.attest("verdict", 6, "m", "compute", {"correct": True}, ref_uid=a.uid).reason == "bad_reference"
    assert r.revoke(res.uid, "compute", 7).reason == "irrevocable"
    assert r.revoke(a.uid, "client", 7).reason == "not_attester"
    assert r.revoke("zz", "compute", 7).reason == "unknown_attestation"
    assert r.valid(a.uid, 7) and r.revoke(a.uid, "compute", 7).ok and not r.valid(a.uid, 7)
    assert r.revoke(a.uid, "compute", 8).reason == "already_revoked"
    assert r.get(a.uid).revocation_time == 7 and r.get(a.uid).schema == "escrow"
    exp = r.attest("escrow", 5, "c", "compute", esc, expiration_time=10)
    assert r.valid(exp.uid, 9) and not r.valid(exp.uid, 10)
    assert r.get(res.uid).ref_uid == a.uid and r.get("nope") is None


def test_uids_deterministic_across_runs():
    def run():
        w = _w(seed=3)
        return _delivered(w), w.c.deal_ids()
    assert run() == run()


def test_snapshot_restore_keeps_registry_working():
    w = _w()
    uid = _delivered(w)
    sim2 = w.sim.snapshot()
    sim2.forward_time(700)
    assert sim2.compute.collect("provider", uid).accepted
    assert w.c.deal(uid).state == "delivered"  # the original is untouched


@pytest.mark.parametrize("per_instruction", [False, True])
def test_random_sequences_conserve_tokens(per_instruction):
    """Random actions by random parties (valid or not); invariants (ledger conservation,
    escrow and collateral matching open deals) are checked at every block end, and the
    USDC total never changes. ``per_instruction``: half the deals priced per
    instruction (N 1..6), results reporting 0..N+1 instructions."""
    seen: set[str] = set()
    for seed in range(20):
        rng = np.random.default_rng(seed)
        w = _w(seed=seed, parties=("client", "provider", "M1", "M2"))
        w.sim.mint("client", "USDC", 20_000)
        w.sim.mint("provider", "USDC", 5_000)
        total = w.total_usdc()
        uids: list[str] = []
        parties = ["client", "provider", "M1", "M2"]
        role = {0: "client", 1: "provider", 2: "provider", 3: "provider", 4: "client", 6: "client",
                7: "client"}
        for _ in range(300):
            act = int(rng.integers(9))
            p = parties[rng.integers(4)]
            if act in role and rng.random() < 0.85:
                p = role[act]
            uid = uids[-1 - int(rng.integers(min(len(uids), 3)))] if uids else "none"
            if act == 0:
                method = ["none", "optimistic", "random"][rng.integers(3)]
                t = vector_terms(verification=method, mediators=("M1", "M2"),
                                 check_probability=float(rng.random()),
                                 price=int(rng.integers(1, 200)) * USDC)
                if per_instruction and rng.random() < 0.5:
                    n = int(rng.integers(1, 7))
                    t = replace(t, pricing="per_instruction", instruction_count=n,
                                price=t.price // 10)
                r = w.c.escrow(p, JOB_CID, t, ["", "provider", "provider"][rng.integers(3)])
                if r.accepted:
                    uids.append(r.value)
            elif act == 1:
                w.c.commence(p, uid)
            elif act == 2:
                n = int(rng.integers(0, 8)) if per_instruction and rng.random() < 0.5 else None
                w.c.post_result(p, uid, GOOD if rng.random() < 0.5 else FAKE, n)
            elif act == 3:
                w.c.collect(p, uid)
            elif act == 4:
                w.c.challenge(p, uid)
            elif act == 5:
                d = w.c.deal(uid) if uid in uids else None
                if d is not None and d.panel:
                    w.c.mediate(d.panel[0] if rng.random() < 0.85 else p, d.validation_uid,
                                bool(rng.random() < 0.5))
            elif act == 6:
                w.c.claim_timeout(p, uid)
            elif act == 7:
                w.c.cancel_escrow(p, uid)
            else:
                w.sim.forward_time(float(rng.choice([2, 2, 2, 60, 300, 700])))
            assert w.total_usdc() == total
        w.sim.forward_time(2)
        assert w.sim.chain.invariant_errors() == []
        seen |= {w.c.deal(u).close_reason for u in uids} | {w.c.deal(u).mediation for u in uids}
    # the sequences reached every end of a deal and every mediation outcome
    assert seen >= {"collected", "refunded", "cancelled", "slashed", "correct", "wrong", "void"}
