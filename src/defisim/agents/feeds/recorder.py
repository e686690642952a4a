"""The recorder agent pattern: a custom per-step measurement the scenario can read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ..base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation


class RecorderAgent(Agent):
    """Calls ``measure(sim)`` each time it wakes and appends ``(sim.now, value)`` to
    :attr:`records` (a list the scenario reads after, or during, the run).

    It trades nothing and draws nothing. It runs in the last phase (``phase = 9``),
    after every trading agent of the step, so it sees the step's final state.
    With ``every_s`` it wakes only every ``every_s`` seconds (discrete-event
    scheduling); otherwise every step.

    Args:
        name: agent name.
        measure: ``sim -> value`` (any object; e.g. ``lambda sim:
            sim.futures.mid_price("BTC")``).
        every_s: sampling interval in seconds, ``None`` for every step.

    Attributes:
        records: ``[(time_s, value), ...]``.
    """

    phase: ClassVar[int] = 9

    def __init__(
        self, name: str, measure: Callable[[Simulation], Any], every_s: float | None = None
    ) -> None:
        super().__init__(name)
        if every_s is not None and not every_s > 0:
            raise ValueError(f"{name}: every_s must be > 0")
        self.measure = measure
        self.every_s = every_s
        self.records: list[tuple[float, Any]] = []
        self._next: float | None = None

    def step(self, sim: Simulation) -> None:
        self.records.append((sim.now, self.measure(sim)))
        if self.every_s is not None:
            self._next = sim.now + self.every_s

    def next_wakeup(self, now: float) -> float | None:
        return self._next

    @property
    def values(self) -> list[Any]:
        """The recorded values, in order."""
        return [v for _, v in self.records]
