"""The simulation loop: clock, agent wake-ups, invariants, progress and recording.

One run (:func:`run_scenario`):

1. ``scenario.total_steps()`` is validated and the step converted to integer
   nanoseconds once (``step_ns = round(step_seconds * 1e9)``); step ``k`` happens
   at ``t_k = k * step_ns`` (integer arithmetic, no float drift).
2. ``sim = Simulation(seed, check_invariants)`` (block 1 at t=0 is open) and
   ``agents = scenario.build(sim)``; agent names must be unique; each agent's
   ``rng`` is set to ``sim.rng(f"agent:{name}")``. Only then is the run folder
   created (bad input leaves no folder), ``params.json`` written and the store
   opened. Then every agent's ``initialise`` runs, in build order.
3. For each step ``k``: the due agents are woken (every agent at step 0; then
   every-step agents plus scheduled agents whose wake time is ``<= t_k``),
   grouped by ``phase`` ascending and, within a phase, in a fresh permutation
   drawn from the run's ``sim.rng("runner:agent_order")``; after its ``step``
   each woken agent is asked ``next_wakeup(now)``. Then ``sim.end_block()``
   (mark-to-market, auctions, closeouts, invariant checks), the step is
   recorded (events, book, positions, accounts, KPIs) and ``sim.begin_block(
   t_{k+1})`` opens the next block.
4. ``scenario.finish(sim)``, the agents' ``finalise`` (build order), the last
   block is closed and recorded as step ``N`` (the number of steps).

Scheduling (:class:`AgentScheduler`): ``next_wakeup`` returning ``None`` means
every step; a time ``w`` (seconds since the start) means the first step with
``t_k >= w`` (a time ``<= now`` means the next step); ``math.inf`` means never
again. Idle agents sit in a heap and cost nothing per step.

Stops: Ctrl-C (``KeyboardInterrupt``) stops stepping; what was recorded is
flushed and ``summary.json`` says ``"interrupted": true``. An
:class:`~defisim.chain.InvariantViolation` stops the run; the events of the
failing block are recorded and the summary carries the error text. Any other
exception writes the summary with the error, then propagates.
"""

from __future__ import annotations

import heapq
import math
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.chain import NS_PER_SECOND, InvariantViolation
from defisim.progress import ProgressBar
from defisim.service import Simulation

from .recorder import Recorder
from .summary import RunResult, write_params, write_summary

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.scenarios.base import Scenario


class RunSetupError(ValueError):
    """The run could not start: bad steps or step length, a failing ``build`` or
    agent names. Raised before anything is written; the message is one line and the
    original exception is the ``__cause__``."""


RUN_FILES = ("run.duckdb", "run.duckdb.wal", "params.json", "summary.json")
"""Files a run writes into its folder (plus ``*.png`` plots)."""


# ------------------------------------------------------------------ scheduling
class AgentScheduler:
    """Which agents wake at a step, in which order (see the module docstring).

    Args:
        agents: the run's agents; their index in this list is their tie-break
            (build order) before the per-phase permutation.
        rng: the generator of the per-phase permutations (one for the run).

    Every agent wakes at the first call of :meth:`due`. Cost per step: the
    every-step agents plus the scheduled agents that are due (a heap), not the
    number of agents.
    """

    def __init__(self, agents: list[Agent], rng: Any) -> None:
        self.agents = agents
        self.rng = rng
        self.phases = [int(getattr(a, "phase", 1)) for a in agents]
        # phase -> sorted indices of every-step agents
        self._every: dict[int, list[int]] = {}
        self._heap: list[tuple[int, int]] = []
        for i, p in enumerate(self.phases):
            self._every.setdefault(p, []).append(i)
        self._is_every = [True] * len(agents)

    def due(self, now_ns: int) -> list[int]:
        """Indices of the agents to step at ``now_ns``, in stepping order."""
        heap = self._heap
        scheduled: dict[int, list[int]] = {}
        while heap and heap[0][0] <= now_ns:
            _, i = heapq.heappop(heap)
            scheduled.setdefault(self.phases[i], []).append(i)
        every = self._every
        if scheduled:
            phases = sorted(set(every) | set(scheduled))
        else:
            phases = sorted(every)
        order: list[int] = []
        perm = self.rng.permutation
        for p in phases:
            members = every.get(p, [])
            extra = scheduled.get(p)
            if extra:
                members = sorted(members + extra)
            n = len(members)
            if n == 1:
                order.append(members[0])
            elif n:
                order.extend([members[j] for j in perm(n).tolist()])
        return order

    def after_step(self, i: int, wake_s: float | None, now_ns: int) -> None:
        """Record agent ``i``'s answer to ``next_wakeup`` (seconds, ``None`` or ``inf``).

        Raises:
            ValueError: a NaN or non-number wake-up time.
        """
        if wake_s is None:
            if not self._is_every[i]:
                self._is_every[i] = True
                lst = self._every.setdefault(self.phases[i], [])
                lst.append(i)
                lst.sort()
            return
        try:
            w = float(wake_s)
        except (TypeError, ValueError):
            raise ValueError(
                f"agent {self.agents[i].name!r}: next_wakeup returned "
                f"{wake_s!r}, expected seconds, None or math.inf"
            ) from None
        if math.isnan(w):
            raise ValueError(f"agent {self.agents[i].name!r}: next_wakeup returned NaN")
        if self._is_every[i]:
            self._is_every[i] = False
            p = self.phases[i]
            lst = self._every[p]
            lst.remove(i)
            if not lst:
                del self._every[p]
        if w == math.inf:
            return
        wake_ns = now_ns + 1 if w == -math.inf else max(round(w * NS_PER_SECOND), now_ns + 1)
        heapq.heappush(self._heap, (wake_ns, i))


def wake_agents(sim: Simulation, agents: list[Agent], scheduler: AgentScheduler,
                now_ns: int) -> None:
    """Step every agent due at ``now_ns`` in the scheduler's order and record its next
    wake-up (step 3 of the module docstring, before the block closes)."""
    now_s = now_ns / NS_PER_SECOND
    after = scheduler.after_step
    for i in scheduler.due(now_ns):
        agent = agents[i]
        agent.step(sim)
        after(i, agent.next_wakeup(now_s), now_ns)


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


def step_ns_of(step_seconds: float) -> int:
    """The step in integer nanoseconds (computed once per run).

    Raises:
        ValueError: ``step_seconds`` not finite or not > 0 (after rounding to ns).
    """
    try:
        s = float(step_seconds)
    except (TypeError, ValueError):
        raise ValueError(f"step_seconds must be a number, got {step_seconds!r}") from None
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"step_seconds must be finite and > 0, got {step_seconds!r}")
    ns = round(s * NS_PER_SECOND)
    if ns <= 0:
        raise ValueError(f"step_seconds {step_seconds!r} is below one nanosecond")
    return ns


def validate_steps(scenario: Scenario) -> int:
    """``scenario.total_steps()`` as a non-negative int.

    Raises:
        ValueError: not an integer, or negative (exceptions of ``total_steps``,
            e.g. a malformed price file, propagate).
    """
    n = scenario.total_steps()
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"scenario {scenario.name}: total_steps() returned {n!r}, not an int")
    if n < 0:
        raise ValueError(f"steps must be >= 0, got {n}")
    return n


def build_agents(scenario: Scenario, sim: Simulation) -> list[Agent]:
    """``scenario.build(sim)`` checked (a list of uniquely named agents), each agent's
    ``rng`` set to ``sim.rng("agent:<name>")`` (step 2 of the module docstring).

    Raises:
        ValueError: ``build`` returned ``None``, an agent without a name, or
            duplicated names; whatever ``build`` raises propagates.
    """
    agents = _check_agents(scenario.build(sim))
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
    return agents


def _check_agents(agents: Any) -> list[Agent]:
    if agents is None:
        raise ValueError("scenario.build() returned None; it must return a list of agents")
    agents = list(agents)
    seen: set[str] = set()
    dup: list[str] = []
    for a in agents:
        name = getattr(a, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"agent {a!r} has no name")
        if name in seen:
            dup.append(name)
        seen.add(name)
    if dup:
        raise ValueError(f"agent names must be unique; duplicated: {', '.join(sorted(set(dup)))}")
    return agents


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
    try:
        steps = validate_steps(scenario)
        step_ns = step_ns_of(scenario.params.step_seconds)
        sim = scenario.make_simulation(seed, check_invariants, keep_events=True)
        agents = build_agents(scenario, sim)
    except (ValueError, TypeError, KeyError, NotImplementedError, OSError) as exc:
        raise RunSetupError(f"{scenario.name}: {one_line(exc)}") from exc

    out: Path | None = None
    store = None
    if record:
        from defisim.store import RunStore

        out = prepare_run_dir(
            out_dir if out_dir is not None else default_run_dir(scenario.name, seed), force
        )
        write_params(out, scenario, seed, list(sys.argv) if command is None else command)
        store = RunStore(out / "run.duckdb")
    rec = Recorder(store, accounts_every=record_accounts_every, depth_levels=depth_levels)

    sched = AgentScheduler(agents, sim.rng("runner:agent_order"))
    bar = ProgressBar(steps, scenario.name, progress, unit="steps")
    interrupted = False
    error: str | None = None
    error_type: str | None = None
    done = 0
    step = 0
    t0 = time.perf_counter()
    pending: BaseException | None = None
    try:
        for a in agents:
            a.initialise(sim)
        now_ns = 0
        kpis = scenario.kpis
        for step in range(steps):
            wake_agents(sim, agents, sched, now_ns)
            sim.end_block()
            rec.record_step(step, sim, kpis(sim))
            done = step + 1
            now_ns += step_ns
            sim.begin_block(now_ns)
            bar.update(done)
        step = steps
        scenario.finish(sim)
        for a in agents:
            a.finalise(sim)
        sim.end_block()
        rec.record_step(steps, sim, kpis(sim), final=True)
    except KeyboardInterrupt:
        interrupted = True
        _record_pending(rec, step, sim)
    except InvariantViolation as exc:
        error, error_type = str(exc), type(exc).__name__
        _record_pending(rec, step, sim)
    except BaseException as exc:  # an agent's or the scenario's bug: record it, then re-raise
        error, error_type = f"{type(exc).__name__}: {exc}", type(exc).__name__
        pending = exc
        _record_pending(rec, step, sim)
    finally:
        bar.stop(done)
        try:
            rec.close()
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


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (pydantic errors: the first error)."""
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":
        try:
            e = exc.errors()[0]
            loc = ".".join(str(x) for x in e.get("loc", ())) or type(exc).__name__
            return f"{loc}: {e.get('msg', '')}"
        except Exception:
            pass
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    else:
        text = str(exc)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0].strip() if lines else type(exc).__name__


def _record_pending(rec: Recorder, step: int, sim: Simulation) -> None:
    """Record the events emitted since the last record (the step that stopped)."""
    try:
        rec.record_events(step, sim.drain_events(), sim)
    except Exception:  # never hide the original stop behind a recording problem
        pass
