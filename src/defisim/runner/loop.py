"""``run_scenario``: one run of a scenario into a run folder (what ``defisim run`` does).

It drives a :class:`~defisim.runner.run.Run` (the one stepping loop, see
:mod:`defisim.runner.run`) with a :class:`~defisim.runner.run.RecorderSink` over the
run store, a progress bar, and the run folder's files:

1. The run is set up (steps, step length, simulation, agents) and the output
   location checked (:func:`~defisim.runner.folder.check_run_dir`); bad input,
   or any failure of the setup, raises :class:`RunSetupError` before anything is
   written. Only then is the run folder created and locked
   (:class:`~defisim.runner.folder.RunLock`, held to the end), ``params.json``
   written and the store opened.
2. The run steps to the end (every agent's ``initialise``, then each step: wake
   the due agents, close the block, record; then ``finish``). The recorder
   commits all tables together at step boundaries (crash-consistent, see
   :mod:`defisim.runner.recorder`).
3. Plots, the scenario's ``after_run``, and ``summary.json`` last.

Stops: Ctrl-C (``KeyboardInterrupt``), and SIGTERM with ``handle_sigterm``,
stop stepping; what was recorded is flushed and ``summary.json`` says
``"interrupted": true`` and the ``"signal"``. With ``handle_sigterm`` a signal
never cuts a step's recording, the store's close or the summary in half (it is
raised when they end). An :class:`~defisim.chain.InvariantViolation` stops the
run; the events of the failing block are recorded and the summary carries the
error text. Any other exception, including a failure to write the folder or to
close the store, writes the summary with the error, then propagates.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from defisim.chain import InvariantViolation
from defisim.progress import ProgressBar

from .folder import RunLock, check_run_dir
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
    "RunInterrupted",
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


RUN_FILES = ("run.duckdb", "run.duckdb.wal", "params.json", "summary.json", "run.lock")
"""Files a run writes into its folder (plus ``*.png`` plots; ``run.lock`` only while
it runs)."""

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
    ``*.png``) are removed, nothing else, and never while another live run holds
    the folder's lock (:class:`~defisim.runner.folder.RunLock`).

    Raises:
        FileExistsError: ``path`` is a non-empty folder and ``force`` is false, or a file.
        RunFolderBusy: (a ``FileExistsError``) another run is writing the folder.
    """
    p, lock = _open_run_dir(path, force)
    lock.release()
    return p


def _open_run_dir(path: str | os.PathLike, force: bool) -> tuple[Path, RunLock]:
    """:func:`prepare_run_dir`, returning the folder's lock, held."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise FileExistsError(f"run folder {p} exists and is not a folder")
        if any(p.iterdir()):
            if not force:
                raise FileExistsError(
                    f"run folder {p} exists and is not empty (use --force to overwrite)"
                )
            lock = RunLock(p).acquire()
            try:
                for name in RUN_FILES:
                    f = p / name
                    if f.is_dir():
                        shutil.rmtree(f)
                    elif f.exists():
                        f.unlink()
                for f in p.glob("*.png"):
                    f.unlink()
            except BaseException:
                lock.release()
                raise
            return p, lock
    p.mkdir(parents=True, exist_ok=True)
    return p, RunLock(p).acquire()


# ------------------------------------------------------------------------ run
class RunInterrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM), handled like Ctrl-C.

    Attributes:
        signal_name: ``"SIGTERM"``.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class _Signals:
    """SIGTERM and Ctrl-C (SIGINT) as :class:`RunInterrupted` while the run steps.

    While ``armed`` and not inside :meth:`hold` the first signal raises at once;
    inside :meth:`hold` (recording a step, committing, closing the store, writing
    the summary) it is noted and raised when the hold ends, so no step is half
    recorded and no file half written. Once disarmed (after stepping) a signal is
    only noted. A second Ctrl-C always raises ``KeyboardInterrupt`` (the way out
    of a stuck close). Installed only in the main thread and only over handlers
    that do not ignore the signal; the previous handlers are restored on exit.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.armed = True
        self.received: str | None = None
        self._raised = False
        self._held = 0
        self._prev: dict[int, object] = {}

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.received = signal.Signals(signum).name
        if self.armed and not self._held:
            self._raised = True
            raise RunInterrupted(self.received)

    def __enter__(self) -> _Signals:
        if self.enabled:
            for signum in (signal.SIGTERM, signal.SIGINT):
                prev = signal.getsignal(signum)
                if prev is not signal.SIG_IGN and prev is not None:
                    self._prev[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, prev in self._prev.items():
            signal.signal(signum, prev)  # type: ignore[arg-type]
        self._prev.clear()

    def check(self) -> None:
        """Raise the signal noted while disarmed or held, if armed now (once)."""
        if self.armed and not self._held and self.received is not None and not self._raised:
            self._raised = True
            raise RunInterrupted(self.received)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Defer the signals for the duration; an armed one noted meanwhile is raised
        when the body ends normally."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        self.check()


class _HeldSink:
    """A sink whose ``record`` (a step's rows and any commit) no signal cuts in half."""

    def __init__(self, sink: RecorderSink, signals: _Signals) -> None:
        self.sink = sink
        self.signals = signals

    def record(self, run: Run, step: int, kpis: dict[str, float] | None, final: bool) -> None:
        with self.signals.hold():
            self.sink.record(run, step, kpis, final)

    def pending(self, run: Run, step: int) -> None:
        self.sink.pending(run, step)

    def close(self) -> None:
        self.sink.close()


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
    handle_sigterm: bool = False,
    state_hash: bool = False,
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
        state_hash: record each block's state hash and every transaction
            (:mod:`defisim.runner.replay_log`), what ``defisim replay`` checks and
            ``defisim fork`` continues from. It costs a hash of the whole state per
            block (see docs), so it is off by default.
        handle_sigterm: treat SIGTERM like Ctrl-C while the run steps (what
            ``defisim run`` does; only in the main thread, the previous handler is
            restored). Closing the store and writing the summary are never cut
            short by SIGTERM or Ctrl-C then.

    Returns:
        A :class:`RunResult`. ``interrupted`` is true after Ctrl-C or SIGTERM
        (``stop_signal`` says which); ``error`` holds the text of an
        :class:`InvariantViolation` (the run stopped).

    Raises:
        RunSetupError: (a ``ValueError``) bad ``seed``, steps, ``step_seconds``,
            a failing ``build`` or agent names, or an unusable ``out_dir``, before
            anything is written.
        FileExistsError: ``out_dir`` is not empty and ``force`` is false, or
            (:class:`~defisim.runner.folder.RunFolderBusy`) another run holds it.
        Exception: whatever an agent or the scenario raises, or a failure to
            write the folder or close the store (after the summary with the error
            is written).
    """
    try:
        run = Run(scenario, seed, check_invariants=check_invariants, keep_events=True,
                  skip_idle=skip_idle)
    except RunSetupError:
        raise
    except Exception as exc:  # nothing is written yet: the run could not start
        raise RunSetupError(f"{scenario.name}: {type(exc).__name__}: {one_line(exc)}") from exc
    run.hooks.extend(hooks)
    if state_hash:
        run.sim.chain.start_tx_log()  # after build: the log holds what replay re-executes

    out: Path | None = None
    lock: RunLock | None = None
    with _Signals(handle_sigterm) as signals:
        signals.armed = False  # a signal while the folder is made: noted, raised once it exists
        try:
            if record:
                target = out_dir if out_dir is not None else default_run_dir(scenario.name, seed)
                problem = check_run_dir(target)
                if problem is not None:
                    raise RunSetupError(problem)
                try:
                    out, lock = _open_run_dir(target, force)
                except FileExistsError:
                    raise
                except OSError as exc:  # created nothing usable: report it as bad output
                    raise RunSetupError(
                        f"cannot create run folder {target}: {one_line(exc)}"
                    ) from exc
            signals.armed = True
            return _run_in(run, scenario, seed, out, signals, progress=progress,
                           record_accounts_every=record_accounts_every, plots=plots,
                           command=command, depth_levels=depth_levels,
                           state_hash=state_hash)
        finally:
            if lock is not None:
                lock.release()


def _run_in(run: Run, scenario: Scenario, seed: int, out: Path | None, signals: _Signals, *,
            progress: bool, record_accounts_every: int, plots: bool,
            command: list[str] | None, depth_levels: int,
            state_hash: bool = False) -> RunResult:
    """Step ``run`` into the folder ``out`` (created, locked) and write its summary."""
    steps = run.steps
    store = None
    rec = None
    interrupted = False
    stop_signal: str | None = None
    error: str | None = None
    error_type: str | None = None
    pending: BaseException | None = None
    t0 = time.perf_counter()
    bar = ProgressBar(steps, scenario.name, progress, unit="steps")
    try:
        try:
            signals.check()
            if out is not None:
                from defisim.store import RunStore

                write_params(out, scenario, seed, list(sys.argv) if command is None else command)
                store = RunStore(out / "run.duckdb", memory_limit=STORE_MEMORY_LIMIT)
            rec = Recorder(store, accounts_every=record_accounts_every,
                           depth_levels=depth_levels, planned_steps=steps, state_hash=state_hash)
            run.sinks.insert(0, _HeldSink(RecorderSink(rec), signals))
            run.run(on_step=bar.update)
        finally:
            signals.armed = False  # from here on a signal is noted, raised at the very end
    except KeyboardInterrupt as exc:
        interrupted = True
        stop_signal = getattr(exc, "signal_name", "SIGINT")
    except InvariantViolation as exc:
        error, error_type = str(exc), type(exc).__name__
    except BaseException as exc:  # an agent's, the scenario's or the folder's failure
        error, error_type = f"{type(exc).__name__}: {exc}", type(exc).__name__
        pending = exc
    if interrupted and rec is not None and rec.finished:
        interrupted = False  # the signal came with the final record: the data is complete
    done = run.step
    if rec is not None and rec.last_step is not None and not rec.finished:
        # stopped after step k was recorded but before the loop counted it
        done = max(done, rec.last_step + 1)
    with signals.hold():
        if interrupted or error is not None:
            run.record_pending()  # the events of the step that stopped
        bar.stop(done)
        close_error: BaseException | None = None
        try:
            run.close()
        except Exception as exc:
            close_error = exc
        try:
            if store is not None:
                store.close()
        except Exception as exc:
            close_error = close_error or exc
        if close_error is not None and error is None:
            error = f"closing the run store failed: {type(close_error).__name__}: {close_error}"
            error_type = type(close_error).__name__
            pending = pending or close_error
    wall = time.perf_counter() - t0
    if stop_signal is None and signals.received is not None and not interrupted:
        stop_signal = signals.received  # arrived while closing: the data is complete

    result = RunResult(
        scenario=scenario.name,
        seed=seed,
        steps=done,
        total_steps=steps,
        wall_s=wall,
        interrupted=interrupted,
        stop_signal=stop_signal,
        error=error,
        error_type=error_type,
        out_dir=out,
        kpis=dict(rec.last_kpis) if rec is not None else {},
        trades=rec.trades if rec is not None else 0,
        orders=rec.orders if rec is not None else 0,
        order_updates=rec.order_updates if rec is not None else 0,
        events=rec.events if rec is not None else 0,
        event_counts=dict(rec.counts) if rec is not None else {},
        counters=rec.counters() if rec is not None else {},
    )
    result.plots_requested = plots and out is not None
    if out is not None and rec is not None:
        if plots and not interrupted and signals.received is None:
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
    except Exception as exc:
        if result.error is None:
            result.error = f"after_run failed: {type(exc).__name__}: {exc}"
            result.error_type = type(exc).__name__
        pending = pending or exc
    if out is not None:
        with signals.hold():
            write_summary(out, result)
    if pending is None and signals.received is not None and not interrupted:
        pending = RunInterrupted(signals.received)
    if pending is not None:
        raise pending
    return result
