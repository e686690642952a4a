"""simplegrant against a hand computation of TokenSPICE's netlist.

TokenSPICE: hourly ticks, logging at the start of each tick whose time is a whole
day (before the agents act). The granter (1.0 OCEAN, 4 actions, 3 days apart)
grants 0.25 OCEAN at ticks 0, 72, 144 and 216; the taker spends each grant in
the same tick. So the logged granter_OCEAN on day d is 1.0 on day 0 and then
1 - 0.25 * (number of grants at ticks < 24 d):

    day        0     1     2     3     4    5    6    7     8     9     10
    tick       0    24    48    72    96  120  144  168   192   216   240
    grants<    0     1     1     1     2    2    2    3     3     3     4
    OCEAN    1.0  0.75  0.75  0.75   0.5  0.5  0.5  0.25  0.25  0.25  0.0
"""

from __future__ import annotations

import json

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names
from defisim.scenarios.simplegrant import SimpleGrant, SimpleGrantParams
from defisim.store import open_store

DAY = 86400
OCEAN = 10**18


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sg") / "run"
    return run_scenario(SimpleGrant(), seed=0, out_dir=out, progress=False)


def _q(run, sql):
    with open_store(run.out_dir / "run.duckdb") as s:
        return s.query(sql)


def test_registered_with_tokenspice_defaults():
    assert "simplegrant" in scenario_names()
    assert get_scenario("simplegrant") is SimpleGrant
    p = SimpleGrantParams()
    assert (p.step_seconds, p.max_time, p.max_time_unit, p.granter_init_OCEAN,
            p.granter_n_actions) == (3600, 10.0, "days", 1.0, 4)
    assert p.granter_s_between_grants == 3 * DAY and p.ocean_price == 1.0
    # setMaxTime(10, "days") with hourly ticks: max_ticks = 241.0, ticks 0..241 stepped
    assert SimpleGrant().max_ticks == 241.0 and SimpleGrant().total_steps() == 242


def test_daily_kpis_equal_the_hand_computation(run):
    assert run.ok and run.steps == 242
    rows = _q(
        run, "SELECT step, time_s, value FROM kpis WHERE name = 'granter_OCEAN' ORDER BY step"
    )
    assert [r[0] for r in rows] == [24 * d for d in range(11)]  # one row a day, 11 days
    assert [r[1] for r in rows] == [float(DAY * d) for d in range(11)]
    assert [r[2] for r in rows] == [1.0, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.0]
    usd = _q(run, "SELECT value FROM kpis WHERE name = 'granter_USD' ORDER BY step")
    assert [r[0] for r in usd] == [0.0] * 11  # the granter never holds USD in the netlist
    value = _q(run, "SELECT value FROM kpis WHERE name = 'granter_value_USD' ORDER BY step")
    assert [r[0] for r in value] == [r[2] for r in rows]  # OCEAN price fixed at 1.0
    spent = _q(run, "SELECT value FROM kpis WHERE name = 'taker_spent_OCEAN' ORDER BY step")
    assert [r[0] for r in spent] == [0.0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 1.0]
    # nothing is logged between days, nor at tick 241 or the final record
    assert _q(run, "SELECT count(*) FROM kpis") == [(55,)]  # 5 KPIs x 11 days
    assert run.kpis["granter_OCEAN"] == 0.0 and run.kpis["taker_spent_OCEAN"] == 1.0


def test_grants_and_spending_on_the_chain(run):
    grants = _q(run, "SELECT step, payload FROM events WHERE type = 'Transfer' ORDER BY seq")
    assert [g[0] for g in grants] == [0, 72, 144, 216]
    for _, payload in grants:
        p = json.loads(payload)
        assert p["source"] == ["general", "granter1", "OCEAN", ""]
        assert p["destination"] == ["general", "taker1", "OCEAN", ""]
        assert p["amount"] == OCEAN // 4
    # the taker spends (burns) each grant in the tick it arrives
    burns = _q(run, "SELECT step, party, payload FROM events WHERE type = 'Burned' ORDER BY seq")
    assert [(b[0], b[1]) for b in burns] == [(s, "taker1") for s in (0, 72, 144, 216)]
    assert sum(json.loads(b[2])["amount"] for b in burns) == OCEAN
    # final balances: both parties empty, the OCEAN supply burned
    final = _q(
        run, "SELECT owner, asset, balance_raw FROM accounts WHERE step = 242 ORDER BY owner, asset"
    )
    assert final == [("granter1", "OCEAN", 0), ("granter1", "USD", 0), ("taker1", "OCEAN", 0)]


def test_granter_is_idle_between_grants():
    scn = SimpleGrant()
    r = run_scenario(scn, record=False, progress=False)
    assert r.ok
    assert scn.granter.grant_times == [0.0, 3 * DAY, 6 * DAY, 9 * DAY]
    assert scn.taker.spent_raw == {"OCEAN": OCEAN, "USD": 0}
    assert scn.taker.spent_at_tick == 0.0  # last tick: nothing left to spend


def test_uneven_grants_are_exact_and_usd_is_granted_too():
    # 3 grants of 1.0 OCEAN: 333...333 wei twice, then the rest; 3 USD: 1 USD each
    p = SimpleGrantParams(granter_n_actions=3, granter_init_USD=3.0, ocean_price=2.0)
    scn = SimpleGrant(p)
    r = run_scenario(scn, record=False, progress=False)
    assert scn.granter.grant_times == [0.0, 3 * DAY, 6 * DAY]
    assert scn.taker.spent_raw == {"OCEAN": OCEAN, "USD": 3 * OCEAN}
    # OCEAN valued at 2.0 USD, plus the USD spent
    assert r.kpis["taker_spent_USD"] == pytest.approx(1.0 * 2.0 + 3.0)


def test_kpis_day_by_day_with_other_parameters(tmp_path):
    # grants every 2 days, 6-hour ticks over 4 days: ticks at 0, 6, ..., 96 h
    p = SimpleGrantParams(
        step_seconds=6 * 3600, max_time=4, granter_s_between_grants=2 * DAY, granter_n_actions=2
    )
    scn = SimpleGrant(p)
    assert scn.total_steps() == 18  # max_ticks 4 * 4 + 1 = 17.0: ticks 0..17
    r = run_scenario(scn, out_dir=tmp_path / "r", progress=False)
    rows = _q(r, "SELECT step, value FROM kpis WHERE name = 'granter_OCEAN' ORDER BY step")
    # grants at 0 h and 48 h; logged at the start of days 0..4 (steps 0, 4, 8, 12, 16)
    assert rows == [(0, 1.0), (4, 0.5), (8, 0.5), (12, 0.0), (16, 0.0)]


GOLDEN = """\
Tick, Second, Min, Hour, Day, Month, Year, granter_OCEAN, granter_USD
0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0
24, 86400.0, 1440.0, 24.0, 1.0, 0.03333333333333333, 0.0027397260273972603, 0.75, 0.0
48, 172800.0, 2880.0, 48.0, 2.0, 0.06666666666666667, 0.005479452054794521, 0.75, 0.0
72, 259200.0, 4320.0, 72.0, 3.0, 0.1, 0.00821917808219178, 0.75, 0.0
96, 345600.0, 5760.0, 96.0, 4.0, 0.13333333333333333, 0.010958904109589041, 0.5, 0.0
120, 432000.0, 7200.0, 120.0, 5.0, 0.16666666666666666, 0.0136986301369863, 0.5, 0.0
144, 518400.0, 8640.0, 144.0, 6.0, 0.2, 0.01643835616438356, 0.5, 0.0
168, 604800.0, 10080.0, 168.0, 7.0, 0.23333333333333334, 0.019178082191780823, 0.25, 0.0
192, 691200.0, 11520.0, 192.0, 8.0, 0.26666666666666666, 0.021917808219178082, 0.25, 0.0
216, 777600.0, 12960.0, 216.0, 9.0, 0.3, 0.024657534246575342, 0.25, 0.0
240, 864000.0, 14400.0, 240.0, 10.0, 0.3333333333333333, 0.0273972602739726, 0.0, 0.0
"""


def test_data_csv_is_the_golden_file_byte_for_byte(run):
    """Spec 6.1: TokenSPICE's data.csv of simplegrant, exactly."""
    assert (run.out_dir / "data.csv").read_text() == GOLDEN
