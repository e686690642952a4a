"""The names of the KPIs a run of a scenario records, known without running it.

A run records the scenario's KPIs (the keys of :meth:`Scenario.kpis`, by name) and
every protocol recording's built-in KPIs (``<market>.<name>``, from the recording's
``kpi_names()``). Both are known once the scenario is built: :func:`kpi_names`
builds it (no step is run, nothing is written) and asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .run import Run

if TYPE_CHECKING:
    from defisim.scenarios.base import Scenario


def kpi_names(scenario: Scenario, seed: int = 0) -> list[str]:
    """The KPI names a run of ``scenario`` records: the scenario's, in its order (its
    ``kpi_names(sim)`` when it has one, e.g. a netlist that logs every few steps, else
    the keys of ``kpis`` after the build), then the built-ins of every recording
    (markets in creation order).

    The scenario is built (its simulation and agents, as :class:`Run` does) but not
    stepped. Markets created later during a run, and KPIs a scenario only returns
    after some steps, are not known here.

    Raises:
        RunSetupError: the scenario cannot be built (bad steps, a failing ``build``).
    """
    run = Run(scenario, seed, check_invariants=False, keep_events=False)
    declared = getattr(scenario, "kpi_names", None)  # scenarios that log only some steps
    keys = declared(run.sim) if declared is not None else scenario.kpis(run.sim)
    names = dict.fromkeys(str(k) for k in keys)
    for rec in run.sim.recordings():
        fn = getattr(rec, "kpi_names", None)
        if fn is not None:
            names.update(dict.fromkeys(fn()))
    return list(names)
