"""Per-tick rewards of the compute environments (spec 8, "Reward"), shared by the
parallel (:mod:`.compute`) and AEC (:mod:`.compute_aec`) views.

For each learner and runner tick:

- ``pnl``: the change of its portfolio value W (USD, spec 7.1:
  :meth:`~defisim.agents.compute.base.ComputeAgent.value_usd`) over the tick;
- ``dsr``: the differential Sharpe ratio D_t (spec 7.1,
  :class:`~defisim.metrics.DifferentialSharpe`, rate ``eta``) of the tick's return
  ``dW / W`` (0 while W <= 0);
- ``surplus``: the surplus of each of its deals that settled in the tick
  (:mod:`.compute_surplus`).

The ``c_invalid`` penalty is the environment's (refused messages of a decision and,
counted here, those the learner's own upkeep sent during the tick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from defisim.metrics import DifferentialSharpe

from .compute_surplus import SurplusTracker

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .compute_learners import LearnerMixin

__all__ = ["TickReward", "TickRewards"]


@dataclass
class TickReward:
    """One learner's outcome of one tick: ``reward`` (before ``c_invalid``),
    ``invalid`` (its messages refused during the tick), ``value_usd`` (W after it) and
    ``settled`` (``(topic, escrow_uid, surplus_usd)`` of its deals settled in it)."""

    reward: float
    invalid: int
    value_usd: float
    settled: list[tuple[str, str, float]] = field(default_factory=list)


class TickRewards:
    """The reward state of one episode (module docstring).

    Args:
        sim: the episode's simulation.
        learners: name -> live learner agent.
        reward: ``"pnl"``, ``"dsr"`` or ``"surplus"``.
        eta: the DSR rate.
    """

    def __init__(self, sim: Simulation, learners: dict[str, LearnerMixin], reward: str,
                 eta: float) -> None:
        self.sim, self.learners, self.reward = sim, learners, reward
        self.w = {n: ln.value_usd(sim) for n, ln in learners.items()}
        self.w0 = dict(self.w)
        self._dsr = {n: DifferentialSharpe(eta) for n in learners}
        self._surplus = SurplusTracker(learners) if reward == "surplus" else None

    def pnl(self, name: str) -> float:
        """W now less W at the episode's start (USD), as of the last tick."""
        return self.w[name] - self.w0[name]

    def tick(self, advance: Callable[[], None]) -> dict[str, TickReward]:
        """Run ``advance`` (one runner tick) and score it for every learner."""
        before = {n: ln.invalid_messages for n, ln in self.learners.items()}
        if self._surplus is not None:
            self._surplus.remember()
        advance()
        settled = self._surplus.settle(self.sim) if self._surplus is not None else {}
        out = {}
        for n, ln in self.learners.items():
            w = ln.value_usd(self.sim)
            dw, w_prev = w - self.w[n], self.w[n]
            self.w[n] = w
            mine = settled.get(n, [])
            if self.reward == "pnl":
                r = dw
            elif self.reward == "surplus":
                r = sum(x[2] for x in mine)
            else:
                r = self._dsr[n].update(dw / w_prev) if w_prev > 0 else 0.0
            out[n] = TickReward(float(r), ln.invalid_messages - before[n], w, mine)
        return out
