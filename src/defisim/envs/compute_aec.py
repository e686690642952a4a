"""The compute marketplace as a PettingZoo AEC environment, spec 8's native view
("Negotiation is turn-based, so the native environment is AEC").

The same learners, session, observation and rewards as :class:`~.compute.ComputeMarketEnv`
(:class:`~.compute.ComputeEnvConfig`); what differs is the turn structure:

- **Turns.** ``agent_selection`` is the learner with the earliest pending decision:
  the smallest (time it received the message, the message's publish time, the
  learner's index in ``learners``) -- the last is the fixed tie order. A learner with
  several pending decisions takes them one turn each, oldest first. Between turns the
  runner ticks only while no live learner has a pending decision; so several learners
  may decide between the same two ticks, and a step may run zero or many ticks.
  ``reset`` ticks up to the first decision too.
- **Observation**: ``Dict(observation=Box(float32, OBSERVATION_NAMES),
  action_mask=MultiBinary(3))`` (PettingZoo's action-mask convention); the mask is the
  scheme table's (:mod:`.compute_actions`), zeros without a pending decision.
- **Action**: ``Tuple(Discrete(3) {counter, accept, reject}, Box([0,1]))`` by default,
  ``action="flat"`` the ``Box([0,1]^2)`` variant; in both, a masked head is sent and
  the scheme refuses it (``MessageRejected``, ``c_invalid``; the decision is used up:
  :meth:`~.compute_learners.LearnerMixin.decide`). The spaces' ``sample(mask)`` take
  the mask as is.
- **Reward** (:mod:`.compute_rewards`): every live learner earns its per-tick rewards
  (``pnl``, ``dsr`` or ``surplus``) for the ticks a step runs, the acting learner also
  ``-c_invalid`` per refused message of its decision; ``env.last()`` gives what was
  earned since the learner's previous turn (``pnl``: the change of W between its
  decisions, spec 8). Rewards of the ticks ``reset`` runs are the first ``rewards``.
- **Info**: ``pending``, ``topic``, ``step`` (ticks run), ``value_usd``, ``pnl``,
  ``decided`` and ``invalid`` (the acting learner's last decision), ``settled``
  (``surplus`` reward: the deals settled in the step).
- **Episode**: truncated once ``horizon_steps`` ticks have run (pending decisions left
  then are not taken); a learner is terminated when its W <= 0 (the others go on).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from .compute import ComputeEnvConfig, begin_episode, parse_compute_config, shared_session
from .compute_actions import action_mask, make_action_space
from .compute_learners import LearnerMixin
from .compute_obs import OBSERVATION_NAMES, observe
from .session import EnvSetupError, EpisodeState

__all__ = ["ComputeMarketAEC"]


class ComputeMarketAEC(AECEnv):
    """Learning clients/providers taking turns in ``compute_marketplace`` (module doc).

    Args:
        config: a :class:`~.compute.ComputeEnvConfig` or dict; keyword overrides on top.
        render_mode: ``None`` or ``"ansi"``.
        action: ``"tuple"`` (default here) or ``"flat"``; overrides ``config.action``
            unless None, when a config that sets ``action`` keeps it.

    Raises:
        EnvSetupError: bad parameters or learner names, no learner.
    """

    metadata = {"name": "defisim_compute_aec_v0", "render_modes": ["ansi"], "render_fps": 1,
                "is_parallelizable": False}

    def __init__(self, config: ComputeEnvConfig | dict[str, Any] | None = None,
                 render_mode: str | None = None,
                 action: Literal["tuple", "flat"] | None = None, **overrides: Any) -> None:
        super().__init__()
        explicit = (config.model_fields_set if isinstance(config, ComputeEnvConfig)
                    else set(config or {})) | set(overrides)
        if action is not None:
            overrides["action"] = action
        elif "action" not in explicit:
            overrides["action"] = "tuple"
        self.config = cfg = parse_compute_config(config, overrides)
        if not cfg.learners:
            raise EnvSetupError("ComputeMarketAEC needs at least one learner")
        self.session = shared_session(cfg)
        self.possible_agents = list(cfg.learners)
        self.agents: list[str] = []
        n = len(OBSERVATION_NAMES)
        self._obs_space = spaces.Dict({
            "observation": spaces.Box(-np.inf, np.inf, (n,), np.float32),
            "action_mask": spaces.MultiBinary(3)})
        self._act_space = make_action_space(cfg.action)
        self.observation_names = list(OBSERVATION_NAMES)
        self.render_mode = render_mode
        self.state: EpisodeState | None = None
        self._seed_rng = np.random.default_rng(cfg.base_seed)

    def observation_space(self, agent: str) -> spaces.Dict:
        """``Dict(observation, action_mask)`` (the same object for every learner)."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        """The tuple or flat form's space (the same object for every learner)."""
        return self._act_space

    def learner(self, name: str) -> LearnerMixin:
        """The live learner agent ``name`` (after :meth:`reset`)."""
        return self._by_name[name]

    # -- episode --------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        """Restore the warmed-up snapshot reseeded with ``seed`` and tick to the first
        decision (module docstring)."""
        episode_seed = begin_episode(self, seed)
        self.rewards = {n: 0.0 for n in self.agents}
        self._cumulative_rewards = {n: 0.0 for n in self.agents}
        self.terminations = {n: False for n in self.agents}
        self.truncations = {n: False for n in self.agents}
        self.infos = {n: {} for n in self.agents}
        self._skip_agent_selection = None
        settled = self._advance()
        # a horizon with no decision at all: the first learner's (no-op) turn ends it
        self.truncations = {n: False for n in self.agents}
        self.agent_selection = self._next or self.agents[0]
        self._set_infos(settled, None, False, 0)
        self.infos[self.agent_selection].update(seed=episode_seed)
        self._accumulate_rewards()

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """``{"observation": float32 (len(OBSERVATION_NAMES),), "action_mask": int8
        (3,)}`` of ``agent`` for its earliest pending decision."""
        ln, sim = self._by_name[agent], self.state.sim
        p = ln.live_pending(sim)
        return {"observation": observe(sim, ln, p), "action_mask": action_mask(sim, agent, p)}

    def step(self, action: Any) -> None:
        """The selected learner decides with ``action``; then tick to the next decision.

        Raises:
            RuntimeError: ``step`` before ``reset``.
            ValueError: a malformed action (a finished learner takes only None).
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        cfg = self.config
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        decided, bad = self._by_name[agent].decide(self.state.sim, action, cfg.action,
                                                   masked=True)
        self.rewards[agent] -= cfg.c_invalid * bad
        settled = self._advance()
        if self._next is None:  # the horizon, or every learner terminated
            for n in self.agents:
                self.truncations[n] = not self.terminations[n]
        self._set_infos(settled, agent, decided, bad)
        self.agent_selection = self._next or agent
        self._deads_step_first()
        self._accumulate_rewards()

    # -- turns ----------------------------------------------------------------------
    def _earliest(self) -> str | None:
        sim, best, who = self.state.sim, None, None
        for i, n in enumerate(self.possible_agents):
            if n not in self.agents or self.terminations[n]:
                continue
            p = self._by_name[n].live_pending(sim)
            if p is not None and (best is None or (p.received, p.env.time, i) < best):
                best, who = (p.received, p.env.time, i), n
        return who

    def _advance(self) -> dict[str, list]:
        """Tick until a live learner has a pending decision (``self._next``) or the
        episode ends (``self._next`` None); credits the ticks' rewards."""
        cfg, settled = self.config, {n: [] for n in self.agents}
        while True:
            live = [n for n in self.agents if not self.terminations[n]]
            self._next = self._earliest() if live and self._t < cfg.horizon_steps else None
            if self._next is not None or not live or self._t >= cfg.horizon_steps:
                return settled
            ticked = self._rewards.tick(lambda: self.state.advance(1))
            self._t += 1
            for n in live:
                tr = ticked[n]
                self.rewards[n] += tr.reward - cfg.c_invalid * tr.invalid
                settled[n] += tr.settled
                self.terminations[n] = bool(tr.value_usd <= 0)

    def _set_infos(self, settled: dict[str, list], agent: str | None, decided: bool,
                   bad: int) -> None:
        sim = self.state.sim
        for n in self.agents:
            p = self._by_name[n].live_pending(sim)
            info = {"pending": p is not None, "topic": p.topic if p is not None else None,
                    "step": self._t, "value_usd": self._rewards.w[n],
                    "pnl": self._rewards.pnl(n), "decided": decided and n == agent,
                    "invalid": bad if n == agent else 0}
            if self.config.reward == "surplus":
                info["settled"] = settled.get(n, [])
            self.infos[n] = info

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            w = self._rewards.w
            return (f"tick {self._t}, turn {self.agent_selection} | "
                    + " | ".join(f"{n}: W {w[n]:.2f} USD" for n in self.possible_agents))
        return None

    def close(self) -> None:
        self.state = None
