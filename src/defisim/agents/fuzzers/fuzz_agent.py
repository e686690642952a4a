"""The fuzz agent: Poisson-many random transactions of its profile per wake-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Agent
from .draws import RngDraw
from .generator import PROFILE_KINDS, PROFILES, TxGenerator

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .context import FuzzContext


class FuzzAgent(Agent):
    """Sends ``Poisson(rate)`` random transactions of its ``profile`` per wake-up.

    The party id is the agent's name (created and funded by the scenario). Every
    transaction goes through the context's :class:`TxLog`.

    Args:
        name: agent and party name.
        profile: one of :data:`PROFILES`.
        ctx: the shared :class:`FuzzContext`.
        rate: mean transactions per step.
    """

    def __init__(self, name: str, profile: str, ctx: FuzzContext, rate: float = 1.0) -> None:
        super().__init__(name)
        if profile not in PROFILE_KINDS:
            raise ValueError(f"unknown fuzz profile {profile!r}; use one of {', '.join(PROFILES)}")
        if not rate >= 0:
            raise ValueError(f"{name}: rate must be >= 0, got {rate!r}")
        self.profile = profile
        self.ctx = ctx
        self.rate = float(rate)
        self.gen = TxGenerator(ctx)
        self.sent = 0

    def step(self, sim: Simulation) -> None:
        n = int(self.rng.poisson(self.rate))
        if not n:
            return
        draw = RngDraw(self.rng)
        for _ in range(n):
            tx = self.gen.generate(self.profile, sim, draw, self.name)
            self.ctx.log.run(sim, tx)
            self.sent += 1
