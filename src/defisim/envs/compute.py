"""A PettingZoo parallel environment over ``compute_marketplace`` (spec 8, "Multi-agent RL").

``learners`` names scenario clients or providers (``"provider0"``, ``"client3"``)
that become learners (:mod:`.compute_learners`): the same agents, whose price
decisions come from the actions. Background agents keep their section-5 policies.

- **Step**: one runner tick. Before it, each live learner's action is applied to its
  earliest pending decision (learners in name order; each affects only its own
  topics); without a pending decision the action is ignored (a no-op step: the
  observation's ``msg.none`` is 1 and ``infos[agent]["pending"]`` is False --
  a flat Box has no mask, so the mask of spec 8 is reported as that flag).
- **Observation**: :data:`~.compute_obs.OBSERVATION_NAMES`, float32.
- **Action** (``action``, :mod:`.compute_actions`): ``"flat"`` (default) ``Box([0,1]^2)``,
  spec 8's flat variant, unmasked (a provider's accept echoes the price); ``"tuple"``
  ``Tuple(Discrete(3) {counter, accept, reject}, Box([0,1]))`` with the scheme
  table's mask in ``infos[agent]["action_mask"]`` (int8, zeros when no decision is
  pending) and enforced: a masked head is sent and refused (``MessageRejected``,
  ``c_invalid``; :meth:`~.compute_learners.LearnerMixin.decide`).
- **Reward** (:mod:`.compute_rewards`, per tick): ``pnl`` (default): the change of the
  learner's portfolio value W (USD, spec 7.1: USDC held and locked at the USDC price,
  less gas and electricity booked) over the step; ``dsr``: the differential Sharpe
  ratio D_t (spec 7.1, :class:`~defisim.metrics.DifferentialSharpe`, ``eta``) of the
  step's return ``dW / W``; ``surplus``: each deal of the learner's, priced when it
  settles (:mod:`.compute_surplus`: the attribution, ``info["settled"]``). Each message
  the scheme refuses (``MessageRejected``) costs ``c_invalid`` on top.
- **Episode**: from a warmed-up snapshot (:class:`ComputeSession`) reseeded by the
  episode seed (arrivals, values, the global-state paths); truncated after
  ``horizon_steps`` ticks, terminated when W <= 0. Same seed, same episode.
"""

from __future__ import annotations

import pickle
from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from defisim.agents.compute.client import ComputeClient
from defisim.agents.compute.policies import POLICIES
from defisim.chain.rng import RandomStreams
from defisim.runner.run import Run, RunSetupError, one_line

from .compute_actions import action_mask, make_action_space
from .compute_learners import LearnerMixin, make_learner
from .compute_obs import OBSERVATION_NAMES, observe
from .compute_rewards import TickRewards
from .session import EnvSetupError, EpisodeState

__all__ = ["ComputeEnvConfig", "ComputeMarketEnv", "ComputeSession"]


class ComputeEnvConfig(BaseModel):
    """Parameters of :class:`ComputeMarketEnv` (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    learners: tuple[str, ...] = ("provider0",)
    """Scenario clients/providers that learn (``provider<i>``, ``client<i>``)."""
    scenario_params: dict[str, Any] = Field(default_factory=lambda: {
        "n_clients": 8, "n_providers": 4, "n_mediators": 1, "step_seconds": 5.0})
    warmup_steps: int = Field(12, ge=0)
    horizon_steps: int = Field(720, ge=1)
    """Ticks per episode (truncation); 720 ticks of 5 s are an hour."""
    reward: Literal["pnl", "dsr", "surplus"] = "pnl"
    eta: float = Field(0.01, gt=0, le=1)
    """The DSR adaptation rate."""
    c_invalid: float = Field(0.1, ge=0)
    """Penalty per refused message (reward units)."""
    policies: dict[str, str] = Field(default_factory=dict)
    """Section-5 policy overrides of background clients/providers (name -> policy),
    e.g. a tournament seat (spec 8, "policies")."""
    price_cap: float = Field(3.0, gt=0)
    """A provider's x_max in units of the job's c_ref."""
    base_seed: int = Field(0, ge=0)
    action: Literal["flat", "tuple"] = "flat"
    """The action form (:mod:`.compute_actions`); ``tuple`` adds and enforces the mask."""


def parse_compute_config(config: ComputeEnvConfig | dict[str, Any] | None,
                         overrides: dict[str, Any]) -> ComputeEnvConfig:
    """A validated config from a config, a dict and keyword overrides.

    Raises:
        EnvSetupError: unknown or badly typed parameters (one line naming them).
    """
    base = config.model_dump() if isinstance(config, ComputeEnvConfig) else dict(config or {})
    base.update(overrides)
    try:
        return ComputeEnvConfig(**base)
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise EnvSetupError(f"bad environment parameters: {errs}") from None


class ComputeSession:
    """``compute_marketplace`` built with its learners swapped in, warmed up with
    ``base_seed`` and pickled, as :class:`~.session.ScenarioSession`: an episode
    (:meth:`restore`) unpickles a fresh copy of the warmed-up state (about twice as fast
    as rebuilding it and rerunning the warm-up: 1.8 ms against 4.0 ms by default) and
    reseeds it.

    Reseeding covers the chain, every agent's ``rng``, the scheduler and -- what the
    compute scenario draws outside the agents -- every random generator of the
    global-state processes (``episode:global.<process>.<attr>``); each client's next
    arrival (drawn in the warm-up) is redrawn from its new stream, after the
    snapshot's time (exponential gaps: the same law).

    Raises:
        EnvSetupError: bad scenario parameters, a learner or policy seat that is not
            one of the scenario's clients or providers, an unknown policy. (A session
            without learners is the scenario with its overrides: a baseline.)
    """

    def __init__(self, cfg: ComputeEnvConfig) -> None:
        self.cfg = cfg
        self._blob = pickle.dumps(self._build(), protocol=pickle.HIGHEST_PROTOCOL)

    @property
    def snapshot_bytes(self) -> int:
        """Size of the pickled warm-up snapshot (bytes)."""
        return len(self._blob)

    def _build(self) -> EpisodeState:
        from defisim.scenarios import get_scenario

        cfg = self.cfg
        cls = get_scenario("compute_marketplace")
        params = dict(cfg.scenario_params)
        params.setdefault("steps", cfg.warmup_steps + cfg.horizon_steps)
        params.setdefault("execution", "immediate")  # learners act on immediate receipts
        try:
            scn = cls(cls.Params(**params))
            run = Run(scn, cfg.base_seed, check_invariants=False, keep_events=False)
        except (ValueError, TypeError, RunSetupError) as exc:
            raise EnvSetupError(f"compute_marketplace: {one_line(exc)}") from None
        by_name = {a.name: i for i, a in enumerate(run.agents)}
        if len(set(cfg.learners)) != len(cfg.learners):
            raise EnvSetupError(f"learners must be distinct names, got {cfg.learners}")
        known = [n for n in by_name if n.startswith(("client", "provider"))]
        for name in (*cfg.learners, *cfg.policies):
            if name not in known:
                raise EnvSetupError(f"{name!r} is not a client or provider of the "
                                    f"scenario; known: {known}")
        for name, policy in cfg.policies.items():
            if name in cfg.learners:
                raise EnvSetupError(f"{name!r} is a learner; it takes no policy")
            if policy not in POLICIES:
                raise EnvSetupError(f"{name!r}: unknown policy {policy!r}; known: "
                                    f"{sorted(POLICIES)}")
            run.agents[by_name[name]].policy_name = policy
        for name in cfg.learners:
            i = by_name[name]
            twin = make_learner(run.agents[i], cfg.price_cap)
            twin.bind(run.sim)  # gas per deal, for the surplus reward
            run.agents[i] = twin
            group = scn.agents[twin.role]
            group[[a.name for a in group].index(name)] = twin
        run.scheduler = type(run.scheduler)(run.agents, run.sim.rng("runner:agent_order"))
        run.start()
        state = EpisodeState(run)
        state.advance(cfg.warmup_steps)
        return state

    def restore(self, seed: int) -> EpisodeState:
        """A fresh warmed-up state reseeded for episode ``seed`` (class docstring)."""
        return self._reseed(pickle.loads(self._blob), seed)

    def _reseed(self, state: EpisodeState, seed: int) -> EpisodeState:
        streams = RandomStreams(seed)
        state.sim.reseed(streams)
        for a in state.agents:
            a.rng = streams.generator(f"agent:{a.name}")
        state.scheduler.rng = streams.generator("runner:agent_order")
        now = state.sim.now
        for a in state.agents:  # the next arrival was drawn in the warm-up: redraw it
            if isinstance(a, ComputeClient) and a._next_arrival is not None:
                a._next_arrival = now + a._gap()  # memoryless, so the law is unchanged
        gs = state.scenario.market.state
        for pname, proc in sorted(vars(gs).items()):
            for attr, v in sorted(getattr(proc, "__dict__", {}).items()):
                if isinstance(v, np.random.Generator):
                    setattr(proc, attr, streams.generator(f"episode:global.{pname}.{attr}"))
        return state


_SESSIONS: dict[str, ComputeSession] = {}


def shared_session(cfg: ComputeEnvConfig) -> ComputeSession:
    """The process-wide :class:`ComputeSession` of ``cfg`` (built on first use; the
    action form does not change the warm-up, so both forms share one)."""
    key = cfg.model_dump_json(exclude={"action"})
    if key not in _SESSIONS:
        _SESSIONS[key] = ComputeSession(cfg)
    return _SESSIONS[key]


def begin_episode(env: Any, seed: int | None) -> int:
    """Start an episode of a compute environment (parallel or AEC): restore the session's
    warmed-up snapshot reseeded by the episode seed (``seed``, or the next draw of the
    environment's own seed stream), make every possible learner live and reset the
    tick rewards; returns the episode seed."""
    if seed is not None:
        env._seed_rng = np.random.default_rng(seed)
        episode_seed = int(seed)
    else:
        episode_seed = int(env._seed_rng.integers(0, 2**63 - 1))
    env.state = env.session.restore(episode_seed)
    env._by_name = {a.name: a for a in env.state.agents if a.name in env.possible_agents}
    env.agents = list(env.possible_agents)
    env._t = 0
    env._rewards = TickRewards(env.state.sim, env._by_name, env.config.reward, env.config.eta)
    return episode_seed


class ComputeMarketEnv(ParallelEnv):
    """Learning clients/providers negotiating in ``compute_marketplace`` (module doc).

    Args:
        config: a :class:`ComputeEnvConfig` or dict; keyword overrides on top.
        render_mode: ``None`` or ``"ansi"``.

    Raises:
        EnvSetupError: bad parameters or learner names.
    """

    metadata = {"name": "defisim_compute_v0", "render_modes": ["ansi"], "render_fps": 1,
                "is_parallelizable": True}

    def __init__(self, config: ComputeEnvConfig | dict[str, Any] | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        self.config = cfg = parse_compute_config(config, overrides)
        if not cfg.learners:
            raise EnvSetupError("ComputeMarketEnv needs at least one learner")
        self.session = shared_session(cfg)
        self.possible_agents = list(cfg.learners)
        self.agents: list[str] = []
        n = len(OBSERVATION_NAMES)
        self._obs_space = spaces.Box(-np.inf, np.inf, (n,), np.float32)
        self._act_space = make_action_space(cfg.action, masked=False)
        self.observation_names = list(OBSERVATION_NAMES)
        self.render_mode = render_mode
        self.state: EpisodeState | None = None
        self._seed_rng = np.random.default_rng(cfg.base_seed)

    def observation_space(self, agent: str) -> spaces.Box:
        """The observation space (the same object for every learner and call)."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        """``Box(0, 1, (2,), float32)``, or the tuple form's space (module docstring; the
        same object for every learner and call)."""
        return self._act_space

    def learner(self, name: str) -> LearnerMixin:
        """The live learner agent ``name`` (after :meth:`reset`)."""
        return self._by_name[name]

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Restore the warmed-up snapshot reseeded with ``seed``.

        Returns:
            ``(observations, infos)`` keyed by learner.
        """
        episode_seed = begin_episode(self, seed)
        obs, infos = {}, {}
        for n in self.agents:
            obs[n], infos[n] = self._observe(n)
            infos[n].update(seed=episode_seed, step=0)
        return obs, infos

    def _observe(self, name: str) -> tuple[np.ndarray, dict[str, Any]]:
        ln, sim = self._by_name[name], self.state.sim
        p = ln.live_pending(sim)
        info = {"pending": p is not None, "topic": p.topic if p is not None else None}
        if self.config.action == "tuple":
            info["action_mask"] = action_mask(sim, name, p)
        return observe(sim, ln, p), info

    def step(self, actions: dict[str, Any]):
        """Apply the live learners' actions, run one tick (module docstring).

        Returns:
            ``(observations, rewards, terminations, truncations, infos)`` for the
            learners alive before the step.

        Raises:
            RuntimeError: ``step`` before ``reset``.
            ValueError: a live learner without an action, or a malformed action.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        live = list(self.agents)
        missing = [a for a in live if a not in actions]
        if missing:
            raise ValueError(f"no action for {missing}")
        sim, cfg = self.state.sim, self.config
        decided, invalid = {}, {}
        for n in sorted(live):
            decided[n], invalid[n] = self._by_name[n].decide(
                sim, actions[n], cfg.action, masked=cfg.action == "tuple")
        ticked = self._rewards.tick(lambda: self.state.advance(1))
        self._t += 1
        last = self._t >= cfg.horizon_steps
        obs, rewards, terms, truncs, infos = {}, {}, {}, {}, {}
        for n in live:
            tr = ticked[n]
            bad = invalid[n] + tr.invalid
            rewards[n] = float(tr.reward - cfg.c_invalid * bad)
            terms[n] = bool(tr.value_usd <= 0)
            truncs[n] = bool(last and not terms[n])
            obs[n], infos[n] = self._observe(n)
            infos[n].update(step=self._t, decided=decided[n], invalid=bad,
                            value_usd=tr.value_usd, pnl=self._rewards.pnl(n))
            if cfg.reward == "surplus":
                infos[n]["settled"] = tr.settled
        self.agents = [a for a in live if not (terms[a] or truncs[a])]
        return obs, rewards, terms, truncs, infos

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            w = self._rewards.w
            return " | ".join(f"{n}: W {w[n]:.2f} USD" for n in self.possible_agents)
        return None

    def close(self) -> None:
        self.state = None
