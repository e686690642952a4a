"""Rational deterrence (spec 4.4): the detection probability, the cost a cheat saves
and the rule ``c > p*(P + m*N)`` with hand-computed numbers, and rational providers
in the ``compute_marketplace`` scenario."""

from __future__ import annotations

import math

import pytest

from defisim.agents.compute.deterrence import cheat_saving, cheating_pays, detection_probability
from defisim.protocols.compute.types import Job, Machine, Terms
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")


def test_detection_probability_by_verification():
    assert detection_probability(Terms(1, verification="random", check_probability=0.2)) == 0.2
    # 1 - 0.8*0.5 = 0.6
    assert detection_probability(Terms(1, verification="random", check_probability=0.2),
                                 0.5) == pytest.approx(0.6, abs=1e-15)
    assert detection_probability(Terms(1, verification="optimistic"), 0.3) == 0.3
    assert detection_probability(Terms(1, verification="none"), 1.0) == 0.0
    with pytest.raises(ValueError, match="challenge_p"):
        detection_probability(Terms(1), 1.5)


def test_cheat_saving_is_energy_plus_amortisation_in_base_units():
    # cpu-large on a speed-1 machine: 160 W for 1 h at 0.10 USD/kWh = 0.016 USD;
    # amortisation 16 cores * 0.02 USD/h * 1 h = 0.32 USD; total 0.336 USD
    cpu = Job("j", "c", "cpu-large", 16, 0, 64, 3600, 40, 0.0)
    m = Machine("m", 32, 0, 256, "us-east")
    assert cheat_saving(cpu, m, electricity_usd_per_kwh=0.10, token_usd=1.0) == \
        pytest.approx(336_000, rel=1e-12)
    assert cheat_saving(cpu, m, electricity_usd_per_kwh=0.10, token_usd=0.5) == \
        pytest.approx(672_000, rel=1e-12)
    # gpu-infer: 4*10 + 300 = 340 W for 0.25 h at 0.20 = 0.017 USD; (0.08 + 1)*0.25 = 0.27
    gpu = Job("g", "c", "gpu-infer", 4, 1, 16, 900, 10, 0.0)
    mg = Machine("m", 32, 4, 256, "us-east")
    assert cheat_saving(gpu, mg, electricity_usd_per_kwh=0.20, token_usd=1.0) == \
        pytest.approx(287_000, rel=1e-12)


def test_cheating_pays_iff_saving_exceeds_expected_forfeit():
    # P = 0.5 USDC, m = 0.005 USDC/instruction, N = 40: C = 0.2 USDC, P + C = 700_000
    t = Terms(500_000, cheating_multiplier=5_000, instruction_count=40)
    assert t.cheating_collateral == 200_000
    assert not cheating_pays(336_000, t, 0.5)  # 0.5*700_000 = 350_000 >= 336_000
    assert cheating_pays(336_000, t, 0.45)  # 315_000 < 336_000
    assert not cheating_pays(350_000, t, 0.5)  # equality deters
    assert cheating_pays(1, t, 0.0)  # never caught: any saving pays
    with pytest.raises(ValueError, match="p_detect"):
        cheating_pays(1, t, -0.1)
    with pytest.raises(ValueError, match="saving"):
        cheating_pays(-1, t, 0.1)


def _run(**params):
    sc = SCEN(SCEN.Params(hours=1.0, n_clients=20, n_providers=8, cheater_share=0.5,
                          cheat_q=1.0, cheat_policy="rational", execution="immediate", **params))
    return sc, run_scenario(sc, seed=4, record=False, progress=False)


def test_rational_cheaters_respond_to_p_and_m():
    """Unchecked and uncollateralised, every deal of a would-be cheater is a cheat
    (the saving is > 0); with certain audits, P >= cost floor > saving deters all."""
    _, free = _run(check_probability=0.0, cheating_multiplier=0.0)
    _, audited = _run(check_probability=1.0, cheating_multiplier=0.0)
    _, collateral = _run(check_probability=0.05, cheating_multiplier=10.0)
    k = free.kpis
    assert free.error is None and k["commenced"] > 20 and k["cheat_attempts"] > 5
    assert k["cheat_rate"] == k["cheat_attempts"] / k["commenced"]
    assert k["cheat_detected"] == 0
    assert audited.kpis["cheat_attempts"] == 0 and audited.kpis["commenced"] > 20
    # p*m*N = 0.05 * 10 USDC * N >= 1 USDC (N >= 2) exceeds every class's saving
    # (cpu-small about 0.007 USD; gpu-train about 17 USD against 0.05 * 4000 = 200)
    assert collateral.kpis["cheat_attempts"] == 0


def test_rational_needs_a_would_be_cheater_and_valid_policy():
    sc = SCEN(SCEN.Params(hours=0.5, n_clients=10, n_providers=4, cheat_q=0.0,
                          cheat_policy="rational", check_probability=0.0))
    r = run_scenario(sc, seed=1, record=False, progress=False)
    assert r.kpis["cheat_attempts"] == 0 and r.kpis["commenced"] > 0
    assert math.isclose(r.kpis["cheat_rate"], 0.0)
    with pytest.raises(ValueError, match="cheat_policy"):
        SCEN.Params(cheat_policy="greedy")
    with pytest.raises(ValueError, match="cheating_multiplier"):
        SCEN.Params(cheating_multiplier=-1.0)
