"""MEV agents around AMM pools (``defisim.agents.amm``): the noise swapper, the V2
sandwich searcher and the V3 JIT liquidity provider, driven through ``Simulation``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim import Simulation
from defisim.agents.amm import (
    AmmNoiseSwapper,
    JitLiquidityProvider,
    SandwichSearcher,
    plan_v2_sandwich,
)
from defisim.agents.amm._mempool import PendingSwap, v2_amount_out
from defisim.chain.transactions import Transaction

E18 = 10**18


def v2_sim(ordering: str = "fifo", execution: str = "mempool", eth: float = 500.0,
           usdc: float = 1_000_000.0) -> tuple[Simulation, str]:
    sim = Simulation(protocols=["amm"], execution=execution, ordering=ordering)
    sim.create_asset("ETH", 18)
    sim.create_asset("USDC", 6)
    pid = sim.amm.create_pair("ETH", "USDC")
    sim.create_party("lp")
    sim.mint("lp", "ETH", eth)
    sim.mint("lp", "USDC", usdc)
    sim.amm.add_liquidity("lp", "ETH", "USDC", eth, usdc)
    sim.forward_time(12)
    return sim, pid


def start(agent, sim, seed: int = 0):
    agent.rng = np.random.default_rng(seed)
    agent.initialise(sim)
    return agent


# ---------------------------------------------------------------- noise swapper
def test_noise_swapper_poisson_count_both_directions_and_lognormal_sizes():
    sim, pid = v2_sim(execution="immediate", eth=500_000, usdc=1_000_000_000)
    a = start(AmmNoiseSwapper("n", pid, quote_asset="USDC", rate_per_s=1 / 60, mean_size=1_000,
                              size_sigma=0.5, slippage=0.01, funds={"USDC": 1e7, "ETH": 5e3}), sim, 7)
    for _ in range(600):
        sim.forward_time(60)
        a.step(sim)
    # Poisson(1/60 per s) over 600 minutes: mean 600, sd 24.5
    assert abs(a.sent - 600) < 4 * math.sqrt(600)
    assert a.buys + a.sells == a.sent and a.buys > 240 and a.sells > 240
    # lognormal with mean 1,000: the sample mean's sd is 1,000 * sqrt(e^0.25 - 1) / sqrt(600) ~ 22
    assert abs(a.volume_quote / a.sent - 1_000) < 100
    assert a.executed == a.sent and a.rejected_count == 0
    # a deep pool, one swap at a time: every swap gets exactly its quote
    assert max(abs(x) for x in a.shortfall_bps) < 1e-6
    # same seed, same swaps
    sim2, _ = v2_sim(execution="immediate", eth=500_000, usdc=1_000_000_000)
    b = start(AmmNoiseSwapper("n", pid, quote_asset="USDC", rate_per_s=1 / 60, mean_size=1_000,
                              size_sigma=0.5, slippage=0.01, funds={"USDC": 1e7, "ETH": 5e3}), sim2, 7)
    for _ in range(600):
        sim2.forward_time(60)
        b.step(sim2)
    assert (b.sent, b.buys, b.volume_quote) == (a.sent, a.buys, a.volume_quote)


def test_noise_swapper_rejected_when_slippage_exceeded():
    sim, pid = v2_sim()
    a = start(AmmNoiseSwapper("n", pid, quote_asset="USDC", buy_prob=1.0, mean_size=10_000,
                              size_sigma=0.0, slippage=0.005), sim)
    sim.create_party("whale")
    sim.mint("whale", "USDC", 100_000)
    sim.amm.swap("whale", pid, "USDC", 50_000)  # arrives first: executes first under fifo
    a.swap_once(sim)
    tx = sim.pending_transactions()[-1]
    # min_out = quote(10,000 USDC) * 0.995, in base units of ETH
    assert tx.args[4] == pytest.approx(v2_amount_out(10_000 * 10**6, 10**12, 500 * E18) * 0.995, rel=1e-12)
    cursor = sim.event_cursor()
    sim.forward_time(12)
    a.settle(sim)
    assert a.rejected == {"UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT": 1} and a.executed == 0
    rej = [e for e in cursor.read() if type(e).__name__ == "TransactionRejected"]
    assert [e.reason for e in rej] == ["UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT"]


def test_noise_swapper_bad_parameters():
    with pytest.raises(ValueError, match="slippage"):
        AmmNoiseSwapper("n", "V2:ETH/USDC", quote_asset="USDC", slippage=1.0)
    with pytest.raises(ValueError, match="mean_size"):
        AmmNoiseSwapper("n", "V2:ETH/USDC", quote_asset="USDC", mean_size=0)
    sim, pid = v2_sim()
    with pytest.raises(ValueError, match="quote_asset"):
        start(AmmNoiseSwapper("n", pid, quote_asset="DAI"), sim)


# ---------------------------------------------------------------- sandwich plan
def test_plan_v2_sandwich_is_the_brute_force_optimum_within_the_victims_limit():
    r_in, r_out, x = 100_000, 50_000, 3_000
    quote = v2_amount_out(x, r_in, r_out)
    assert quote == 1_452  # 3,000 * 997 * 50,000 // (100,000 * 1,000 + 3,000 * 997)
    victim = PendingSwap(Transaction("v", "amm", "swap"), "p", "A", "B", x, int(quote * 0.98))

    def outcome(f):
        of = v2_amount_out(f, r_in, r_out)
        ov = v2_amount_out(x, r_in + f, r_out - of)
        return ov, v2_amount_out(of, r_out - of - ov, r_in + f + x) - f

    feasible = [f for f in range(0, 20_001) if outcome(f)[0] >= victim.min_out]
    best = max(feasible, key=lambda f: (outcome(f)[1], -f))
    plan = plan_v2_sandwich(r_in, r_out, victim, budget=20_000)
    assert plan is not None
    assert plan.profit == outcome(best)[1] > 0
    assert plan.victim_out == outcome(plan.front_in)[0] >= victim.min_out
    # a victim that tolerates nothing cannot be sandwiched
    tight = PendingSwap(victim.tx, "p", "A", "B", x, quote)
    assert plan_v2_sandwich(r_in, r_out, tight, budget=20_000) is None
    # a victim that fails alone is left alone
    assert plan_v2_sandwich(r_in, r_out, PendingSwap(victim.tx, "p", "A", "B", x, quote + 1), 20_000) is None


# ---------------------------------------------------------------- searcher
def _sandwich_block(ordering: str, mode: str = "bundle", whale: float = 0.0):
    sim, pid = v2_sim(ordering)
    victim = start(AmmNoiseSwapper("victim", pid, quote_asset="USDC", buy_prob=1.0,
                                   mean_size=20_000, size_sigma=0.0, slippage=0.01), sim)
    s = start(SandwichSearcher("searcher", pid, quote_asset="USDC",
                               funds={"USDC": 500_000, "ETH": 100}, mode=mode), sim)
    victim.swap_once(sim)
    vtx = sim.pending_transactions()[0]
    plan = plan_v2_sandwich(10**12, 500 * E18, PendingSwap(vtx, pid, "USDC", "ETH", vtx.args[3],
                                                          vtx.args[4]), budget=500_000 * 10**6)
    usdc0, eth0 = (sim.balance("searcher", a, raw=True) for a in ("USDC", "ETH"))
    s.step(sim)
    if whale:  # a swap that tips more than the front-run, sent after it
        sim.create_party("whale")
        sim.mint("whale", "USDC", whale)
        sim.set_gas_price("whale", 10e-9)
        sim.amm.swap("whale", pid, "USDC", whale)
    cursor = sim.event_cursor()
    sim.forward_time(12)
    s.settle(sim)
    victim.settle(sim)
    s.events = cursor.read()
    return sim, s, victim, plan, usdc0, eth0


@pytest.mark.parametrize("mode", ["bundle", "tips"])
def test_searcher_lands_under_priority_with_the_planned_numbers(mode):
    sim, s, victim, plan, usdc0, eth0 = _sandwich_block("priority", mode)
    assert s.attempted == 1 and s.landed == 1 and s.refused == s.reverted == 0
    # the victim gets exactly what the plan said, at least its limit
    assert victim.executed == 1
    out_eth = victim.shortfall_bps[0]
    assert out_eth == pytest.approx((1 - plan.victim_out / v2_amount_out(20_000 * 10**6, 10**12, 500 * E18)) * 1e4,
                                    rel=1e-9)
    assert 90 < out_eth <= 100  # pushed to its 1 % tolerance
    # USDC: + profit exactly; ETH: back to where it was, less the gas it paid
    assert sim.balance("searcher", "USDC", raw=True) - usdc0 == plan.profit > 0
    gas = s.gas_native
    assert 0 < gas < 0.01
    assert sim.balance("searcher", "ETH") == pytest.approx(eth0 / E18 - gas, abs=1e-12)
    assert s.profit == pytest.approx(plan.profit / 1e6 - gas * sim.amm.pool_view("V2:ETH/USDC").price, rel=1e-9)
    assert s.tips_native > 0
    # front-run, victim, back-run (ids v + 1, v, v + 2), each included once
    v = plan.victim.tx.tx_id
    inc = [(e.sender, e.tx_id) for e in s.events if type(e).__name__ == "TransactionIncluded"]
    assert inc == [("searcher", v + 1), ("victim", v), ("searcher", v + 2)]
    assert sim.receipt(v).status == "EXECUTED" and sim.receipt(v).value[1] == plan.victim_out


def test_searcher_bundle_is_refused_under_fifo_and_random():
    for ordering in ("fifo", "random"):
        sim, s, victim, plan, usdc0, eth0 = _sandwich_block(ordering)
        assert (s.refused, s.attempted, s.landed) == (1, 0, 0)
        assert s.profit == s.gross_profit == s.gas_native == 0.0
        assert (sim.balance("searcher", "USDC", raw=True), sim.balance("searcher", "ETH", raw=True)) == (usdc0, eth0)
        assert victim.shortfall_bps == [0.0]  # alone in its block: exactly its quote
        rej = [(e.party, e.reason) for e in sim.recent_events(200) if type(e).__name__ == "TransactionRejected"]
        assert rej == [("searcher", "BUNDLE_FOREIGN_TX_NEEDS_PRIORITY")]


def test_searcher_loses_under_fifo_in_tips_mode():
    sim, s, victim, plan, usdc0, eth0 = _sandwich_block("fifo", "tips")
    assert s.attempted == 1 and s.landed == 0 and s.refused == 0
    assert victim.shortfall_bps == [0.0]  # the victim executed first, at its quote
    assert s.profit < 0 and s.gross_profit < 0 and s.gas_native == 0


def test_searcher_bundle_reverts_at_no_cost_and_the_victim_still_swaps():
    # a whale's buy tips 10 gwei and runs before the bundle (3 gwei): the front-run
    # then pushes the victim past its 1 % limit, so the bundle reverts, and the victim
    # swaps alone, after the whale only
    sim, s, victim, plan, usdc0, eth0 = _sandwich_block("priority", whale=2_000)
    assert (s.attempted, s.landed, s.reverted) == (1, 0, 1)
    assert s.profit == s.gross_profit == s.gas_native == 0.0
    assert (sim.balance("searcher", "USDC", raw=True), sim.balance("searcher", "ETH", raw=True)) == (usdc0, eth0)
    v = plan.victim.tx.tx_id
    assert [sim.receipt(i).status for i in (v + 1, v, v + 2)] == ["REVERTED", "EXECUTED", "REVERTED"]
    assert victim.executed == 1
    # the victim's output after the whale's 2,000 USDC alone
    r_usdc, r_eth = 10**12 + 2_000 * 10**6, 500 * E18 - v2_amount_out(2_000 * 10**6, 10**12, 500 * E18)
    assert sim.receipt(v).value[1] == v2_amount_out(20_000 * 10**6, r_usdc, r_eth)
    names = [type(e).__name__ for e in s.events if type(e).__name__ in ("BundleReverted", "TransactionIncluded")]
    assert names == ["TransactionIncluded", "BundleReverted", "TransactionIncluded"]  # whale, revert, victim


def test_searcher_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        SandwichSearcher("s", "V2:ETH/USDC", quote_asset="USDC", mode="pga")
    with pytest.raises(ValueError, match="mode"):
        JitLiquidityProvider("j", "V3:ETH/USDC/3000", quote_asset="USDC", mode="pga")


def test_searcher_needs_a_v2_pool_and_the_mempool():
    sim = Simulation(protocols=["amm"], execution="mempool", ordering="priority")
    sim.create_asset("ETH", 18)
    sim.create_asset("USDC", 6)
    pid = sim.amm.create_v3_pool("ETH", "USDC", 3000, price=2000)
    with pytest.raises(ValueError, match="V2 pools only"):
        start(SandwichSearcher("s", pid, quote_asset="USDC"), sim)
    sim2, pid2 = v2_sim(execution="immediate")
    with pytest.raises(ValueError, match="mempool"):
        start(SandwichSearcher("s", pid2, quote_asset="USDC"), sim2)


def test_searcher_skips_unprofitable_victims():
    sim, pid = v2_sim("priority")
    victim = start(AmmNoiseSwapper("victim", pid, quote_asset="USDC", buy_prob=1.0,
                                   mean_size=1_000, size_sigma=0.0, slippage=0.01), sim)
    s = start(SandwichSearcher("searcher", pid, quote_asset="USDC",
                               funds={"USDC": 500_000, "ETH": 100}), sim)
    victim.swap_once(sim)  # 0.1 % of the pool: moves the price less than two fees
    s.step(sim)
    assert s.attempted == 0 and len(sim.pending_transactions()) == 1


# ---------------------------------------------------------------- JIT LP
def _jit_block(with_jit: bool, ordering: str = "priority", mode: str = "bundle"):
    sim = Simulation(protocols=["amm"], execution="mempool", ordering=ordering)
    sim.create_asset("A", 18)
    sim.create_asset("B", 18)
    pid = sim.amm.create_v3_pool("A", "B", 3000, price=1)
    sim.create_party("lp")
    sim.mint("lp", "A", 1_000_000)
    sim.mint("lp", "B", 1_000_000)
    sim.amm.mint_position("lp", pid, -6000, 6000, 100_000, 100_000)
    sim.forward_time(12)
    lp_liq = sim.amm.pool_view(pid).liquidity
    sim.create_party("trader")
    sim.mint("trader", "B", 10_000)
    jit = None
    if with_jit:
        jit = start(JitLiquidityProvider("jit", pid, quote_asset="B", min_swap=500,
                                         funds={"A": 50_000, "B": 50_000}, mode=mode), sim)
    if sim.fee_market is not None:
        sim.set_gas_price("trader", 1e-9)
    sim.amm.swap("trader", pid, "B", 1_000)  # buys A: the price rises inside [0, 60)
    if jit is not None:
        jit.step(sim)
    sim.forward_time(12)
    if jit is not None:
        jit.settle(sim)
    sim.amm.burn_position("lp", pid, -6000, 6000, liquidity=0, collect=False)  # poke the fees
    sim.forward_time(12)
    (pos,) = sim.amm.positions("lp", pid)
    return sim, pid, jit, lp_liq, pos


@pytest.mark.parametrize("mode", ["bundle", "tips"])
def test_jit_lp_takes_the_fee_in_proportion_to_its_liquidity(mode):
    _, _, _, lp_liq, alone = _jit_block(False)
    fee = 1_000 * 0.003
    assert alone.fees1 == pytest.approx(fee, rel=1e-12)  # every fee to the only LP
    assert alone.fees0 == 0
    sim, pid, jit, lp_liq2, shared = _jit_block(True, mode=mode)
    assert lp_liq2 == lp_liq
    assert jit.attempted == 1 and jit.captured == 1 and jit.refused == jit.reverted == 0
    (h,) = jit.history
    share = h["liquidity"] / (h["liquidity"] + lp_liq)
    assert 0.9 < share < 1  # a narrow range: a much larger liquidity than the wide LP's
    assert h["fees1"] / E18 == pytest.approx(fee * share, rel=1e-9)
    assert h["fees0"] == 0
    assert shared.fees1 == pytest.approx(fee * (1 - share), rel=1e-6)
    assert h["fees1"] / E18 + shared.fees1 == pytest.approx(fee, rel=1e-12)
    assert jit.fee_income == pytest.approx(fee * share, rel=1e-6)  # B is the quote asset
    assert sim.amm.positions("jit", pid) == []  # burned and collected


def test_jit_lp_bundle_is_refused_under_fifo_and_the_lp_keeps_the_whole_fee():
    sim, pid, jit, _, pos = _jit_block(True, ordering="fifo")
    assert (jit.refused, jit.attempted, jit.captured) == (1, 0, 0) and jit.history == []
    assert jit.fee_income == jit.pnl == 0.0
    assert pos.fees1 == pytest.approx(1_000 * 0.003, rel=1e-12)
    assert sim.balance("jit", "A") == sim.balance("jit", "B") == 50_000


def test_jit_lp_needs_a_v3_pool():
    sim, pid = v2_sim("priority")
    with pytest.raises(ValueError, match="V3"):
        start(JitLiquidityProvider("j", pid, quote_asset="USDC"), sim)
