"""The default mediator of the compute marketplace (spec 4.3.6, 4.4): it watches the
``MediationRequested`` events naming it on the panel, re-runs the job (``rerun_s``
seconds; a choice: a replay on a verifier, shorter than the mediation timeout) and
posts the verdict an honest re-run finds (``sim.compute.result_is_correct``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from defisim.protocols.compute.events import MediationRequested

from .base import ComputeAgent
from .market import Market

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["ComputeMediator"]


class ComputeMediator(ComputeAgent):
    """A mediator (module docstring). ``rerun_s``: the re-run time (>= 0).

    Raises:
        ValueError: a negative ``rerun_s``.
    """

    role = "mediator"

    def __init__(self, name: str, market: Market, capital: float = 100.0, *,
                 rerun_s: float = 60.0, metric_interval_s: float = 3600.0) -> None:
        super().__init__(name, market, capital, metric_interval_s)
        if rerun_s < 0:
            raise ValueError(f"rerun_s must be >= 0, got {rerun_s!r}")
        self.rerun_s = float(rerun_s)
        self.pending: list[tuple[float, str, str]] = []  # (due, escrow uid, validation uid)
        self.verdicts = 0

    def initialise(self, sim: Simulation) -> None:
        super().initialise(sim)
        self.cursor = sim.event_cursor()

    def _voted(self, sim: Simulation, r: Any, gas_usd: float) -> None:
        if r.accepted:
            self.verdicts += 1

    def step(self, sim: Simulation) -> None:
        now = sim.now
        self._poll(sim)
        for ev in self.cursor.read():
            if isinstance(ev, MediationRequested) and self.name in ev.panel:
                self.pending.append((now + self.rerun_s, ev.market, ev.validation_uid))
        keep = []
        for due, uid, vuid in self.pending:
            if due > now:
                keep.append((due, uid, vuid))
                continue
            correct = sim.compute.result_is_correct(uid)
            if correct is not None:
                self._submit(sim, "mediate", sim.compute.mediate(self.name, vuid, correct),
                             self._voted)
        self.pending = keep
        self._read_rejections(sim)
        self._sample(sim)
