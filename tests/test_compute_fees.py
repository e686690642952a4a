"""The chain's EIP-1559 fee market against ``compute-marketplace.md`` 9(d) and 4.6: the
base fee over five blocks on a real chain, tips, ``fee_too_low``, the OP-stack preset,
the base-fee floor, the default wallet's tip, and the revert gas of a refused call."""

from __future__ import annotations

from typing import ClassVar

import pytest

from defisim.chain import FeeMarketParams, next_base_fee
from defisim.chain.events import BaseFeeUpdated
from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import EXECUTED, REJECTED, Receipt, Transaction
from defisim.service import Simulation

GWEI = 10**9


class Burner(ChainProtocol):
    """Calls that only use gas: ``g5`` 5M, ``g10`` 10M; ``no`` is always refused."""

    name: ClassVar[str] = "burner"
    gas: ClassVar[dict[str, int]] = {"g5": 5_000_000, "g10": 10_000_000, "no": 90_000}
    revert_gas: ClassVar[int | None] = 25_000

    def tx_g5(self, sender: str) -> Receipt:
        return Receipt(EXECUTED)

    def tx_g10(self, sender: str) -> Receipt:
        return Receipt(EXECUTED)

    def tx_no(self, sender: str) -> Receipt:
        return self.reject("no", sender, "refused", "always")


def _sim(**fm) -> Simulation:
    params = {"initial_base_fee": GWEI, "endowment": 100.0, **fm}
    sim = Simulation(protocols=[Burner()], execution="mempool", ordering="priority",
                     fee_market=params)
    sim.create_party("a")
    return sim


def _send(sim, call, **fees):
    return sim.send(Transaction("a", "burner", call, (), **fees))


def test_9d_base_fee_five_blocks_and_tips():
    sim = _sim(gas_limit=30_000_000, low_fee="reject")
    assert sim.base_fee(raw=True) == 1_000_000_000
    plan = {1: ["g10"] * 3, 2: ["g10", "g5"], 3: [], 4: ["g10", "g10"], 5: ["g10"]}
    expected = [1_125_000_000, 1_125_000_000, 984_375_000, 1_025_390_625, 982_666_016]
    tips = {}
    for block in range(1, 6):
        sent = []
        for i, call in enumerate(plan[block]):
            fees = {}
            if (block, i) in ((2, 1), (5, 0)):  # max_fee 1.2 gwei, tip 0.1 gwei
                fees = {"max_fee_per_gas": 1_200_000_000, "max_priority_fee_per_gas": 100_000_000}
            sent.append((i, _send(sim, call, **fees)))
        if block == 2:
            low = _send(sim, "g5", max_fee_per_gas=GWEI, max_priority_fee_per_gas=0)
            assert (low.status, low.reason) == (REJECTED, "FEE_TOO_LOW")
            assert sim.chain.mempool is not None and len(sim.pending_transactions()) == 2
        base = sim.base_fee(raw=True)
        sim.forward_time(2)
        for _i, r in sent:
            rc = sim.receipt(r.tx_id)
            if rc.tip:
                tips[block] = (base, (rc.fee_burned + rc.tip) // rc.gas_used, rc.tip // rc.gas_used)
    ups = [e for e in sim.chain.events if isinstance(e, BaseFeeUpdated)]
    assert [e.next_base_fee for e in ups] == expected
    assert [e.gas_used for e in ups] == [30_000_000, 15_000_000, 0, 20_000_000, 10_000_000]
    assert tips[2] == (1_125_000_000, 1_200_000_000, 75_000_000)
    assert tips[5] == (1_025_390_625, 1_125_390_625, 100_000_000)
    # 341,796,875 / 8 floored
    assert 1_025_390_625 - expected[4] == 42_724_609


def test_fee_too_low_costs_nothing_and_takes_no_nonce():
    sim = _sim(low_fee="reject", initial_base_fee=GWEI)
    before = sim.balance("a", "ETH", raw=True)
    r = _send(sim, "g5", max_fee_per_gas=GWEI - 1)
    assert (r.status, r.reason) == (REJECTED, "FEE_TOO_LOW")
    sim.forward_time(2)
    assert sim.balance("a", "ETH", raw=True) == before
    assert sim.chain.nonces.get("a", 0) == 0


def test_low_fee_waits_by_default():
    sim = _sim()
    r = _send(sim, "g5", max_fee_per_gas=GWEI - 1)
    assert r.status == "PENDING"
    sim.forward_time(2)
    assert len(sim.pending_transactions()) == 1  # waits for a lower base fee


def test_op_stack_preset_full_block():
    fm = FeeMarketParams.op_stack(initial_base_fee=10**7)
    assert (fm.elasticity, fm.base_fee_max_change_denominator) == (6, 250)
    assert fm.next_base_fee(10**7, fm.gas_limit) == 10_200_000
    sim = _sim(**fm.model_dump())
    for _ in range(3):
        _send(sim, "g10")
    sim.forward_time(2)
    assert sim.base_fee(raw=True) == 10_200_000


def test_base_fee_floor_and_default_tip():
    sim = _sim(initial_base_fee=10**7, min_base_fee=10**7, default_tip=10**6)
    for _ in range(5):  # empty blocks would lower it by 1/8 each
        sim.forward_time(2)
    assert sim.base_fee(raw=True) == 10**7
    r = _send(sim, "g5")
    assert sim.pending_transactions()[0].max_fee_per_gas == 2 * 10**7 + 10**6
    sim.forward_time(2)
    rc = sim.receipt(r.tx_id)
    assert (rc.fee_burned + rc.tip) == 5_000_000 * 11_000_000


def test_refused_call_pays_revert_gas_only():
    sim = _sim(initial_base_fee=10**7, min_base_fee=10**7, default_tip=10**6)
    before = sim.balance("a", "ETH", raw=True)
    r = _send(sim, "no")
    sim.forward_time(2)
    rc = sim.receipt(r.tx_id)
    assert (rc.status, rc.reason, rc.gas_used) == (REJECTED, "refused", 25_000)
    assert before - sim.balance("a", "ETH", raw=True) == 25_000 * 11_000_000


@pytest.mark.parametrize("base,used,target,denom,expected", [
    (10**9, 30_000_000, 15_000_000, 8, 1_125_000_000),
    (10**7, 30_000_000, 5_000_000, 250, 10_200_000),
    (1, 30_000_000, 15_000_000, 250, 2),  # at least +1 above target
])
def test_next_base_fee_denominator(base, used, target, denom, expected):
    assert next_base_fee(base, used, target, denom) == expected


def test_insufficient_gas_funds_is_dropped_free():
    sim = _sim(endowment=0.0)  # "a" holds no ETH at all
    r = _send(sim, "g5")
    sim.forward_time(2)
    rc = sim.receipt(r.tx_id)
    assert (rc.status, rc.reason, rc.gas_used) == ("DROPPED", "INSUFFICIENT_GAS_FUNDS", 0)
