"""Balancer V1 pools in the AMM plug-in (``plugin_balancer``) and ``sim.amm``: the spec's
4.6 Ocean V3 vectors through the chain equal the core's integers, conservation with
invariants on, rejections with the core's revert strings that change nothing."""

from __future__ import annotations

import pytest

from defisim import Simulation
from defisim.chain import Transaction, TransactionRejected
from defisim.chain.ledger import general
from defisim.protocols.amm.balancer import ocean_v3_pool
from defisim.protocols.amm.protocol import BalExit, BalJoin, BalSwap, reserve

E18 = 10**18
PID = "BAL:DT/OCEAN"
LP = PID + "-LP"


def make(variant: str = "ocean_v3", **kw) -> Simulation:
    """Spec 4.6: DT 100e18 weight 3e18, OCEAN 1000e18 weight 7e18, fee 1e15, finalised."""
    sim = Simulation(protocols=["amm"], **kw)
    for a in ("DT", "OCEAN", "X"):
        sim.create_asset(a, 18)
    for p in ("ctl", "bob", "carol"):
        sim.create_party(p)
        for a in ("DT", "OCEAN", "X"):
            sim.mint_raw(p, a, 10_000 * E18)
    pid = sim.chain.protocol("amm").create_balancer_pool(
        "ctl", {"DT": (100 * E18, 3 * E18), "OCEAN": (1000 * E18, 7 * E18)}, 10**15, variant)
    assert pid == PID
    return sim


def raw(sim, call, party, *args):
    return sim.send(Transaction(party, "amm", call, args))


def core_pool():
    p = ocean_v3_pool("c", factory="f")
    p.setup("c", "DT", 100 * E18, 3 * E18, "OCEAN", 1000 * E18, 7 * E18, 10**15)
    return p


def holdings(sim) -> tuple:
    return dict(sim.chain.ledger.balances), dict(sim.chain.ledger.supply)


def core_state(sim) -> tuple:
    c = sim.chain.protocol("amm").pools[PID].core
    return (dict(c.token_balances), {t: (r.denorm, r.balance) for t, r in c.records.items()},
            c.total_supply, dict(c.share_balances))


def test_creation_moves_the_balances_and_issues_init_supply():
    sim = make()
    led = sim.chain.ledger
    assert led.balance(reserve(PID, "DT")) == 100 * E18
    assert led.balance(reserve(PID, "OCEAN")) == 1000 * E18
    assert led.balance(general("ctl", "DT")) == 9_900 * E18
    assert led.balance(general("ctl", LP)) == 100 * E18 and led.supply[LP] == 100 * E18
    v = sim.amm.pool_view(PID)
    assert v.kind == "BAL" and v.assets == ("DT", "OCEAN") and v.reserves == (100.0, 1000.0)
    assert v.weights == (0.3, 0.7) and v.fee == 0.001 and v.lp_supply == 100.0
    # price of DT in OCEAN with the fee: getSpotPrice(OCEAN, DT) = 4290004290004290004 (4.6)
    assert v.price == 4290004290004290004 / E18
    assert sim.amm.spot_price(PID, "DT", "OCEAN", fee=False) == 4285714285714285714 / E18
    # a second pool of the same tokens gets a suffix
    assert sim.amm.create_balancer_pool("ctl", {"DT": (10, 3), "OCEAN": (100, 7)}) == PID + "#2"
    assert sim.chain.protocol("amm").invariant_errors() == []


def test_a_three_token_pool_has_a_view():
    sim = make()
    pid = sim.chain.protocol("amm").create_balancer_pool(
        "ctl", {"DT": (100 * E18, 2 * E18), "OCEAN": (400 * E18, 4 * E18),
                "X": (50 * E18, 4 * E18)}, 10**15)
    v = sim.amm.pool_view(pid)
    assert v.assets == ("DT", "OCEAN", "X") and v.reserves == (100.0, 400.0, 50.0)
    assert v.weights == (0.2, 0.4, 0.4)
    # spot price of DT in OCEAN without the fee: (400/4) / (100/2) = 2
    assert sim.amm.spot_price(pid, "DT", "OCEAN", fee=False) == 2.0


def test_spec_4_6_swaps_through_the_chain():
    sim = make()
    cur = sim.event_cursor()
    r = raw(sim, "swap", "bob", PID, "OCEAN", "DT", 10 * E18, 0, True, 2**64, 0)
    assert r.value == (10 * E18, 2292741528351587900)
    ev = [e for e in cur.read() if type(e) is BalSwap][0]
    assert ev.spot_price_after == 4434577738317779236
    assert ev.fee == 10 * E18 - 10 * E18 * (E18 - 10**15) // E18  # 0.1 % of the input
    led = sim.chain.ledger
    assert led.balance(general("bob", "DT")) == 10_000 * E18 + 2292741528351587900
    assert led.balance(reserve(PID, "OCEAN")) == 1010 * E18
    # exact out on a fresh pool: 4320897384531836837 in, spot after 4352061574061212021
    sim = make()
    q = sim.amm.quote(PID, "OCEAN", 1.0, exact="out")
    assert q == 4320897384531836837 / E18
    cur = sim.event_cursor()
    r = raw(sim, "swap", "bob", PID, "OCEAN", "DT", E18, 5 * E18, False, 2**64, 0)
    assert r.value == (4320897384531836837, E18)
    assert [e for e in cur.read() if type(e) is BalSwap][0].spot_price_after == 4352061574061212021
    # the facade, the other direction: calcOutGivenIn(DT 1e18 -> OCEAN) = 4251122494021841000
    sim = make()
    assert sim.amm.quote(PID, "DT", 1.0) == 4251122494021841000 / E18
    r = sim.amm.swap("bob", PID, "DT", 1.0)
    assert r.accepted and r.value == (1.0, 4251122494021841000 / E18)
    sim.forward_time(1)


def test_spec_4_6_joins_and_exits_through_the_chain():
    sim = make()
    r = raw(sim, "bal_join_pool", "bob", PID, 10 * E18, (10 * E18, 100 * E18))
    assert r.value == (10 * E18, (10 * E18, 100 * E18))
    r = raw(sim, "bal_exit_pool", "bob", PID, 10 * E18, (0, 0))
    p = core_pool()  # the same join and exit on the bare core
    p.join_pool("c", 10 * E18, [10 * E18, 100 * E18])
    out = p.exit_pool("c", 10 * E18, [0, 0]).tokens_out
    assert r.value == (10 * E18, tuple(x[2] for x in out)) == (10 * E18, (9999999999999999990,
                                                                          99999999999999999900))
    s = make()  # spec 4.6: exitPool(10e18) of the fresh pool
    assert raw(s, "bal_exit_pool", "ctl", PID, 10 * E18, (0, 0)).value == (
        10 * E18, (10 * E18, 100 * E18))
    p = core_pool()
    s = make()
    r = raw(s, "bal_joinswap_extern_amount_in", "bob", PID, "OCEAN", 100 * E18, 0)
    assert r.value == (100 * E18, 6897263677829326400)
    assert r.value[1] == p.joinswap_extern_amount_in("c", "OCEAN", 100 * E18, 0).pool_amount
    s = make()
    r = raw(s, "bal_joinswap_pool_amount_out", "bob", PID, "OCEAN", 6897263677829326400, 200 * E18)
    assert r.value == (99999999991454809443, 6897263677829326400)
    s = make()
    r = raw(s, "bal_exitswap_pool_amount_in", "ctl", PID, "OCEAN", 10 * E18, 0)
    assert r.value == (10 * E18, 139693272745403737573)
    s = make()
    r = raw(s, "bal_exitswap_extern_amount_out", "ctl", PID, "OCEAN", 100 * E18, 10 * E18)
    assert r.value == (7111998329373130300, 100 * E18)
    led = s.chain.ledger
    assert led.supply[LP] == 100 * E18 - 7111998329373130300
    assert led.balance(general("ctl", LP)) == 100 * E18 - 7111998329373130300
    assert s.chain.protocol("amm").invariant_errors() == []


def test_facade_join_exit_events():
    sim = make()
    cur = sim.event_cursor()
    r = sim.amm.join_single("carol", PID, "DT", 10.0)  # spec 4.6: calcPoolOutGivenSingleIn
    assert r.accepted and r.value == (10.0, 2898611432921064200 / E18)
    r = sim.amm.join_pool("bob", PID, 10.0, {"DT": 20.0, "OCEAN": 200.0})
    assert r.accepted and r.value[0] == 10.0
    r = sim.amm.exit_pool("bob", PID, 10.0)
    assert r.accepted
    r = sim.amm.exit_single("carol", PID, "DT", 1.0)
    assert r.accepted and r.value[0] == 1.0
    evs = [e for e in cur.read() if type(e) in (BalJoin, BalExit)]
    assert [type(e).__name__ for e in evs] == ["BalJoin", "BalJoin", "BalExit", "BalExit"]
    assert evs[0].amounts == (10 * E18, 0) and evs[0].pool_amount == 2898611432921064200
    sim.forward_time(1)


def test_conservation_with_invariants_every_block():
    sim = make(check_invariants=True)
    totals = {a: sim.chain.ledger.supply[a] for a in ("DT", "OCEAN")}
    rng = sim.rng("t")
    done = 0
    for i in range(60):
        sim.forward_time(1)
        who = ("bob", "carol")[i % 2]
        k = int(rng.integers(0, 5))
        if k == 0:
            r = sim.amm.join_pool(who, PID, float(rng.uniform(0.5, 5)))
        elif k == 1:
            held = sim.balance(who, LP)
            r = sim.amm.exit_pool(who, PID, held / 2) if held > 0.01 else None
        elif k == 2:
            r = sim.amm.join_single(who, PID, ("DT", "OCEAN")[i % 2], float(rng.uniform(0.1, 5)))
        elif k == 3:
            held = sim.balance(who, LP)
            r = sim.amm.exit_single(who, PID, "OCEAN", held / 3) if held > 0.01 else None
        else:
            a = ("DT", "OCEAN")[int(rng.integers(0, 2))]
            r = sim.amm.swap(who, PID, a, float(rng.uniform(0.1, 3)))
        if r is not None:
            assert r.accepted, r
            done += 1
    sim.forward_time(1)
    assert done > 40
    led = sim.chain.ledger
    assert {a: led.supply[a] for a in totals} == totals
    for a in totals:
        assert sum(v for k, v in led.balances.items() if k[2] == a) == totals[a]
    core = sim.chain.protocol("amm").pools[PID].core
    assert led.supply[LP] == core.total_supply
    assert sum(v for k, v in led.balances.items() if k[2] == LP) == core.total_supply


@pytest.mark.parametrize("call,args,reason", [
    ("swap", ("bob", PID, "OCEAN", "DT", 501 * E18, 0, True, 2**64, 0), "ERR_MAX_IN_RATIO"),
    ("swap", ("bob", PID, "OCEAN", "DT", 10 * E18, 3 * E18, True, 2**64, 0), "ERR_LIMIT_OUT"),
    ("swap", ("bob", PID, "OCEAN", "DT", E18, 4 * E18, False, 2**64, 0), "ERR_LIMIT_IN"),
    ("swap", ("bob", PID, "OCEAN", "DT", 34 * E18, 10**30, False, 2**64, 0), "ERR_MAX_OUT_RATIO"),
    ("swap", ("bob", PID, "OCEAN", "DT", 10 * E18, 0, True, 2**64, 4290004290004290003),
     "ERR_BAD_LIMIT_PRICE"),
    ("swap", ("bob", PID, "OCEAN", "DT", 10 * E18, 0, True, 2**64, 4434577738317779235),
     "ERR_LIMIT_PRICE"),
    ("swap", ("bob", PID, "OCEAN", "DT", 10 * E18, 0, True, 0, 0), "Transaction too old"),
    ("swap", ("bob", PID, "X", "DT", E18, 0, True, 2**64, 0), "INVALID_ARGUMENT"),
    ("swap", ("poor", PID, "OCEAN", "DT", 10 * E18, 0, True, 2**64, 0), "ERR_INSUFFICIENT_BAL"),
    ("bal_join_pool", ("bob", PID, 10 * E18, (10 * E18, 99 * E18)), "ERR_LIMIT_IN"),
    ("bal_join_pool", ("poor", PID, 10 * E18, (10**30, 10**30)), "ERR_INSUFFICIENT_BAL"),
    ("bal_join_pool", ("bob", PID, 10 * E18, (10 * E18,)), "INVALID_ARGUMENT"),
    ("bal_exit_pool", ("bob", PID, E18, (0, 0)), "ERR_INSUFFICIENT_BAL"),
    ("bal_exit_pool", ("ctl", PID, 10 * E18, (0, 101 * E18)), "ERR_LIMIT_OUT"),
    ("bal_joinswap_extern_amount_in", ("bob", PID, "OCEAN", 501 * E18, 0), "ERR_MAX_IN_RATIO"),
    ("bal_joinswap_extern_amount_in", ("bob", PID, "OCEAN", 100 * E18, 7 * E18), "ERR_LIMIT_OUT"),
    ("bal_joinswap_extern_amount_in", ("bob", PID, "X", E18, 0), "ERR_NOT_BOUND"),
    ("bal_exitswap_pool_amount_in", ("bob", PID, "OCEAN", E18, 0), "ERR_INSUFFICIENT_BAL"),
    ("bal_exitswap_extern_amount_out", ("ctl", PID, "OCEAN", 100 * E18, 7 * E18), "ERR_LIMIT_IN"),
    ("bal_exit_pool", ("bob", "BAL:NOPE", E18, (0, 0)), "UNKNOWN_POOL"),
])
def test_rejections_change_nothing(call, args, reason):
    sim = make()
    sim.create_party("poor")
    sim.forward_time(1)
    before, core_before = holdings(sim), core_state(sim)
    cur = sim.event_cursor()
    r = raw(sim, call, *args)
    assert not r.accepted and r.reason == reason, r
    evs = cur.read()
    assert len(evs) == 1 and type(evs[0]) is TransactionRejected and evs[0].reason == reason
    assert holdings(sim) == before and core_state(sim) == core_before
    sim.forward_time(1)


def test_creation_errors():
    sim = make()
    amm = sim.chain.protocol("amm")
    with pytest.raises(ValueError, match="ERR_MIN_WEIGHT"):
        amm.create_balancer_pool("ctl", {"DT": (E18, 10**17), "X": (E18, E18)}, 10**15)
    with pytest.raises(ValueError, match="ERR_MIN_TOKENS"):
        amm.create_balancer_pool("ctl", {"DT": (E18, E18)}, 10**15)
    with pytest.raises(ValueError, match="ERR_MAX_FEE"):
        sim.amm.create_balancer_pool("ctl", {"DT": (1, 1), "X": (1, 1)}, swap_fee=0.2)
    with pytest.raises(ValueError, match="holds"):
        sim.amm.create_balancer_pool("ctl", {"DT": (1e6, 1), "X": (1, 1)})
    with pytest.raises(ValueError, match="unknown party"):
        sim.amm.create_balancer_pool("nobody", {"DT": (1, 1), "X": (1, 1)})
    assert list(amm.pools) == [PID] and "BAL:DT/X-LP" not in sim.chain.ledger.assets


def test_fork_keeps_ledger_and_core_together():
    sim = make(check_invariants=True)
    fork = sim.snapshot()
    before = holdings(sim), core_state(sim)
    first = sim.amm.swap("bob", PID, "OCEAN", 5.0)
    assert first.accepted
    assert (holdings(fork), core_state(fork)) == before != (holdings(sim), core_state(sim))
    assert fork.amm.swap("bob", PID, "OCEAN", 5.0).value == first.value  # the same state
    assert sim.amm.swap("bob", PID, "OCEAN", 5.0).value[1] < first.value[1]  # price moved
    fork.forward_time(1)
    sim.forward_time(1)


def test_facade_price_limit_is_max_price_in_asset_units():
    sim = make()
    # spot before = 4.290004290004290004 OCEAN per DT (fee included), after 4.4345777...
    r = sim.amm.swap("bob", PID, "OCEAN", 10.0, price_limit=4.29)
    assert not r.accepted and r.reason == "ERR_BAD_LIMIT_PRICE"
    r = sim.amm.swap("bob", PID, "OCEAN", 10.0, price_limit=4.43)
    assert not r.accepted and r.reason == "ERR_LIMIT_PRICE"
    r = sim.amm.swap("bob", PID, "OCEAN", 10.0, price_limit=4.44)
    assert r.accepted and r.value == (10.0, 2292741528351587900 / E18)
    r = sim.amm.swap("bob", PID, "OCEAN", 1.0, price_limit=-1)
    assert not r.accepted and r.reason == "INVALID_ARGUMENT"
