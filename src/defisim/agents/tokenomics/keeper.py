"""A keeper that pokes token-economy components every step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from defisim.agents.base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation

CALLS = {"disburse": 1, "mint_due": 1, "route": 2, "release": 2, "claim": 1}
"""The calls a keeper makes, with their number of arguments after the party."""


class KeeperAgent(Agent):
    """Each step, send ``calls`` in order through ``sim.tokenomics`` (the components'
    permissionless transactions): ``("disburse", grant_id)``, ``("mint_due",
    minter_id)``, ``("route", router_id, asset)``, ``("release", wallet_id, asset)``,
    ``("claim", pool_id)``. A call with nothing due moves 0. TokenSPICE's grant givers,
    minters and routers act in their own steps; in defisim a keeper (or several, in
    the netlist's agent order) makes the same calls. ``receipts`` keeps the last
    step's receipts.

    Args:
        phase: the agent's phase (lower phases act first within a step).

    Raises:
        ValueError: an unknown call or a wrong number of arguments.
    """

    def __init__(self, name: str, calls: list[tuple[Any, ...]], phase: int = 1) -> None:
        super().__init__(name)
        for c in calls:
            if not c or c[0] not in CALLS or len(c) != CALLS[c[0]] + 1:
                raise ValueError(f"{name}: bad call {c!r}; known: {CALLS} (call, *args)")
        self.calls = [tuple(c) for c in calls]
        self.phase = phase
        self.receipts: list[Any] = []

    def initialise(self, sim: Simulation) -> None:
        if self.name not in sim.parties:
            sim.create_party(self.name)

    def step(self, sim: Simulation) -> None:
        t = sim.tokenomics
        self.receipts = [getattr(t, call)(self.name, *args) for call, *args in self.calls]
