"""Running a policy in a Gymnasium environment: space checks, policies, episodes.

Shared by :func:`~defisim.learning.transitions.collect_transitions` (which records
the steps) and :func:`~defisim.learning.train.evaluate_policy` (which measures
them). The environments are any Gymnasium env with a 1-D ``Box`` observation space
and a ``Discrete(n)`` action space (``start=0``).

Seeding convention (the same everywhere in :mod:`defisim.learning`): episode ``k``
(0-based) of a run seeded ``seed`` starts with ``env.reset(seed=seed + k)`` and
the policy draws from ``np.random.default_rng([seed, k])``. Episodes are therefore
reproducible one by one, whatever ran before them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

PolicyFn = Callable[[np.ndarray, np.random.Generator], int]


@runtime_checkable
class ActingPolicy(Protocol):
    """An object policy: ``act(observation, rng) -> action``."""

    def act(self, observation: np.ndarray, rng: np.random.Generator) -> int: ...


Policy = PolicyFn | ActingPolicy


def check_spaces(env: gym.Env) -> tuple[int, int]:
    """The observation dimension ``D`` and the number of actions ``n`` of ``env``.

    Raises:
        ValueError: the observation space is not a 1-D ``Box`` or the action space
            is not ``Discrete`` starting at 0.
    """
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"observation space must be a 1-D gymnasium.spaces.Box, got {obs_space!r}")
    if not isinstance(act_space, gym.spaces.Discrete) or int(act_space.start) != 0:
        raise ValueError(
            f"action space must be gymnasium.spaces.Discrete(n) starting at 0, got {act_space!r}"
        )
    return int(obs_space.shape[0]), int(act_space.n)


def observation_names(env: gym.Env, dim: int) -> list[str]:
    """The env's ``observation_names`` attribute (on it or ``env.unwrapped``) if it
    has one of length ``dim``, else ``["obs_0", ..., "obs_{dim-1}"]``."""
    for target in (env, env.unwrapped):
        names = getattr(target, "observation_names", None)
        if names is not None and len(names) == dim:
            return [str(n) for n in names]
    return [f"obs_{i}" for i in range(dim)]


def action_names(env: gym.Env, n: int) -> list[str] | None:
    """The env's ``action_names`` attribute (on it or ``env.unwrapped``) if it has
    one of length ``n``, else ``None``."""
    for target in (env, env.unwrapped):
        names = getattr(target, "action_names", None)
        if names is not None and len(names) == n:
            return [str(a) for a in names]
    return None


def as_policy_fn(policy: Policy) -> PolicyFn:
    """``policy`` as a function ``(observation, rng) -> action``: an object with
    ``.act(observation, rng)`` or a callable of that signature.

    Raises:
        TypeError: neither.
    """
    act = getattr(policy, "act", None)
    if callable(act):
        return act
    if callable(policy):
        return policy
    raise TypeError(
        f"policy must be callable (observation, rng) -> int or have .act(observation, rng), "
        f"got {type(policy).__name__}"
    )


def random_policy(n_actions: int) -> PolicyFn:
    """The uniform random policy over ``n_actions`` actions."""

    def act(observation: np.ndarray, rng: np.random.Generator) -> int:
        return int(rng.integers(n_actions))

    return act


def epsilon_greedy(policy: Policy, n_actions: int, epsilon: float) -> PolicyFn:
    """``policy`` that, with probability ``epsilon``, takes a uniform random action
    instead (one uniform draw from the rng per step, always, so the draws line up)."""
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    inner = as_policy_fn(policy)
    if epsilon == 0.0:
        return inner

    def act(observation: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < epsilon:
            return int(rng.integers(n_actions))
        return inner(observation, rng)

    return act


def check_observation(observation: Any, dim: int, what: str = "observation") -> np.ndarray:
    """``observation`` as a float32 array of shape ``(dim,)``.

    Raises:
        ValueError: wrong shape, or a NaN / infinite value.
    """
    arr = np.asarray(observation, dtype=np.float32)
    if arr.shape != (dim,):
        raise ValueError(f"{what} must have shape ({dim},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} has non-finite values: {arr.tolist()}")
    return arr


def check_action(action: Any, n_actions: int, what: str = "action") -> int:
    """``action`` as an int in ``[0, n_actions)``.

    Raises:
        ValueError: not an integer or out of range.
    """
    try:
        a = int(action)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an integer, got {action!r}") from None
    if a != action or not 0 <= a < n_actions:
        raise ValueError(f"{what} must be an integer in [0, {n_actions}), got {action!r}")
    return a


@dataclass(frozen=True)
class Step:
    """One environment step of an episode, as a SARSA tuple.

    ``observation``/``next_observation`` are float32 ``(D,)``; ``next_action`` is the
    action the policy takes in ``next_observation`` (drawn before this step is
    reported), or -1 when ``terminated``.
    """

    episode: int
    step: int
    observation: np.ndarray
    action: int
    reward: float
    next_observation: np.ndarray
    next_action: int
    terminated: bool
    truncated: bool
    info: dict[str, Any] = field(default_factory=dict)


def run_episode(
    env: gym.Env,
    policy: Policy,
    seed: int,
    k: int,
    max_steps: int | None = None,
) -> Iterator[Step]:
    """Run episode ``k`` of a run seeded ``seed``, yielding its steps.

    ``env.reset(seed=seed + k)``; the policy's rng is ``np.random.default_rng([seed, k])``.
    ``next_action`` is drawn from the policy in the next observation before the step
    is yielded (SARSA), also on truncation; it is -1 on termination. With
    ``max_steps``, the episode is truncated (``truncated=True``) after that many steps.

    Raises:
        ValueError: ``seed`` or ``k`` negative; the env gives an observation of the
            wrong shape or non-finite; the policy gives an action out of range.
    """
    if seed < 0 or k < 0:
        raise ValueError(f"seed and episode index must be >= 0, got seed={seed}, k={k}")
    dim, n = check_spaces(env)
    act = as_policy_fn(policy)
    rng = np.random.default_rng([seed, k])
    obs, _ = env.reset(seed=seed + k)
    obs = check_observation(obs, dim, "observation from env.reset")
    action = check_action(act(obs, rng), n, "action from the policy")
    t = 0
    while True:
        next_obs, reward, terminated, truncated, info = env.step(action)
        next_obs = check_observation(next_obs, dim, "observation from env.step")
        reward = float(reward)
        if not math.isfinite(reward):
            raise ValueError(f"reward from env.step is not finite: {reward}")
        t += 1
        terminated = bool(terminated)
        truncated = bool(truncated) or (not terminated and max_steps is not None and t >= max_steps)
        if terminated:
            next_action = -1
        else:
            next_action = check_action(act(next_obs, rng), n, "action from the policy")
        yield Step(
            k, t - 1, obs, action, reward, next_obs, next_action, terminated, truncated, dict(info)
        )
        if terminated or truncated:
            return
        obs, action = next_obs, next_action


def info_float(info: dict[str, Any], key: str) -> float:
    """``float(info[key])``, or NaN when absent or not a number."""
    value = info.get(key)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass
class EpisodeStats:
    """Per-episode totals of a batch of episodes (arrays of length ``episodes``).

    ``reward``: sum of rewards; ``pnl``: the last step's ``info["pnl"]`` (NaN where
    the env gives none), in the env's quote units; ``length``: steps.
    """

    reward: np.ndarray
    pnl: np.ndarray
    length: np.ndarray

    @property
    def episodes(self) -> int:
        """Number of episodes."""
        return int(len(self.reward))

    @property
    def transitions(self) -> int:
        """Total number of steps."""
        return int(self.length.sum())

    @property
    def reward_mean(self) -> float:
        """Mean episode reward."""
        return mean_std_se(self.reward)[0]

    @property
    def reward_std(self) -> float:
        """Sample standard deviation of the episode reward."""
        return mean_std_se(self.reward)[1]

    @property
    def reward_se(self) -> float:
        """Standard error of the mean episode reward."""
        return mean_std_se(self.reward)[2]

    @property
    def pnl_mean(self) -> float:
        """Mean final episode PnL (NaN if the env reports none)."""
        return mean_std_se(self.pnl)[0]

    @property
    def pnl_std(self) -> float:
        """Sample standard deviation of the final episode PnL."""
        return mean_std_se(self.pnl)[1]

    @property
    def pnl_se(self) -> float:
        """Standard error of the mean final episode PnL."""
        return mean_std_se(self.pnl)[2]

    def summary(self) -> dict[str, float]:
        """Mean, sample std and standard error (std / sqrt(n)) of reward and PnL, and
        the mean length: keys ``reward_mean``, ``reward_std``, ``reward_se``,
        ``pnl_mean``, ``pnl_std``, ``pnl_se``, ``length_mean``."""
        out = {}
        for name, x in (("reward", self.reward), ("pnl", self.pnl)):
            m, s, se = mean_std_se(x)
            out[f"{name}_mean"], out[f"{name}_std"], out[f"{name}_se"] = m, s, se
        out["length_mean"] = float(np.mean(self.length)) if len(self.length) else math.nan
        return out


def mean_std_se(x: np.ndarray) -> tuple[float, float, float]:
    """Mean, sample standard deviation (ddof=1) and standard error of the mean of
    the finite values of ``x``; NaN where undefined (no values; std/se of one)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    if len(x) == 1:
        return float(x[0]), math.nan, math.nan
    s = float(np.std(x, ddof=1))
    return float(np.mean(x)), s, s / math.sqrt(len(x))
