"""A scenario built once, warmed up and snapshotted, from which episodes start.

Building a scenario (assets, markets, dozens of agents, price paths) and running
its warm-up (opening auction, first quotes) costs far more than an episode's first
step, so the environments do it once: :class:`ScenarioSession` builds the scenario
with its base seed, adds the learning parties with their collateral, runs
``warmup_steps`` scenario steps exactly as :func:`defisim.runner.run_scenario` does,
and pickles the whole state (simulation, agents, scheduler, scenario object). An
episode (:meth:`ScenarioSession.restore`) unpickles a fresh copy and *reseeds* it:

- the chain's random streams get the episode seed as their root;
- every agent's ``rng`` becomes ``RandomStreams(seed).generator("agent:<name>")``
  and the scheduler's ``"runner:agent_order"`` likewise (the names the runner uses);
- the scenario's :meth:`~defisim.scenarios.base.Scenario.reseed_episode` hook
  redraws what it drew at build time for the future (for example the rest of a
  GBM reference path), from ``RandomStreams(seed).generator("episode:...")``.

So the same episode seed gives the same episode, bit for bit, and different seeds
give different background flow (and paths, where the scenario reseeds them) from
the same warmed-up market. Agents that copied their generator into another
attribute at build time keep that copy's state from the snapshot (deterministic,
but the same in every episode).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from defisim.chain.rng import RandomStreams
from defisim.runner.run import Run, RunSetupError, one_line, step_ns_of
from defisim.scenarios import get_scenario
from defisim.service import Simulation

if TYPE_CHECKING:
    from defisim.agents.base import Agent
    from defisim.scenarios.base import Scenario


class EnvSetupError(ValueError):
    """The environment could not be built (unknown scenario or parameter, a learner
    name already used by the scenario, a market that does not exist, ...)."""


class EpisodeState:
    """The live state of one episode: a :class:`~defisim.runner.run.Run` without sinks
    (what the snapshot holds, unpickled).

    ``now_ns`` is the time of the open block; ``step`` counts scenario steps since
    the start of the run (warm-up included).
    """

    def __init__(self, run: Run) -> None:
        self.run = run

    @property
    def sim(self) -> Simulation:
        return self.run.sim

    @property
    def agents(self) -> list[Agent]:
        return self.run.agents

    @property
    def scheduler(self) -> Any:
        return self.run.scheduler

    @property
    def scenario(self) -> Scenario:
        return self.run.scenario

    @property
    def now_ns(self) -> int:
        return self.run.now_ns

    @property
    def step(self) -> int:
        return self.run.step

    def advance(self, steps: int, step_ns: int | None = None) -> None:
        """Run ``steps`` scenario steps: wake the due agents, close the block, open the
        next one a step later (the runner's one loop, :meth:`Run.advance`, without
        recording). ``step_ns`` must be the run's step when given."""
        if step_ns is not None and step_ns != self.run.step_ns:
            raise ValueError(f"step_ns {step_ns} is not the run's step {self.run.step_ns}")
        self.run.advance(steps)


class ScenarioSession:
    """Build, warm up and snapshot a scenario with some learning parties in it.

    Args:
        scenario: a registered scenario name.
        scenario_params: overrides of the scenario's parameters (validated by its
            pydantic model).
        learners: learning party names and their collateral (asset units of the
            market's settlement asset), e.g. ``{"learner": 100_000.0}``.
        market: the market the learners trade (default: the scenario's first).
        warmup_steps: scenario steps run before the snapshot (>= 0).
        episode_steps: scenario steps an episode may use after the warm-up; when
            the scenario has a ``steps`` parameter left at ``None`` it is set to
            ``warmup_steps + episode_steps`` so price paths cover the episode.
        base_seed: the seed the scenario is built and warmed up with.
        check_invariants: check the chain's invariants at every block end.
        venue: ``"futures"`` (``market`` is a futures market, default its first) or
            ``"amm"`` (``market`` is an AMM pool id, default the scenario's first pool;
            :attr:`asset` is then ``""``).
        fund: how a learner is funded, ``fund(sim, market, party, collateral)``
            (default: mint ``collateral`` of the market's settlement asset); a
            ``ValueError`` it raises becomes an :class:`EnvSetupError`.

    Raises:
        EnvSetupError: unknown scenario, bad parameters, an unknown market or pool,
            a learner name the scenario already uses, or a failing build.
    """

    def __init__(
        self,
        scenario: str,
        scenario_params: dict[str, Any] | None,
        learners: dict[str, float],
        market: str | None = None,
        warmup_steps: int = 10,
        episode_steps: int = 100,
        base_seed: int = 0,
        check_invariants: bool = False,
        venue: Literal["futures", "amm"] = "futures",
        fund: Callable[[Simulation, str, str, float], None] | None = None,
    ) -> None:
        try:
            cls = get_scenario(scenario)
        except KeyError as exc:
            raise EnvSetupError(str(exc).strip("'\"")) from None
        params = dict(scenario_params or {})
        if warmup_steps < 0 or episode_steps < 1:
            raise EnvSetupError(
                f"warmup_steps must be >= 0 and episode_steps >= 1, got {warmup_steps}, "
                f"{episode_steps}")
        if "steps" in cls.Params.model_fields and params.get("steps") is None:
            params["steps"] = warmup_steps + episode_steps
        try:
            scn = cls(cls.Params(**params))
            self.step_ns = step_ns_of(scn.params.step_seconds)
        except (ValueError, TypeError) as exc:
            raise EnvSetupError(f"{scenario}: {one_line(exc)}") from None
        self.scenario_name = scenario
        self.base_seed = base_seed
        self.warmup_steps = warmup_steps
        self.episode_steps = episode_steps
        self.learners = dict(learners)

        try:
            run = Run(scn, base_seed, check_invariants=check_invariants, keep_events=False)
        except RunSetupError as exc:
            raise EnvSetupError(f"{scenario}: build failed: {one_line(exc.__cause__ or exc)}") from exc
        sim, agents = run.sim, run.agents
        if venue == "amm":
            markets = sim.amm.pools() if "amm" in sim.protocols else []
            what = "AMM pool"
        else:
            markets = list(sim.futures.markets) if "futures" in sim.protocols else []
            what = "market"
        if not markets:
            raise EnvSetupError(f"scenario {scenario} creates no {what} to trade")
        self.market = market if market is not None else markets[0]
        if self.market not in markets:
            raise EnvSetupError(f"{what} {self.market!r} not in scenario {scenario}: {markets}")
        self.asset = sim.futures.market_view(self.market).asset if venue == "futures" else ""
        taken = set(sim.parties) | {a.name for a in agents}
        for name, collateral in self.learners.items():
            if name in taken:
                raise EnvSetupError(f"learner name {name!r} is already a party or agent of "
                                    f"{scenario}; choose another")
            if not (math.isfinite(collateral) and collateral > 0):
                raise EnvSetupError(f"learner {name!r}: collateral must be > 0, got {collateral}")
            sim.create_party(name)
            if fund is None:
                sim.mint(name, self.asset, collateral)
            else:
                try:
                    fund(sim, self.market, name, collateral)
                except ValueError as exc:
                    raise EnvSetupError(f"learner {name!r}: {one_line(exc)}") from None
        run.start()
        state = EpisodeState(run)
        state.advance(warmup_steps)
        self._blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def snapshot_bytes(self) -> int:
        """Size of the pickled warm-up snapshot (bytes)."""
        return len(self._blob)

    def restore(self, seed: int) -> EpisodeState:
        """A fresh copy of the warmed-up state, reseeded for episode ``seed`` (module doc).

        Raises:
            ValueError: ``seed`` is not a non-negative integer.
        """
        state: EpisodeState = pickle.loads(self._blob)
        streams = RandomStreams(seed)
        state.sim.reseed(streams)
        for a in state.agents:
            a.rng = streams.generator(f"agent:{a.name}")
        state.scheduler.rng = streams.generator("runner:agent_order")
        hook = getattr(state.scenario, "reseed_episode", None)
        if hook is not None:
            hook(state.sim, streams)
        return state
