"""DARC-SPICE's opsci netlists (``../shared/specs/token-netlists.md`` 5.1-5.4, 6.3).

Hand facts used below (spec 6.3 and the source):

- tick 0 is logged before any step, so every researcher column is its initial value
  (knowledge_access 1, counters 0) and the wallets are the initial ones; the mult
  KPI lists start as [0], so those 7 columns are 0.
- naive/profit/mult: at tick 0 each researcher makes two proposals (the quirk); the DAO
  (first in the order) funds at tick 1 on those proposals; at the row of tick 24 every
  researcher shows no_proposals = 2 and exactly one (K in mult) no_proposals_funded = 1.
- profit sharing at tick 24: the winner publishes its grant g, each of the N-1 losers
  buys one asset (1000), so the market received x = g + 1000(N-1); the treasury holds
  500000 - g + 0.8·0.1·x and the staker 90000 + 0.2·0.1·x.
- mult: the registry assigns at tick 20 and credits every hour from tick 21, so with
  S = the K winners' current assets, market_assets = 4S at tick 24 and 28S at tick 48.
"""

from __future__ import annotations

import random
import time

import pytest

from defisim.agents.netlist.darc_opsci import DarcRng, DarcWorld, MissedEventError
from defisim.agents.netlist.wallets import darc_from_base18, darc_to_base18
from defisim.runner.run import Run
from defisim.scenarios import get_scenario, scenario_names
from defisim.scenarios.netlist.tokenspice_csv import format_row
from defisim.scenarios.netlist.tokenspice_plots import check_specs

NAMES = ("opsci_naive", "opsci_profit_sharing", "opsci_mult_profit_sharing",
         "opsci_mult_time_profit_sharing")
WEI = 10**18


def run(name: str, seed: int = 0, **params):
    cls = get_scenario(name)
    scn = cls(cls.Params(**params))
    r = Run(scn, seed=seed)
    r.run()
    return scn, r


def row_at(scn, tick: int) -> dict:
    for header, values in scn.rows:
        if values[0] == tick:
            return dict(zip(header, values, strict=True))
    raise KeyError(tick)


def short(name: str, seed: int = 0, days: float = 3, **params):
    return run(name, seed, max_time=days, max_time_unit="days", **params)


# -- registration and defaults -------------------------------------------------------
def test_registered_with_darc_defaults():
    for n in NAMES:
        assert n in scenario_names()
        scn = get_scenario(n)()
        p = scn.params
        assert (p.step_seconds, p.max_time, p.max_time_unit, p.log_interval_s) == (3600, 30.0, "years", 86400)
        assert scn.max_ticks == 262801.0 and scn.total_steps() == 262802
        assert scn.csv_style == "darc" and scn.x_label == "Month"
        assert (p.grant_min, p.grant_max, p.assets_min, p.assets_max) == (10000, 50000, 1, 10)
    naive = get_scenario("opsci_naive").Params()
    assert (naive.ticks_between_proposals, naive.funding_boundary, naive.ratio_funds_to_publish,
            naive.university_init_OCEAN, naive.n_researchers) == (6480, 0, 0, 500000, 2)
    ps = get_scenario("opsci_profit_sharing").Params()
    assert (ps.price_of_assets, ps.ratio_funds_to_publish, ps.transaction_fees, ps.fees_to_stakers,
            ps.funding_boundary, ps.n_researchers, ps.staker_init_OCEAN) == (1000, 0.4, 0.1, 0.2, 10000, 2, 90000)
    m = get_scenario("opsci_mult_profit_sharing").Params()
    assert (m.n_researchers, m.proposals_funded_at_a_time, m.fees_to_stakers, m.market_init_OCEAN) == (5, 3, 0.1, 10000)
    mt = get_scenario("opsci_mult_time_profit_sharing").Params()
    assert (mt.n_researchers, mt.proposals_funded_at_a_time, mt.funding_boundary, mt.random_buying,
            mt.time_min, mt.time_max, mt.market_init_OCEAN) == (10, 3, 10000, False, 5000, 15000, 0)
    with pytest.raises(ValueError):
        get_scenario("opsci_mult_profit_sharing").Params(n_researchers=2)


# -- spec 6.3: tick-0 rows -------------------------------------------------------------
BASE0 = "0, 0, 0, 0, 0, 0, 0"


def tick0(name: str, **params) -> str:
    scn, _ = short(name, days=1, **params)
    return format_row(scn.rows[0][1], "darc")


def test_tick0_rows_exactly():
    assert tick0("opsci_naive") == "0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 500000, 0"
    assert tick0("opsci_profit_sharing") == f"{BASE0}, " + "1, 0, 0, 0, 0, 0, " * 2 + "500000, 90000, 0, 0, 0"
    kpi0 = "0, 0, 0, 0, 0, 0, 0"
    assert tick0("opsci_mult_profit_sharing") == (
        f"{BASE0}, " + "1, 0, 0, 0, 0, 0, " * 5 + f"500000, 0, 0, 0, 0, 90000, 10000, 0, 0, {kpi0}")
    assert tick0("opsci_mult_time_profit_sharing") == (
        f"{BASE0}, " + "1, 0, 0, 0, 0, 0, " * 10 + f"500000, 0, 0, 0, 0, 90000, 0, 0, 0, {kpi0}")


def test_columns_in_spec_order_with_hex_names():
    scn = get_scenario("opsci_naive")()
    assert scn.columns() == [
        "researcher0_knowledge_access", "researcher0_no_proposals", "researcher0_no_proposals_funded",
        "researcher0_total_funding", "researcher1_knowledge_access", "researcher1_no_proposals",
        "researcher1_no_proposals_funded", "researcher1_total_funding", "university_OCEAN", "sellers_OCEAN"]
    mt = get_scenario("opsci_mult_time_profit_sharing")()
    cols = mt.columns()
    assert cols[60:] == [
        "dao_treasury_OCEAN", "dao_treasury_funded_proposals_integration",
        "dao_treasury_funded_proposals_novelty", "dao_treasury_funded_proposals_in_index",
        "funded_proposals_impact", "staker_OCEAN", "market_OCEAN", "market_fees_OCEAN", "market_assets",
        "total_value_in_treasury", "total_value_in_researchers", "total_value_in_markets",
        "total_value_of_system", "relative_value_in_markets", "relative_value_in_researchers",
        "relative_value_in_treasury"]
    assert cols[:6] == ["researcher0_knowledge_access", "researcher0_no_proposals",
                        "researcher0_no_proposals_funded", "researcher0_total_funding",
                        "researcher0_total_assets_mrkt", "researcher0_OCEAN"]
    ps = get_scenario("opsci_profit_sharing")(get_scenario("opsci_profit_sharing").Params(n_researchers=12))
    assert [c for c in ps.columns() if c.endswith("_OCEAN")][9:12] == [
        "researcher9_OCEAN", "researchera_OCEAN", "researcherb_OCEAN"]


# -- spec 6.3: structural facts at the row of tick 24 -------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_naive_first_funding(seed):
    scn, _ = short("opsci_naive", seed)
    r24 = row_at(scn, 24)
    assert [r24[f"researcher{i}_no_proposals"] for i in (0, 1)] == [2, 2]
    funded = [i for i in (0, 1) if r24[f"researcher{i}_no_proposals_funded"] == 1]
    assert len(funded) == 1 and sum(r24[f"researcher{i}_no_proposals_funded"] for i in (0, 1)) == 1
    grant = r24[f"researcher{funded[0]}_total_funding"]
    assert 10000 <= grant <= 50000 and grant == int(grant)
    # falls by exactly the grant, in wei. DARC-SPICE's toBase18 is int(amt * 10**18): the
    # float product for the initial 500000.0, exact for the grant (an int from randint);
    # its fromBase18 is the integer true division (checked against DARC-SPICE's own code,
    # tests/darcspice_reference)
    wei = darc_to_base18(500000.0) - darc_to_base18(int(grant))
    assert r24["university_OCEAN"] == darc_from_base18(wei)
    assert r24["university_OCEAN"] == pytest.approx(500000 - grant, abs=1e-9)
    assert r24["sellers_OCEAN"] == darc_from_base18(int(grant) * 10**18) == grant  # paid in full
    assert r24[f"researcher{funded[0]}_knowledge_access"] == 2


@pytest.mark.parametrize(("seed", "n"), [(0, 2), (1, 2), (2, 3), (3, 5)])
def test_profit_sharing_first_funding(seed, n):
    scn, _ = short("opsci_profit_sharing", seed, n_researchers=n)
    r24 = row_at(scn, 24)
    names = [f"researcher{i:x}" for i in range(n)]
    assert all(r24[f"{r}_no_proposals"] == 2 for r in names)
    winners = [r for r in names if r24[f"{r}_no_proposals_funded"] == 1]
    assert len(winners) == 1 and sum(r24[f"{r}_no_proposals_funded"] for r in names) == 1
    g = r24[f"{winners[0]}_total_funding"]
    x = g + 1000 * (n - 1)
    assert r24["dao_treasury_OCEAN"] == pytest.approx(500000 - g + 0.8 * 0.1 * x, abs=1e-9)
    assert r24["staker_OCEAN"] == pytest.approx(90000 + 0.2 * 0.1 * x, abs=1e-9)
    assert r24["market_fees_OCEAN"] == pytest.approx(0.1 * x, abs=1e-9)
    # every loser bought one asset: 10000 - 1000 (my_OCEAN snapshot after the purchase)
    assert all(r24[f"{r}_OCEAN"] == 9000 for r in names if r not in winners)


@pytest.mark.parametrize("seed", [0, 1])
def test_mult_first_funding_and_hourly_assets(seed):
    scn, _ = short("opsci_mult_profit_sharing", seed)
    r24, r48 = row_at(scn, 24), row_at(scn, 48)
    names = [f"researcher{i}" for i in range(5)]
    assert all(r24[f"{r}_no_proposals"] == 2 for r in names)
    winners = [r for r in names if r24[f"{r}_no_proposals_funded"] == 1]
    assert len(winners) == 3
    s = sum(scn.world.by_name[r].proposal["assets_generated"] for r in winners)
    assert r24["market_assets"] == 4 * s and r48["market_assets"] == 28 * s
    assert r24["total_value_in_markets"] == 0  # quirk: appended to the relative list
    system = r24["dao_treasury_OCEAN"] + sum(scn.world.ocean(r) for r in names) + r24["market_OCEAN"]
    assert r24["total_value_of_system"] == pytest.approx(system)
    assert r24["relative_value_in_markets"] == pytest.approx(r24["market_OCEAN"] / system)


def test_mult_time_one_counted_proposal_and_losers_buy():
    scn, _ = short("opsci_mult_time_profit_sharing", 0)
    r24 = row_at(scn, 24)
    names = [f"researcher{i}" for i in range(10)]
    assert all(r24[f"{r}_no_proposals"] == 1 for r in names)  # redraws are not counted
    winners = [r for r in names if r24[f"{r}_no_proposals_funded"] == 1]
    assert len(winners) == 3
    # losers bought `update` = 3 assets at tick 1
    assert all(r24[f"{r}_OCEAN"] == 7000 and r24[f"{r}_knowledge_access"] == 4
               for r in names if r not in winners)
    assert scn.world.redraws_batched > 0


# -- wallets: conservation ------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_ocean_is_conserved(name):
    scn, r = run(name, 3, max_time=2, max_time_unit="years")
    parties = [a.name for a in scn.world.agents]
    held = sum(r.sim.balance(p, "OCEAN", raw=True) for p in parties)
    ledger = r.sim.chain.ledger
    assert held == scn.minted_wei == ledger.supply["OCEAN"]
    assert ledger.conservation_errors() == []


# -- determinism and the event-driven schedule -----------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_differs(name, tmp_path):
    def csv(seed, sub):
        scn, _ = run(name, seed, max_time=60, max_time_unit="days")
        return scn.write_csv(tmp_path / sub)[0].read_bytes()

    a, b, c = csv(7, "a"), csv(7, "b"), csv(8, "c")
    assert a == b and a != c


SMALL = {
    "opsci_naive": dict(ticks_between_proposals=100, university_init_OCEAN=200000.0),
    "opsci_profit_sharing": dict(ticks_between_proposals=100, dao_init_OCEAN=200000.0, n_researchers=3),
    "opsci_mult_profit_sharing": dict(ticks_between_proposals=100, dao_init_OCEAN=300000.0),
    "opsci_mult_time_profit_sharing": dict(time_min=50, time_max=150, dao_init_OCEAN=300000.0),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 5])
def test_event_driven_equals_stepping_every_tick(name, seed, tmp_path):
    """Short cycles (TBP 100 h, projects of 50-150 h) over 60 days: many fundings, the
    treasury running dry, oscillating researchers; both modes write the same bytes."""
    out = []
    for mode in (True, False):
        scn, _ = run(name, seed, max_time=60, max_time_unit="days", event_driven=mode, **SMALL[name])
        out.append(scn.write_csv(tmp_path / str(mode))[0].read_bytes())
        if mode:
            assert scn.world.ticks_skipped > 1000
    assert out[0] == out[1]


def test_random_buying_steps_every_tick(tmp_path):
    kw = dict(max_time=10, max_time_unit="days", time_min=10, time_max=30, random_buying=True)
    a, _ = run("opsci_mult_time_profit_sharing", 1, **kw)
    b, _ = run("opsci_mult_time_profit_sharing", 1, event_driven=False, **kw)
    assert a.world.ticks_skipped == 0
    assert a.write_csv(tmp_path / "a")[0].read_bytes() == b.write_csv(tmp_path / "b")[0].read_bytes()


def test_darc_rng_matches_random():
    a, b = random.Random(42), random.Random(42)
    fast = DarcRng(b)
    for _ in range(2000):
        assert fast.randint(10000, 50000) == a.randint(10000, 50000)
        assert fast.randint(1, 10) == a.randint(1, 10)
        assert fast.uniform(0.5, 1.0) == a.uniform(0.5, 1.0)
        assert fast.random() == a.random()
    assert a.getstate() == b.getstate()


def test_discarded_draws_consume_as_randint_and_uniform():
    p = get_scenario("opsci_mult_time_profit_sharing").Params()
    a, b = random.Random(3), random.Random(3)
    w = DarcWorld("mult_time", p, b, 3_600_000_000_000, 10)
    w._discarded_draws(500)
    for _ in range(500):
        a.randint(10000, 50000), a.randint(1, 10), a.randint(5000, 15000)
        a.uniform(0.0, 0.5), a.uniform(0.5, 1.0)
    assert a.getstate() == b.getstate()


def test_missed_event_is_loud():
    scn, r = short("opsci_naive", 0, days=2)
    w = scn.world
    w.researchers[0].ticks_since_proposal = 6479  # a proposal would be due in the skip
    with pytest.raises(MissedEventError):
        w.researchers[0].skip(49, 5)


# -- plots ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "count", "first"), [
    ("opsci_naive", 5, "number of proposals funded"),
    ("opsci_profit_sharing", 9, "#_proposals_FUNDED"),
    ("opsci_mult_profit_sharing", 14, "Value distribution in the system"),
    ("opsci_mult_time_profit_sharing", 14, "Value distribution in the system"),
])
def test_plot_specs(name, count, first):
    scn = get_scenario(name)()
    header = ["Tick", "Second", "Min", "Hour", "Day", "Month", "Year", *scn.columns()]
    specs = scn.plot_specs(header)
    assert len(specs) == count and specs[0].y_pretty_name == first
    check_specs(header, specs)
    logs = [s.y_pretty_name for s in specs if s.y_scale == 1]
    assert logs == ([] if name == "opsci_naive" else ["Staker_X_KnowledgeMarket_OCEAN"])
    assert all(s.mult == 0 and s.unit == 0 for s in specs)  # MULT1, COUNT


# -- the full horizon -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_full_30_years(name):
    t0 = time.perf_counter()
    scn, r = run(name, 0)
    wall = time.perf_counter() - t0
    assert r.step == 262802 and len(scn.rows) == 10951
    assert scn.rows[-1][1][0] == 262800
    assert scn.world.ticks_skipped > 250000
    assert wall < 10  # about 0.2-0.7 s on one core
