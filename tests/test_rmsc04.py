"""``rmsc04``: a shortened ABIDES RMSC04 day runs clean and every agent class acts."""

from __future__ import annotations

import math

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


def test_rmsc04_short_day_runs_and_every_agent_class_acts():
    cls = get_scenario("rmsc04")
    # 600 s; momentum windows shortened so its 20 s wake-ups can signal within the run
    scn = cls(cls.Params(steps=600, momentum_short=3, momentum_long=6))
    res = run_scenario(scn, seed=3, out_dir=None, record=False, progress=False,
                       check_invariants=True)
    assert res.error is None
    assert res.steps == 600
    assert len(scn.noise) == 1000 and len(scn.value) == 102
    assert len(scn.momentum) == 12 and len(scn.makers) == 2
    # noise traders: each wakes exactly once and sends its one order
    assert all(n.wakes == 1 for n in scn.noise)
    assert all(n.orders_sent == 1 for n in scn.noise)
    # value traders: Poisson wake-ups, mean gap 175 s -> about 600/175 each
    wakes = sum(v.wakes for v in scn.value)
    assert 0.6 * 102 * 599 / 175 < wakes < 1.4 * 102 * 599 / 175
    assert sum(v.orders_sent for v in scn.value) > 0
    # momentum traders wake every 20 s and trade
    assert all(28 <= m.wakes <= 31 for m in scn.momentum)
    assert sum(m.orders_sent for m in scn.momentum) > 0
    # market makers wake every 10 s (plus step 0) and quote a ladder
    assert all(m.wakes == 60 for m in scn.makers)
    assert all(m.orders_sent > 0 for m in scn.makers)
    assert res.trades > 0
    assert scn.counter.n == sum(
        a.orders_sent for a in [*scn.noise, *scn.value, *scn.momentum, *scn.makers]
    )


def test_rmsc04_kpis_and_default_length():
    cls = get_scenario("rmsc04")
    assert cls().total_steps() == 23_400
    scn = cls(cls.Params(steps=60, noise_count=50, value_count=5, momentum_count=2))
    from defisim.service import Simulation

    sim = Simulation(seed=1)
    scn.build(sim)
    k = scn.kpis(sim)
    assert set(k) == {"orders", "trades", "mid", "spread", "fundamental"}
    assert k["orders"] == 0 and math.isnan(k["mid"])
    assert k["fundamental"] == 1000.0
