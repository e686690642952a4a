"""Scenarios: named, parameterised compositions of protocols, agents and KPIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.service import Simulation


RUN_LENGTH_PARAMS: frozenset[str] = frozenset({"steps", "hours"})
"""Parameters that set only how long a run is: a fork changes them itself (the run
goes on to the new length), whatever the scenario's :meth:`Scenario.apply_fork`."""


class ScenarioParams(BaseModel):
    """Base of every scenario's parameter model: unknown names are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    steps: int | None = None
    """Number of steps (None: the scenario's natural length, e.g. the price file)."""
    step_seconds: float = 60.0
    """Simulated seconds per step."""
    execution: Literal["immediate", "mempool"] = "immediate"
    """``immediate``: a transaction executes when sent; ``mempool``: at its block's close."""
    ordering: Literal["fifo", "random", "priority"] = "fifo"
    """Mempool order: arrival, seeded random, or EIP-1559 tip (with fees in the native asset)."""


class PoolBackendParams(ScenarioParams):
    """Parameters of a scenario with AMM pools: where the pools run
    (``--set backend=evm``)."""

    backend: Literal["python", "evm"] = "python"
    """``python``: the exact Python pool cores; ``evm``: the official contract bytecode
    on an EVM (``defisim.evm_amm``; needs the ``evm`` extra and the npm artifacts of
    ``make evm-artifacts``). Same agents, same seeds: the same trades."""
    evm_node: Literal["embedded", "external"] = "embedded"
    """The EVM under ``backend=evm``: simular-evm in this process, or a local anvil
    node the run starts and stops (slower; no forks)."""


class Scenario:
    """A registered scenario.

    Subclasses set ``name``, ``description`` and ``Params`` (a
    :class:`ScenarioParams` subclass) and implement :meth:`build`. The runner:

    1. creates ``Simulation(seed)`` and calls ``build(sim)``, which creates assets,
       parties and markets and returns the agents;
    2. for each step: opens a block, wakes the agents, closes the block, and
       records :meth:`kpis` (a flat ``name -> float`` dict);
    3. calls :meth:`finish` (for example final settlement), then the agents'
       ``finalise``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type[ScenarioParams]] = ScenarioParams
    protocols: ClassVar[tuple[str, ...] | None] = None
    """Protocols the scenario composes (``None``: ``Simulation``'s default)."""
    fork_params: ClassVar[frozenset[str]] = frozenset()
    """Parameters :meth:`apply_fork` can change in a running simulation (besides the
    run-length ones of :data:`RUN_LENGTH_PARAMS`, which the runner handles)."""

    def __init__(self, params: ScenarioParams | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def make_simulation(self, seed: int, check_invariants: bool = True,
                        keep_events: bool = True) -> Simulation:
        """The scenario's :class:`~defisim.service.Simulation`: its protocols, in the
        execution mode and ordering of its parameters."""
        from defisim.service import DEFAULT_PROTOCOLS, Simulation, amm_protocol

        protocols: list[Any] = list(self.protocols or DEFAULT_PROTOCOLS)
        backend = getattr(self.params, "backend", "python")
        if backend != "python":
            if "amm" not in protocols:
                raise ValueError(f"scenario {self.name}: backend={backend!r} applies to AMM "
                                 "pools and it has none")
            node = getattr(self.params, "evm_node", "embedded")
            protocols = [amm_protocol(backend, node) if p == "amm" else p for p in protocols]
        return Simulation(seed=seed, check_invariants=check_invariants, keep_events=keep_events,
                          protocols=protocols,
                          execution=self.params.execution, ordering=self.params.ordering)

    def total_steps(self) -> int:
        """How many steps to run (``params.steps`` or the scenario's natural length)."""
        if self.params.steps is None:
            raise NotImplementedError(f"scenario {self.name} needs --steps")
        return self.params.steps

    def build(self, sim: Simulation) -> list[Agent]:
        raise NotImplementedError

    def time_origin(self) -> datetime | None:
        """The UTC date and time of the run's time 0 when its inputs are dated (a price
        file with timestamps), else ``None`` (synthetic inputs: time is elapsed time).
        The runner writes it into ``params.json`` (``time_origin_utc``) and the plots
        put dates on their time axes with it."""
        return None

    def apply_fork(self, sim: Simulation, changes: dict[str, tuple[Any, Any]]) -> set[str]:
        """Apply changed parameters to a running simulation (a fork,
        :func:`defisim.runner.replay_run.fork_run`, between the fork block and the next).

        Called after :meth:`build`, with the scenario's agents in the state the run
        left them in, once ``self.params`` holds the new parameters. A scenario
        changes what it can through the Simulation service (a governance proposal for a
        market's parameters) and its own agents, and returns the names it applied; the
        fork refuses every other changed parameter (a what-if that would silently
        change nothing). Default: none (:attr:`fork_params` is empty).

        Args:
            sim: the running simulation.
            changes: parameter name -> ``(old value, new value)``, only those in
                :attr:`fork_params`.
        """
        return set()

    def kpis(self, sim: Simulation) -> dict[str, float]:
        """Scenario KPIs after each step (recorded in the ``kpis`` table)."""
        return {}

    def finish(self, sim: Simulation) -> None:
        """After the last step, before the agents' ``finalise``."""

    def after_run(self, result) -> None:
        """Called by the runner once the run is over (recorded, plotted), before
        ``summary.json`` is written: write extra files into ``result.out_dir`` (``None``
        when not recording), analyse failures (the ``fuzz`` scenario shrinks them)."""

    def reseed_episode(self, sim: Simulation, streams) -> None:
        """Redraw, for a new learning episode, what :meth:`build` drew for the future.

        The environments (:mod:`defisim.envs`) build a scenario once, warm it up and
        restore that snapshot for every episode, reseeding the agents. A scenario
        whose exogenous inputs were drawn at build time (a synthetic price path)
        overrides this to redraw their future part from ``streams`` (a
        :class:`~defisim.chain.rng.RandomStreams` of the episode seed; use stream
        names starting with ``"episode:"``). The default keeps them.
        """

    @property
    def markets(self) -> list[str]:
        """Futures markets this scenario trades (for book and position recording)."""
        return []


_REGISTRY: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: make a scenario available by its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def get_scenario(name: str) -> type[Scenario]:
    """The scenario class called ``name``.

    Raises:
        KeyError: unknown name (the message lists the registered ones).
    """
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None


def scenario_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


_loader: list[Callable[[], None]] = []


def _load_builtin() -> None:
    # importing the package registers the built-in scenarios
    import defisim.scenarios  # noqa: F401
