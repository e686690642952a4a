"""Shared set-up of the compute marketplace's chain tests (spec 9(b), 9(c)): the vector's
terms and balances, blocks every 2 s, one action per block time."""

from __future__ import annotations

from defisim.chain import FeeMarketParams
from defisim.protocols.compute.types import Terms, fake_result_cid, result_cid
from defisim.service import Simulation

USDC = 10**6
JOB_CID = "job-9b"
GOOD = result_cid(JOB_CID)
FAKE = fake_result_cid(JOB_CID, "provider")
BASE_FEE, TIP = 10**7, 10**6
WEI = 10**18


def vector_terms(**changes) -> Terms:
    """9(b): P 100, D 5, T 3, m 50, N 2 (C 100), timeout 600 s, random(0.25), one
    mediator M1, f 2, mediation period 600 s (USDC base units)."""
    d = dict(price=100 * USDC, token="USDC", client_deposit=5 * USDC, timeout_s=600,
             timeout_deposit=3 * USDC, cheating_multiplier=50 * USDC, instruction_count=2,
             verification="random", check_probability=0.25, panel=1, threshold=1,
             mediators=("M1",), mediation_period_s=600, mediation_fee=2 * USDC)
    d.update(changes)
    return Terms(**d)


class World:
    """A simulation with the ``compute`` protocol and the vector's parties: client 1000,
    provider 500, M1 0 USDC. ``gas=True``: mempool mode with the fee market of 9(b)
    (base fee held at 1e7 wei by its floor, the default wallet's tip 1e6 wei)."""

    def __init__(self, gas: bool = True, seed: int = 0, params: dict | None = None,
                 parties: tuple[str, ...] = ("client", "provider", "M1")) -> None:
        from defisim.protocols.compute.protocol import ComputeProtocol

        proto = ComputeProtocol(params)
        if gas:
            fm = FeeMarketParams(initial_base_fee=BASE_FEE, min_base_fee=BASE_FEE, default_tip=TIP,
                                 low_fee="reject")
            self.sim = Simulation(seed=seed, protocols=[proto], execution="mempool",
                                  ordering="priority", fee_market=fm)
        else:
            self.sim = Simulation(seed=seed, protocols=[proto])
        self.gas = gas
        sim = self.sim
        sim.create_asset("USDC", 6)
        start = {"client": 1000, "provider": 500, "M1": 0}
        for p in parties:
            sim.create_party(p)
            if start.get(p, 0):
                sim.mint(p, "USDC", start[p])
        self.c = sim.compute
        self.receipts: list = []

    def goto(self, t: int) -> None:
        """Advance (2 s blocks) until the open block is at ``t`` seconds."""
        assert t >= self.sim.now and t % 2 == 0, t
        while self.sim.now < t:
            self.sim.forward_time(2)

    def at(self, t: int, *calls):
        """Send ``calls`` (thunks) in the block at ``t``, close it; returns their receipts
        (executed ones in mempool mode)."""
        self.goto(t)
        sent = [call() for call in calls]
        self.sim.forward_time(2)
        out = []
        for r in sent:
            if r.status == "PENDING":
                r = self.sim.receipt(r.tx_id)
            out.append(r)
        self.receipts.extend(out)
        return out if len(out) > 1 else out[0]

    def usdc(self, party: str) -> float:
        return self.sim.balance(party, "USDC")

    def balances(self) -> tuple[float, float, float]:
        return self.usdc("client"), self.usdc("provider"), self.usdc("M1")

    def total_usdc(self) -> int:
        return sum(b for k, b in self.sim.chain.ledger.balances.items() if k[2] == "USDC")

    def wei_spent(self, party: str) -> int:
        return WEI - self.sim.balance(party, "ETH", raw=True)

    def rejections(self) -> list[tuple[str, str]]:
        return [(e.tx, e.reason) for e in self.sim.chain.events if type(e).__name__ == "TransactionRejected"]
