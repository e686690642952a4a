"""The L2's system party of a fee-market run of the compute marketplace (spec 4.6, 6).

:class:`ChainLoadAgent` (phase 0) sends, each block (one per runner step), one
``use_gas`` transaction of the block's background demand (spec 6, "L2 base fee"):

``G_bg = min(gas_limit, round(G* exp(sigma_D eps - sigma_D^2/2) (b/b_ref)^(-e)))``

with ``b`` the chain's base fee of the block, ``eps ~ N(0, 1)`` from the run's
``global.l2_fee`` stream (:class:`~.base_fee.BackgroundDemand`), ``G*`` and the limit
from the chain's fee market, ``b_ref`` its initial base fee. Its tip
(:data:`BACKGROUND_TIP`, above the wallets' 1e6 wei) puts it first in the block under
``priority`` ordering (and it arrives first in phase 0), so the marketplace's
transactions go in after it while they fit and the chain's base fee follows spec 6's
process. With the L1 data fee on it also posts the global state's L1 base fee to the
compute protocol (``set_l1_base_fee``) whenever it changed (each 12 s L1 block; read
from the snapshot, so at most one step late), as OP's system transaction updates
``L1Block``. Its ETH (``eth``, default 1e6) is minted at the start. It keeps the sum
of the base fees of the blocks it saw (:attr:`fee_sum_wei`, :attr:`blocks`), so a
scenario can report the realised mean base fee (:meth:`mean_base_fee_wei`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.agents.base import Agent
from defisim.chain.transactions import Transaction

from .base_fee import BackgroundDemand, FeeRule
from .market import Market

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["BACKGROUND_TIP", "ChainLoadAgent"]

BACKGROUND_TIP = 10_000_000
"""Tip per gas of the background demand, wei (ten times the default wallet's)."""


class ChainLoadAgent(Agent):
    """Background demand and the L1 fee oracle (module docstring).

    Args:
        market: the shared :class:`Market` (its snapshot's L1 base fee).
        sigma_d, e: spec 6's demand volatility and elasticity (>= 0).
        post_l1: post the L1 base fee (the L1 data fee is on).
        background: send the background demand (off: an empty chain but for the
            marketplace).
        eth: ETH minted to the party. name: the party (the L1 oracle of the compute
            protocol's parameters).

    Raises:
        ValueError: negative ``sigma_d``, ``e`` or ``eth``; at ``initialise``, a chain
            without a fee market.
    """

    phase = 0

    def __init__(self, market: Market, *, sigma_d: float = 0.3, e: float = 1.0,
                 post_l1: bool = False, background: bool = True, eth: float = 1e6,
                 name: str = "l2_system") -> None:
        super().__init__(name)
        if sigma_d < 0 or e < 0 or eth < 0:
            raise ValueError(f"sigma_d, e and eth must be >= 0, got {sigma_d}, {e}, {eth}")
        self.market, self.sigma_d, self.e = market, float(sigma_d), float(e)
        self.post_l1, self.background, self.eth = bool(post_l1), bool(background), float(eth)
        self.demand: BackgroundDemand | None = None
        self.posted_l1: int | None = None
        self.last_gas = 0  # the background gas of the latest block
        self.fee_sum_wei, self.blocks = 0, 0  # base fees of the blocks stepped, wei

    def initialise(self, sim: Simulation) -> None:
        fm = sim.fee_market
        if fm is None:
            raise ValueError("ChainLoadAgent needs the chain's fee market (execution='mempool')")
        sim.create_party(self.name)
        if self.eth > 0:
            sim.mint(self.name, fm.native_asset, self.eth)
        rule = FeeRule(gas_limit=fm.gas_limit, elasticity=fm.elasticity,
                       denom=fm.base_fee_max_change_denominator,
                       b0=max(fm.initial_base_fee, 1), min_base_fee=fm.min_base_fee)
        self.demand = BackgroundDemand(rule, sim.rng("global.l2_fee"), self.sigma_d, self.e)

    def mean_base_fee_wei(self) -> float:
        """The mean base fee (wei per gas) of the blocks this agent stepped in; nan
        before the first."""
        return self.fee_sum_wei / self.blocks if self.blocks else float("nan")

    def step(self, sim: Simulation) -> None:
        b = int(sim.base_fee(raw=True))
        self.fee_sum_wei += b
        self.blocks += 1
        if self.background and self.demand is not None:
            gas = self.demand.draw(b)
            self.last_gas = gas
            if gas > 0:
                sim.send(Transaction(self.name, "", "use_gas", (gas,),
                                     max_priority_fee_per_gas=BACKGROUND_TIP))
        if self.post_l1:
            l1 = int(self.market.snapshot.l1_base_fee)
            if l1 != self.posted_l1:
                sim.send(Transaction(self.name, "compute", "set_l1_base_fee", (l1,),
                                     max_priority_fee_per_gas=BACKGROUND_TIP))
                self.posted_l1 = l1
