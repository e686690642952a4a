"""``run_scenario``: one run of a scenario into a run folder (what ``defisim run`` does).

It drives a :class:`~defisim.runner.run.Run` (the one stepping loop, see
:mod:`defisim.runner.run`) with a :class:`~defisim.runner.run.RecorderSink` over the
run store, a progress bar, and the run folder's files:

1. The run is set up (steps, step length, simulation, agents); bad input raises
   :class:`RunSetupError` before anything is written. Only then is the run folder
   created, ``params.json`` written and the store opened.
2. The run steps to the end (every agent's ``initialise``, then each step: wake
   the due agents, close the block, record; then ``finish``).
3. Plots, the scenario's ``after_run``, and ``summary.json`` last.

Stops: Ctrl-C (``KeyboardInterrupt``) stops stepping; what was recorded is
flushed and ``summary.json`` says ``"interrupted": true``. An
:class:`~defisim.chain.InvariantViolation` stops the run; the events of the
failing block are recorded and the summary carries the error text. Any other
exception writes the summary with the error, then propagates.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from defisim.chain import InvariantViolation
from defisim.progress import ProgressBar

from .recorder import Recorder
from .run import (
    RecorderSink,
    Run,
    RunSetupError,
    StepHook,
    build_agents,
    one_line,
    step_ns_of,
    validate_steps,
)
from .scheduling import AgentScheduler, wake_agents
from .summary import RunResult, write_params, write_summary

if TYPE_CHECKING:
    from defisim.scenarios.base import Scenario

__all__ = [
    "RUN_FILES",
    "AgentScheduler",
    "RunSetupError",
    "build_agents",
    "default_run_dir",
    "one_line",
    "prepare_run_dir",
    "run_scenario",
    "step_ns_of",
    "validate_steps",
    "wake_agents",
]


RUN_FILES = ("run.duckdb", "run.duckdb.wal", "params.json", "summary.json")
"""Files a run writes into its folder (plus ``*.png`` plots)."""

STORE_FLUSH_ROWS = 10_000
"""Rows the run store buffers per table before writing them (each pending row costs
about half a kilobyte of Python objects, so this bounds the buffers to tens of MB)."""

STORE_MEMORY_LIMIT = "64MB"
"""DuckDB's memory limit while a run writes its store: the pages written are evicted
from its cache beyond it, so a long recorded run's memory stays flat."""


# --------------------------------------------------------------------- helpers
def default_run_dir(scenario: str, seed: int, root: str | os.PathLike = "runs") -> Path:
    """``runs/<scenario>-<seed>-<UTC timestamp>`` (timestamp ``YYYYmmddTHHMMSSZ``)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(root) / f"{scenario}-{seed}-{stamp}"


def prepare_run_dir(path: str | os.PathLike, force: bool = False) -> Path:
    """Create the run folder ``path`` (parents too).

    An existing empty folder is used as is. A non-empty one is refused unless
    ``force``; with ``force`` only the files a run writes (:data:`RUN_FILES` and
    ``*.png``) are removed, nothing else.

    Raises:
        FileExistsError: ``path`` is a non-empty folder and ``force`` is false, or a file.
    """
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise FileExistsError(f"run folder {p} exists and is not a folder")
        if any(p.iterdir()):
            if not force:
                raise FileExistsError(
                    f"run folder {p} exists and is not empty (use --force to overwrite)"
                )
            for name in RUN_FILES:
                f = p / name
                if f.is_dir():
                    shutil.rmtree(f)
                elif f.exists():
                    f.unlink()
            for f in p.glob("*.png"):
                f.unlink()
    p.mkdir(parents=True, exist_ok=True)
    return p


# ------------------------------------------------------------------------ run
def run_scenario(
    scenario: Scenario,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    check_invariants: bool = True,
    progress: bool = True,
    record: bool = True,
    record_accounts_every: int = 1,
    *,
    plots: bool = False,
    force: bool = False,
    command: list[str] | None = None,
    depth_levels: int = 10,
    hooks: list[StepHook] | tuple[StepHook, ...] = (),
    skip_idle: bool = False,
) -> RunResult:
    """Run ``scenario`` once (the loop of the module docstring).

    Args:
        scenario: a constructed scenario (its parameters are already validated).
        seed: the run's root seed (non-negative int): same seed, same tables.
        out_dir: the run folder; ``None``: :func:`default_run_dir`. Ignored when
            ``record`` is false (nothing is written then).
        check_invariants: check the chain's invariants at every block end.
        progress: show a progress bar (stderr).
        record: write the run folder (``run.duckdb``, ``params.json``,
            ``summary.json``, plots); otherwise only count.
        record_accounts_every: sample the ``accounts`` table every this many
            steps (0: only at the end; negative: never).
        plots: draw the PNG plots into the folder (before ``summary.json``).
        force: overwrite a non-empty run folder (see :func:`prepare_run_dir`).
        command: the command line stored in ``params.json`` (default ``sys.argv``).
        depth_levels: book levels per side summed into ``book_top``'s depth.
        hooks: step hooks ``hook(run, step, kpis)`` (per-step measurements).
        skip_idle: jump over idle grid steps (:mod:`defisim.runner.run`).

    Returns:
        A :class:`RunResult`. ``interrupted`` is true after Ctrl-C; ``error``
        holds the text of an :class:`InvariantViolation` (the run stopped).

    Raises:
        RunSetupError: (a ``ValueError``) bad ``seed``, steps, ``step_seconds``,
            a failing ``build`` or agent names, before anything is written.
        FileExistsError: ``out_dir`` is not empty and ``force`` is false.
        Exception: whatever an agent or the scenario raises (after the summary
            with the error is written).
    """
    run = Run(scenario, seed, check_invariants=check_invariants, keep_events=True,
              skip_idle=skip_idle)
    run.hooks.extend(hooks)
    steps = run.steps

    out: Path | None = None
    store = None
    if record:
        from defisim.store import RunStore

        out = prepare_run_dir(
            out_dir if out_dir is not None else default_run_dir(scenario.name, seed), force
        )
        write_params(out, scenario, seed, list(sys.argv) if command is None else command)
        store = RunStore(out / "run.duckdb", flush_rows=STORE_FLUSH_ROWS,
                         memory_limit=STORE_MEMORY_LIMIT)
    rec = Recorder(store, accounts_every=record_accounts_every, depth_levels=depth_levels)
    run.sinks.insert(0, RecorderSink(rec))

    bar = ProgressBar(steps, scenario.name, progress, unit="steps")
    interrupted = False
    error: str | None = None
    error_type: str | None = None
    t0 = time.perf_counter()
    pending: BaseException | None = None
    try:
        run.run(on_step=bar.update)
    except KeyboardInterrupt:
        interrupted = True
        run.record_pending()
    except InvariantViolation as exc:
        error, error_type = str(exc), type(exc).__name__
        run.record_pending()
    except BaseException as exc:  # an agent's or the scenario's bug: record it, then re-raise
        error, error_type = f"{type(exc).__name__}: {exc}", type(exc).__name__
        pending = exc
        run.record_pending()
    finally:
        done = run.step
        bar.stop(done)
        try:
            run.close()
        finally:
            if store is not None:
                store.close()
    wall = time.perf_counter() - t0

    result = RunResult(
        scenario=scenario.name,
        seed=seed,
        steps=done,
        total_steps=steps,
        wall_s=wall,
        interrupted=interrupted,
        error=error,
        error_type=error_type,
        out_dir=out,
        kpis=dict(rec.last_kpis),
        trades=rec.trades,
        orders=rec.orders,
        order_updates=rec.order_updates,
        events=rec.events,
        event_counts=dict(rec.counts),
    )
    if out is not None:
        if plots and not interrupted:
            try:
                from .plots import plot_run

                result.plots = [p.name for p in plot_run(out)]
            except KeyboardInterrupt as exc:
                result.plot_error = "interrupted while plotting"
                pending = pending or exc
            except Exception as exc:  # a failed plot must not lose the summary
                result.plot_error = f"{type(exc).__name__}: {one_line(exc)}"
    try:
        scenario.after_run(result)
    except KeyboardInterrupt as exc:
        pending = pending or exc
    if out is not None:
        write_summary(out, result)
    if pending is not None:
        raise pending
    return result
