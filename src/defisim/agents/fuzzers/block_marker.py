"""The block marker: writes the block boundaries into the fuzz transaction log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .log import TxLog


class BlockMarker(Agent):
    """Phase -1: records a block marker in the log at every step after the first, so
    the log replays the run block for block (empty blocks included)."""

    phase = -1

    def __init__(self, name: str, log: TxLog) -> None:
        super().__init__(name)
        self.log = log

    def step(self, sim: Simulation) -> None:
        if sim.block > 1:
            self.log.block(sim.now_ns)
