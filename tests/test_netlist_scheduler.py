"""scheduler against spec token-netlists.md 4.2: OpenZeppelin linear vesting without a
cliff, int zeros at tick 0, released lagging vested by one tick, the ideal values."""

from __future__ import annotations

from defisim.runner import run_scenario
from defisim.scenarios.netlist import read_csv
from defisim.scenarios.netlists.scheduler import Scheduler, SchedulerParams


def test_vesting_values_of_the_spec(tmp_path):
    scn = Scheduler()
    r = run_scenario(scn, seed=0, out_dir=tmp_path / "run", progress=False)
    assert r.ok and r.steps == 124 and len(scn.rows) == 42  # max_ticks 122.67: ticks 0..123
    lines = (r.out_dir / "data.csv").read_text().splitlines()
    assert lines[0] == ("Tick, Second, Min, Hour, Day, Month, Year, timestamp, OCEAN_vested, "
                        "OCEAN_released, beneficiary_OCEAN")
    assert lines[1] == "0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0"  # ints before vw1 exists
    header, rows = read_csv(r.out_dir / "data.csv")
    by = {int(row[0]): row for row in rows}
    v, rel, ben, ts = (header.index(c) for c in
                       ("OCEAN_vested", "OCEAN_released", "beneficiary_OCEAN", "timestamp"))
    assert (by[15][v], by[15][rel]) == (0.23287671232876714, 0.1506849315068493)
    assert (by[72][v], by[72][rel]) == (4.917808219178082, 4.835616438356165)
    assert all(by[t][v] == by[t][rel] == 5.0 for t in by if t >= 75)
    assert all(row[ben] == row[rel] for row in rows)
    assert all(by[t][v] == 0.0 for t in (3, 6, 9, 12))  # vesting starts after t = 12.17
    assert by[15][ts] == 15 * 30 * 86400


def test_released_lags_vested_by_one_tick_and_tokens_are_conserved():
    p = SchedulerParams(max_time=40, max_time_unit="ticks", log_interval_s=30 * 86400)
    scn = Scheduler(p)
    held = {}
    r = run_scenario(scn, seed=0, record=False, progress=False,
                     hooks=[lambda run, step, kpis: held.setdefault("sim", run.sim)])
    assert r.ok
    rows = {int(row[0]): row for _, row in scn.rows}
    for t in range(14, 40):  # released at row t = vested at the release of tick t-1
        assert rows[t][9] == rows[t - 1][8]
    sim = held["sim"]
    s = sim.tokenomics.supply("OCEAN")
    assert s.supply == 5.0 and sim.chain.invariant_errors() == []
    paid = sim.balance("beneficiary1", "OCEAN", raw=True)
    assert paid == sim.tokenomics.released("vw1", "OCEAN", raw=True) > 0
    # the last release (tick 40) paid everything vested by then
    assert paid == sim.tokenomics.vested("vw1", "OCEAN", at_s=40 * 30 * 86400, raw=True)
