"""Utilisation (spec 7.2: ∫ reserved_r dt / (capacity_r × elapsed)) counts a running
job's reserved time up to the moment the KPI is read, not up to the provider's last
step: checked by hand with one provider, one machine and one long job."""

from __future__ import annotations

import pytest

from defisim.agents.compute.market import MarketBook
from defisim.protocols.compute.events import Commenced, ResultPosted
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")


def test_the_book_integrates_reservations_exactly():
    b = MarketBook()
    b.reserve("eu", (2, 0, 4), +1, 10.0)  # a cpu-small job from t = 10
    b.reserve("us", (8, 4, 128), +1, 30.0)  # a gpu-train job from t = 30
    by_r, by_g = b.reserved_until(40.0)
    assert by_r == {"cpu": 2 * 30 + 8 * 10, "gpu": 4 * 10, "ram_gib": 4 * 30 + 128 * 10}
    assert by_g == {"eu": 60, "us": 80}
    b.reserve("eu", (2, 0, 4), -1, 50.0)  # the cpu job ends at 50
    by_r, by_g = b.reserved_until(100.0)
    assert by_r["cpu"] == 2 * 40 + 8 * 70 and by_g == {"eu": 80, "us": 560}
    assert b.reserved_s["cpu"] == 2 * 40 + 8 * 20  # accrued to 50 only; reading leaves it


def test_one_provider_one_running_job_by_hand():
    """cpu-large (16 cpu, 64 GiB, 3600 s) on one machine of 16 cpu and 128 GiB (room
    for one job): utilisation.cpu at step time t is (t - t0) / t after the commencement
    t0, ram half that; the final record (t = run end, after the providers' last step)
    included."""
    seen: list = []

    def hook(run_, step, kpis):
        seen.append((run_.sim.now, dict(kpis)))
        if len(seen) == 1:
            hook.cursor = run_.sim.event_cursor(from_oldest=True)
        hook.events.extend(hook.cursor.read())

    hook.events = []
    sc = SCEN(SCEN.Params(hours=0.5, n_clients=1, n_providers=1, n_mediators=1, gpu_share=0,
                          rate_per_h=20.0, class_mix={"cpu-large": 1.0}, cheater_share=0.0,
                          cpus_per_machine=16, ram_gib_per_machine=128.0,
                          execution="immediate"))
    r = run_scenario(sc, seed=2, record=False, progress=False, hooks=[hook])
    assert r.error is None
    starts = [e.time_ns / 1e9 for e in hook.events if isinstance(e, Commenced)]
    assert len(starts) == 1 and not any(isinstance(e, ResultPosted) for e in hook.events)
    t0 = starts[0]
    checked = 0
    for t, k in seen:
        want = max(t - t0, 0.0) / t if t > 0 else 0.0
        assert k["utilisation.cpu"] == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert k["utilisation.cpu.us-east"] == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert k["utilisation.ram_gib"] == pytest.approx(want / 2, rel=1e-12, abs=1e-15)
        checked += t > t0
    assert checked > 100
    assert seen[-1][0] == 1800.0  # the final record, one step after the last provider step
    assert r.kpis["utilisation.cpu"] == pytest.approx((1800 - t0) / 1800, rel=1e-12)
