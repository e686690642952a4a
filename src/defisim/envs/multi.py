"""A PettingZoo parallel environment: several learning parties in one scenario.

Every learner has its own party, collateral, observation, action kind and reward
(each a :class:`~defisim.envs.trading.TradingEnvConfig` made of the shared fields
plus the learner's overrides), for example two market makers choosing spreads
(``action.kind = "quotes"``) against each other and the scenario's flow, or a
market maker against a taker. All act in the same block, in a random order drawn
per step from the episode's ``"env:learner_order"`` stream (so neither always
moves first), then ``steps_per_action`` scenario steps run.

A learner that is ruined (equity at or below ``ruin_fraction`` of its
collateral) is terminated and leaves ``agents``; its resting orders are
cancelled and its position stays in the market. Everyone terminates at the
episode's last step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from .observations import ObservationBuilder
from .session import EnvSetupError
from .trading import Learner, TradingEnvConfig, check_features, parse_config, shared_session


class MultiAgentTradingEnv(ParallelEnv):
    """Several learning parties trading one scenario (module docstring).

    Args:
        config: the shared fields (a :class:`TradingEnvConfig` or dict; ``learner``
            and ``collateral`` are per learner and ignored here).
        learners: learner party name -> overrides of ``collateral``,
            ``observation``, ``action`` and ``reward`` (dicts), e.g.
            ``{"mm_a": {"action": {"kind": "quotes"}}, "taker": {}}``.
        render_mode: ``None`` or ``"ansi"``.

    Raises:
        EnvSetupError: no learners, bad parameters, or a learner override other
            than the four above.
    """

    metadata = {"name": "defisim_trading_v0", "render_modes": ["ansi"], "render_fps": 1,
                "is_parallelizable": True}

    PER_LEARNER = ("collateral", "observation", "action", "reward")

    def __init__(self, config: TradingEnvConfig | dict[str, Any] | None = None,
                 learners: dict[str, dict[str, Any]] | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        if not learners:
            raise EnvSetupError("MultiAgentTradingEnv needs at least one learner")
        base = parse_config(config, overrides)
        self.configs: dict[str, TradingEnvConfig] = {}
        for name, extra in learners.items():
            bad = set(extra) - set(self.PER_LEARNER)
            if bad:
                raise EnvSetupError(f"learner {name!r}: unknown per-learner fields "
                                    f"{sorted(bad)}; allowed: {list(self.PER_LEARNER)}")
            self.configs[name] = parse_config(base, {**extra, "learner": name})
        self.config = base
        self.session = shared_session(base, {n: c.collateral for n, c in self.configs.items()})
        self.possible_agents = list(self.configs)
        self.agents: list[str] = []
        self._learners: dict[str, Learner] = {}
        self._obs_spaces: dict[str, spaces.Box] = {}
        self._act_spaces: dict[str, spaces.Space] = {}
        self.observation_names: dict[str, list[str]] = {}
        for name, c in self.configs.items():
            try:
                builder = ObservationBuilder(list(c.observation))
            except ValueError as exc:
                raise EnvSetupError(f"learner {name!r}: {exc}") from None
            self._learners[name] = Learner(c, name, self.session, builder)
            check_features(self._learners[name])
            self._obs_spaces[name] = spaces.Box(-np.inf, np.inf, (builder.size,), np.float32)
            self._act_spaces[name] = c.action.space()
            self.observation_names[name] = builder.names
        self.render_mode = render_mode
        self.state = None
        self._step = 0
        self._seed_rng = np.random.default_rng(base.base_seed)

    def observation_space(self, agent: str) -> spaces.Box:
        """The observation space of ``agent`` (the same object at every call)."""
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """The action space of ``agent`` (the same object at every call)."""
        return self._act_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Restore the warmed-up snapshot reseeded with ``seed``.

        Returns:
            ``(observations, infos)``, dicts keyed by learner.
        """
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
            episode_seed = int(seed)
        else:
            episode_seed = int(self._seed_rng.integers(0, 2**63 - 1))
        self.state = self.session.restore(episode_seed)
        self._order_rng = self.state.sim.rng("env:learner_order")
        self.agents = list(self.possible_agents)
        self._step = 0
        obs, infos = {}, {}
        for name in self.agents:
            ln = self._learners[name]
            ln.start(self.state)
            obs[name] = ln.observe()
            infos[name] = {"pnl": 0.0, "position": ln.view.position(), "step": 0,
                           "seed": episode_seed}
        return obs, infos

    def step(self, actions: dict[str, Any]):
        """Apply every live learner's action (random order), run the scenario steps.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)`` for the
            learners alive before the step.

        Raises:
            RuntimeError: ``step`` before ``reset``.
            ValueError: a live learner without an action, or an action outside its space.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        live = list(self.agents)
        missing = [a for a in live if a not in actions]
        if missing:
            raise ValueError(f"no action for {missing}")
        for j in self._order_rng.permutation(len(live)).tolist():
            ln = self._learners[live[j]]
            ln.last_counts = ln.sender.apply(actions[live[j]])
        cfg = self.config
        self.state.advance(cfg.steps_per_action, self.session.step_ns)
        self._step += 1
        last = self._step >= cfg.episode_steps
        obs, rewards, terms, truncs, infos = {}, {}, {}, {}, {}
        for name in live:
            ln = self._learners[name]
            ln.view.step = self._step
            r, ruined, info = ln.finish_step(last)
            obs[name] = ln.observe()
            rewards[name] = r
            terms[name] = bool(last or ruined)
            truncs[name] = False
            infos[name] = info
            if ruined and not last:
                ln.view.futures.cancel_all(name, ln.view.market)
        self.agents = [a for a in live if not terms[a]]
        return obs, rewards, terms, truncs, infos

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            return " | ".join(
                f"{n}: pos {ln.view.position():g} pnl {ln.view.pnl() - ln.start_pnl:.2f}"
                for n, ln in self._learners.items() if ln.view is not None)
        return None

    def close(self) -> None:
        self.state = None
