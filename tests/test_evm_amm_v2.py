"""The AMM plug-in on the official Uniswap V2 bytecode (``AmmProtocol(cores=EvmCores())``)
against the same plug-in on the exact Python cores.

The same seeded operations through ``sim.amm`` on both backends (multi-hop swaps exact
in and out, liquidity added and removed, ``sync``, the protocol fee switched on
half-way, and requests that fail: too little output, too much input, too little
money, an expired deadline, a missing pair) give the same receipts (status, reason,
value), the same AMM events and the same pool views, with the chain's invariants
(ledger = the bytecode pair's token balances and LP supply) checked at every block.
The same agents in the same scenarios with the same seed give the same trades and
KPIs. Skipped without the ``evm`` extra or without npm / the npm registry.
"""

from __future__ import annotations

import copy
import random

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from evm_amm_common import amm_events, require_artifacts, scenario_run  # noqa: E402

from defisim import Simulation  # noqa: E402
from defisim.evm import NpmUnavailable  # noqa: E402
from defisim.protocols.amm.protocol import AmmProtocol  # noqa: E402
from defisim.scenarios import get_scenario  # noqa: E402
from defisim.service import amm_protocol  # noqa: E402

ASSETS = ("ETH", "USDC", "DAI")
PARTIES = ("lp1", "lp2", "alice", "bob")


@pytest.fixture(scope="module", autouse=True)
def artifacts():
    require_artifacts("@uniswap/v2-core", "UniswapV2Pair", "V2Bridge")


def _sim(backend: str) -> Simulation:
    sim = Simulation(seed=1, protocols=[amm_protocol(backend)])
    for a in ASSETS:
        sim.create_asset(a, 18)
    for p in PARTIES:
        sim.create_party(p)
        for a in ASSETS:
            sim.mint(p, a, 5_000_000 if p.startswith("lp") else 20_000)
    sim.create_party("treasury")
    return sim


def _ops(backend: str, n: int, seed: int) -> tuple[list, list, list]:
    """``n`` seeded operations; returns (receipts, events, pool views)."""
    rng = random.Random(seed)
    sim = _sim(backend)
    amm = sim.amm
    # DAI/ETH: its bridge tokens sort against the asset ids, so the bytecode pair's
    # token0 is ETH (EvmV2Pair flips it); the other two are not flipped
    pools = [amm.create_pair("ETH", "USDC"), amm.create_pair("USDC", "DAI"),
             amm.create_pair("ETH", "DAI")]
    if backend == "evm":
        flips = [amm.protocol.pools[p].core._flip for p in pools]
        assert flips == [False, False, True]
    receipts = [amm.add_liquidity("lp1", "ETH", "USDC", 1_000, 2_000_000),
                amm.add_liquidity("lp1", "DAI", "USDC", 1_000_000, 1_000_000),
                amm.add_liquidity("lp1", "DAI", "ETH", 200_000, 100)]
    views = []
    for i in range(n):
        if i == n // 2:
            amm.protocol.set_fee_to("treasury")
        who = rng.choice(PARTIES)
        r = rng.random()
        if r < 0.45:
            path = rng.choice([("ETH", "USDC"), ("USDC", "ETH"), ("ETH", "USDC", "DAI"),
                               ("DAI", "USDC", "ETH"), ("USDC", "DAI"), ("ETH", "DAI"),
                               ("DAI", "ETH", "USDC"), ("USDC", "DAI", "ETH", "USDC")])
            size = rng.choice([0.01, 1.0, 50.0, 3_000.0, 30_000.0])
            if rng.random() < 0.5:
                rc = amm.swap_exact_in(who, path, size, min_out=rng.choice([0, size * 0.5]))
            else:
                rc = amm.swap_exact_out(who, path, size / 10, max_in=rng.choice([size, 1e9]))
        elif r < 0.65:
            pid = rng.choice(pools)
            a, b = pid[3:].split("/")
            rc = amm.swap(who, pid, rng.choice((a, b)), rng.choice([0.5, 10.0, 500.0]),
                          exact=rng.choice(("in", "out")))
        elif r < 0.8:
            a, b = rng.choice([("ETH", "USDC"), ("DAI", "USDC"), ("USDC", "ETH"), ("ETH", "DAI")])
            rc = amm.add_liquidity(who, a, b, rng.choice([0.1, 5.0, 1_000.0]),
                                   rng.choice([1.0, 10_000.0, 2_000_000.0]))
        elif r < 0.93:
            a, b = rng.choice([("ETH", "USDC"), ("DAI", "USDC"), ("DAI", "ETH")])
            rc = amm.remove_liquidity(who, a, b, rng.choice([0.001, 1.0, 100.0, 1e9]))
        elif r < 0.97:
            rc = amm.swap_exact_in(who, ("ETH", "USDC"), 1.0, deadline=sim.now - 1)
        else:
            rc = amm.swap_exact_in(who, ("ETH", "DAI"), 1.0)  # no such pair
        receipts.append((rc.status, rc.reason, rc.value))
        if rng.random() < 0.3:
            sim.forward_time(rng.choice([1, 12, 600]))
        if rng.random() < 0.05:
            receipts.append(amm.protocol.tx_sync(who, rng.choice(pools)).value)
        views.append(tuple(amm.pool_view(p) for p in pools))
    sim.forward_time(1)  # block end: the invariants, ledger against bytecode
    return receipts, amm_events(sim), views


@pytest.mark.parametrize("n", [pytest.param(250, id="fast"),
                               pytest.param(3_000, id="slow", marks=pytest.mark.slow)])
def test_the_same_operations_give_the_same_receipts_events_and_pools(n):
    py = _ops("python", n, seed=11)
    evm = _ops("evm", n, seed=11)
    assert py[0] == evm[0]
    assert py[1] == evm[1]
    assert py[2] == evm[2]
    statuses = [r[0] for r in py[0] if isinstance(r, tuple)]
    assert statuses.count("EXECUTED") > n // 3 and statuses.count("REJECTED") > n // 20
    reasons = {e[-1] for e in py[1] if e[0] == "TransactionRejected"}
    assert {"UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT", "UniswapV2Router: EXPIRED"} <= reasons


def test_pool_token_balances_on_the_evm_equal_the_ledger_reserves():
    sim = _sim("evm")
    pid = sim.amm.create_pair("ETH", "USDC")
    sim.amm.add_liquidity("lp1", "ETH", "USDC", 10, 20_000)
    sim.amm.swap("alice", pid, "ETH", 1.0)
    machine = sim.amm.protocol.cores.machine
    pair = sim.amm.protocol.pools[pid].core
    view = sim.amm.pool_view(pid)
    # 10 ETH in, 1 ETH swapped in; 20,000 USDC in minus the output 1,813.221...
    assert machine.balance_of("ETH", pair.evm_address) == 11 * 10**18 == view.reserves_raw[0]
    out = 20_000 * 10**18 - view.reserves_raw[1]
    assert out == 997 * 10**18 * 20_000 * 10**18 // (10 * 10**18 * 1000 + 997 * 10**18)
    assert sim.balance("alice", "USDC") * 10**18 == pytest.approx((20_000 * 10**18 + out), rel=1e-15)
    # parties hold nothing on the EVM: the ledger pays them
    assert machine.balance_of("USDC", machine.address("alice")) == 0
    assert machine.total_supply("ETH") == 11 * 10**18


def test_a_fork_has_its_own_evm():
    sim = _sim("evm")
    pid = sim.amm.create_pair("ETH", "USDC")
    sim.amm.add_liquidity("lp1", "ETH", "USDC", 10, 20_000)
    fork = sim.snapshot()
    fork.amm.swap("alice", pid, "ETH", 5.0)
    assert sim.amm.pool_view(pid).reserves == (10.0, 20_000.0)
    assert fork.amm.pool_view(pid).reserves[0] == 15.0
    again = copy.deepcopy(sim)
    assert again.amm.pool_view(pid).reserves == (10.0, 20_000.0)


@pytest.mark.parametrize("name,params", [
    ("amm_arbitrage", {"steps": 400, "sigma": 2.0, "v3_fees": []}),
    ("mev_sandwich", {"steps": 60}),  # bundles: reverted sandwiches restore the EVM
])
def test_the_same_agents_make_the_same_trades_on_both_backends(name, params, tmp_path):
    kpis_py, swaps_py = scenario_run(name, "python", tmp_path, **params)
    kpis_evm, swaps_evm = scenario_run(name, "evm", tmp_path, **params)
    assert len(swaps_py) > 20
    assert swaps_py == swaps_evm
    assert kpis_py == kpis_evm


def test_bad_backend_names_fail_with_one_clear_error():
    with pytest.raises(ValueError, match="unknown AMM backend 'solana'"):
        amm_protocol("solana")
    with pytest.raises(ValueError, match="unknown EVM node 'ganache'"):
        amm_protocol("evm", "ganache")
    cls = get_scenario("amm_arbitrage")
    with pytest.raises(ValueError, match="backend"):
        cls.Params(backend="solana")
    assert isinstance(amm_protocol(), AmmProtocol)


def test_the_same_trades_on_an_external_node(tmp_path):
    """``evm_node=external``: the pools on a local anvil node; bundles revert through the
    node's own snapshots (no node is copied), and the run leaves no node behind."""
    from defisim.evm.external import EvmNodeError, anvil_binary

    try:
        anvil_binary()
    except (EvmNodeError, NpmUnavailable) as exc:
        pytest.skip(f"anvil unavailable: {exc}")
    kpis_py, swaps_py = scenario_run("mev_sandwich", "python", tmp_path, steps=25)
    kpis_ext, swaps_ext = scenario_run("mev_sandwich", "evm", tmp_path, steps=25,
                                       evm_node="external")
    assert len(swaps_py) > 10 and swaps_ext == swaps_py
    assert kpis_ext == kpis_py


@pytest.mark.parametrize("node", ["embedded", "external"])
def test_a_multi_hop_swap_failing_on_a_later_hop_is_a_rejection_on_both_nodes(node):
    """The router undoes the hops done with the pairs' snapshots (one machine
    snapshot each here): restored latest first, as a node drops the snapshots taken
    after the one it goes back to."""
    if node == "external":
        from defisim.evm.external import EvmNodeError, anvil_binary

        try:
            anvil_binary()
        except (EvmNodeError, NpmUnavailable) as exc:
            pytest.skip(f"anvil unavailable: {exc}")
    results = []
    for backend in ("python", "evm"):
        sim = Simulation(seed=1, protocols=[amm_protocol(backend, node)])
        for a in ("A", "B", "C"):
            sim.create_asset(a, 18)
        sim.create_party("lp")
        sim.create_party("t")
        for a in ("A", "B", "C"):
            sim.mint("lp", a, 1_000_000)
            sim.mint("t", a, 1_000)
        sim.amm.create_pair("A", "B")
        sim.amm.create_pair("B", "C")
        sim.amm.add_liquidity("lp", "A", "B", 1000, 1000)
        sim.amm.add_liquidity("lp", "B", "C", 1000, 1000)
        before = dict(sim.chain.ledger.balances)
        # the B/C pair twice: the third hop meets reserves the second hop moved
        rc = sim.amm.swap_exact_in("t", ("A", "B", "C", "B"), 100)
        assert dict(sim.chain.ledger.balances) == before
        results.append((rc.status, rc.reason, sim.amm.pool_view("V2:B/C").reserves_raw))
        sim.forward_time(1)  # the invariants: the bytecode pairs were put back
    assert results[0] == results[1]
    assert results[0][:2] == ("REJECTED", "UniswapV2: INSUFFICIENT_INPUT_AMOUNT")


def test_the_price_accumulators_read_back_in_chain_seconds():
    """``getReserves``' timestamp and the oracle view, as the Python pair keeps them."""
    out = []
    for backend in ("python", "evm"):
        sim = _sim(backend)
        pid = sim.amm.create_pair("ETH", "USDC")
        sim.amm.add_liquidity("lp1", "ETH", "USDC", 10, 40)
        sim.forward_time(30)
        sim.amm.swap("alice", pid, "ETH", 1.0)
        pair = sim.amm.protocol.pools[pid].core
        out.append((pair.get_reserves(), pair.current_cumulative_prices(95),
                    pair.price0_cumulative_last, pair.price1_cumulative_last))
    assert out[0] == out[1]
    assert out[0][0][2] == 30
    # 10 ETH / 40 USDC for 30 s: price0 = 4 in UQ112x112 times 30 s
    assert out[0][2] == 4 * 2**112 * 30
