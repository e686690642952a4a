"""The Ocean V3 netlists ``simplepool`` and ``oceanv3`` against TokenSPICE's rules
(``../shared/specs/token-netlists.md`` 1.2, 2.2, 3, 4.3, 4.5, 7.3).

The deterministic prefix of simplepool (before tick 359) is recomputed here with the
Balancer core directly (``BPool(variant="ocean_v3")``), with TokenSPICE's float-to-wei
rule ``int(x·1e18)`` on floats read as ``wei/1e18``: every logged ``publisher_OCEAN``
and every unstake must match to the wei.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from defisim.agents.netlist.ocean import (
    OCEAN,
    OceanState,
    PublisherAgent,
    PublisherStrategy,
    ocean_in_bpts,
    ocean_in_dts,
    sell_dt,
    stake_ocean,
)
from defisim.agents.netlist.wallets import from_base18, to_base18
from defisim.protocols.amm.balancer import ocean_v3_pool
from defisim.protocols.amm.balancer.bmath import calcInGivenOut, calcSpotPrice
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names
from defisim.scenarios.netlist import read_csv
from defisim.scenarios.netlist.tokenspice_plots import draw
from defisim.scenarios.netlists.oceanv3 import AGENT_NAMES, OceanV3
from defisim.scenarios.netlists.simplepool import SimplePool, SimplePoolParams
from defisim.service import Simulation

WEI = 10**18


class _Final:
    """Keeps, after the last step, every agent's balances and the pools' reserves."""

    def finish(self, sim):
        assets = [OCEAN, *(p.datatoken for p in self.state.pools),
                  *(p.lp_asset for p in self.state.pools)]
        parties = [a.name for a in self.agent_list]
        self.final_balances = {(pt, a): int(sim.balance(pt, a, raw=True))
                               for pt in parties for a in assets}
        self.final_pools = {}
        for p in self.state.pools:
            v = sim.amm.pool_view(p.pool_id)
            self.final_pools[p.name] = (dict(zip(v.assets, v.reserves_raw, strict=True)),
                                        v.lp_supply_raw, v.fee, v.weights)


class _SimplePool(_Final, SimplePool):
    @property
    def agent_list(self):
        return [self.publisher]


class _OceanV3(_Final, OceanV3):
    @property
    def agent_list(self):
        return list(self.agents.values())


@pytest.fixture(scope="module")
def simplepool_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sp") / "run"
    n = _SimplePool()
    r = run_scenario(n, seed=0, out_dir=out, progress=False, record_accounts_every=0)
    assert r.ok, r.error
    return n, r


@pytest.fixture(scope="module")
def oceanv3_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ov3") / "run"
    n = _OceanV3()
    r = run_scenario(n, seed=0, out_dir=out, progress=False, record_accounts_every=0)
    assert r.ok, r.error
    return n, r


# ------------------------------------------------------------------ horizon, registry
def test_registered_with_tokenspice_horizons():
    assert {"simplepool", "oceanv3"} <= set(scenario_names())
    assert get_scenario("simplepool") is SimplePool and get_scenario("oceanv3") is OceanV3
    # spec 1.2: 20 days hourly -> 481.0 (482 steps, 21 daily rows); 19 days -> 457.0
    assert SimplePool().max_ticks == 481.0 and SimplePool().total_steps() == 482
    assert OceanV3().max_ticks == 457.0 and OceanV3().total_steps() == 458
    p = SimplePoolParams()
    assert (p.pub_init_OCEAN, p.pub_DT_init, p.pub_DT_stake, p.pub_pool_weight_DT,
            p.pub_pool_weight_OCEAN) == (10_000.0, 1000.0, 20.0, 3.0, 7.0)
    assert (p.pub_s_between_create, p.pub_s_between_unstake, p.pub_s_between_sellDT) == (
        7 * 86400, 3 * 86400, 15 * 86400)
    s = PublisherStrategy()  # spec 2.2 defaults
    assert (s.s_wait_to_rug, s.s_rug_time) == (302_400, 60_480)


# ------------------------------------------------------------------ simplepool (spec 4.3)
def _simplepool_prefix():
    """TokenSPICE's simplepool up to tick 358 on the bare Balancer core: the publisher's
    OCEAN (wei) after each event and the unstakes' OCEAN out."""
    pub = "pub1"
    ocean_wei = to_base18(10_000.0)
    core = ocean_v3_pool(pub, address="pool0")
    dt_bind = to_base18(20.0)
    ocean_bind = to_base18(max(0, from_base18(ocean_wei) - 1.0))
    core.bind(pub, "DT0", dt_bind, to_base18(3.0))
    core.bind(pub, OCEAN, ocean_bind, to_base18(7.0))
    core.finalize(pub)
    ocean_wei -= ocean_bind
    created = (dt_bind, ocean_bind, core.total_supply, core.swap_fee)
    after = {167: None, 239: None, 311: None}
    outs = []
    for tick in after:
        bpt = from_base18(core.share_balances[pub])
        r = core.exitswap_pool_amount_in(pub, OCEAN, to_base18(0.10 * bpt), 0)
        outs.append((to_base18(0.10 * bpt), r.amount_out))
        ocean_wei += r.amount_out
        after[tick] = ocean_wei
    bind1 = to_base18(max(0, from_base18(ocean_wei) - 1.0))  # tick 335: pool1
    after[335] = ocean_wei - bind1
    return created, outs, after, bind1


def test_simplepool_pool_creation_and_unstakes_match_the_core_to_the_wei(simplepool_run):
    n, _ = simplepool_run
    created, outs, after, bind1 = _simplepool_prefix()
    # pool creation: 20 DT at weight 3, 9999 OCEAN (int(9999.0*1e18)) at weight 7, fee 1e-6
    assert created == (20 * WEI, 9999000000000000262144, 100 * WEI, 10**12)
    acts = n.publisher.actions
    assert acts[0] == (167, "create", "pool0", 20 * WEI, 9999000000000000262144)
    # unstake 10 BPT at 167, then 10 % at 239 and 311: same BPT in and OCEAN out in wei
    unstakes = [(a[3], a[4]) for a in acts if a[1] == "unstake" and a[0] < 359]
    assert unstakes == outs
    assert [a[3] for a in acts if a[1] == "unstake"][:3] == [10 * WEI, 9 * WEI, 8_100_000_000_000_000_000]
    assert acts[4] == (335, "create", "pool1", 20 * WEI, bind1)
    # the first draw with a real choice: the DT sold at tick 359 (1 % of 980)
    assert acts[5][:2] == (359, "sellDT") and acts[5][3] == to_base18(0.01 * 980.0)
    assert n.publisher.rejected == 0
    # pool0 was created with the ocean_v3 core's parameters
    final = n.final_pools["pool0"]
    assert final[2] == 1e-6 and final[3] == pytest.approx((0.3, 0.7))


def test_simplepool_rows_before_the_first_random_choice(simplepool_run):
    n, _ = simplepool_run
    _, _, after, _ = _simplepool_prefix()
    rows = {v[0]: v for _, v in n.rows}
    assert sorted(rows) == list(range(0, 481, 24))  # 21 daily rows
    expect_wei = {t: 10_000 * WEI for t in range(0, 168, 24)}
    expect_wei.update({168: after[167], 192: after[167], 216: after[167], 240: after[239],
                       264: after[239], 288: after[239], 312: after[311], 336: after[335]})
    for t, wei in expect_wei.items():
        assert rows[t][7] == from_base18(wei), t
        assert type(rows[t][8]) is int
    assert rows[168][7] == 1398.2117786769847  # 0.999... OCEAN left + the first exit
    assert [rows[t][8] for t in sorted(rows)] == [0] * 7 + [1] * 7 + [2] * 7


def test_simplepool_conserves_every_token(simplepool_run):
    n, _ = simplepool_run
    bal, pools = n.final_balances, n.final_pools
    assert sum(bal[("pub1", OCEAN)] for _ in [0]) + sum(p[0][OCEAN] for p in pools.values()) \
        == 10_000 * WEI
    for i, name in enumerate(("pool0", "pool1")):
        dt = f"DT{i}"
        assert bal[("pub1", dt)] + pools[name][0][dt] == 1000 * WEI
        assert bal[("pub1", f"BAL:{dt}/OCEAN-LP")] == pools[name][1]


# ------------------------------------------------------------------ oceanv3 (spec 4.5)
def test_oceanv3_schedule(oceanv3_run):
    n, _ = oceanv3_run
    a = n.agents
    pub = a["publisher"].actions
    assert [(t, w) for t, w, *_ in pub if w == "create"] == [(167, "create"), (335, "create")]
    assert [x[2] for x in pub if x[1] == "create"] == ["pool0", "pool2"]
    assert pub[0] == (167, "create", "pool0", 50 * WEI, to_base18(4999.0))
    assert [t for t, w, *_ in pub if w == "unstake"] == [167, 239, 311, 383, 455]
    assert [t for t, w, *_ in pub if w == "sellDT"] == [359]
    mal = a["maliciousPublisher"].actions
    assert mal[0] == (239, "create", "pool1", 50 * WEI, to_base18(4999.0))
    window = list(range(359, 384))  # 120 h to 144 h after its creation
    assert [t for t, w, *_ in mal if w == "unstake"] == window
    assert [t for t, w, *_ in mal if w == "sellDT"] == window
    assert all(x[2] == "pool1" for x in mal[1:] if x[1] != "rug")
    assert [x for x in mal if x[1] == "rug"] == [(359, "rug", "pool1")]
    assert n.state.rugged_pools == ["pool1"]
    # consumer: every 72 ticks from 167, 1 DT to the controller, 1.2x its spend back
    con = a["consumer"]
    assert [b[0] for b in con.buys] == [167, 239, 311, 383, 455]
    for _, pool, spend, returned in con.buys:
        assert returned == pytest.approx(1.2 * spend, rel=1e-12)
        assert pool in {"pool0", "pool1", "pool2"}
    assert [b[1] for b in con.buys][:2] == ["pool0", "pool0"]  # pool1 comes after it at 239
    # speculators every 8 and 24 ticks from 167; nobody but publishers touches pool1 once
    # rugged (the rug comes with the malicious publisher's step, last in tick 359)
    assert [x[0] for x in a["stakerSpeculator"].actions] == list(range(167, 458, 8))
    assert [x[0] for x in a["speculator"].actions] == list(range(167, 458, 24))
    for name in ("consumer", "stakerSpeculator", "speculator"):
        assert all(x[2] != "pool1" for x in a[name].actions if x[0] > 359), name
    assert sum(x.rejected for x in a.values()) == 0


def test_oceanv3_rows(oceanv3_run):
    n, _ = oceanv3_run
    header = n.rows[0][0]
    assert len(header) == 7 + 22 and header[-2:] == ["n_pools", "n_rugged"]
    assert header[7:11] == ["publisher_OCEAN", "publisher_OCEAN_in_DTs", "publisher_OCEAN_in_BPTs",
                            "publisher_OCEAN_networth"]
    rows = {v[0]: v for _, v in n.rows}
    assert sorted(rows) == list(range(0, 451, 10))  # 46 rows, every 10 h
    for t, v in rows.items():
        n_pools = 0 if t < 170 else 1 if t < 240 else 2 if t < 340 else 3
        assert (v[-2], v[-1]) == (n_pools, 0 if t < 360 else 1)
        assert type(v[-2]) is int and type(v[-1]) is int
        for k in range(5):
            wallet, dts, bpts, worth = v[7 + 4 * k: 11 + 4 * k]
            assert worth == wallet + dts + bpts
            assert (type(bpts) is int and bpts == 0) if t < 170 else type(bpts) is float
        assert v[7 + 4 + 1] == 0.0  # the consumer gives every DT it buys away
    assert rows[0][7:11] == [5000.0, 0.0, 0, 5000.0]


def test_valuation_is_the_spot_price_one():
    """Spec 3 "Valuation helpers": DT value = DT × getSpotPrice(OCEAN, DT)/1e18; BPT value
    = (BPT / totalSupply)·(p·b_DT + b_OCEAN); the int 0 without pools."""
    sim = Simulation(seed=0, protocols=["governance", "amm"])
    sim.create_asset(OCEAN, 18)
    for party in ("pub", "lp"):
        sim.create_party(party)
    sim.mint_raw("pub", OCEAN, 1000 * WEI)
    sim.mint_raw("lp", OCEAN, 100 * WEI)
    st = OceanState()
    assert ocean_in_bpts(sim, st, "pub") == 0 and type(ocean_in_bpts(sim, st, "pub")) is int
    assert ocean_in_dts(sim, st, "pub") == 0.0
    pub = PublisherAgent("pub", st, random.Random(0), 3600.0,
                         PublisherStrategy(DT_init=100.0, DT_stake=50.0))
    pool = pub.create_pool(sim)
    assert stake_ocean(sim, "lp", pool, 10.0).accepted
    v = sim.amm.pool_view(pool.pool_id)
    b_dt, b_oc = v.reserves_raw
    assert b_dt == 50 * WEI and b_oc == to_base18(999.0) + 10 * WEI
    p = calcSpotPrice(b_oc, 7 * WEI, b_dt, 3 * WEI, 10**12) / 1e18
    assert ocean_in_dts(sim, st, "pub") == 0.0 + 50.0 * p
    pool_value = p * (b_dt / 1e18) + b_oc / 1e18
    lp = int(sim.balance("lp", pool.lp_asset, raw=True))
    assert ocean_in_bpts(sim, st, "pub") == 0 + (100.0 / (v.lp_supply_raw / 1e18)) * pool_value
    assert ocean_in_bpts(sim, st, "lp") == 0 + ((lp / 1e18) / (v.lp_supply_raw / 1e18)) * pool_value
    assert v.lp_supply_raw == 100 * WEI + lp


def test_oceanv3_conserves_every_token(oceanv3_run):
    n, _ = oceanv3_run
    bal, pools = n.final_balances, n.final_pools
    minted = 5 * 5000 * WEI + sum(b[3] for b in n.agents["consumer"].buys)
    held = sum(bal[(name, OCEAN)] for name in AGENT_NAMES)
    assert held + sum(p[0][OCEAN] for p in pools.values()) == minted
    for i in range(3):
        dt, lp = f"DT{i}", f"BAL:DT{i}/OCEAN-LP"
        assert sum(bal[(nm, dt)] for nm in AGENT_NAMES) + pools[f"pool{i}"][0][dt] == 100 * WEI
        assert sum(bal[(nm, lp)] for nm in AGENT_NAMES) == pools[f"pool{i}"][1]


def test_same_seed_same_data_csv_other_seed_differs(oceanv3_run, tmp_path):
    n, r = oceanv3_run
    again = run_scenario(OceanV3(), seed=0, out_dir=tmp_path / "a", progress=False,
                         record_accounts_every=0)
    assert (tmp_path / "a" / "data.csv").read_bytes() == (r.out_dir / "data.csv").read_bytes()
    assert again.ok
    other = OceanV3()
    run_scenario(other, seed=1, out_dir=None, progress=False, record=False)
    assert [v for _, v in other.rows] != [v for _, v in n.rows]
    # the prefix before any real choice is the same for every seed
    assert [v for _, v in other.rows][:17] == [v for _, v in n.rows][:17]


def test_data_csv_format(simplepool_run, oceanv3_run):
    _, r = simplepool_run
    lines = (r.out_dir / "data.csv").read_text().splitlines()
    assert lines[0] == "Tick, Second, Min, Hour, Day, Month, Year, publisher_OCEAN, n_pools"
    assert lines[1] == "0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10000.0, 0"
    assert lines[8].endswith(", 1398.2117786769847, 1") and len(lines) == 22
    _, r3 = oceanv3_run
    lines = (r3.out_dir / "data.csv").read_text().splitlines()
    assert len(lines) == 47
    assert lines[1].endswith(", 5000.0, 0.0, 0, 5000.0, 0, 0")


def test_plot_file_names(simplepool_run, oceanv3_run, tmp_path):
    for netlist, run in ((SimplePool, simplepool_run[1]), (OceanV3, oceanv3_run[1])):
        header, rows = read_csv(run.out_dir / "data.csv")
        paths = draw(header, rows, "Day", netlist().plot_specs(header), tmp_path / netlist.name)
        names = sorted(p.name for p in paths)
        if netlist is SimplePool:
            assert names == ["n_pools_LINEAR.png", "publisher_OCEAN_LINEAR.png"]
        else:
            assert names == ["Agents_OCEAN_networth_LINEAR.png", "Agents_OCEAN_wallet_LINEAR.png",
                             "n_pools_LINEAR.png"]


# ------------------------------------------------------------------ pieces
def test_spot_price_raw_and_calc_in_given_out_are_the_contracts():
    sim = Simulation(seed=0, protocols=["governance", "amm"])
    sim.create_asset(OCEAN, 18)
    sim.create_party("pub")
    sim.mint_raw("pub", OCEAN, 1000 * WEI)
    st = OceanState()
    pub = PublisherAgent("pub", st, random.Random(0), 3600.0,
                         PublisherStrategy(DT_init=100.0, DT_stake=50.0))
    pool = pub.create_pool(sim)
    b_dt, b_oc = 50 * WEI, to_base18(999.0)
    spot = calcSpotPrice(b_oc, 7 * WEI, b_dt, 3 * WEI, 10**12)
    assert sim.amm.spot_price(pool.pool_id, "DT0", OCEAN, raw=True) == spot
    assert sim.amm.calc_in_given_out(pool.pool_id, OCEAN, "DT0", WEI) == calcInGivenOut(
        b_oc, 7 * WEI, b_dt, 3 * WEI, WEI, 10**12)
    # no MAX_OUT_RATIO check (the contract's view), the swap has it
    big = 20 * WEI
    assert sim.amm.calc_in_given_out(pool.pool_id, OCEAN, "DT0", big) > 0
    with pytest.raises(ValueError):
        sim.amm.quote(pool.pool_id, OCEAN, Decimal(big).scaleb(-18), exact="out")


def test_a_failing_require_is_a_rejected_transaction():
    """TokenSPICE aborts; here the pool's revert is a rejected transaction, nothing moves
    and the agent counts it."""
    sim = Simulation(seed=0, protocols=["governance", "amm"])
    sim.create_asset(OCEAN, 18)
    sim.create_party("pub")
    sim.mint_raw("pub", OCEAN, 1000 * WEI)
    pub = PublisherAgent("pub", OceanState(), random.Random(0), 3600.0)
    pool = pub.create_pool(sim)
    have = int(sim.balance("pub", "DT0", raw=True))
    assert have == 980 * WEI
    sim.create_party("nobody")
    r = sell_dt(sim, "nobody", pool, 1.0)  # holds no DT: the token's transferFrom reverts
    assert not r.accepted and r.reason == "ERR_INSUFFICIENT_BAL"
    r = sell_dt(sim, "pub", pool, 11.0)  # > half the pool's 20 DT
    assert not r.accepted and r.reason == "ERR_MAX_IN_RATIO"
    assert int(sim.balance("pub", "DT0", raw=True)) == have
    assert pub._check(sim, "sellDT", r) is False and pub.rejected == 1


# ------------------------------------------------------------------ oceanv4 (spec 4.6)
def test_oceanv4_runs_the_documented_approximation():
    """No reference exists (TokenSPICE's oceanv4 fails at HEAD): check the horizon and
    what the module docstring promises."""
    from defisim.scenarios.netlists.oceanv4 import SIDE_STAKING, OceanV4

    n = OceanV4()
    assert n.max_ticks == 1441.0 and n.total_steps() == 1442
    r = run_scenario(n, seed=0, out_dir=None, progress=False, record=False)
    assert r.ok, r.error
    assert len(n.rows) == 121 and len(n.rows[0][0]) == 7 + 3 * 6 + 8
    pub = n.agents["publisher"]
    ocean_init = to_base18(5000.0 - 1)
    assert pub.actions[0] == (23, "create", "pool0", to_base18(0.1 * (5000.0 - 1)), ocean_init)
    v = n.rows[2][1]  # tick 24: 50/50 pool, half the 100 BPT with the side-staking party
    h = n.rows[2][0]
    assert v[h.index("BPT_1ss_contract")] == 50.0 and v[h.index("BPT_publisher")] == 50.0
    assert v[h.index("BPT_total")] == pytest.approx(100.0 + v[h.index("BPT_stakerSpeculator")])
    assert v[h.index("n_pools")] == 1 and v[h.index("n_rugged")] == 0
    assert n.rows[0][1][h.index("DT_pool")] == 0  # int 0 before the pool
    assert pub.vested_paid == 100 * WEI  # vested from tick 599, linear over 600 ticks
    assert [a[0] for a in pub.actions if a[1] == "getVesting"][0] == 599
    assert SIDE_STAKING == "sideStaking"
    assert sum(a.rejected for a in n.agents.values()) == 0
