"""Per-instruction pricing (spec 4.3, ``pricing="per_instruction"``, legacy): ``price``
is π per instruction, the escrow holds π*N + D, the provider is paid π*N_reported (taxed)
and the client gets π*(N - N_reported) back; tokens are conserved. Fixed-price terms
keep the hashes they had before the field existed."""

from __future__ import annotations

import pytest
from compute_world import GOOD, JOB_CID, USDC, World, vector_terms

from defisim.protocols.compute.types import Terms


def test_fixed_price_terms_keep_their_hash():
    # computed with the Terms of commit 8340066, before the pricing field
    t = Terms(price=1_500_000, client_deposit=100, timeout_deposit=200, cheating_multiplier=3,
              instruction_count=40, verification="random", check_probability=0.3,
              mediators=("m1", "m0"), mediation_fee=50)
    assert t.hash == "aaabc83bd74ebc64cfecab6bec0be35d49637003c81cd03ef31d4b34cf0b5eea"
    per = Terms(**{**t.to_dict(), "mediators": ("m0", "m1"), "pricing": "per_instruction"})
    assert per.hash != t.hash and "pricing" in per.to_dict()
    with pytest.raises(ValueError, match="pricing must be one of"):
        Terms(price=1, pricing="auction")


def _deal(w: World, terms: Terms, reported):
    esc = w.at(0, lambda: w.c.escrow("client", JOB_CID, terms, "provider"))
    assert esc.accepted, esc
    uid = esc.value
    assert w.c.deal(uid).escrow == terms.max_payment + terms.client_deposit
    assert w.at(2, lambda: w.c.commence("provider", uid)).accepted
    return uid, w.at(4, lambda: w.c.post_result("provider", uid, GOOD, reported))


@pytest.mark.parametrize("tax_rate", [0.0, 0.1])
def test_the_provider_is_paid_for_the_instructions_it_reports(tax_rate):
    """π = 20 USDC, N = 5 (escrow 100 + D 5); 3 reported: the provider is paid 60 less
    ceil(tax*60), the client gets 40 + D back; C = m*N = 250 returns to the provider."""
    w = World(gas=False, params={"tax_rate": tax_rate, "jackpot_fraction": 0.0})
    terms = vector_terms(price=20 * USDC, instruction_count=5, pricing="per_instruction",
                         verification="none", mediators=(), check_probability=0.0)
    c0, p0 = w.usdc("client"), w.usdc("provider")
    uid, r = _deal(w, terms, 3)
    assert r.accepted and w.c.deal(uid).reported == 3
    assert w.c.attestation(r.value).data["instruction_count"] == 3
    assert w.at(6, lambda: w.c.collect("provider", uid)).accepted
    tax = 6.0 if tax_rate else 0.0
    assert w.usdc("provider") == pytest.approx(p0 + 60 - tax, abs=1e-9)
    assert w.usdc("client") == pytest.approx(c0 - 60, abs=1e-9)
    total = sum(w.sim.balance(p, "USDC") for p in ("client", "provider", "M1"))
    assert total + tax == pytest.approx(1500, abs=1e-9)  # the tax went to the treasury


@pytest.mark.parametrize("reported, reason", [(0, "bad_instruction_count"),
                                              (6, "bad_instruction_count"),
                                              ("3", "bad_instruction_count")])
def test_a_report_outside_1_to_n_is_refused(reported, reason):
    w = World(gas=False)
    terms = vector_terms(price=20 * USDC, instruction_count=5, pricing="per_instruction")
    uid, r = _deal(w, terms, reported)
    assert not r.accepted and r.reason == reason
    assert w.c.deal(uid).state == "committed"


def test_fixed_pricing_refuses_a_partial_report_and_takes_the_default():
    w = World(gas=False)
    uid, r = _deal(w, vector_terms(), 1)  # N = 2: fixed pricing reports N only
    assert not r.accepted and r.reason == "bad_instruction_count"
    assert w.at(6, lambda: w.c.post_result("provider", uid, GOOD)).accepted
    assert w.c.deal(uid).reported == 2


def test_per_instruction_needs_instructions():
    w = World(gas=False)
    r = w.at(0, lambda: w.c.escrow("client", JOB_CID, vector_terms(
        instruction_count=0, cheating_multiplier=0, pricing="per_instruction"), "provider"))
    assert not r.accepted and r.reason == "bad_price"


def test_a_timeout_refunds_the_whole_escrow():
    """No result by the deadline: π*N + D + T back to the client (4.3.7)."""
    w = World(gas=False)
    terms = vector_terms(price=20 * USDC, instruction_count=5, pricing="per_instruction",
                         cheating_multiplier=USDC)
    c0 = w.usdc("client")
    esc = w.at(0, lambda: w.c.escrow("client", JOB_CID, terms, "provider"))
    assert w.at(2, lambda: w.c.commence("provider", esc.value)).accepted
    assert w.at(700, lambda: w.c.claim_timeout("client", esc.value)).accepted
    assert w.usdc("client") == pytest.approx(c0 + 3, abs=1e-9)  # + T, the provider's
