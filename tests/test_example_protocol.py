"""The constant-sum example protocol (``tests/example_protocols/constant_sum.py``): a
protocol added without a line of ``src/`` changing.

It is registered here, composed with the built-ins
(``Simulation(protocols=["governance", "futures", "constsum"])``) and driven through
its facade ``sim.constsum``. Every expected number is worked out by hand in the
comment next to it (USDC and USDT have 6 decimals, so 1 unit = 1_000_000 base units;
the pool's fee is 30 bps: ``fee = ceil(amount_in * 30 / 10_000)``).

Sections:

1. registration and composition; the example adds no line to ``src/``.
2. liquidity and swaps with hand-computed outputs, fees and shares; events.
3. rejections: an event with a reason code, nothing else changes.
4. invariants: conservation and the pool's own, and that they catch a broken pool.
5. mempool mode: the swap executes at the block close (fifo), gas, the fee market,
   bundles.
6. snapshots: ``state_snapshot`` / ``restore_state`` and ``Simulation.snapshot``.
7. governance, recording, and the futures market beside the pool.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from example_protocols.constant_sum import (
    GAS,
    NAME,
    ConstantSumFacade,
    ConstantSumPools,
    LiquidityAdded,
    LiquidityRemoved,
    PoolCreated,
    PoolFeeChanged,
    PoolView,
    Reason,
    Swapped,
    register,
    reserve,
)

from defisim import Simulation
from defisim.chain import (
    AssetCreated,
    BundleReverted,
    InvariantViolation,
    Issued,
    Transaction,
    TransactionIncluded,
    TransactionRejected,
    Transfer,
)
from defisim.chain.ledger import general
from defisim.protocols.futures import TradeExecuted
from defisim.service import PROTOCOLS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_protocols" / "constant_sum.py"
PROTOCOL_NAMES = ["governance", "futures", "constsum"]
U = 1_000_000  # base units per USDC / USDT
POOL = "CS"


@pytest.fixture(autouse=True)
def registered():
    """Register the example for one test, then put the registry back as it was (the
    registry is global and has no ``unregister``)."""
    saved = dict(PROTOCOLS)
    register()
    yield
    PROTOCOLS.clear()
    PROTOCOLS.update(saved)


def make_sim(**kwargs) -> Simulation:
    """Assets USDC and USDT (6 decimals), parties alice (10,000 of each), bob (1,000 of
    each) and carol (500 USDC), and the empty pool CS at 30 bps."""
    sim = Simulation(seed=1, protocols=PROTOCOL_NAMES, **kwargs)
    sim.create_asset("USDC", 6)
    sim.create_asset("USDT", 6)
    for party, usdc, usdt in (("alice", 10_000, 10_000), ("bob", 1_000, 1_000), ("carol", 500, 0)):
        sim.create_party(party)
        sim.mint(party, "USDC", usdc)
        if usdt:
            sim.mint(party, "USDT", usdt)
    sim.constsum.create_pool(POOL, "USDC", "USDT", fee_bps=30)
    return sim


def funded_pool(**kwargs) -> Simulation:
    """:func:`make_sim` with alice's 1,000 USDC + 1,000 USDT in the pool."""
    sim = make_sim(**kwargs)
    rc = sim.constsum.add_liquidity("alice", POOL, 1_000, 1_000)
    if sim.execution == "mempool":
        sim.forward_time(1)
        rc = sim.receipt(rc.tx_id)
    assert rc.accepted
    return sim


def state(sim: Simulation) -> tuple:
    """Everything a rejected transaction must leave alone: balances, supplies, pools."""
    led = sim.chain.ledger
    return dict(led.balances), dict(led.supply), sim.constsum.pool_view(POOL)


# ---------------------------------------------------------------------- 1. composition
def test_the_facade_and_the_protocol_are_reached_by_name():
    sim = make_sim()
    assert sim.protocols == PROTOCOL_NAMES
    assert isinstance(sim.constsum, ConstantSumFacade)
    assert isinstance(sim.chain.protocol(NAME), ConstantSumPools)
    assert sim.constsum.pools == [POOL]
    v = sim.constsum.pool_view(POOL)
    assert isinstance(v, PoolView)
    assert (v.asset_a, v.asset_b, v.lp_asset, v.fee_bps, v.fee) == ("USDC", "USDT", "CS-LP", 30, 0.003)
    assert (v.reserve_a_raw, v.reserve_b_raw, v.lp_supply_raw, v.swaps) == (0, 0, 0, 0)
    with pytest.raises(AttributeError):
        v.reserve_a = 1.0  # a view is read-only


def test_pool_creation_is_a_set_up_call_that_raises_on_bad_input():
    sim = make_sim()
    sim.create_asset("WBTC", 8)
    bad = [
        (("CS", "USDC", "USDT"), "already exists"),
        (("P2", "USDC", "DAI"), "unknown asset 'DAI'"),
        (("P2", "USDC", "USDC"), "two different assets"),
        (("P2", "USDC", "WBTC"), "equal decimals"),
        (("", "USDC", "USDT"), "non-empty"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError, match=message):
            sim.constsum.create_pool(*args)
    for fee in (-1, 10_000, 2.5):
        with pytest.raises(ValueError, match="fee_bps"):
            sim.constsum.create_pool("P3", "USDC", "USDT", fee_bps=fee)
    assert sim.constsum.pools == [POOL]
    assert "P3-LP" not in sim.chain.ledger.assets


def test_pool_creation_emits_the_share_asset_and_the_pool():
    sim = make_sim()
    cursor = sim.event_cursor()
    sim.constsum.create_pool("P2", "USDT", "USDC", fee_bps=5)
    events = cursor.read()
    assert [type(e) for e in events] == [AssetCreated, PoolCreated]
    assert (events[0].asset, events[0].decimals) == ("P2-LP", 6)
    p = events[1]
    assert (p.market, p.asset_a, p.asset_b, p.fee_bps, p.lp_asset) == ("P2", "USDT", "USDC", 5, "P2-LP")


def test_unregistered_name_is_unknown():
    PROTOCOLS.pop(NAME)
    with pytest.raises(KeyError, match="unknown protocol 'constsum'"):
        Simulation(protocols=PROTOCOL_NAMES)


def test_the_example_imports_only_the_chain_and_the_service():
    """It depends on no other protocol (and no layer above the service); the numeric
    foundation under the chain is shared by every protocol."""
    tree = ast.parse(EXAMPLE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("defisim"):
            imported.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            imported.update(a.name.split(".")[1] for a in node.names if a.name.startswith("defisim."))
    assert imported == {"numeric", "chain", "service"}


def test_the_example_adds_no_line_to_src_python_scan():
    """Nothing under ``src/`` names the example (a plain scan: no git needed)."""
    hits = [f"{p.relative_to(ROOT)}" for p in (ROOT / "src").rglob("*")
            if p.is_file() and p.suffix in (".py", ".toml", ".md", ".txt", ".json", ".cfg")
            and ("constsum" in p.read_text(errors="replace")
                 or "example_protocols" in p.read_text(errors="replace"))]
    assert hits == []


def test_the_example_adds_no_line_to_src_git_grep():
    """``git grep -n constsum -- src`` (tracked and untracked files) finds nothing."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    inside = subprocess.run([git, "rev-parse", "--is-inside-work-tree"], cwd=ROOT,
                            capture_output=True, text=True)
    if inside.returncode != 0:
        pytest.skip("not a git work tree")
    r = subprocess.run([git, "grep", "-n", "--untracked", "-e", "constsum", "--", "src"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 1, f"src/ names the example protocol:\n{r.stdout}{r.stderr}"
    assert r.stdout == ""


# ---------------------------------------------------------------------- 2. liquidity, swaps
def test_first_deposit_issues_one_share_per_unit():
    sim = make_sim()
    cursor = sim.event_cursor()
    rc = sim.constsum.add_liquidity("alice", POOL, 1_000, 1_000)
    # first deposit: shares = amount_a + amount_b = 2,000 units
    assert rc.accepted and rc.status == "EXECUTED" and rc.value == 2_000 * U
    v = sim.constsum.pool_view(POOL)
    assert (v.reserve_a_raw, v.reserve_b_raw, v.lp_supply_raw) == (1_000 * U, 1_000 * U, 2_000 * U)
    assert (v.reserve_a, v.reserve_b, v.k, v.lp_supply) == (1_000.0, 1_000.0, 2_000.0, 2_000.0)
    assert sim.balance("alice", "USDC") == 9_000 and sim.balance("alice", "CS-LP") == 2_000
    assert sim.balance("", "USDC", account="constsum_reserve", market=POOL, raw=True) == 1_000 * U
    events = cursor.read()
    assert [type(e) for e in events] == [Transfer, Transfer, Issued, LiquidityAdded]
    assert events[0].source == general("alice", "USDC") and events[0].destination == reserve(POOL, "USDC")
    assert events[2].account == general("alice", "CS-LP") and events[2].amount == 2_000 * U
    added = events[3]
    assert (added.market, added.party, added.amount_a, added.amount_b, added.shares) == (
        POOL, "alice", 1_000 * U, 1_000 * U, 2_000 * U)
    assert (added.block, added.time_ns) == (sim.block, sim.now_ns)


def test_swaps_pay_amount_in_minus_the_fee_rounded_up():
    sim = funded_pool()
    cursor = sim.event_cursor()
    # 100 USDC in: fee = ceil(100_000_000 * 30 / 10_000) = 300_000; out = 99_700_000
    assert sim.constsum.quote(POOL, "USDC", 100) == 99.7
    rc = sim.constsum.swap("bob", POOL, "USDC", 100, min_amount_out=99.7)
    assert rc.accepted and rc.value == 99_700_000
    assert sim.balance("bob", "USDC", raw=True) == 900 * U
    assert sim.balance("bob", "USDT", raw=True) == 1_099_700_000
    v = sim.constsum.pool_view(POOL)
    # the whole 100 USDC stays in the pool; 99.7 USDT leaves it
    assert (v.reserve_a_raw, v.reserve_b_raw) == (1_100_000_000, 900_300_000)
    events = cursor.read()
    assert [type(e) for e in events] == [Transfer, Transfer, Swapped]
    s = events[2]
    assert (s.market, s.party, s.asset_in, s.amount_in, s.asset_out, s.amount_out, s.fee) == (
        POOL, "bob", "USDC", 100 * U, "USDT", 99_700_000, 300_000)

    # 1.000001 USDT in: fee = ceil(1_000_001 * 30 / 10_000) = ceil(3_000.003) = 3_001;
    # out = 1_000_001 - 3_001 = 997_000
    rc = sim.constsum.swap_raw("bob", POOL, "USDT", 1_000_001, 997_000)
    assert rc.accepted and rc.value == 997_000
    v = sim.constsum.pool_view(POOL)
    assert (v.reserve_a_raw, v.reserve_b_raw) == (1_100_000_000 - 997_000, 900_300_000 + 1_000_001)
    # k grew by exactly the fees: 2_000_000_000 + 300_000 + 3_001
    assert v.reserve_a_raw + v.reserve_b_raw == 2_000_303_001
    assert (v.swaps, v.fees, v.volume) == (2, 0.303001, 101.000001)


def test_later_deposits_and_withdrawals_share_the_fees():
    sim = funded_pool()
    sim.constsum.swap("bob", POOL, "USDC", 100)  # k = 2_000_300_000 (fee 300_000)
    # carol deposits 100 USDC: shares = 100_000_000 * 2_000_000_000 // 2_000_300_000
    #   = 200_000_000_000_000_000 // 2_000_300_000 = 99_985_002 (99_985_002.249...)
    rc = sim.constsum.add_liquidity("carol", POOL, 100, 0)
    assert rc.accepted and rc.value == 99_985_002
    v = sim.constsum.pool_view(POOL)
    assert (v.reserve_a_raw, v.reserve_b_raw, v.lp_supply_raw) == (1_200_000_000, 900_300_000, 2_099_985_002)

    # alice withdraws half her shares (1_000_000_000):
    #   USDC: 1_000_000_000 * 1_200_000_000 // 2_099_985_002 = 571_432_652 (571_432_652.5...)
    #   USDT: 1_000_000_000 *   900_300_000 // 2_099_985_002 = 428_717_347 (428_717_347.5...)
    cursor = sim.event_cursor()
    rc = sim.constsum.remove_liquidity("alice", POOL, 1_000)
    assert rc.accepted and rc.value == (571_432_652, 428_717_347)
    events = cursor.read()
    assert isinstance(events[-1], LiquidityRemoved)
    assert (events[-1].shares, events[-1].amount_a, events[-1].amount_b) == (1_000 * U, 571_432_652, 428_717_347)
    assert sim.balance("alice", "CS-LP", raw=True) == 1_000 * U
    # these shares are worth 1_000_000_000 * k // supply = 1_000_150_000 base units of k
    # (the 1,000 units she put in for them plus their part of the fee); rounding each
    # asset down pays 1_000_149_999 and keeps one base unit in the pool
    assert 1_000_000_000 * 2_100_300_000 // 2_099_985_002 == 1_000_150_000
    assert 571_432_652 + 428_717_347 == 1_000_149_999

    # the last holders take everything: the pool ends empty, rounding dust included
    assert sim.constsum.remove_liquidity_raw("alice", POOL, 1_000 * U).accepted
    assert sim.constsum.remove_liquidity_raw("carol", POOL, 99_985_002).accepted
    v = sim.constsum.pool_view(POOL)
    assert (v.reserve_a_raw, v.reserve_b_raw, v.lp_supply_raw) == (0, 0, 0)
    assert sim.chain.ledger.supply["CS-LP"] == 0
    # nothing was created or lost: every USDC and USDT is back with a party
    for asset in ("USDC", "USDT"):
        held = sum(sim.balance(p, asset, raw=True) for p in ("alice", "bob", "carol"))
        assert held == sim.chain.ledger.supply[asset]
    sim.forward_time(1)


def test_zero_fee_pool_swaps_one_for_one():
    sim = make_sim()
    sim.constsum.create_pool("FREE", "USDT", "USDC", fee_bps=0)
    sim.constsum.add_liquidity("alice", "FREE", 50, 50)
    assert sim.constsum.swap_raw("bob", "FREE", "USDC", 7, 7).value == 7


# ---------------------------------------------------------------------- 3. rejections
REJECTED_SWAPS = [
    # (party, pool, asset_in, amount_in (raw), min_out (raw), reason)
    # 10 USDC pays out 9.97 (fee 0.03) < 9.98
    ("bob", POOL, "USDC", 10 * U, 9_980_000, Reason.SLIPPAGE),
    # 2,000 USDC would pay out 1,994 USDT; the pool holds 1,000
    ("alice", POOL, "USDC", 2_000 * U, 0, Reason.INSUFFICIENT_LIQUIDITY),
    ("carol", POOL, "USDT", U, 0, Reason.INSUFFICIENT_FUNDS),  # carol holds no USDT
    ("bob", POOL, "USDC", 1_000 * U + 1, 0, Reason.INSUFFICIENT_FUNDS),
    ("bob", "NOPE", "USDC", U, 0, Reason.POOL_NOT_FOUND),
    ("bob", POOL, "CS-LP", U, 0, Reason.ASSET_NOT_IN_POOL),
    ("ghost", POOL, "USDC", U, 0, Reason.PARTY_NOT_FOUND),
    ("bob", POOL, "USDC", 1, 0, Reason.AMOUNT_TOO_SMALL),  # fee ceil(0.003) = 1 takes it all
    ("bob", POOL, "USDC", 0, 0, Reason.INVALID_AMOUNT),
    ("bob", POOL, "USDC", -5, 0, Reason.INVALID_AMOUNT),
    ("bob", POOL, "USDC", 1.5, 0, Reason.INVALID_AMOUNT),  # raw amounts are integers
    ("bob", POOL, "USDC", True, 0, Reason.INVALID_AMOUNT),
    ("bob", POOL, "USDC", U, -1, Reason.INVALID_AMOUNT),
]


@pytest.mark.parametrize("party,pool,asset,amount,min_out,reason", REJECTED_SWAPS)
def test_a_rejected_swap_is_an_event_and_changes_nothing(party, pool, asset, amount, min_out, reason):
    sim = funded_pool()
    before = state(sim)
    cursor = sim.event_cursor()
    # the raw transaction, as replay, the fuzzer or the remote API send it
    rc = sim.send(Transaction(party, NAME, "swap", (pool, asset, amount, min_out)))
    assert not rc.accepted and rc.status == "REJECTED" and rc.reason == reason
    events = cursor.read()
    assert len(events) == 1 and isinstance(events[0], TransactionRejected)
    ev = events[0]
    assert (ev.tx, ev.party, ev.market, ev.reason) == ("swap", party, pool, reason)
    assert ev.detail and ev.detail == rc.detail
    assert state(sim) == before
    sim.forward_time(1)  # invariants hold


@pytest.mark.parametrize("call,args,reason", [
    ("add_liquidity", ("bob", POOL, float("nan"), 1), Reason.INVALID_AMOUNT),
    ("add_liquidity", ("bob", POOL, -1, 1), Reason.INVALID_AMOUNT),
    ("add_liquidity", ("bob", POOL, 0, 0), Reason.INVALID_AMOUNT),
    ("add_liquidity", ("bob", POOL, 1_001, 0), Reason.INSUFFICIENT_FUNDS),
    ("add_liquidity", ("bob", "NOPE", 1, 1), Reason.POOL_NOT_FOUND),
    ("remove_liquidity", ("bob", POOL, 1), Reason.INSUFFICIENT_FUNDS),  # bob has no shares
    ("remove_liquidity", ("alice", POOL, 0), Reason.INVALID_AMOUNT),
    ("remove_liquidity", ("alice", POOL, float("inf")), Reason.INVALID_AMOUNT),
    ("swap", ("bob", POOL, "USDC", "ten"), Reason.INVALID_AMOUNT),
    ("swap", ("bob", "NOPE", "USDC", 1), Reason.POOL_NOT_FOUND),
])
def test_the_facade_rejects_what_cannot_be_converted(call, args, reason):
    sim = funded_pool()
    before = state(sim)
    cursor = sim.event_cursor()
    rc = getattr(sim.constsum, call)(*args)
    assert not rc.accepted and rc.reason == reason
    assert [(type(e), e.reason) for e in cursor.read()] == [(TransactionRejected, reason)]
    assert state(sim) == before


def test_human_amounts_convert_exactly():
    sim = funded_pool()
    # 0.1 + 0.2 is 0.30000000000000004 as a float: the nearest base unit is 300_000
    assert sim.constsum.swap("bob", POOL, "USDC", 0.1 + 0.2).value == 300_000 - 900
    from decimal import Decimal

    assert sim.constsum.swap("bob", POOL, "USDC", Decimal("1.000001")).value == 1_000_001 - 3_001


# ---------------------------------------------------------------------- 4. invariants
def test_conservation_and_pool_invariants_hold_at_block_end():
    sim = funded_pool()
    sim.constsum.swap("bob", POOL, "USDC", 100)
    sim.constsum.add_liquidity("carol", POOL, 100, 0)
    sim.forward_time(1)  # checks every invariant at the block end
    led = sim.chain.ledger
    assert sim.chain.invariant_errors() == []
    minted = {"USDC": 11_500 * U, "USDT": 11_000 * U}
    for asset, total in minted.items():
        held = sum(b for k, b in led.accounts() if k[2] == asset)
        assert held == led.supply[asset] == total
    assert led.supply["CS-LP"] == sim.constsum.pool_view(POOL).lp_supply_raw


def test_a_broken_pool_is_an_invariant_violation():
    sim = funded_pool()
    sim.chain.protocol(NAME).pools[POOL].reserve_a += 1  # a bug: recorded != held
    with pytest.raises(InvariantViolation) as exc:
        sim.forward_time(1)
    assert exc.value.violations == [
        f"constsum pool {POOL}: reserve account holds {1_000 * U} USDC, recorded reserve is {1_000 * U + 1}"]


def test_shares_minted_outside_the_pool_break_its_share_invariant():
    """The faucet can mint any ledger asset, the share asset too; the pool's invariant
    notices that its shares are no longer all its own."""
    sim = funded_pool()
    sim.mint("bob", "CS-LP", 1)
    with pytest.raises(InvariantViolation, match="CS-LP supply is 2001000000, recorded shares 2000000000"):
        sim.forward_time(1)


# ---------------------------------------------------------------------- 5. mempool mode
def test_mempool_fifo_swap_executes_at_the_block_close():
    sim = funded_pool(execution="mempool", ordering="fifo")
    before = state(sim)
    rc = sim.constsum.swap("bob", POOL, "USDC", 100, 99.7)
    assert rc.pending and rc.tx_id > 0
    assert state(sim) == before  # nothing moves before the block closes
    assert [(t.protocol, t.call, t.args) for t in sim.pending_transactions()] == [
        (NAME, "swap", (POOL, "USDC", 100 * U, 99_700_000))]
    cursor = sim.event_cursor()
    sim.forward_time(1)
    receipt = sim.receipt(rc.tx_id)
    assert receipt.status == "EXECUTED" and receipt.gas_used == GAS["swap"]
    assert receipt.value == 99_700_000  # the protocol's own receipt, filled in by the chain
    assert sim.balance("bob", "USDT", raw=True) == 1_099_700_000
    kinds = [type(e) for e in cursor.read()]
    assert kinds.index(Swapped) < kinds.index(TransactionIncluded)


def test_mempool_fifo_order_decides_who_gets_the_liquidity():
    """The first swap (fifo) drains the pool; the second, valid when sent, is rejected
    when its turn comes."""
    sim = make_sim(execution="mempool", ordering="fifo")
    sim.constsum.add_liquidity("alice", POOL, 100, 100)
    sim.forward_time(1)
    first = sim.constsum.swap("bob", POOL, "USDC", 80)  # pays 79.76 USDT: 20.24 left
    second = sim.constsum.swap("carol", POOL, "USDC", 30)  # would pay 29.91
    cursor = sim.event_cursor()
    sim.forward_time(1)
    assert sim.receipt(first.tx_id).status == "EXECUTED"
    r2 = sim.receipt(second.tx_id)
    assert (r2.status, r2.reason) == ("REJECTED", Reason.INSUFFICIENT_LIQUIDITY)
    assert r2.gas_used == GAS["swap"]  # a rejected transaction still uses its gas
    included = [e for e in cursor.read() if isinstance(e, TransactionIncluded)]
    assert [(e.sender, e.status, e.reason) for e in included] == [
        ("bob", "EXECUTED", ""), ("carol", "REJECTED", Reason.INSUFFICIENT_LIQUIDITY)]
    v = sim.constsum.pool_view(POOL)
    assert (v.reserve_a_raw, v.reserve_b_raw) == (180 * U, 20_240_000)
    assert sim.balance("carol", "USDC") == 500


def test_mempool_priority_pays_gas_in_the_native_asset():
    fees = {"native_decimals": 0, "initial_base_fee": 1_000, "gas_limit": 30_000_000,
            "endowment": 10**12}
    sim = funded_pool(execution="mempool", ordering="priority", fee_market=fees)
    eth_before = sim.balance("bob", "ETH", raw=True)
    base_fee = sim.base_fee(raw=True)
    rc = sim.constsum.swap("bob", POOL, "USDC", 100)
    sim.forward_time(1)
    receipt = sim.receipt(rc.tx_id)
    assert receipt.status == "EXECUTED"
    assert (receipt.gas_used, receipt.fee_burned, receipt.tip) == (75_000, 75_000 * base_fee, 0)
    assert sim.balance("bob", "ETH", raw=True) == eth_before - 75_000 * base_fee


def test_a_bundle_with_a_rejected_swap_reverts_whole():
    sim = funded_pool(execution="mempool", ordering="fifo")
    before = state(sim)
    f = sim.constsum
    bundle = [f.swap_tx("bob", POOL, "USDC", 10 * U, 0),  # fine alone
              f.swap_tx("bob", POOL, "USDT", 10 * U, 10 * U)]  # SLIPPAGE: pays 9.97
    rc = sim.send_bundle(bundle)
    cursor = sim.event_cursor()
    sim.forward_time(1)
    events = cursor.read()
    reverted = [e for e in events if isinstance(e, BundleReverted)]
    assert [(e.failed_index, e.reason) for e in reverted] == [(1, Reason.SLIPPAGE)]
    assert not any(isinstance(e, Swapped) for e in events)
    assert state(sim)[:2] == before[:2] and sim.constsum.pool_view(POOL) == before[2]
    assert {sim.receipt(t.tx_id).status for t in bundle} == {"REVERTED"}
    assert rc.value > 0


# ---------------------------------------------------------------------- 6. snapshots
def test_state_snapshot_round_trips_the_pool():
    sim = funded_pool()
    snap = sim.chain.state_snapshot()
    before = state(sim)
    first = sim.constsum.swap("bob", POOL, "USDC", 100).value
    sim.constsum.add_liquidity("carol", POOL, 100, 0)
    assert state(sim) != before
    sim.chain.restore_state(snap)
    assert state(sim) == before
    assert sim.chain.invariant_errors() == []
    # the snapshot can be restored again, and the same swap gives the same result
    assert sim.constsum.swap("bob", POOL, "USDC", 100).value == first
    sim.chain.restore_state(snap)
    assert state(sim) == before
    sim.forward_time(1)


def test_a_forked_simulation_has_its_own_pool():
    sim = funded_pool()
    fork = sim.snapshot()
    fork.constsum.swap("bob", POOL, "USDC", 100)
    assert fork.constsum.pool_view(POOL).swaps == 1
    assert sim.constsum.pool_view(POOL).swaps == 0
    assert fork.constsum.protocol is fork.chain.protocol(NAME)
    fork.forward_time(1)
    sim.forward_time(1)


# ---------------------------------------------------------------------- 7. the rest
def test_governance_changes_the_fee_without_either_protocol_importing_the_other():
    sim = funded_pool()
    t = sim.now_ns + 2_000_000_000
    pid = sim.send(Transaction("alice", "governance", "propose",
                               (NAME, {"action": "set_fee", "market": POOL, "fee_bps": 100}, t)))
    assert pid > 0
    cursor = sim.event_cursor()
    bad = sim.send(Transaction("alice", "governance", "propose",
                               (NAME, {"action": "set_fee", "market": POOL, "fee_bps": 10_000}, t)))
    assert bad == 0
    assert [(e.reason, e.market) for e in cursor.read()] == [("INVALID_PROPOSAL", POOL)]
    sim.forward_time(1)
    assert sim.constsum.pool_view(POOL).fee_bps == 30
    sim.forward_time(1)  # the block at t enacts it before any other begin-block hook
    assert sim.constsum.pool_view(POOL).fee_bps == 100
    assert [e for e in cursor.read() if isinstance(e, PoolFeeChanged)][0].old_fee_bps == 30
    # 10 USDC at 100 bps: fee 0.1, out 9.9
    assert sim.constsum.swap("bob", POOL, "USDC", 10).value == 9_900_000


def test_the_run_recorder_writes_the_pool_table_and_kpis():
    from defisim.runner.recorder import Recorder, protocol_tables
    from defisim.store import RunStore

    assert "constsum_pools" in protocol_tables(PROTOCOL_NAMES)
    sim = make_sim()
    store = RunStore(":memory:")
    rec = Recorder(store)
    rec.record_step(0, sim, None)
    sim.constsum.add_liquidity("alice", POOL, 1_000, 1_000)
    sim.constsum.swap("bob", POOL, "USDC", 100)
    sim.forward_time(1)
    rec.record_step(1, sim, None, final=True)
    rec.close()
    assert store.query("SELECT step, pool, reserve_a, reserve_b, lp_supply, swaps "
                       "FROM constsum_pools ORDER BY step") == [
        (0, POOL, 0.0, 0.0, 0.0, 0), (1, POOL, 1_100.0, 900.3, 2_000.0, 1)]
    assert store.query("SELECT value FROM kpis WHERE step = 1 AND market = ? AND name = 'fees'",
                       [POOL]) == [(0.3,)]
    assert store.query("SELECT count(*) FROM events WHERE type = 'Swapped' AND market = ? "
                       "AND party = 'bob'", [POOL]) == [(1,)]
    assert rec.last_kpis[f"{POOL}.k"] == 2_000.3
    assert sum(r.counters().get("swaps", 0) for r in rec.recordings) == 1
    store.close()


def test_the_futures_market_still_works_beside_the_pool():
    sim = funded_pool()
    sim.create_asset("USD", 0)
    for p in ("a", "b"):
        sim.create_party(p)
        sim.mint(p, "USD", 10_000)
    sim.futures.create_market(
        market_id="M", asset="USD", opening_auction_duration_s=0,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        fees={"maker": 0, "infrastructure": 0, "liquidity": 0}, mark_price_frequency_s=0)
    cursor = sim.event_cursor()
    assert sim.futures.submit_order("a", "M", "buy", 1, 100).accepted
    assert sim.futures.submit_order("b", "M", "sell", 1, 100).accepted
    assert sim.constsum.swap("bob", POOL, "USDT", 5).accepted  # same block
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE"
    assert sim.futures.position("a", "M") == 1 and sim.futures.position("b", "M") == -1
    assert sim.futures.trade_count("M") == 1
    assert sim.constsum.pool_view(POOL).swaps == 1
    assert sim.chain.invariant_errors() == []
    kinds = {type(e) for e in cursor.read()}
    assert {TradeExecuted, Swapped} <= kinds
    # the pool's accounts are not the futures protocol's: a's equity is its own money
    assert sim.equity("a", "USD") == 10_000
