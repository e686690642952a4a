"""Token-economy building blocks (``sim.tokenomics``): hand-computed cases and
rejections that change nothing. Issue 12 part 1; rules in
``defisim.protocols.tokenomics`` (spec ``/work/shared/specs/token-netlists.md``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from defisim.chain import InvariantViolation, TransactionRejected
from defisim.chain.transactions import Transaction
from defisim.service import DEFAULT_PROTOCOLS, Simulation

E18 = 10**18
S_DAY = 86_400
S_MONTH = 30 * S_DAY
S_YEAR = 365 * S_DAY


def make(*parties: str, **kw) -> Simulation:
    sim = Simulation(protocols=["tokenomics"], **kw)
    for p in parties:
        sim.create_party(p)
    return sim


def state(sim: Simulation) -> tuple:
    """Everything a rejection must leave alone: every balance, every supply, and the
    protocol's books."""
    led = sim.chain.ledger
    books = sim.tokenomics.protocol.snapshot()
    return dict(led.balances), dict(led.supply), repr(books)


def rejected(sim: Simulation, before: tuple, reason: str, receipt) -> None:
    assert not receipt.accepted and receipt.reason == reason, receipt
    assert state(sim) == before
    last = sim.recent_events(1)[0]
    assert isinstance(last, TransactionRejected) and last.reason == reason


def test_not_in_the_default_set_and_facade() -> None:
    assert "tokenomics" not in DEFAULT_PROTOCOLS
    assert not hasattr(Simulation(), "tokenomics") or "tokenomics" not in Simulation().protocols
    sim = make()
    assert type(sim.tokenomics).__name__ == "TokenomicsFacade"


# ---------------------------------------------------------------------- tokens
def test_token_mint_burn_cap_and_books() -> None:
    sim = make("dao", "alice")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, cap=100, minters=["dao"])
    assert t.mint("dao", "OCEAN", "alice", 10).value == 10.0
    assert t.burn("alice", "OCEAN", Decimal("2.5")).value == 2.5
    s = t.supply("OCEAN")
    assert (s.minted_raw, s.burned_raw, s.supply_raw) == (10 * E18, 25 * E18 // 10, 75 * E18 // 10)
    assert sim.chain.ledger.supply["OCEAN"] == 75 * E18 // 10
    assert s.cap == 100.0 and s.minters == ("dao",)
    # room under the cap: 100 - 7.5 = 92.5 exactly
    before = state(sim)
    rejected(sim, before, "CAP_EXCEEDED", t.mint("dao", "OCEAN", "alice", Decimal("92.500000000000000001")))
    assert t.mint("dao", "OCEAN", "alice", 92.5).accepted
    assert t.supply("OCEAN").supply == 100.0
    sim.forward_time(1)  # invariants at block end


def test_token_rejections_change_nothing() -> None:
    sim = make("dao", "alice")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["dao"])
    t.mint("dao", "OCEAN", "alice", 1)
    before = state(sim)
    rejected(sim, before, "NOT_MINTER", t.mint("alice", "OCEAN", "alice", 1))
    rejected(sim, before, "UNKNOWN_TOKEN", t.mint("dao", "NOPE", "alice", 1))
    rejected(sim, before, "UNKNOWN_TOKEN", t.burn("alice", "NOPE", 1))
    rejected(sim, before, "UNKNOWN_TOKEN", sim.send(Transaction("dao", "tokenomics", "mint", ("NOPE", "alice", 1))))
    rejected(sim, before, "UNKNOWN_RECEIVER", t.mint("dao", "OCEAN", "nobody", 1))
    rejected(sim, before, "INVALID_AMOUNT", t.mint("dao", "OCEAN", "alice", -1))
    rejected(sim, before, "INVALID_AMOUNT", t.mint("dao", "OCEAN", "alice", float("nan")))
    rejected(sim, before, "INSUFFICIENT_FUNDS", t.burn("alice", "OCEAN", 2))
    rejected(sim, before, "UNKNOWN_PARTY", sim.send(Transaction("ghost", "tokenomics", "burn", ("OCEAN", 1))))
    rejected(sim, before, "INVALID_AMOUNT", sim.send(Transaction("dao", "tokenomics", "mint", ("OCEAN", "alice", 1.0))))
    with pytest.raises(ValueError, match="already exists"):
        t.create_token("OCEAN", 18)
    with pytest.raises(ValueError, match="cap"):
        t.create_token("X", 18, cap=-1)


def test_adopting_an_asset_counts_its_supply_and_faucet_mints_break_the_books() -> None:
    sim = make("alice")
    sim.create_asset("USD", 6)
    sim.mint("alice", "USD", 5)
    sim.tokenomics.create_token("USD", 6)
    s = sim.tokenomics.supply("USD")
    assert s.initial == 5.0
    assert s.minted_raw == 5_000_000 and s.supply_raw == 5_000_000
    with pytest.raises(ValueError, match="decimals"):
        sim.create_asset("W2", 8)
        sim.tokenomics.create_token("W2", 6)
    sim.forward_time(1)
    sim.mint("alice", "USD", 1)  # the faucet bypasses the token's books
    with pytest.raises(InvariantViolation, match="ledger supply 6000000 != minted 5000000"):
        sim.forward_time(1)


# ---------------------------------------------------------------------- grants
def test_grant_pays_n_grants_the_last_takes_the_remainder() -> None:
    sim = make("treasury", "taker", "keeper")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["treasury"])
    t.mint("treasury", "OCEAN", "treasury", 1)
    t.create_grant("g", "treasury", "taker", "OCEAN", 1, 3, 3 * S_DAY)
    assert sim.balance("treasury", "OCEAN", raw=True) == 0
    paid = []
    for day in range(10):
        r = t.disburse("keeper", "g")
        paid.append(round(r.value * E18) if r.value else 0)
        if day in (0, 3, 6):
            assert r.value > 0
        sim.forward_time(S_DAY)
    # 1e18 // 3 = 333333333333333333 twice, the last 333333333333333334: exactly 1 OCEAN
    g = t.grant_view("g")
    assert g.paid_raw == E18 and g.held_raw == 0 and g.grants_made == 3
    assert sim.balance("taker", "OCEAN", raw=True) == E18
    ev = [e for e in sim.chain.events if type(e).__name__ == "GrantPaid"]
    assert [e.amount for e in ev] == [333333333333333333, 333333333333333333, 333333333333333334]
    assert [e.time_ns // 10**9 for e in ev] == [0, 3 * S_DAY, 6 * S_DAY]
    assert g.next_due_s is None


def test_grant_interval_counts_from_the_last_payment_as_tokenspice() -> None:
    """TokenSPICE: pay on the first step, then when (t - t_last) * dt >= s_between."""
    sim = make("treasury", "taker", "keeper")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["treasury"])
    t.mint("treasury", "OCEAN", "treasury", 4)
    t.create_grant("g", "treasury", "taker", "OCEAN", 4, 4, 3 * S_DAY, start_s=S_DAY)
    assert t.disburse("keeper", "g").value == 0  # before start
    sim.forward_time(2 * S_DAY)  # day 2: first call at/after start pays
    assert t.disburse("keeper", "g").value == 1.0
    sim.forward_time(4 * S_DAY)  # day 6: due since day 5
    assert t.disburse("keeper", "g").value == 1.0
    sim.forward_time(2 * S_DAY)  # day 8: next due at day 9, not 8
    assert t.disburse("keeper", "g").value == 0
    assert t.grant_view("g").next_due_s == 9 * S_DAY


def test_simplegrant_hourly_pays_at_ticks_0_72_144_216() -> None:
    sim = make("granter1", "taker1")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["granter1"])
    t.mint("granter1", "OCEAN", "granter1", 1)
    t.create_grant("granter1_grant", "granter1", "taker1", "OCEAN", 1, 4, 3 * S_DAY)
    ticks = []
    for tick in range(242):
        if t.disburse("granter1", "granter1_grant").value:
            ticks.append(tick)
        held = sim.balance("taker1", "OCEAN")
        if held:
            t.burn("taker1", "OCEAN", held)  # the taker spends at once
        sim.forward_time(3600)
    assert ticks == [0, 72, 144, 216]
    s = t.supply("OCEAN")
    assert s.supply_raw == 0 and s.burned_raw == E18


def test_grant_setup_errors_and_unknown_grant() -> None:
    sim = make("treasury", "keeper")
    t = sim.tokenomics
    sim.create_asset("OCEAN", 18)
    sim.mint("treasury", "OCEAN", 1)
    with pytest.raises(ValueError, match="holds"):
        t.create_grant("g", "treasury", "keeper", "OCEAN", 2, 2, 10)
    with pytest.raises(ValueError, match="n_grants"):
        t.create_grant("g", "treasury", "keeper", "OCEAN", 1, 0, 10)
    with pytest.raises(ValueError, match="neither a party"):
        t.create_grant("g", "treasury", "nobody", "OCEAN", 1, 1, 10)
    with pytest.raises(ValueError, match="party's name"):
        t.create_grant("keeper", "treasury", "keeper", "OCEAN", 1, 1, 10)
    before = state(sim)
    rejected(sim, before, "UNKNOWN_GRANT", t.disburse("keeper", "g"))


# ---------------------------------------------------------------------- routers
def test_router_splits_by_fractions_last_receiver_takes_the_rest() -> None:
    sim = make("src", "dao", "burner")
    t = sim.tokenomics
    sim.create_asset("USD", 6)
    sim.mint("src", "USD", 1)
    t.create_router("opc", {"dao": 0.95, "burner": 0.05})
    t.deposit("src", "opc", "USD", Decimal("0.000101"))  # 101 base units
    r = t.route("src", "opc", "USD")
    # dao: 101 * 0.95 = 95.95 -> 95; burner (fractions sum to 1): 101 - 95 = 6
    assert r.value == (("dao", 95e-6), ("burner", 6e-6))
    assert sim.balance("dao", "USD", raw=True) == 95 and sim.balance("burner", "USD", raw=True) == 6
    assert t.router_view("opc").held_raw == {"USD": 0}
    assert t.route("src", "opc", "USD").value == ()  # empty router: executes, moves nothing
    sim.forward_time(1)


def test_router_with_fractions_below_one_keeps_the_rest_and_routers_chain() -> None:
    sim = make("src", "a", "b", "workers")
    t = sim.tokenomics
    sim.create_asset("USD", 6)
    sim.mint("src", "USD", 1)
    t.create_router("dao", {"workers": 1.0})
    t.create_router("top", {"a": 0.5, "b": 0.3, "dao": 0.1})
    t.deposit("src", "top", "USD", Decimal("0.000101"))
    t.route("src", "top", "USD")
    # a: 50 (50.5), b: 30 (30.3), dao: 10 (10.1); 11 stay in "top"
    assert [sim.balance(p, "USD", raw=True) for p in ("a", "b")] == [50, 30]
    assert t.router_view("top").held_raw == {"USD": 11}
    assert t.router_view("dao").held_raw == {"USD": 10}
    assert t.route("src", "dao", "USD").value == (("workers", 10e-6),)
    assert sim.balance("workers", "USD", raw=True) == 10
    sim.forward_time(1)


def test_router_rejections_and_setup_errors() -> None:
    sim = make("src", "a", "b")
    t = sim.tokenomics
    sim.create_asset("USD", 6)
    sim.mint("src", "USD", 1)
    with pytest.raises(ValueError, match="sum to"):
        t.create_router("r", {"a": 0.7, "b": 0.30001})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        t.create_router("r", {"a": 1.5})
    with pytest.raises(ValueError, match="> 0"):
        t.create_router("r", {"a": 0})
    t.create_router("r", {"a": 0.7, "b": 0.3})
    before = state(sim)
    rejected(sim, before, "UNKNOWN_ROUTER", t.route("src", "nope", "USD"))
    rejected(sim, before, "UNKNOWN_ASSET", t.route("src", "r", "NOPE"))
    rejected(sim, before, "UNKNOWN_TARGET", t.deposit("src", "nope", "USD", 1))
    rejected(sim, before, "INSUFFICIENT_FUNDS", t.deposit("src", "r", "USD", 2))
    rejected(sim, before, "INVALID_AMOUNT", t.deposit("src", "r", "USD", 0))


# ---------------------------------------------------------------------- vesting
def test_vesting_wallet_reproduces_spec_4_2() -> None:
    """scheduler netlist: 5 OCEAN, start = T0 + S_YEAR, duration 5 S_YEAR, monthly ticks;
    the beneficiary releases every tick, so released lags vested by one tick."""
    sim = make("funder1", "beneficiary1")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["funder1"])
    t.mint("funder1", "OCEAN", "funder1", 5)
    rows = {}
    for tick in range(80):
        if tick == 0:
            t.create_vesting_wallet("vw1", "beneficiary1", S_YEAR, 5 * S_YEAR)
            t.deposit("funder1", "vw1", "OCEAN", 5)
        else:  # logged before the tick's step: as TokenSPICE's pre-step row
            rows[tick] = (t.vested("vw1", "OCEAN"), t.released("vw1", "OCEAN"))
        t.release("beneficiary1", "vw1", "OCEAN")
        sim.forward_time(S_MONTH)
    assert rows[12] == (0.0, 0.0)
    assert rows[15] == (0.23287671232876714, 0.1506849315068493)
    assert rows[72] == (4.917808219178082, 4.835616438356165)
    assert all(rows[k] == (5.0, 5.0) for k in range(75, 80))
    assert t.vested("vw1", "OCEAN", raw=True, at_s=15 * S_MONTH) == 232876712328767123
    assert sim.balance("beneficiary1", "OCEAN", raw=True) == 5 * E18
    v = t.vesting_view("vw1")
    assert v.held_raw == {"OCEAN": 0} and v.released_raw == {"OCEAN": 5 * E18}


def test_vesting_release_of_nothing_is_fine_and_rejections() -> None:
    sim = make("f", "b", "anyone")
    t = sim.tokenomics
    sim.create_asset("OCEAN", 18)
    sim.mint("f", "OCEAN", 10)
    t.create_vesting_wallet("vw", "b", 100, 1000)
    t.deposit("f", "vw", "OCEAN", 10)
    r = t.release("anyone", "vw", "OCEAN")
    assert r.accepted and r.value == 0.0
    sim.forward_time(350)  # ts 350: 10 * 250 // 1000 = 2.5 OCEAN, paid to b, not to the caller
    assert t.release("anyone", "vw", "OCEAN").value == 2.5
    assert sim.balance("b", "OCEAN") == 2.5 and sim.balance("anyone", "OCEAN") == 0
    # a later deposit vests on the same schedule: total 20 at ts 350 -> 5 vested, 2.5 due
    sim.mint("f", "OCEAN", 10)
    t.deposit("f", "vw", "OCEAN", 10)
    assert t.vested("vw", "OCEAN") == 5.0 and t.release("b", "vw", "OCEAN").value == 2.5
    before = state(sim)
    rejected(sim, before, "UNKNOWN_WALLET", t.release("anyone", "nope", "OCEAN"))
    rejected(sim, before, "UNKNOWN_ASSET", t.release("anyone", "vw", "NOPE"))
    with pytest.raises(ValueError, match="integer"):
        t.create_vesting_wallet("vw2", "b", 1.5, 10)
    sim.forward_time(1)


# ---------------------------------------------------------------------- staking
def test_staking_rewards_pro_rata_with_the_accumulator() -> None:
    sim = make("alice", "bob", "funder")
    t = sim.tokenomics
    sim.create_asset("TOK", 0)
    sim.create_asset("RWD", 0)
    for p, n in (("alice", 100), ("bob", 300), ("funder", 1000)):
        sim.mint(p, "TOK", n)
    sim.mint("funder", "RWD", 1000)
    t.create_staking_pool("sp", "TOK", "RWD")
    t.stake("alice", "sp", 100)
    t.stake("bob", "sp", 300)
    t.distribute("funder", "sp", 100)  # 1/4 : 3/4
    assert (t.pending_reward("sp", "alice"), t.pending_reward("sp", "bob")) == (25, 75)
    t.unstake("bob", "sp", 200)  # bob keeps his 75 owed; stakes now 100 : 100
    t.distribute("funder", "sp", 10)
    assert (t.pending_reward("sp", "alice"), t.pending_reward("sp", "bob")) == (30, 80)
    t.distribute("funder", "sp", 1)  # 0.5 each, rounded down: 1 unit of dust
    v = t.staking_view("sp")
    assert v.pending_raw == {"alice": 30, "bob": 80} and v.dust == 1
    assert v.reward_balance == 111
    assert t.claim("alice", "sp").value == 30
    assert t.claim("alice", "sp").value == 0
    assert sim.balance("alice", "RWD") == 30
    assert sim.balance("bob", "TOK") == 200
    assert sim.equity("bob", "TOK", raw=True) == 300  # the stake account is bob's
    sim.forward_time(1)


def test_staking_rejections() -> None:
    sim = make("alice", "funder")
    t = sim.tokenomics
    sim.create_asset("TOK", 0)
    sim.mint("alice", "TOK", 10)
    sim.mint("funder", "TOK", 10)
    t.create_staking_pool("sp", "TOK")
    before = state(sim)
    rejected(sim, before, "NOTHING_STAKED", t.distribute("funder", "sp", 5))
    rejected(sim, before, "UNKNOWN_POOL", t.stake("alice", "nope", 1))
    rejected(sim, before, "INSUFFICIENT_FUNDS", t.stake("alice", "sp", 11))
    rejected(sim, before, "INSUFFICIENT_STAKE", t.unstake("alice", "sp", 1))
    t.stake("alice", "sp", 10)
    before = state(sim)
    rejected(sim, before, "INSUFFICIENT_FUNDS", t.distribute("funder", "sp", 11))
    rejected(sim, before, "INVALID_AMOUNT", t.stake("alice", "sp", -1))


# ---------------------------------------------------------------------- marketplaces
def test_marketplace_pays_the_toll_rounded_up() -> None:
    sim = make("buyer", "seller", "src")
    t = sim.tokenomics
    sim.create_asset("USD", 6)
    sim.mint("buyer", "USD", 100)
    t.create_router("opc", {"seller": 1.0})
    t.create_marketplace("m", "opc", 0.13)
    r = t.sell("buyer", "m", "seller", "USD", 10)
    assert r.value == (8.7, 1.3)
    # 0.000001 USD at 13 %: toll ceil(0.13) = 1 base unit, seller 0
    assert t.sell("buyer", "m", "seller", "USD", Decimal("0.000001")).value == (0.0, 1e-6)
    assert t.router_view("opc").held_raw == {"USD": 1_300_001}
    v = t.marketplace_view("m")
    assert (v.sales, v.volume, v.toll_fraction) == (2, {"USD": 10.000001}, 0.13)
    before = state(sim)
    rejected(sim, before, "UNKNOWN_MARKETPLACE", t.sell("buyer", "x", "seller", "USD", 1))
    rejected(sim, before, "UNKNOWN_PARTY", t.sell("buyer", "m", "ghost", "USD", 1))
    rejected(sim, before, "INSUFFICIENT_FUNDS", t.sell("buyer", "m", "seller", "USD", 1000))
    with pytest.raises(ValueError, match="toll_fraction"):
        t.create_marketplace("m2", "opc", 1.01)
    sim.forward_time(1)


# ---------------------------------------------------------------------- chain integration
def test_corrupted_books_raise_at_block_end() -> None:
    sim = make("src", "a")
    t = sim.tokenomics
    sim.create_asset("USD", 6)
    sim.mint("src", "USD", 1)
    t.create_router("r", {"a": 1})
    t.deposit("src", "r", "USD", 1)
    t.protocol.routers["r"].held["USD"] += 1
    with pytest.raises(InvariantViolation, match="router r: holds 1000000 USD, books 1000001"):
        sim.forward_time(1)


def test_mempool_mode_and_snapshot_round_trip() -> None:
    sim = make("dao", "alice", execution="mempool", ordering="fifo")
    t = sim.tokenomics
    t.create_token("OCEAN", 18, minters=["dao"])
    r = t.mint("dao", "OCEAN", "alice", 3)
    assert r.pending and t.supply("OCEAN").supply == 0
    sim.forward_time(1)
    assert sim.receipt(r.tx_id).accepted and t.supply("OCEAN").supply == 3.0
    snap = sim.chain.state_snapshot()
    t.burn("alice", "OCEAN", 1)
    sim.forward_time(1)
    assert t.supply("OCEAN").supply == 2.0
    sim.chain.restore_state(snap)
    assert t.supply("OCEAN").supply == 3.0 and sim.balance("alice", "OCEAN") == 3.0
