"""The AMM plug-in's Uniswap V3 pools on the official bytecode
(``AmmProtocol(cores=EvmCores())``, :class:`defisim.evm_amm.v3.EvmV3Pool`) against the
same plug-in on the exact Python ``V3Pool``.

The same seeded operations through ``sim.amm`` on both backends: two pools (fee tiers
500 and 3000), positions minted around, above and below the price and wide, by the
position manager's rule or an exact liquidity; burns (part, all, pokes, too much),
collects; swaps exact in and out, both directions, with and without a price limit;
and requests that fail (slippage, bad ticks, a price limit on the wrong side, zero,
too little money, an expired deadline). Same receipts (status, reason, value), same
AMM events (fees included), same pool views and position views, the chain's
invariants (ledger = the bytecode pool's token balances) checked at every block.
Skipped without the ``evm`` extra or without npm / the npm registry.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from evm_amm_common import amm_events, require_artifacts, scenario_run  # noqa: E402

from defisim import Simulation  # noqa: E402
from defisim.service import amm_protocol  # noqa: E402

REAL_DAY = (Path(__file__).resolve().parents[1].parent / "shared/data/uniswap_v3"
            / "ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.tick.csv")
ASSETS = ("ETH", "USDC")
PARTIES = ("lp1", "lp2", "alice", "bob")


@pytest.fixture(scope="module", autouse=True)
def artifacts():
    require_artifacts("@uniswap/v3-core", "UniswapV3Pool", "V3Payer")


def _sim(backend: str) -> Simulation:
    sim = Simulation(seed=3, protocols=[amm_protocol(backend)])
    sim.create_asset("ETH", 18)
    sim.create_asset("USDC", 6)
    for p in PARTIES:
        sim.create_party(p)
        sim.mint(p, "ETH", 10_000 if p.startswith("lp") else 300)
        sim.mint(p, "USDC", 30_000_000 if p.startswith("lp") else 600_000)
    return sim


def _ops(backend: str, n: int, seed: int) -> tuple[list, list, list]:
    rng = random.Random(seed)
    sim = _sim(backend)
    amm = sim.amm
    pools = [amm.create_v3_pool("ETH", "USDC", 500, price=2_000.0),
             amm.create_v3_pool("ETH", "USDC", 3000, price=2_050.0)]
    receipts: list = []
    views = []
    for pid in pools:
        t = amm.pool_view(pid).tick
        sp = amm.pool_view(pid).tick_spacing
        rc = amm.mint_position("lp1", pid, (t // sp - 100) * sp, (t // sp + 100) * sp, 100, 200_000)
        receipts.append((rc.status, rc.reason, rc.value))
    for _ in range(n):
        pid = rng.choice(pools)
        view = amm.pool_view(pid)
        sp, t = view.tick_spacing, view.tick // view.tick_spacing * view.tick_spacing
        who = rng.choice(PARTIES)
        r = rng.random()
        if r < 0.5:
            asset_in = rng.choice(ASSETS)
            size = rng.choice([0.001, 0.5, 5.0, 40.0]) * (1 if asset_in == "ETH" else 2_000)
            exact = rng.choice(("in", "out"))
            kw = {}
            if rng.random() < 0.3:
                kw["price_limit"] = view.price * rng.choice([0.97, 0.995, 1.005, 1.03])
            if rng.random() < 0.1:
                kw["limit"] = size * 5_000 if exact == "in" else size * 1e-6
            rc = amm.swap(who, pid, asset_in, size if rng.random() > 0.02 else 0.0,
                          exact=exact, **kw)
        elif r < 0.7:
            k = rng.random()
            if k < 0.4:
                lo, up = t - sp * rng.randint(0, 30), t + sp * rng.randint(1, 30)
            elif k < 0.6:
                lo = t + sp * rng.randint(1, 50)
                up = lo + sp * rng.randint(1, 20)
            elif k < 0.8:
                up = t - sp * rng.randint(0, 50)
                lo = up - sp * rng.randint(1, 20)
            elif k < 0.9:
                lo, up = -887_000 // sp * sp, 887_000 // sp * sp
            else:
                lo, up = rng.choice([(t + sp, t), (t + 1, t + 5 * sp), (-900_000, t)])
            if rng.random() < 0.5:
                rc = amm.mint_position(who, pid, lo, up, rng.choice([0.1, 3.0, 50.0]),
                                       rng.choice([100.0, 20_000.0]))
            else:
                rc = amm.mint_position(who, pid, lo, up, 1e6, 1e12,
                                       liquidity=rng.choice([10**12, 10**15, 10**17]))
        elif r < 0.85:
            mine = amm.positions(who, pid)
            if mine and rng.random() < 0.9:
                pos = rng.choice(mine)
                liq = rng.choice([None, 0, pos.liquidity // 2, pos.liquidity + 1])
                rc = amm.burn_position(who, pid, pos.tick_lower, pos.tick_upper, liq,
                                       collect=rng.random() < 0.7)
            else:
                rc = amm.burn_position(who, pid, t - sp, t + sp, 10)
        elif r < 0.95:
            mine = amm.positions(who, pid)
            if not mine:
                continue
            pos = rng.choice(mine)
            rc = amm.collect(who, pid, pos.tick_lower, pos.tick_upper)
        else:
            rc = amm.swap(who, pid, "ETH", 1.0, deadline=sim.now - 1)
        receipts.append((rc.status, rc.reason, rc.value))
        if rng.random() < 0.3:
            sim.forward_time(rng.choice([1, 12, 600]))
        views.append(tuple(amm.pool_view(p) for p in pools))
        if len(receipts) % 10 == 0:
            views.append(tuple(sorted(amm.positions(), key=repr)))
    sim.forward_time(1)  # block end: the invariants, ledger against bytecode
    views.append(tuple(sorted(amm.positions(), key=repr)))
    return receipts, amm_events(sim), views


@pytest.mark.parametrize("n", [pytest.param(150, id="fast"),
                               pytest.param(2_000, id="slow", marks=pytest.mark.slow)])
def test_the_same_v3_operations_give_the_same_receipts_events_and_pools(n):
    py = _ops("python", n, seed=5)
    evm = _ops("evm", n, seed=5)
    assert py[0] == evm[0]
    assert py[1] == evm[1]
    assert py[2] == evm[2]
    statuses = [r[0] for r in py[0]]
    assert statuses.count("EXECUTED") > n // 3 and statuses.count("REJECTED") > n // 20
    kinds = {e[0] for e in py[1]}
    assert {"V3Mint", "V3Burn", "V3Collect", "V3Swap", "TransactionRejected"} <= kinds
    assert sum(e[-1] > 0 for e in py[1] if e[0] == "V3Swap") > n // 10  # fees paid


def test_v3_pool_tokens_on_the_evm_equal_the_ledger_reserves():
    sim = _sim("evm")
    pid = sim.amm.create_v3_pool("ETH", "USDC", 3000, price=2_000.0)
    t = sim.amm.pool_view(pid).tick // 60 * 60
    rc = sim.amm.mint_position("lp1", pid, t - 600, t + 600, 10, 30_000)
    assert rc.status == "EXECUTED"
    sim.amm.swap("alice", pid, "ETH", 1.0)
    sim.forward_time(1)
    core = sim.amm.protocol.pools[pid].core
    m = core.machine
    view = sim.amm.pool_view(pid)
    assert m.call(core.token0, m.token_abi, "balanceOf", core.evm_address)[0] == view.reserves_raw[0]
    assert m.call(core.token1, m.token_abi, "balanceOf", core.evm_address)[0] == view.reserves_raw[1]
    # nothing else holds the pool's tokens: supply = the pool's balance
    assert m.call(core.token0, m.token_abi, "totalSupply")[0] == view.reserves_raw[0]
    assert m.call(core.token1, m.token_abi, "totalSupply")[0] == view.reserves_raw[1]
    assert core.invariant_errors() == []


@pytest.mark.parametrize("name,params,least", [
    pytest.param("amm_arbitrage", {"steps": 300, "sigma": 2.0, "v3_fees": [500, 3000]}, 200,
                 id="amm_arbitrage"),  # a V2 pair and two V3 pools, about 3 s on the EVM
    pytest.param("uniswap_v3_day", {}, 6_000, id="uniswap_v3_day",  # about 12 s
                 marks=[pytest.mark.slow, pytest.mark.skipif(
                     not REAL_DAY.exists(), reason=f"{REAL_DAY} is absent")]),
])
def test_the_same_agents_make_the_same_v3_trades_on_both_backends(name, params, least, tmp_path):
    kpis_py, swaps_py = scenario_run(name, "python", tmp_path, **params)
    kpis_evm, swaps_evm = scenario_run(name, "evm", tmp_path, **params)
    assert len(swaps_py) > least
    assert sum("V3" in repr(s) for s in swaps_py) > least // 2
    assert swaps_py == swaps_evm
    assert kpis_py == kpis_evm


def test_a_fork_has_its_own_v3_pool():
    sim = _sim("evm")
    pid = sim.amm.create_v3_pool("ETH", "USDC", 3000, price=2_000.0)
    t = sim.amm.pool_view(pid).tick // 60 * 60
    sim.amm.mint_position("lp1", pid, t - 600, t + 600, 10, 30_000)
    before = sim.amm.pool_view(pid)
    fork = sim.snapshot()
    assert fork.amm.swap("alice", pid, "ETH", 1.0).status == "EXECUTED"
    assert sim.amm.pool_view(pid) == before
    assert fork.amm.pool_view(pid).reserves_raw[0] == before.reserves_raw[0] + 10**18
    assert [p.liquidity for p in fork.amm.positions()] == [p.liquidity for p in sim.amm.positions()]
