"""The runner: the simulation loop, recording into the run store, plots and summaries.

Entry point: :func:`run_scenario` (what ``defisim run`` calls). The run folder
holds ``run.duckdb`` (tables of :data:`SCHEMAS`), ``params.json``, PNG plots and,
written last, ``summary.json``.
"""

from .loop import (
    RUN_FILES,
    AgentScheduler,
    RunSetupError,
    default_run_dir,
    prepare_run_dir,
    run_scenario,
    step_ns_of,
    validate_steps,
)
from .plots import PlotError, plot_run
from .recorder import SCHEMAS, Recorder
from .summary import RunResult, read_json, write_params, write_summary

__all__ = [
    "RUN_FILES",
    "SCHEMAS",
    "AgentScheduler",
    "PlotError",
    "Recorder",
    "RunResult",
    "RunSetupError",
    "default_run_dir",
    "plot_run",
    "prepare_run_dir",
    "read_json",
    "run_scenario",
    "step_ns_of",
    "validate_steps",
    "write_params",
    "write_summary",
]
