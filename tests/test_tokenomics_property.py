"""Conservation of every token across random sequences of token-economy operations:
for every token, minted - burned == the ledger's supply, no balance is negative, and
every component's books match its accounts (the protocol's invariants, checked at
every block end: any violation raises)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.protocols.tokenomics import LinearSchedule, RampedExpFunc
from defisim.service import Simulation

PARTIES = ("alice", "bob", "carol")
OPS = ("mint", "burn", "deposit", "route", "disburse", "release", "stake", "unstake",
       "distribute", "claim", "sell", "mint_due", "time")


def build() -> Simulation:
    sim = Simulation(protocols=["tokenomics"])
    for p in PARTIES:
        sim.create_party(p)
    t = sim.tokenomics
    t.create_token("GOV", 6, cap=10_000, minters=["alice"])
    t.create_token("USD", 2, minters=["alice", "bob"])
    t.mint("alice", "GOV", "carol", 1000)
    for p in PARTIES:
        t.mint("alice", "USD", p, 500)
    t.create_router("sink", {"bob": Decimal("0.5")})
    t.create_router("dao", {"alice": Decimal("0.3"), "sink": Decimal("0.7")})
    t.create_vesting_wallet("vw", "bob", 10, 100)
    t.create_grant("g", "carol", "dao", "GOV", 100, 3, 20)
    t.create_minter("m", "GOV", "dao", 500, RampedExpFunc(0.5, 0, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3), 7)
    t.create_minter("lin", "USD", "vw", Decimal("10.01"), LinearSchedule(4), 5)
    t.create_staking_pool("sp", "GOV", "USD")
    t.create_marketplace("mkt", "dao", Decimal("0.07"))
    return sim


op = st.tuples(st.sampled_from(OPS), st.sampled_from(PARTIES), st.sampled_from(("GOV", "USD")),
               st.integers(0, 3000))


def check(sim: Simulation) -> None:
    led = sim.chain.ledger
    assert not led.conservation_errors()
    for a in ("GOV", "USD"):
        s = sim.tokenomics.supply(a)
        assert s.minted_raw - s.burned_raw == led.supply[a] == s.supply_raw
        assert s.cap_raw is None or s.supply_raw <= s.cap_raw
    assert all(b >= 0 for _, b in led.accounts())
    assert not sim.tokenomics.protocol.invariant_errors()


@settings(max_examples=60, deadline=None)
@given(st.lists(op, min_size=1, max_size=40))
def test_random_operations_conserve_every_token(ops) -> None:
    sim = build()
    t = sim.tokenomics
    for name, party, asset, n in ops:
        amount = Decimal(n).scaleb(-2)  # 0 .. 30 in steps of 0.01
        if name == "mint":
            t.mint(party, asset, PARTIES[n % 3], amount)
        elif name == "burn":
            t.burn(party, asset, amount)
        elif name == "deposit":
            t.deposit(party, ("dao", "vw", "sink")[n % 3], asset, amount)
        elif name == "route":
            t.route(party, ("dao", "sink")[n % 2], asset)
        elif name == "disburse":
            t.disburse(party, "g")
        elif name == "release":
            t.release(party, "vw", asset)
        elif name == "stake":
            t.stake(party, "sp", amount)
        elif name == "unstake":
            t.unstake(party, "sp", amount)
        elif name == "distribute":
            t.distribute(party, "sp", amount)
        elif name == "claim":
            t.claim(party, "sp")
        elif name == "sell":
            t.sell(party, "mkt", PARTIES[n % 3], asset, amount)
        elif name == "mint_due":
            t.mint_due(party, ("m", "lin")[n % 2])
        else:
            sim.forward_time(n % 50)  # block end: the chain checks every invariant
        check(sim)
    sim.forward_time(1)
    # the staking pool never owes more rewards than it holds
    v = t.staking_view("sp")
    assert v.dust >= 0 and sum(v.pending_raw.values()) <= round(v.reward_balance * 100)
