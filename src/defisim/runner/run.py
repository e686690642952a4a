"""One :class:`Run`: the single stepping loop of every use of a scenario.

The CLI's ``defisim run`` (:func:`defisim.runner.run_scenario`), the learning
environments, sweeps and the tests all drive a scenario through a :class:`Run`:

1. ``Run(scenario, seed)`` validates the steps and the step length (integer
   nanoseconds, ``step_ns = round(step_seconds * 1e9)``; step ``k`` happens at
   ``t_k = k * step_ns``), makes the scenario's simulation (block 1 at t=0 is
   open) and builds its agents (unique names; each agent's ``rng`` is
   ``sim.rng("agent:<name>")``). Nothing is written yet.
2. :meth:`Run.start` calls every agent's ``initialise`` in build order.
3. Each step (:meth:`Run.advance`): the due agents are woken
   (:mod:`defisim.runner.scheduling`), the block closes (mark-to-market, auctions,
   closeouts, invariant checks), the sinks record the step and the step hooks run
   (both get the scenario's KPIs, computed only when a sink or hook exists), and
   the next block opens.
4. :meth:`Run.finish`: ``scenario.finish``, the agents' ``finalise`` (build
   order), the last block closes and the sinks record it as step ``N`` (the number
   of steps run).

Sinks receive every step (:class:`Sink`): the DuckDB store's recorder
(:class:`RecorderSink`), an in-memory sink (:class:`MemorySink`), later a
websocket. Hooks are plain callables ``hook(run, step, kpis)`` for per-step
measurements (a sweep keeps every step's KPIs this way).

Skipping idle time (``skip_idle=True``): when no agent wakes every step, the run
jumps to the first grid step at or after the next scheduled wake-up or protocol
deadline (:meth:`~defisim.chain.Chain.next_deadline_ns`: a mark, an auction's end,
an expiry), so a day of mostly idle agents costs what their actions cost, as in a
discrete-event kernel. Skipped steps close no block and record nothing; the
default keeps every grid step (tables with a row per step).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from defisim.chain import NS_PER_SECOND

from .scheduling import AgentScheduler, wake_agents

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.scenarios.base import Scenario
    from defisim.service import Simulation


class RunSetupError(ValueError):
    """The run could not start: bad steps or step length, a failing ``build`` or
    agent names. Raised before anything is written; the message is one line and the
    original exception is the ``__cause__``."""


class Sink(Protocol):
    """Where a run's steps go. ``record`` is called after every closed block (``final``
    for the last record, after ``finish``); ``pending`` when the run stops inside a
    step (record what was emitted); ``close`` once at the end."""

    def record(self, run: Run, step: int, kpis: dict[str, float] | None, final: bool) -> None: ...

    def pending(self, run: Run, step: int) -> None: ...

    def close(self) -> None: ...


StepHook = Callable[["Run", int, "dict[str, float] | None"], None]


class MemorySink:
    """Keeps every step's scenario KPIs in memory: ``rows`` of ``(step, name, value)``
    (NaN and non-numbers skipped) and ``last`` (the latest value of each)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float]] = []
        self.last: dict[str, float] = {}

    def record(self, run: Run, step: int, kpis: dict[str, float] | None, final: bool) -> None:
        for name, v in (kpis or {}).items():
            try:
                x = float(v)
            except (TypeError, ValueError):
                continue
            if not math.isnan(x):
                self.rows.append((step, str(name), x))
                self.last[str(name)] = x

    def pending(self, run: Run, step: int) -> None:
        pass

    def close(self) -> None:
        pass


class RecorderSink:
    """The run store's sink: a :class:`~defisim.runner.recorder.Recorder` (``store``
    ``None``: it only counts trades, orders and KPIs)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder

    def record(self, run: Run, step: int, kpis: dict[str, float] | None, final: bool) -> None:
        self.recorder.record_step(step, run.sim, kpis, final=final)

    def pending(self, run: Run, step: int) -> None:
        try:
            self.recorder.record_events(step, run.sim.drain_events(), run.sim)
        except Exception:  # never hide the original stop behind a recording problem
            pass

    def close(self) -> None:
        self.recorder.close()


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
    """``scenario.total_steps()`` as an int from 0 to :data:`MAX_STEPS`.

    Raises:
        ValueError: not an integer, negative or too many (exceptions of ``total_steps``,
            e.g. a malformed price file, propagate).
    """
    n = scenario.total_steps()
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"scenario {scenario.name}: total_steps() returned {n!r}, not an int")
    if n < 0:
        raise ValueError(f"steps must be >= 0, got {n}")
    if n > MAX_STEPS:
        raise ValueError(f"steps must be <= {MAX_STEPS:,}, got {n:,}")
    return n


MAX_STEPS = 100_000_000
"""The most steps one run may make (about three years of one-second steps; the
``step`` columns are 32-bit and a run this long records for days)."""


def check_run_length(steps: int, step_ns: int) -> None:
    """Refuse a run whose last block time does not fit the chain's int64 nanoseconds.

    Raises:
        ValueError: ``steps * step_ns`` beyond ``2**63 - 1`` (about 292 years).
    """
    if steps * step_ns > 2**63 - 1:
        raise ValueError(
            f"{steps:,} steps of {step_ns / NS_PER_SECOND:g} s end beyond the clock's range "
            "(2**63 - 1 ns, about 292 years)"
        )


def build_agents(scenario: Scenario, sim: Simulation) -> list[Agent]:
    """``scenario.build(sim)`` checked (a list of uniquely named agents), each agent's
    ``rng`` set to ``sim.rng("agent:<name>")``.

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


class Run:
    """A scenario's simulation, agents and clock, stepped by one loop (module docstring).

    Args:
        scenario: a constructed scenario (its parameters are already validated).
        seed: the run's root seed (non-negative int): same seed, same run.
        check_invariants: check the chain's invariants at every block end.
        keep_events: keep the chain's events for the sinks (off: nothing records them).
        agent_view: ``view(sim) -> object`` the agents act on instead of ``sim`` (a
            second implementation of the Simulation interface, e.g. a remote or
            serialising one); ``None``: the simulation itself.
        skip_idle: jump over grid steps where no agent is due and no protocol
            deadline falls (module docstring); also on when the scenario sets a true
            ``skip_idle`` class attribute (its agents are event-driven).

    Attributes:
        sim, agents, scheduler: the simulation, its agents, their scheduler.
        steps: the scenario's number of steps; step_ns: the step in ns.
        step: steps done so far (the index of the next step); now_ns: the open
            block's time.
        sinks, hooks: what each step is recorded to / measured by.

    Raises:
        RunSetupError: (a ``ValueError``) bad seed, steps, ``step_seconds``, a failing
            ``build`` or agent names.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int = 0,
        *,
        check_invariants: bool = True,
        keep_events: bool = True,
        agent_view: Callable[[Simulation], Any] | None = None,
        skip_idle: bool = False,
    ) -> None:
        try:
            self.steps = validate_steps(scenario)
            self.step_ns = step_ns_of(scenario.params.step_seconds)
            check_run_length(self.steps, self.step_ns)
            self.sim = scenario.make_simulation(seed, check_invariants, keep_events=keep_events)
            self.agents = build_agents(scenario, self.sim)
        except (ValueError, TypeError, KeyError, NotImplementedError, OSError) as exc:
            raise RunSetupError(f"{scenario.name}: {one_line(exc)}") from exc
        self.scenario = scenario
        self.seed = seed
        self.agent_sim = agent_view(self.sim) if agent_view is not None else self.sim
        self.scheduler = AgentScheduler(self.agents, self.sim.rng("runner:agent_order"))
        # a scenario whose agents are event-driven asks for it (netlists do)
        self.skip_idle = skip_idle or bool(getattr(scenario, "skip_idle", False))
        self.step = 0
        self.now_ns = 0
        self.blocks_closed = 0
        self.sinks: list[Sink] = []
        self.hooks: list[StepHook] = []
        self.started = False
        self.finished = False

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Every agent's ``initialise``, in build order (once)."""
        if self.started:
            return
        self.started = True
        for a in self.agents:
            a.initialise(self.agent_sim)

    def add_agent(self, agent: Agent) -> None:
        """Add an agent to a run that has started (a fork's what-if, a live run): its
        ``rng`` is ``sim.rng("agent:<name>")`` as at build, its ``initialise`` runs now
        (between blocks), and it wakes from the next step on, after the build's agents
        in the tie-break order.

        Raises:
            ValueError: no name, or a name an agent of the run already has.
        """
        _check_agents([*self.agents, agent])
        agent.rng = self.sim.rng(f"agent:{agent.name}")
        self.scheduler.add(agent)  # appends to self.agents (the same list)
        if self.started:
            agent.initialise(self.agent_sim)

    def advance(self, n: int = 1, on_step: Callable[[int], None] | None = None) -> None:
        """Run ``n`` more steps (the scenario's step count does not bound this: a learning
        environment may run past it); ``on_step(done)`` after each (a progress bar)."""
        if not self.started:
            self.start()
        sim, agents, sched, view = self.sim, self.agents, self.scheduler, self.agent_sim
        record = self._record if (self.sinks or self.hooks) else None
        end = self.step + n
        while self.step < end:
            k = self.step
            wake_agents(view, agents, sched, self.now_ns)
            sim.end_block()
            self.blocks_closed += 1
            if record is not None:
                record(k, False)
            nxt = self._next_step(k + 1, end)
            self.step = nxt
            self.now_ns = nxt * self.step_ns
            sim.begin_block(self.now_ns)
            if on_step is not None:
                on_step(nxt)

    def _next_step(self, k: int, end: int) -> int:
        """The next step to run after a step: ``k``, or later (at most ``end``) when
        skipping idle time."""
        if not self.skip_idle or k >= end or self.scheduler.has_every_step_agents:
            return k
        due = self.scheduler.next_wake_ns()
        deadline = self.sim.next_deadline_ns()
        targets = [t for t in (due, deadline) if t is not None]
        if not targets:
            return end
        t = min(targets)
        j = -(-t // self.step_ns)  # the first grid step at or after t
        return min(max(j, k), end)

    def finish(self) -> None:
        """``scenario.finish``, the agents' ``finalise``, close the last block and record
        it as step ``steps`` (the number of steps run)."""
        if not self.started:
            self.start()
        self.scenario.finish(self.sim)
        for a in self.agents:
            a.finalise(self.agent_sim)
        self.sim.end_block()
        self.blocks_closed += 1
        self.finished = True
        if self.sinks or self.hooks:
            self._record(self.step, True)

    def run(self, on_step: Callable[[int], None] | None = None) -> None:
        """Start, every step, finish."""
        self.start()
        while self.step < self.steps:  # a step hook may lengthen the run (a fork)
            self.advance(self.steps - self.step, on_step)
        self.finish()

    # ------------------------------------------------------------- recording
    def _record(self, step: int, final: bool) -> None:
        kpis = self.scenario.kpis(self.sim)
        for s in self.sinks:
            s.record(self, step, kpis, final)
        for h in self.hooks:
            h(self, step, kpis)

    def record_pending(self) -> None:
        """Let the sinks record what the step that stopped emitted."""
        for s in self.sinks:
            s.pending(self, self.step)

    def close(self) -> None:
        """Close every sink (the store's buffers are flushed)."""
        for s in self.sinks:
            s.close()
