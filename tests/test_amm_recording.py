"""The AMM protocol's recording (``amm_swaps``, ``amm_liquidity``, ``amm_pools``, built-in
KPIs per pool, run counters) and the ``amm.png`` figure, from a tiny scenario run by the
runner: a V2 and a V3 pool of A (18 decimals) / B (6 decimals), an LP and a trader."""

from __future__ import annotations

import json
import math

import pytest

from defisim.agents.base import Agent
from defisim.protocols.amm.v2_router import get_amount_out
from defisim.runner import run_scenario
from defisim.scenarios.base import Scenario, ScenarioParams
from defisim.store import open_store

V2 = "V2:A/B"
V3 = "V3:A/B/3000"


class Trader(Agent):
    """Step 1: 1,000 B into V2; step 2: 1 A into V2; every step from 1: 0.5 A or 900 B
    (alternating) into V3. Keeps every receipt."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.receipts: list[tuple[int, str, str, object]] = []
        self.n = 0

    def initialise(self, sim):
        sim.create_party(self.name)
        sim.mint(self.name, "A", 1_000)
        sim.mint(self.name, "B", 1_000_000)

    def step(self, sim):
        self.n += 1
        if self.n == 1:
            self.receipts.append((self.n, V2, "B", sim.amm.swap(self.name, V2, "B", 1000)))
        if self.n == 2:
            self.receipts.append((self.n, V2, "A", sim.amm.swap(self.name, V2, "A", 1)))
        a, amt = ("A", 0.5) if self.n % 2 else ("B", 900)
        self.receipts.append((self.n, V3, a, sim.amm.swap(self.name, V3, a, amt)))


class LP(Agent):
    """Step 3: burns half of its V3 position (and collects); step 4: removes 0.001 V2 LP."""

    phase = 0

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.n = 0

    def step(self, sim):
        self.n += 1
        if self.n == 3:
            pos = sim.amm.positions(self.name, V3)[0]
            r = sim.amm.burn_position(self.name, V3, pos.tick_lower, pos.tick_upper,
                                      pos.liquidity // 2)
            assert r.accepted, r
        if self.n == 4:
            assert sim.amm.remove_liquidity(self.name, "A", "B", 0.001).accepted


class AmmParams(ScenarioParams):
    steps: int | None = 6
    step_seconds: float = 1.0
    pools: bool = True
    """Create the pools and agents (False: the AMM protocol with no pool)."""


class AmmTiny(Scenario):
    name = "amm_recording_test"
    description = "a V2 and a V3 pool, an LP and a trader"
    Params = AmmParams
    protocols = ("amm",)

    def build(self, sim):
        sim.create_asset("A", 18)
        sim.create_asset("B", 6)
        if not self.params.pools:
            return []
        sim.create_party("lp")
        sim.mint("lp", "A", 10_000)
        sim.mint("lp", "B", 50_000_000)
        sim.amm.create_pair("A", "B")
        assert sim.amm.add_liquidity("lp", "A", "B", 100, 200_000).accepted
        sim.amm.create_v3_pool("A", "B", 3000, price=2000)
        lo, up = sim.amm.price_to_tick(V3, 1000), sim.amm.price_to_tick(V3, 4000)
        assert sim.amm.mint_position("lp", V3, lo, up, 100, 200_000).accepted
        self.trader = Trader("trader")
        return [LP("lp"), self.trader]

    def kpis(self, sim):
        return {f"{V2}.reference_price": 2000.0} if self.params.pools else {"one": 1.0}


class NoAmm(Scenario):
    name = "no_amm_recording_test"
    Params = AmmParams

    def build(self, sim):
        return []

    def kpis(self, sim):
        return {"one": 1.0, "two": float(sim.now)}


def _q(run_dir, sql):
    with open_store(run_dir / "run.duckdb") as s:
        return s.query(sql)


@pytest.fixture(scope="module")
def amm_run(tmp_path_factory):
    scn = AmmTiny()
    r = run_scenario(scn, seed=3, out_dir=tmp_path_factory.mktemp("amm") / "run",
                     progress=False, plots=True)
    assert r.ok, r.error
    return r, scn


def test_swap_rows_equal_the_receipts(amm_run):
    r, scn = amm_run
    rows = _q(r.out_dir, "SELECT step, pool, party, asset_in, asset_out, amount_in, amount_out, "
                         "amount_in_f, amount_out_f, fee_f, price FROM amm_swaps ORDER BY time_ns, pool")
    receipts = [x for x in scn.trader.receipts if x[3].accepted]
    assert len(receipts) == len(scn.trader.receipts) == 8  # 2 V2 + 6 V3 swaps
    assert len(rows) == 8
    dec = {"A": 10**18, "B": 10**6}
    by_key = sorted(receipts, key=lambda x: (x[0], x[1]))
    for row, (n, pool, a_in, rec) in zip(sorted(rows, key=lambda x: (x[0], x[1])), by_key,
                                         strict=True):
        assert row[0] == n - 1 and row[1] == pool and row[2] == "trader" and row[3] == a_in
        assert row[4] == ("B" if a_in == "A" else "A")
        assert (row[7], row[8]) == rec.value  # the receipt, in asset units
        assert row[5] / dec[a_in] == row[7] and row[6] / dec[row[4]] == row[8]  # raw = receipt's raw
        if pool == V2:
            assert row[9] == pytest.approx(0.003 * row[7], rel=1e-12)  # V2 fee: 0.3 % of the input
        else:  # V3 fee: the sum of the steps' feeAmount, about 0.3 % of the input
            assert row[9] == pytest.approx(0.003 * row[7], rel=1e-9)
    # price after: V2 rows carry reserve1 / reserve0 after the hop
    first_v2 = [x for x in rows if x[1] == V2][0]
    out1 = get_amount_out(1000 * 10**6, 200_000 * 10**6, 100 * 10**18)
    assert first_v2[6] == out1
    assert first_v2[10] == pytest.approx((201_000) / (100 - out1 / 1e18), rel=1e-12)
    assert r.counters["swaps"] == 8


def test_volume_and_fee_kpis_hand_computed(amm_run):
    r, _ = amm_run
    kpi = {(s, m, n): v for s, m, n, v in _q(r.out_dir, "SELECT step, market, name, value FROM kpis "
                                                        "WHERE market IS NOT NULL")}
    # step 0 (the trader's first wake-up), V2: 1,000 B in (B is token1): volume 1,000 B, fees 3 B
    assert kpi[(0, V2, "volume")] == pytest.approx(1000.0, rel=1e-12)
    assert kpi[(0, V2, "fees")] == pytest.approx(3.0, rel=1e-12)
    # step 1, V2: 1 A in for y B: volume y, fee 0.003 A valued at the swap's rate = 0.003 y
    out1 = get_amount_out(1000 * 10**6, 200_000 * 10**6, 100 * 10**18)
    y = get_amount_out(10**18, 100 * 10**18 - out1, 201_000 * 10**6) / 1e6
    assert kpi[(1, V2, "volume")] == pytest.approx(y, rel=1e-12)
    assert kpi[(1, V2, "fees")] == pytest.approx(0.003 * y, rel=1e-12)
    assert kpi[(2, V2, "volume")] == 0.0 and kpi[(2, V2, "swaps")] == 2.0
    assert kpi[(0, V3, "fees")] == pytest.approx(0.0015 * 995.536461 / 0.5, rel=1e-6)
    # cumulative columns of amm_pools equal the sums of the per-step KPIs
    last = _q(r.out_dir, f"SELECT volume_cum, fees_cum, price, tvl, reserve0_f, reserve1_f, "
                         f"liquidity, tick FROM amm_pools WHERE pool = '{V3}' ORDER BY step DESC LIMIT 1")[0]
    vols = sum(v for (s, m, n), v in kpi.items() if m == V3 and n == "volume")
    fees = sum(v for (s, m, n), v in kpi.items() if m == V3 and n == "fees")
    assert last[0] == pytest.approx(vols, rel=1e-12) and last[1] == pytest.approx(fees, rel=1e-12)
    assert last[3] == pytest.approx(last[4] * last[2] + last[5], rel=1e-12)  # tvl in B
    assert last[7] is not None and last[6] > 0
    # V3 volume in B: the B leg of each swap (B in: amount in; A in: amount out)
    legs = _q(r.out_dir, f"SELECT sum(CASE WHEN asset_in = 'B' THEN amount_in_f ELSE amount_out_f END) "
                         f"FROM amm_swaps WHERE pool = '{V3}'")[0][0]
    assert vols == pytest.approx(legs, rel=1e-12)
    names = {(m, n) for (_, m, n) in kpi}
    assert {(V3, "tick"), (V3, "liquidity"), (V2, "liquidity"), (V2, "price"), (V2, "tvl")} <= names
    assert (V2, "tick") not in names


def test_liquidity_rows_and_counters(amm_run):
    r, _ = amm_run
    rows = _q(r.out_dir, "SELECT step, pool, party, kind, tick_lower, tick_upper, liquidity, "
                         "amount0, amount1, amount0_f FROM amm_liquidity ORDER BY step, pool, kind")
    kinds = [(x[1], x[3]) for x in rows]
    assert kinds == [(V2, "mint"), (V3, "mint"), (V3, "burn"), (V3, "collect"), (V2, "burn")]
    v2_mint = rows[0]
    assert v2_mint[4] is None and v2_mint[7] == 100 * 10**18 and v2_mint[8] == 200_000 * 10**6
    assert v2_mint[6] == math.isqrt(100 * 10**18 * 200_000 * 10**6) - 1000  # MINIMUM_LIQUIDITY locked
    v3_mint, v3_burn, v3_collect = rows[1], rows[2], rows[3]
    assert v3_burn[6] == v3_mint[6] // 2 and v3_burn[4] == v3_mint[4]
    assert v3_collect[7] >= v3_burn[7] and v3_collect[6] == 0  # the burned amounts and the fees
    assert rows[4][6] == 10**15 and rows[4][9] > 0
    assert r.counters["mints"] == 2 and r.counters["burns"] == 2
    summary = json.loads((r.out_dir / "summary.json").read_text())
    assert summary["counters"]["swaps"] == 8 and summary["counters"]["mints"] == 2


def test_pools_table_and_amm_figure(amm_run):
    r, _ = amm_run
    n = _q(r.out_dir, "SELECT count(*), count(DISTINCT step) FROM amm_pools")[0]
    assert n == (2 * 7, 7)  # 2 pools, steps 0..6 (the final record included)
    assert "amm.png" in r.plots and (r.out_dir / "amm.png").stat().st_size > 10_000


def test_runs_without_pools_have_no_amm_rows_or_figure(tmp_path):
    r = run_scenario(NoAmm(AmmParams(steps=3)), seed=1, out_dir=tmp_path / "none",
                     progress=False, plots=True)
    assert r.ok and "amm.png" not in r.plots and not (r.out_dir / "amm.png").exists()
    with open_store(r.out_dir / "run.duckdb") as s:
        assert not {"amm_swaps", "amm_liquidity", "amm_pools"} & set(s.tables())
    assert "swaps" not in r.counters
    r = run_scenario(AmmTiny(AmmParams(steps=3, pools=False)), seed=1,
                     out_dir=tmp_path / "empty", progress=False, plots=True)
    assert r.ok and "amm.png" not in r.plots
    assert _q(r.out_dir, "SELECT count(*) FROM amm_pools") == [(0,)]
    assert r.counters == {"swaps": 0, "mints": 0, "burns": 0}


class QuotedPools(Scenario):
    """A USDC/WETH V3 pool at 2,000 USDC per WETH (quoted in USDC by default) and an A/B
    V2 pair quoted in A by ``set_quote_asset``; one swap of 1,000 USDC."""

    name = "amm_quote_test"
    Params = AmmParams
    protocols = ("amm",)

    def build(self, sim):
        for a, d in (("USDC", 6), ("WETH", 18), ("A", 18), ("B", 18)):
            sim.create_asset(a, d)
        sim.create_party("lp")
        for a in ("USDC", "WETH", "A", "B"):
            sim.mint("lp", a, 10_000_000)
        pid = sim.amm.create_v3_pool("WETH", "USDC", 500, price=2000)
        lo, up = sim.amm.price_to_tick(pid, 1 / 4000), sim.amm.price_to_tick(pid, 1 / 1000)
        assert sim.amm.mint_position("lp", pid, lo, up, 2_000_000, 1000).accepted
        sim.amm.create_pair("A", "B")
        sim.amm.add_liquidity("lp", "A", "B", 100, 400)  # 4 B per A
        sim.amm.set_quote_asset("V2:A/B", "A")
        self.swap = sim.amm.swap("lp", pid, "USDC", 1000)
        return []


def test_prices_volumes_and_tvl_are_quoted_in_the_quote_asset(tmp_path):
    scn = QuotedPools(AmmParams(steps=1))
    r = run_scenario(scn, seed=1, out_dir=tmp_path / "q", progress=False, plots=False)
    assert r.ok, r.error
    rows = _q(r.out_dir, "SELECT pool, base, quote, price, tvl, volume_cum, reserve0_f, reserve1_f "
                         "FROM amm_pools WHERE step = 0 ORDER BY pool")
    (p2, b2, q2, price2, tvl2, _, r0, r1), (p3, b3, q3, price3, tvl3, vol3, u, w) = rows
    assert (p2, b2, q2) == ("V2:A/B", "B", "A") and price2 == pytest.approx(0.25)
    assert tvl2 == pytest.approx(r0 + r1 * 0.25)
    assert (p3, b3, q3) == ("V3:USDC/WETH/500", "WETH", "USDC")
    assert price3 == pytest.approx(2000, rel=1e-3)  # WETH in USDC, not USDC in WETH
    assert tvl3 == pytest.approx(u + w * price3) and vol3 == pytest.approx(1000)
    swap = _q(r.out_dir, "SELECT price, fee_f FROM amm_swaps")[0]
    assert swap[0] == pytest.approx(price3) and swap[1] == pytest.approx(0.5, rel=1e-5)
    kpi = _q(r.out_dir, "SELECT value FROM kpis WHERE market = 'V3:USDC/WETH/500' "
                        "AND name = 'price' AND step = 0")
    assert kpi[0][0] == pytest.approx(price3)


def test_set_quote_asset_checks_its_arguments():
    from defisim.service import Simulation

    sim = Simulation(protocols=["amm"])
    sim.create_asset("A", 18)
    sim.create_asset("B", 18)
    sim.amm.create_pair("A", "B")
    with pytest.raises(ValueError, match="not 'C'"):
        sim.amm.set_quote_asset("V2:A/B", "C")
    with pytest.raises(KeyError, match="unknown pool"):
        sim.amm.set_quote_asset("V2:A/C", "A")
