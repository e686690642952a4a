"""The runner: one :class:`Run` loop for every use, recording into the run store,
plots and summaries.

Entry points: :class:`Run` (step a scenario: environments, sweeps, tests) and
:func:`run_scenario` (what ``defisim run`` calls). The run folder holds
``run.duckdb`` (tables of :data:`SCHEMAS`), ``params.json``, PNG plots and, written
last, ``summary.json``.
"""

from .folder import (
    RunFolderBusy,
    RunLock,
    RunStatus,
    check_run_dir,
    in_use,
    lock_holder,
    run_status,
)
from .loop import RUN_FILES, RunInterrupted, default_run_dir, prepare_run_dir, run_scenario
from .plots import PlotError, plot_run
from .recorder import SCHEMAS, Recorder
from .run import (
    MemorySink,
    RecorderSink,
    Run,
    RunSetupError,
    Sink,
    build_agents,
    step_ns_of,
    validate_steps,
)
from .scheduling import AgentScheduler, wake_agents
from .summary import RunResult, read_json, write_params, write_summary

__all__ = [
    "RUN_FILES",
    "SCHEMAS",
    "AgentScheduler",
    "MemorySink",
    "RecorderSink",
    "Run",
    "Sink",
    "build_agents",
    "wake_agents",
    "PlotError",
    "Recorder",
    "RunFolderBusy",
    "RunInterrupted",
    "RunLock",
    "RunResult",
    "RunSetupError",
    "RunStatus",
    "check_run_dir",
    "in_use",
    "lock_holder",
    "run_status",
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
