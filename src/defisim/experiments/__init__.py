"""Experiments: parameter sweeps, statistics over seeds, optimisation, reports.

- :mod:`.sweep`: the cartesian product of a parameter grid times N seeds, run on a
  local process pool or a Ray cluster (:mod:`.backends`), into ``sweep.duckdb``.
- :mod:`.stats`: means and 95 % confidence intervals (Student t).
- :mod:`.optimize`: an Optuna study over scenario parameters.
- :mod:`.report`: a self-contained HTML report of a run, sweep or study folder.
- :mod:`.checks`: what a sweep or study is given, checked before anything is made
  (KPI names known by building the scenario, parameter bounds).
- :mod:`.table`: a sweep's results table fitted to the terminal.

Errors in what the user gave raise :class:`ExperimentError` (a ``ValueError``)
with a one-line message.
"""

from .errors import ExperimentError
from .stats import mean_ci, summarize
from .sweep import (
    RunSpec,
    SweepResult,
    execute_run,
    expand_grid,
    parse_grid,
    parse_value,
    run_sweep,
)

__all__ = [
    "ExperimentError",
    "RunSpec",
    "SweepResult",
    "execute_run",
    "expand_grid",
    "mean_ci",
    "parse_grid",
    "parse_value",
    "run_sweep",
    "summarize",
]
