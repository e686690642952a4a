"""The CI fuzz campaign: at least a million fuzz transactions over four seeds, invariants
on, no violation, every seed's process under 500 MB at its peak (one process per seed,
two at a time). About a minute on two free cores.

A violation fails the test with the seed, its text and the saved, shrunk failure
(``defisim replay-fuzz FILE`` replays it; ``defisim run fuzz --seed S --steps 25000``
reruns the seed)."""

from __future__ import annotations

import pytest

from defisim.experiments.fuzz_campaign import CORES, check_core, run_campaign

SEEDS = [1, 2, 3, 4]
STEPS = 25_000  # about 290,000 transactions per seed
MIN_TRANSACTIONS = 1_000_000
MAX_RSS_MB = 500


def test_campaign_refuses_an_unknown_core():
    assert check_core("python") == "python" and "python" in CORES
    with pytest.raises(ValueError, match="unknown simulation core 'rust'"):
        run_campaign([1], 10, core="rust")
    with pytest.raises(ValueError, match="at least one seed"):
        run_campaign([], 10)


def test_a_small_campaign_counts_what_the_scenario_counts():
    from defisim.runner import run_scenario
    from defisim.scenarios.fuzz import Fuzz, FuzzParams

    res = run_campaign([7, 8], 120, workers=2)
    assert [s.seed for s in res.seeds] == [7, 8] and not res.violations
    scn = Fuzz(FuzzParams(steps=120))
    run = run_scenario(scn, seed=8, record=False, progress=False)
    s = res.seeds[1]
    assert s.transactions == run.kpis["transactions"] == s.accepted + s.rejected + s.crashed
    assert s.accepted == run.kpis["accepted"] and s.steps == 120
    assert res.transactions == res.seeds[0].transactions + s.transactions
    assert 50 < res.peak_rss_mb < MAX_RSS_MB
    lines = res.report().splitlines()
    assert len(lines) == 3 and lines[-1].startswith(f"total: {res.transactions:,} transactions, 0 violations")


def test_a_seed_reports_its_own_peak_not_its_big_parents():
    """``ru_maxrss`` survives ``exec``: a seed spawned by a 400 MB parent must still
    report its own peak (``VmHWM``), about 200 MB for a short run."""
    import numpy as np

    ballast = np.ones(50_000_000)  # 400 MB touched in this (the parent) process
    try:
        res = run_campaign([7], 50, workers=1)
    finally:
        del ballast
    assert 50 < res.peak_rss_mb < 350, res.report()


@pytest.mark.slow
@pytest.mark.parametrize("core", CORES)
def test_ci_fuzz_campaign(core, tmp_path):
    res = run_campaign(SEEDS, STEPS, workers=2, core=core, failures_dir=tmp_path)
    print(res.report())
    bad = "\n".join(f"seed {s.seed}: {s.violation}\n  shrunk failure: {s.failure_file}"
                    for s in res.violations)
    assert not res.violations, f"invariant violations:\n{bad}"
    assert res.transactions >= MIN_TRANSACTIONS, res.report()
    assert res.peak_rss_mb < MAX_RSS_MB, res.report()
