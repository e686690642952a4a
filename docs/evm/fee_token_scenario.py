"""``fee_token``: a user's Solidity contract, compiled offline, inside a defisim run.

``docs/evm/FeeToken.sol`` (an OpenZeppelin 5 ERC20 that sends ``fee_bps`` of every
transfer between holders to a treasury) is compiled with the npm ``solc`` (solc-js)
by :func:`defisim.evm.solidity.compile_solidity` and deployed on the embedded EVM
through the ``evm`` protocol. Run it with::

    defisim run docs/evm/fee_token_scenario.py --steps 50

- the ``treasury`` party deploys the token (``supply`` tokens, minted to it) and gives
  each of ``holders`` parties ``allocation`` tokens (transfers from the treasury pay no
  fee);
- each step, holder ``i`` sends ``(i + 1) * amount`` tokens to holder ``i + 1`` (the
  last to the first), each transfer paying ``amount * fee_bps / 10000`` to the treasury;
- a ``pauper`` with no tokens tries to send ``amount`` tokens every ``pauper_every``
  steps: the ERC20 reverts and the chain records an ``EVM_REVERT`` rejection.

KPIs (tokens, not wei): ``treasury_balance``, ``total_fees`` (the contract's own
counter), ``fee_transfers``, ``transfers`` (executed), ``volume`` (tokens sent),
``reverts`` (the pauper's rejected transfers), ``supply`` (ERC20 totalSupply: constant).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from defisim.agents import Agent
from defisim.chain.transactions import EXECUTED
from defisim.scenarios import Scenario, ScenarioParams

if TYPE_CHECKING:
    from defisim.service import Simulation

SOURCE = Path(__file__).with_name("FeeToken.sol")
TOKEN = "FEE"  # the contract's label in the evm protocol
TREASURY = "treasury"
WEI = 10**18


class FeeTokenParams(ScenarioParams):
    """Parameters of ``fee_token`` (amounts in whole tokens of 18 decimals)."""

    steps: int | None = Field(50, ge=1)
    holders: int = Field(3, ge=2)
    """Holders passing tokens round a ring."""
    amount: int = Field(100, ge=1)
    """Holder ``i`` sends ``(i + 1) * amount`` tokens per step."""
    fee_bps: int = Field(30, ge=0, le=1000)
    """Transfer fee in basis points (the contract refuses more than 1000)."""
    supply: int = Field(1_000_000, ge=1)
    allocation: int = Field(10_000, ge=0)
    """Tokens the treasury gives each holder at the start."""
    pauper_every: int = Field(5, ge=1)
    """The pauper tries a transfer every this many steps (from the first)."""


class _Holder(Agent):
    """Sends ``amount_wei`` to ``to`` each step; counts what executed."""

    def __init__(self, name: str, to: str, amount_wei: int, every: int = 1) -> None:
        super().__init__(name)
        self.to, self.amount_wei, self.every = to, amount_wei, every
        self.steps = self.sent = self.rejected = 0
        self.sent_wei = 0

    def step(self, sim: Simulation) -> None:
        self.steps += 1
        if (self.steps - 1) % self.every:
            return
        tok = sim.evm.contract(TOKEN)
        rc = tok.transact("transfer", sim.evm.address_of(self.to), self.amount_wei,
                          sender=self.name)
        if rc.status == EXECUTED:
            self.sent += 1
            self.sent_wei += self.amount_wei
        else:
            self.rejected += 1


class FeeTokenScenario(Scenario):
    name = "fee_token"
    description = "An OpenZeppelin ERC20 with a transfer fee, compiled from Solidity, on the embedded EVM."
    Params = FeeTokenParams
    protocols = ("evm",)

    def build(self, sim: Simulation) -> list[Agent]:
        from defisim.evm.solidity import compile_solidity

        p = self.params
        artifact = compile_solidity(SOURCE)
        evm = sim.evm
        tok = evm.deploy(TOKEN, artifact, "Fee Token", "FEE", evm.address_of(TREASURY),
                         p.fee_bps, p.supply * WEI, sender=TREASURY)
        names = [f"holder{i}" for i in range(p.holders)]
        for n in names:
            tok.transact("transfer", evm.address_of(n), p.allocation * WEI, sender=TREASURY)
        self.agents = [_Holder(n, names[(i + 1) % len(names)], (i + 1) * p.amount * WEI)
                       for i, n in enumerate(names)]
        self.pauper = _Holder("pauper", names[0], p.amount * WEI, every=p.pauper_every)
        return [*self.agents, self.pauper]

    def kpis(self, sim: Simulation) -> dict[str, float]:
        tok = sim.evm.contract(TOKEN)
        return {
            "treasury_balance": tok.call("balanceOf", sim.evm.address_of(TREASURY)) / WEI,
            "total_fees": tok.call("totalFees") / WEI,
            "fee_transfers": float(tok.call("feeTransfers")),
            "transfers": float(sum(a.sent for a in self.agents)),
            "volume": sum(a.sent_wei for a in self.agents) / WEI,
            "reverts": float(self.pauper.rejected),
            "supply": tok.call("totalSupply") / WEI,
        }
