"""Minting schedules and minter contracts: spec ``token-netlists.md`` 2.1 and 6.2 to the
last digit (TokenSPICE ``agents/MinterAgents.py``)."""

from __future__ import annotations

import pytest

from defisim.protocols.tokenomics import ExpFunc, LinearSchedule, RampedExpFunc
from defisim.protocols.tokenomics.schedules import to_base
from defisim.service import Simulation

S_DAY = 86_400
E18 = 10**18
WSLOOP = RampedExpFunc(H=4, T0=0.5, T1=1.0, T2=1.4, T3=3.0, M1=0.10, M2=0.25, M3=0.50)


@pytest.mark.parametrize(("t", "g"), [
    (0.5, 0.0), (1.0, 0.00829959567953288), (1.2, 0.019232379115341584),
    (1.4, 0.02979275181225701), (2.0, 0.10160892284409412), (3.0, 0.20589171291578984),
    (5.0, 0.552628958204967), (10.0, 0.879054254133554),
])
def test_ramped_exp_func_is_the_code_not_the_docstring(t: float, g: float) -> None:
    assert WSLOOP(t) == g  # bit for bit (spec 6.2, "G (code)")


def test_exp_func_and_keep_minting() -> None:
    f = ExpFunc(4.0)
    assert f(4.0) == 0.5 and f(8.0) == 0.75 and f(0.0) == 0.0
    assert f.keep_minting(136.0) and not f.keep_minting(136.0001)
    assert WSLOOP(0.49) == 0.0
    with pytest.raises(ValueError, match="T0 <= T1"):
        RampedExpFunc(4, 1, 0.5, 1.4, 3, 0.1, 0.25, 0.5)
    with pytest.raises(ValueError, match="H"):
        ExpFunc(0)
    assert to_base(0.1, 18) == 100000000000000000


def wsloop_minter() -> tuple[Simulation, list[float], list[float], dict[int, float]]:
    """``ocean_51``: 719.1e6 OCEAN on WSLOOP, daily, to ``ocean_dao``; 371 daily ticks
    (a mint_due every tick)."""
    sim = Simulation(protocols=["tokenomics"])
    sim.create_party("ocean_dao")
    t = sim.tokenomics
    t.create_token("OCEAN", 18)
    t.create_minter("ocean_51", "OCEAN", "ocean_dao", 719.1e6, WSLOOP, S_DAY)
    mints, floats, totals = [], [], {}
    for tick in range(371):
        totals[tick] = t.minter_view("ocean_51").minted_float  # logged before the step
        mints.append(t.mint_due("ocean_dao", "ocean_51").value)
        floats.append(t.minter_view("ocean_51").last_mint_float)
        sim.forward_time(S_DAY)
    return sim, mints, floats, totals


def test_wsloop_minter_single_mints_and_running_totals() -> None:
    sim, mints, floats, totals = wsloop_minter()
    t = sim.tokenomics
    assert mints[0] == 0 and t.minter_view("ocean_51").mints == 370  # never at tick 0
    assert all(m == 0 for m in mints[:183])
    # the first nonzero mint and the slope jump at T1 (spec 6.2), in base units as
    # TokenSPICE's toBase18 of the float mint
    events = {e.time_ns // (S_DAY * 10**9): e.amount for e in sim.chain.events
              if type(e).__name__ == "ScheduledMint"}
    assert events[183] == to_base(17067.91035378714, 18)
    assert events[366] == to_base(109546.39760789058, 18)
    assert floats[183] == 17067.91035378714 and floats[366] == 109546.39760789058
    # the receipt's value is the base units in OCEAN: equal to the float mint or 1 ulp off
    assert mints[183] == 17067.91035378714 and mints[366] == pytest.approx(109546.39760789058, rel=2e-16)
    # TokenSPICE's tot_OCEAN_minted (a running float sum, logged before tick t's step)
    assert (totals[10], totals[190], totals[370]) == (0.0, 221567.12475851376, 6406112.967954974)
    s = t.supply("OCEAN")
    assert s.minted_raw == sum(events.values()) == sim.balance("ocean_dao", "OCEAN", raw=True)
    assert t.minter_view("ocean_51").total_raw == 719_100_000 * E18


def test_minter_mints_everything_left_after_34_half_lives() -> None:
    sim = Simulation(protocols=["tokenomics"])
    sim.create_party("r")
    t = sim.tokenomics
    t.create_token("T", 0)
    t.create_minter("m", "T", "r", 1000, ExpFunc(0.01), S_DAY)  # 34 half-lives: 0.34 y = 124.1 d
    for _ in range(130):
        t.mint_due("r", "m")
        sim.forward_time(S_DAY)
    v = t.minter_view("m")
    # integer truncation leaves ~0.5 per mint behind until day 125 mints all that is left
    ev = [e for e in sim.chain.events if type(e).__name__ == "ScheduledMint"]
    assert ev[-1].time_ns == 125 * S_DAY * 10**9 and ev[-1].amount > 0
    assert v.minted_raw == 1000 and v.left == 0 and sim.balance("r", "T") == 1000
    assert t.mint_due("r", "m").value == 0


def test_linear_minter_n_equal_mints_the_last_takes_the_rest() -> None:
    sim = Simulation(protocols=["tokenomics"])
    sim.create_party("r")
    t = sim.tokenomics
    t.create_token("T", 0)
    t.create_minter("m", "T", "r", 10, LinearSchedule(3), 10)
    got = []
    for _ in range(5):
        got.append(t.mint_due("r", "m").value)
        sim.forward_time(5)
    assert got == [3, 0, 3, 0, 4]  # at 0, 10, 20 s (TokenSPICE: first mint on the first step)
    assert t.supply("T").supply == 10 and t.mint_due("r", "m").value == 0


def test_minter_cap_and_rejections_change_nothing() -> None:
    sim = Simulation(protocols=["tokenomics"])
    sim.create_party("r")
    t = sim.tokenomics
    t.create_token("T", 0, cap=4)
    t.create_minter("m", "T", "r", 10, LinearSchedule(2), 10)
    before = (dict(sim.chain.ledger.balances), repr(t.protocol.snapshot()))
    r = t.mint_due("r", "m")
    assert r.reason == "CAP_EXCEEDED"
    assert (dict(sim.chain.ledger.balances), repr(t.protocol.snapshot())) == before
    assert t.mint_due("r", "nope").reason == "UNKNOWN_MINTER"
    with pytest.raises(ValueError, match="unknown (asset|token)"):
        t.create_minter("m2", "NOPE", "r", 1, LinearSchedule(1), 1)
    with pytest.raises(ValueError, match="schedule"):
        t.create_minter("m3", "T", "r", 1, "linear", 1)
