"""The Agent interface (DESIGN.md, "Agents")."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from defisim.service import Simulation


class Agent:
    """Something that acts on the simulation through :class:`~defisim.Simulation` only.

    The runner calls :meth:`initialise` once before the first step, :meth:`step`
    each time the agent wakes, and :meth:`finalise` once after the last step.

    Scheduling: by default an agent wakes every step. An agent that returns a
    time (seconds since the start) from :meth:`next_wakeup` is instead woken at
    the first step at or after that time (discrete-event scheduling; returning
    ``None`` means "every step" again). Agents of a lower ``phase`` run before
    agents of a higher one within a step (phase 0: price feeds and oracles);
    inside a phase the order is a fresh seeded random permutation each step.

    Randomness: the runner sets :attr:`rng` to a generator derived from the run's
    seed and the agent's ``name``, so adding an agent does not change what the
    others draw. Names must be unique within a run.
    """

    phase: ClassVar[int] = 1

    def __init__(self, name: str) -> None:
        if not name:
            raise ValueError("an agent needs a non-empty name")
        self.name = name
        self.rng: np.random.Generator = np.random.default_rng(0)  # replaced by the runner

    def initialise(self, sim: Simulation) -> None:
        """Called once before the first step (create the party, fund it, ...)."""

    def step(self, sim: Simulation) -> None:
        """Called each time the agent wakes."""

    def finalise(self, sim: Simulation) -> None:
        """Called once after the last step."""

    def next_wakeup(self, now: float) -> float | None:
        """Seconds-since-start of the next wake-up, or ``None`` to wake every step."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
