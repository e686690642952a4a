"""The compute marketplace paying gas on chain (spec 4.6, 4.7, 6): ``execution="mempool"``
runs conserve USDC and ETH, the gas KPIs are what the chain charged, a refused call pays
the revert gas, background demand drives the chain's base fee by spec 6's rule, the
optional L1 data fee is exactly Bedrock's formula, a sender short of gas funds is
refused before inclusion, and runs are reproducible."""

from __future__ import annotations

import math

from defisim.agents.compute.base_fee import FeeRule, background_gas
from defisim.agents.compute.global_state import GlobalState
from defisim.agents.compute.market import Market
from defisim.agents.compute.mediator import ComputeMediator
from defisim.chain.events import BaseFeeUpdated, TransactionIncluded, TransactionRejected, Transfer
from defisim.chain.fee_market import next_base_fee
from defisim.chain.rng import RandomStreams
from defisim.chain.transactions import Transaction
from defisim.protocols.compute.gas import CALLDATA_BYTES, GAS
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")
SMALL = {"n_clients": 8, "n_providers": 4, "n_mediators": 1, "rate_per_h": 30.0,
         "class_mix": {"cpu-small": 1.0}, "check_probability": 1.0}
WEI = 10**18


class Events:
    def __init__(self) -> None:
        self.events: list = []
        self.cursor = None

    def __call__(self, run_, step, kpis) -> None:
        if self.cursor is None:
            self.sim = run_.sim
            self.cursor = run_.sim.event_cursor(from_oldest=True)
        self.events.extend(self.cursor.read())


def run(hooks=(), seed=1, **params):
    sc = SCEN(SCEN.Params(**{**SMALL, **params}))
    return sc, run_scenario(sc, seed=seed, record=False, progress=False, hooks=list(hooks))


def small_sim(l1: bool = False, **params):
    """The scenario's chain (fee market of the defaults) with USDC and ETH, no agents."""
    sc = SCEN(SCEN.Params(l1_data_fee=l1, **params))
    sim = sc.make_simulation(seed=3)
    sim.create_asset("ETH", 18)
    sim.create_asset("USDC", 6)
    return sim


def test_mempool_run_conserves_usdc_and_eth_and_books_what_the_chain_charged():
    log = Events()
    sc, r = run(hooks=[log], hours=0.2, l1_data_fee=True)  # invariants checked every block
    assert r.error is None and r.steps == 360 and sc.params.step_seconds == 2.0
    sim, ev = log.sim, log.events
    agents = [a for g in sc.agents.values() for a in g]
    names = {a.name for a in agents}
    inc = [e for e in ev if isinstance(e, TransactionIncluded)]
    mine = [e for e in inc if e.sender in names]
    assert r.kpis["deals"] > 3 and len(mine) > 20
    # ETH: minted = held + burned (tips to the producer, L1 fees to the vault)
    minted = sum(v for (_, asset), v in sim.chain.ledger.minted_to.items() if asset == "ETH")
    assert minted == sum(round(a.eth_capital * WEI) for a in agents) + round(1e6 * WEI)
    held = sum(sim.balance(p, "ETH", raw=True) for p in sim.parties)
    burned = sum(e.fee_burned for e in inc)
    producer = sim.balance("block_producer", "ETH", raw=True)
    vault = sim.balance("l1_fee_vault", "ETH", raw=True)
    assert producer == sum(e.tip for e in inc) > 0
    l1_moved = sum(e.amount for e in ev if isinstance(e, Transfer) and e.kind == "l1_data_fee")
    assert vault == l1_moved > 0
    assert held + producer + vault + burned == minted
    # USDC: minted to the agents = held + escrow/collateral + protocol parties
    usdc = sum(b for k, b in sim.chain.ledger.balances.items() if k[2] == "USDC")
    assert usdc == round(sum(a.capital for a in agents) * 10**6)
    # the book = what the chain charged for every transaction the agents have read back
    inflight = {t for a in agents for t in a._inflight}
    read = [e for e in mine if e.tx_id not in inflight]
    l1_unread = sum(sim.receipt(t).l1_fee for t in inflight if sim.receipt(t) is not None)
    book = sc.market.book
    assert sum(book.gas_units.values()) == sum(e.gas_used for e in read)
    assert sum(book.gas_wei.values()) == sum(e.fee_burned + e.tip for e in read) + vault - l1_unread
    for role in ("client", "provider", "mediator"):
        wei = sum(v for (r_, _), v in book.gas_wei.items() if r_ == role)
        assert wei == 0 or 500 < r.kpis[f"gas_usd.{role}"] / (wei / WEI) < 20_000  # USD per ETH
    assert r.kpis["gas_usd"] == sum(r.kpis[f"gas_usd.{x}"] for x in ("client", "provider", "mediator"))


def test_a_refused_included_call_pays_the_revert_gas_and_the_agent_books_it():
    sim = small_sim()
    market = Market(GlobalState.default(sim.rng, l2_from_chain=True), dict(GAS))
    med = ComputeMediator("m0", market, 0.0)
    med.eth_capital = 0.01
    med.initialise(sim)
    seen = []
    med._submit(sim, "mediate", sim.compute.mediate("m0", "no-such-validation", True),
                lambda _sim, rc, usd: seen.append((rc, usd)))
    assert med._inflight and not seen
    sim.forward_time(2.0)
    med._poll(sim)
    (rc, usd), = seen
    assert (rc.status, rc.reason, rc.gas_used) == ("REJECTED", "unknown_validation", 25_000)
    assert (rc.fee_burned, rc.tip) == (25_000 * 10**7, 25_000 * 10**6)  # base 1e7, tip 1e6
    assert market.book.gas_units["mediate"] == 25_000
    assert market.book.gas_wei[("mediator", "mediate")] == 275_000_000_000
    assert sim.balance("m0", "ETH", raw=True) == 10**16 - 275_000_000_000
    assert math.isclose(usd, 275e9 / 1e18 * market.snapshot.prices["ETH"])


def test_background_demand_drives_the_chain_base_fee_by_spec_6():
    """No marketplace transactions (no arrivals): each block's gas is the background
    draw, G_bg = min(limit, round(G* exp(0.3 eps - 0.045) (b/1e7)^-1)) with eps from
    the run's ``global.l2_fee`` stream, and the base fee moves by EIP-1559."""
    log = Events()
    sc, r = run(hooks=[log], steps=12, rate_per_h=0.0)
    assert r.error is None
    upd = [e for e in log.events if isinstance(e, BaseFeeUpdated)][:12]
    rng = RandomStreams(1).generator("global.l2_fee")
    b = 10**7
    for e in upd:
        eps = float(rng.standard_normal())
        g = min(30_000_000, round(15_000_000 * math.exp(0.3 * eps - 0.045) * (b / 1e7) ** -1))
        assert g == background_gas(b, FeeRule(), eps)
        if g > 15_000_000:
            nxt = b + max(b * (g - 15_000_000) // 15_000_000 // 8, 1)
        else:
            nxt = b - b * (15_000_000 - g) // 15_000_000 // 8
        assert nxt == next_base_fee(b, g, 15_000_000)
        assert (e.base_fee, e.gas_used, e.next_base_fee) == (b, g, nxt)
        b = nxt
    assert len({e.base_fee for e in upd}) > 3  # it moved
    assert sc.market.snapshot.l2_base_fee == upd[-1].base_fee  # Z's fee: the chain's at the step


def test_l1_data_fee_on_and_off_differ_by_exactly_the_formula():
    paid = {}
    for on in (False, True):
        sim = small_sim(l1=on)
        for p in ("l2_system", "alice"):
            sim.create_party(p)
            sim.mint(p, "ETH", 1.0)
        # posted either way (the same block gas: the same base fees); charged only when on
        sim.send(Transaction("l2_system", "compute", "set_l1_base_fee", (2 * 10**10,)))
        sim.forward_time(2.0)
        rc = sim.compute.approve("alice", "USDC")
        sim.forward_time(2.0)
        rc = sim.receipt(rc.tx_id)
        assert rc.accepted and rc.gas_used == 46_000
        paid[on] = (10**18 - sim.balance("alice", "ETH", raw=True), rc.l1_fee)
        if on:
            assert sim.balance("l1_fee_vault", "ETH", raw=True) == rc.l1_fee
            assert sim.compute.set_l1_base_fee("alice", 5).status == "PENDING"
            sim.forward_time(2.0)
            assert sim.compute.l1_base_fee == 2 * 10**10  # refused: not_oracle
    fee = 2 * 10**10 * (16 * CALLDATA_BYTES["approve"] + 188) * 684 // 1000
    assert fee == 17_455_680_000_000  # 2e10 * 1276 * 0.684
    assert paid[False][1] == 0 and paid[True][1] == fee
    assert paid[True][0] - paid[False][0] == fee


def test_a_sender_short_of_gas_funds_is_refused_before_inclusion():
    sim = small_sim()
    sim.create_party("poor")
    sim.mint_raw("poor", "ETH", 46_000 * 21_000_000 - 1)  # one wei short of 46k x (2 x 1e7 + 1e6)
    cur = sim.event_cursor()
    rc = sim.compute.approve("poor", "USDC")
    assert (rc.status, rc.reason) == ("REJECTED", "INSUFFICIENT_GAS_FUNDS")
    assert sim.pending_transactions() == [] and sim.chain.nonces.get("poor", 0) == 0
    rej = [e for e in cur.read() if isinstance(e, TransactionRejected)]
    assert [(e.party, e.reason) for e in rej] == [("poor", "INSUFFICIENT_GAS_FUNDS")]
    sim.mint_raw("poor", "ETH", 1)  # now exactly enough: queued, executed
    rc = sim.compute.approve("poor", "USDC")
    assert rc.status == "PENDING"
    sim.forward_time(2.0)
    assert sim.receipt(rc.tx_id).status == "EXECUTED"


def test_same_seed_same_kpis_in_mempool_mode():
    _, a = run(hours=0.05)
    _, b = run(hours=0.05)
    assert a.error is None and a.kpis.keys() == b.kpis.keys()
    assert all(a.kpis[k] == b.kpis[k] or (math.isnan(a.kpis[k]) and math.isnan(b.kpis[k]))
               for k in a.kpis)
    assert a.kpis["gas_usd"] > 0


def _c_ref(**params):
    sc = SCEN(SCEN.Params(**SMALL, **params))
    sc.build(sc.make_simulation(seed=4))
    return sc.market.c_ref, sc.market.snapshot.prices["ETH"]


def test_value_base_fee_sets_the_fee_the_reference_costs_count_gas_at():
    """value_base_fee_wei: c_ref (so V, f, T) counts gas at that fee, not the chain's
    first base fee; apart from it c_ref moves by exactly units x delta fee x ETH."""
    low, eth = _c_ref(l2_base_fee_wei=10**7)
    high, eth_high = _c_ref(l2_base_fee_wei=10**10)
    fixed, _ = _c_ref(l2_base_fee_wei=10**10, value_base_fee_wei=10**7)
    assert eth == eth_high
    assert fixed == low  # the clients priced in the 1e7 regime
    units = GAS["escrow"] + GAS["commence"] + GAS["post_result"] + GAS["collect"]
    for cls, c in low.items():
        assert math.isclose(high[cls] - c, units * (10**10 - 10**7) * eth / WEI, rel_tol=1e-9)
