"""Token-economy agents: buy-and-burn through a V2 pool, TokenSPICE's accounting-only
OCEAN burner, and the keeper."""

from __future__ import annotations

from decimal import Decimal

from defisim.agents.tokenomics import BuyAndBurnAgent, KeeperAgent, OCEANBurnerAgent
from defisim.service import Simulation

E18 = 10**18


def test_buy_and_burn_through_a_v2_pool_burns_exactly_what_it_bought() -> None:
    sim = Simulation(protocols=["amm", "tokenomics"])
    for p in ("lp", "burner"):
        sim.create_party(p)
    sim.create_asset("USDC", 6)
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["lp"])
    t.mint("lp", "OCEAN", "lp", 1000)
    sim.mint("lp", "USDC", 1000)
    sim.mint("burner", "USDC", 15)
    pid = sim.amm.create_pair("OCEAN", "USDC")
    assert sim.amm.add_liquidity("lp", "OCEAN", "USDC", 1000, 1000).accepted
    agent = BuyAndBurnAgent("burner", pid, "USDC", "OCEAN", amount=10)
    agent.initialise(sim)
    agent.step(sim)
    # Uniswap V2: out = 10e6 * 997 * 1000e18 // (1000e6 * 1000 + 10e6 * 997)
    out = 10 * 10**6 * 997 * 1000 * E18 // (1000 * 10**6 * 1000 + 10 * 10**6 * 997)
    assert out == 9871580343970612988
    s = t.supply("OCEAN")
    assert (agent.bought_raw, agent.burned_raw, s.burned_raw) == (out, out, out)
    assert s.supply_raw == 1000 * E18 - out == sim.chain.ledger.supply["OCEAN"]
    assert sim.balance("burner", "OCEAN", raw=True) == 0
    agent.step(sim)  # the remaining 5 USDC
    assert agent.spent_raw == 15 * 10**6 and sim.balance("burner", "USDC") == 0
    assert t.supply("OCEAN").burned_raw == agent.burned_raw == agent.bought_raw
    sim.forward_time(1)


def test_ocean_burner_is_accounting_only_with_a_repriced_slice_each_iteration() -> None:
    sim = Simulation(protocols=["tokenomics"])
    sim.create_asset("USD", 18)
    sim.create_asset("OCEAN", 18)
    sim.create_party("opc_burner")
    sim.mint("opc_burner", "USD", 100)

    def price(sim, agent):  # wsloop-style: valuation / (supply - burned)
        return 150e6 / (690.9e6 - agent.total_burned)

    agent = OCEANBurnerAgent("opc_burner", price)
    agent.initialise(sim)
    agent.step(sim)
    burned, usd = 0.0, 0.0
    for _ in range(10):
        burned += (100.0 / 10) / (150e6 / (690.9e6 - burned))
        usd += 100.0 / 10
    assert agent.total_burned == burned and agent.total_burned_usd == usd == 100.0
    # the price rises as the slices burn: less than the 460.6 OCEAN of one fixed price
    assert 460.5998 < burned < 100 * 690.9 / 150
    assert sim.balance("opc_burner", "USD") == 0 and sim.chain.ledger.supply["USD"] == 0
    assert sim.chain.ledger.supply["OCEAN"] == 0  # no OCEAN moved
    agent.step(sim)  # nothing held: nothing happens
    assert agent.total_burned == burned


def test_keeper_drives_a_grant_into_a_router_in_order() -> None:
    sim = Simulation(protocols=["tokenomics"])
    for p in ("treasury", "workers"):
        sim.create_party(p)
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["treasury"])
    t.mint("treasury", "OCEAN", "treasury", 3)
    t.create_router("dao", {"workers": 1})
    t.create_grant("g", "treasury", "dao", "OCEAN", 3, 3, 10)
    keeper = KeeperAgent("keeper", [("disburse", "g"), ("route", "dao", "OCEAN")])
    keeper.initialise(sim)
    for _ in range(3):
        keeper.step(sim)
        # the grant reached the workers in the same step: disburse, then route
        sim.forward_time(10)
    assert sim.balance("workers", "OCEAN", raw=True) == 3 * E18
    assert [r.accepted for r in keeper.receipts] == [True, True]
    assert Decimal(repr(t.router_view("dao").routed["OCEAN"])) == 3
