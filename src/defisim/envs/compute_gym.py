"""The single-learner compute marketplace as a Gymnasium environment (spec 8: "the
single-learner case is also a Gymnasium environment").

:class:`ComputeGymEnv` wraps a :class:`~.compute.ComputeMarketEnv` with exactly one
learner (``learner``, default ``"provider0"``); everything else -- observation
(:data:`~.compute_obs.OBSERVATION_NAMES`, float32), the action (the flat ``Box([0,1]^2)``
by default; ``action="tuple"``: ``Tuple(Discrete(3), Box([0,1]))`` with the mask in
``info["action_mask"]``), rewards, seeding, episodes -- is the multi-agent env's (see
:mod:`.compute`), unwrapped from its one-key dicts. ``info`` is that learner's info
(``pending``, ``topic``, ``decided``, ``invalid``, ``value_usd``, ``pnl``, ``step``; with
the ``surplus`` reward also ``settled``; the tuple form ``action_mask``). Stepping a finished episode
raises ``RuntimeError``: call ``reset``. Registered as ``defisim/Compute-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from .compute import ComputeEnvConfig, ComputeMarketEnv, parse_compute_config
from .compute_learners import LearnerMixin
from .session import EnvSetupError

__all__ = ["ComputeGymEnv"]


class ComputeGymEnv(gym.Env):
    """One learning client or provider in ``compute_marketplace`` (module docstring).

    Args:
        config: a :class:`~.compute.ComputeEnvConfig` or dict (its ``learners`` must be
            empty, the default, or name exactly one agent).
        learner: the learning agent's name (``provider<i>`` or ``client<i>``); overrides
            ``config.learners``.
        render_mode: ``None`` or ``"ansi"``.
        **overrides: further :class:`~.compute.ComputeEnvConfig` fields.

    Raises:
        EnvSetupError: more than one learner, bad parameters or names.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, config: ComputeEnvConfig | dict[str, Any] | None = None,
                 learner: str | None = None, render_mode: str | None = None,
                 **overrides: Any) -> None:
        if learner is not None:
            overrides["learners"] = (learner,)
        cfg = parse_compute_config(config, overrides)
        if len(cfg.learners) != 1:
            raise EnvSetupError(f"ComputeGymEnv takes exactly one learner, got "
                                f"{list(cfg.learners)}; use ComputeMarketEnv for several")
        self.multi = ComputeMarketEnv(cfg, render_mode=render_mode)
        self.config = cfg
        self.name = cfg.learners[0]
        self.observation_space = self.multi.observation_space(self.name)
        self.action_space = self.multi.action_space(self.name)
        self.observation_names = list(self.multi.observation_names)
        self.render_mode = render_mode
        self._done = True

    @property
    def learner(self) -> LearnerMixin:
        """The live learner agent (after :meth:`reset`)."""
        return self.multi.learner(self.name)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Restore the warmed-up snapshot reseeded with ``seed`` (as the multi env).

        Returns:
            ``(observation, info)``.
        """
        super().reset(seed=seed)
        obs, infos = self.multi.reset(seed=seed, options=options)
        self._done = False
        return obs[self.name], infos[self.name]

    def step(self, action):
        """Apply ``action`` to the learner's earliest pending decision, run one tick.

        Returns:
            ``(observation, reward, terminated, truncated, info)``: terminated when
            W <= 0, truncated after ``horizon_steps`` ticks.

        Raises:
            RuntimeError: ``step`` before ``reset`` or after the episode ended.
            ValueError: a malformed action.
        """
        if self.multi.state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended; call reset()")
        obs, rew, term, trunc, info = self.multi.step({self.name: action})
        n = self.name
        self._done = term[n] or trunc[n]
        return obs[n], rew[n], term[n], trunc[n], info[n]

    def render(self):
        return self.multi.render()

    def close(self) -> None:
        self.multi.close()
