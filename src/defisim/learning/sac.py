"""Offline soft actor-critic for discrete actions.

Soft actor-critic: Haarnoja, Zhou, Abbeel, Levine (2018), "Soft Actor-Critic:
Off-Policy Maximum Entropy Deep Reinforcement Learning with a Stochastic Actor"
(ICML). Discrete-action form: Christodoulou (2019), "Soft Actor-Critic for Discrete
Action Settings" (arXiv:1910.07207), cited below as [H18] and [C19].

With ``n`` actions the policy is a categorical ``pi(.|s)`` (an MLP giving logits)
and each critic ``Q_i(s, .)`` an MLP giving all ``n`` action values at once, so the
expectations over actions are exact sums, no sampling:

- policy evaluation ([H18] eq. 5-6 with [C19] eq. 10, twin critics [C19] Alg. 1):
  ``y = reward_scale * r + gamma * (1 - done) * V(s')`` with
  ``V(s') = sum_a' pi(a'|s') [min_i Qbar_i(s', a') - alpha log pi(a'|s')]``
  (``Qbar_i``: target critics), each ``Q_i(s, a)`` regressed onto ``y``;
- policy improvement ([H18] eq. 10 with [C19] eq. 12): minimise
  ``E_s[ sum_a pi(a|s) (alpha log pi(a|s) - min_i Q_i(s, a)) ]``, which is
  ``alpha * KL(pi(.|s) || softmax(min_i Q_i(s, .) / alpha))`` up to a term free of
  ``pi``; its minimiser is ``softmax(Q / alpha)``;
- the entropy coefficient is not learned ([H18] uses a fixed ``alpha``; [C19] eq. 18
  tunes it): here it decays, ``alpha <- max(alpha_min, alpha * alpha_decay)`` after
  every training iteration, from exploration to exploitation.

Target critics follow the critics by Polyak averaging after every critic step,
``Qbar <- tau Q + (1 - tau) Qbar`` ([H18] Alg. 1), or, with ``tau=None``, by a hard
copy at the start of every epoch of policy evaluation (so an evaluation phase of
``k`` epochs is ``k`` fitted backups on frozen targets).

Observations are standardised by a running mean and standard deviation (Chan et al.
parallel update) fitted on the data and stored in the checkpoint, then clipped to
``[-clip_observation, clip_observation]``: defisim observations mix prices of ~6e4
and positions of ~1.

Everything runs on CPU in float32; with the same seed and the same data, training is
bit-identical (one ``torch.Generator`` seeded from ``seed`` draws the initial weights
and the minibatch permutations).
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.nn import functional as F

from .transitions import TransitionBatch, TransitionDataset

CHECKPOINT_FORMAT = "defisim.learning.DiscreteSAC"
CHECKPOINT_VERSION = 1


class SACConfig(BaseModel):
    """Hyperparameters of :class:`DiscreteSAC` (validated)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden: tuple[int, ...] = Field(
        (64, 64), description="hidden layer widths of every MLP (ReLU between layers)"
    )
    gamma: float = Field(0.99, ge=0.0, lt=1.0, description="discount factor per step")
    alpha: float = Field(
        0.2, gt=0.0, description="initial entropy coefficient (in reward units after reward_scale)"
    )
    alpha_decay: float = Field(
        0.9, gt=0.0, le=1.0, description="alpha is multiplied by this after each iteration"
    )
    alpha_min: float = Field(1e-3, gt=0.0, description="floor of the decayed alpha")
    lr: float = Field(3e-4, gt=0.0, description="Adam learning rate of critics and policy")
    tau: float | None = Field(
        0.005,
        gt=0.0,
        le=1.0,
        description="Polyak rate of the target critics per critic step; "
        "None: hard copy at the start of each policy-evaluation epoch",
    )
    q_loss: Literal["huber", "mse"] = Field(
        "huber", description="critic regression loss: Huber (smooth L1) or mean squared error"
    )
    huber_delta: float = Field(1.0, gt=0.0, description="Huber threshold, in scaled reward units")
    reward_scale: float = Field(
        1.0, gt=0.0, description="rewards are multiplied by this before fitting the critics"
    )
    batch_size: int = Field(256, ge=1, description="minibatch size (transitions)")
    max_grad_norm: float | None = Field(
        10.0, gt=0.0, description="gradient norm clip per update (None: no clipping)"
    )
    clip_observation: float = Field(
        10.0, gt=0.0, description="standardised observations are clipped to +- this"
    )
    seed: int = Field(0, ge=0, description="seed of weights, minibatch order and sampling")


class ObservationNormalizer:
    """Running mean and standard deviation of observations (float64, shape ``[D]``).

    :meth:`update` merges a batch with Chan, Golub, LeVeque (1979) "Updating
    formulae and a pairwise algorithm for computing sample variances". Components
    whose standard deviation is below ``1e-8 * max(1, |mean|)`` (constant so far)
    are only centred (std taken as 1). Before any update: mean 0, std 1.
    """

    def __init__(self, dim: int) -> None:
        self.count = 0.0
        self.mean = torch.zeros(dim, dtype=torch.float64)
        self.m2 = torch.zeros(dim, dtype=torch.float64)

    @property
    def std(self) -> torch.Tensor:
        """The population standard deviation per component (1 where degenerate)."""
        if self.count == 0:
            return torch.ones_like(self.mean)
        std = torch.sqrt(self.m2 / self.count)
        tiny = 1e-8 * torch.clamp(self.mean.abs(), min=1.0)
        return torch.where(std > tiny, std, torch.ones_like(std))

    def update(self, observations: torch.Tensor | np.ndarray) -> None:
        """Merge observations ``[N, D]`` into the running statistics."""
        x = torch.as_tensor(observations, dtype=torch.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"observations must have shape [N, {self.mean.shape[0]}], got {tuple(x.shape)}"
            )
        n = x.shape[0]
        if n == 0:
            return
        mean_b = x.mean(0)
        m2_b = ((x - mean_b) ** 2).sum(0)
        total = self.count + n
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2_b + delta**2 * (self.count * n / total)
        self.count = total

    def __call__(self, x: torch.Tensor, clip: float) -> torch.Tensor:
        """``clip((x - mean) / std)`` as float32, ``x``: ``[..., D]``."""
        z = (x.to(torch.float64) - self.mean) / self.std
        return z.clamp(-clip, clip).to(torch.float32)

    def state_dict(self) -> dict[str, Any]:
        """``{"count": float, "mean": float64 [D], "m2": float64 [D]}``."""
        return {"count": float(self.count), "mean": self.mean.clone(), "m2": self.m2.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.count = float(state["count"])
        self.mean = state["mean"].to(torch.float64).clone()
        self.m2 = state["m2"].to(torch.float64).clone()


def mlp(inputs: int, hidden: tuple[int, ...], outputs: int) -> nn.Sequential:
    """``Linear -> ReLU -> ... -> Linear`` with the given widths."""
    layers: list[nn.Module] = []
    width = inputs
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def _init_mlp(net: nn.Sequential, generator: torch.Generator, last_scale: float = 1.0) -> None:
    """PyTorch's default ``Linear`` init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from
    ``generator``; the last layer scaled by ``last_scale``."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for i, lin in enumerate(linears):
            bound = 1.0 / math.sqrt(lin.in_features)
            if i == len(linears) - 1:
                bound *= last_scale
            nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
            nn.init.uniform_(lin.bias, -bound, bound, generator=generator)


class DiscreteSAC:
    """Soft actor-critic for ``Discrete(n_actions)`` over ``obs_dim`` observations.

    Args:
        obs_dim: observation dimension ``D``.
        n_actions: number of actions ``n``.
        config: a :class:`SACConfig` or a dict of its fields.
        **overrides: :class:`SACConfig` fields (``hidden``, ``gamma``, ``alpha``,
            ``alpha_decay``, ``alpha_min``, ``lr``, ``tau``, ``q_loss``, ``seed``, ...)
            over ``config``.

    Attributes:
        alpha: the current entropy coefficient.
        iteration: training iterations completed (:meth:`end_iteration` calls).
        q1, q2, q1_target, q2_target, policy: the networks (standardised
            observations ``[B, D]`` -> ``[B, n]`` action values or logits).
        normalizer: the :class:`ObservationNormalizer`.

    Raises:
        pydantic.ValidationError (a ValueError): bad configuration.
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        config: SACConfig | dict[str, Any] | None = None,
        **overrides: Any,
    ) -> None:
        if obs_dim < 1 or n_actions < 1:
            raise ValueError(f"obs_dim and n_actions must be >= 1, got {obs_dim}, {n_actions}")
        base = config.model_dump() if isinstance(config, SACConfig) else dict(config or {})
        self.config = SACConfig(**{**base, **overrides})
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        cfg = self.config
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.q1 = mlp(obs_dim, cfg.hidden, n_actions)
        self.q2 = mlp(obs_dim, cfg.hidden, n_actions)
        self.policy = mlp(obs_dim, cfg.hidden, n_actions)
        _init_mlp(self.q1, self.generator)
        _init_mlp(self.q2, self.generator)
        _init_mlp(self.policy, self.generator, last_scale=0.01)  # near-uniform start
        self.q1_target = copy.deepcopy(self.q1).requires_grad_(False)
        self.q2_target = copy.deepcopy(self.q2).requires_grad_(False)
        self.q_optimizer = torch.optim.Adam(
            [*self.q1.parameters(), *self.q2.parameters()], lr=cfg.lr
        )
        self.policy_optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.lr)
        self.normalizer = ObservationNormalizer(obs_dim)
        self.alpha = float(cfg.alpha)
        self.iteration = 0
        self.rng = np.random.default_rng(cfg.seed)
        self.extra: dict[str, Any] = {}

    # ---------------------------------------------------------------- networks
    def _obs_tensor(self, obs: torch.Tensor | np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(obs, dtype=torch.float32)
        if x.ndim != 2 or x.shape[1] != self.obs_dim:
            raise ValueError(
                f"observations must have shape [B, {self.obs_dim}], got {tuple(x.shape)}"
            )
        return self.normalizer(x, self.config.clip_observation)

    def update_normalizer(self, observations: torch.Tensor | np.ndarray) -> None:
        """Merge observations ``[N, D]`` (raw) into the observation statistics."""
        self.normalizer.update(observations)

    def _min_q(self, z: torch.Tensor, target: bool = False) -> torch.Tensor:
        q1, q2 = (self.q1_target, self.q2_target) if target else (self.q1, self.q2)
        return torch.minimum(q1(z), q2(z))

    def _log_pi(self, z: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.policy(z), dim=-1)

    @torch.no_grad()
    def q_values(self, obs: torch.Tensor | np.ndarray) -> np.ndarray:
        """``min_i Q_i(s, a)`` for raw observations ``[B, D]``: float32 ``[B, n]``,
        in scaled reward units."""
        return self._min_q(self._obs_tensor(obs)).numpy()

    @torch.no_grad()
    def policy_probs(self, obs: torch.Tensor | np.ndarray) -> np.ndarray:
        """``pi(a|s)`` for raw observations ``[B, D]``: float32 ``[B, n]``, rows sum to 1.

        Raises:
            ValueError: wrong shape.
        """
        return torch.exp(self._log_pi(self._obs_tensor(obs))).numpy()

    def act(
        self,
        obs: np.ndarray,
        rng: np.random.Generator | None = None,
        deterministic: bool = False,
    ) -> int:
        """An action for one raw observation ``[D]``: drawn from ``pi(.|s)`` with
        ``rng`` (the agent's own generator if None), or ``argmax_a pi(a|s)`` when
        ``deterministic`` (ties: the lowest action).

        Raises:
            ValueError: ``obs`` not of shape ``[D]``.
        """
        x = np.asarray(obs, dtype=np.float32)
        if x.shape != (self.obs_dim,):
            raise ValueError(f"observation must have shape ({self.obs_dim},), got {x.shape}")
        p = self.policy_probs(x[None, :])[0].astype(np.float64)
        if deterministic:
            return int(np.argmax(p))
        p /= p.sum()
        return int((rng if rng is not None else self.rng).choice(self.n_actions, p=p))

    def as_policy(
        self, deterministic: bool = False
    ) -> Callable[[np.ndarray, np.random.Generator], int]:
        """This agent as a policy function ``(observation, rng) -> action``."""
        return lambda obs, rng: self.act(obs, rng, deterministic=deterministic)

    # ------------------------------------------------------ policy evaluation
    @torch.no_grad()
    def soft_value(self, next_z: torch.Tensor) -> torch.Tensor:
        """``V(s') = sum_a' pi(a'|s') [min_i Qbar_i(s', a') - alpha log pi(a'|s')]``
        ([C19] eq. 3 / 10) for standardised observations ``[B, D]``: ``[B]``."""
        log_pi = self._log_pi(next_z)
        q = self._min_q(next_z, target=True)
        return (log_pi.exp() * (q - self.alpha * log_pi)).sum(-1)

    @torch.no_grad()
    def q_targets(self, batch: TransitionBatch) -> torch.Tensor:
        """Critic targets ``y = reward_scale * r + gamma * (1 - done) * V(s')``
        ([H18] eq. 6): float32 ``[B]``."""
        next_z = self._obs_tensor(batch.next_observation)
        v = self.soft_value(next_z)
        cfg = self.config
        return batch.reward * cfg.reward_scale + cfg.gamma * (1.0 - batch.done) * v

    def _regression(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.config.q_loss == "mse":
            return F.mse_loss(pred, y)
        return F.huber_loss(pred, y, delta=self.config.huber_delta)

    def _polyak(self) -> None:
        tau = self.config.tau
        with torch.no_grad():
            for net, target in ((self.q1, self.q1_target), (self.q2, self.q2_target)):
                for p, tp in zip(net.parameters(), target.parameters(), strict=True):
                    tp.lerp_(p, tau)

    def _hard_update(self) -> None:
        self.q1_target.load_state_dict(self.q1.state_dict())
        self.q2_target.load_state_dict(self.q2.state_dict())

    def _step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor, params) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(params, self.config.max_grad_norm)
        optimizer.step()

    def fit_q(
        self, dataset: TransitionDataset, epochs: int, batch_size: int | None = None
    ) -> float:
        """Policy evaluation: ``epochs`` epochs of minibatch regression of both critics
        onto ``y`` (:meth:`q_targets`), Huber or MSE per ``config.q_loss``
        (``L = loss(Q_1(s,a), y) + loss(Q_2(s,a), y)``, [H18] eq. 5).

        Returns:
            The mean critic loss (per critic) over the last epoch; NaN for no steps.

        Raises:
            ValueError: ``epochs < 0`` or a dataset of another observation dimension.
        """
        self._check_dataset(dataset, epochs)
        bs = batch_size or self.config.batch_size
        params = [*self.q1.parameters(), *self.q2.parameters()]
        last = math.nan
        for _ in range(epochs):
            if self.config.tau is None:
                self._hard_update()
            total, steps = 0.0, 0
            for batch in dataset.minibatches(bs, self.generator):
                y = self.q_targets(batch)
                z = self._obs_tensor(batch.observation)
                a = batch.action[:, None]
                loss = self._regression(self.q1(z).gather(1, a)[:, 0], y) + self._regression(
                    self.q2(z).gather(1, a)[:, 0], y
                )
                self._step(self.q_optimizer, loss, params)
                if self.config.tau is not None:
                    self._polyak()
                total += loss.item() / 2
                steps += 1
            last = total / steps if steps else math.nan
        return last

    # ----------------------------------------------------- policy improvement
    def improve_policy(
        self, dataset: TransitionDataset, epochs: int, batch_size: int | None = None
    ) -> tuple[float, float]:
        """Policy improvement: ``epochs`` epochs of minibatch descent on
        ``E_s[ sum_a pi(a|s) (alpha log pi(a|s) - min_i Q_i(s, a)) ]`` over the
        dataset's observations ([C19] eq. 12; critics fixed).

        Returns:
            ``(loss, entropy)``: the mean loss over the last epoch and the mean
            policy entropy ``-sum_a pi log pi`` (nats) over the dataset afterwards.

        Raises:
            ValueError: ``epochs < 0`` or a dataset of another observation dimension.
        """
        self._check_dataset(dataset, epochs)
        bs = batch_size or self.config.batch_size
        params = list(self.policy.parameters())
        last = math.nan
        for _ in range(epochs):
            total, steps = 0.0, 0
            for batch in dataset.minibatches(bs, self.generator):
                z = self._obs_tensor(batch.observation)
                with torch.no_grad():
                    q = self._min_q(z)
                log_pi = self._log_pi(z)
                loss = (log_pi.exp() * (self.alpha * log_pi - q)).sum(-1).mean()
                self._step(self.policy_optimizer, loss, params)
                total += loss.item()
                steps += 1
            last = total / steps if steps else math.nan
        return last, self.entropy(dataset.tensors().observation)

    @torch.no_grad()
    def entropy(self, obs: torch.Tensor | np.ndarray) -> float:
        """Mean policy entropy ``-sum_a pi(a|s) log pi(a|s)`` (nats) over ``[B, D]``."""
        if len(obs) == 0:
            return math.nan
        log_pi = self._log_pi(self._obs_tensor(obs))
        return float(-(log_pi.exp() * log_pi).sum(-1).mean())

    def end_iteration(self) -> None:
        """``alpha <- max(alpha_min, alpha * alpha_decay)``; ``iteration += 1``."""
        self.alpha = max(self.config.alpha_min, self.alpha * self.config.alpha_decay)
        self.iteration += 1

    def train_iteration(
        self, dataset: TransitionDataset, epochs_q: int, epochs_pi: int
    ) -> dict[str, float]:
        """One iteration on ``dataset``: :meth:`fit_q`, :meth:`improve_policy`,
        :meth:`end_iteration` (the normaliser is the caller's, :meth:`update_normalizer`).

        Returns:
            ``{"q_loss", "policy_loss", "alpha" (used in this iteration), "entropy"}``.
        """
        alpha = self.alpha
        q_loss = self.fit_q(dataset, epochs_q)
        policy_loss, entropy = self.improve_policy(dataset, epochs_pi)
        self.end_iteration()
        return {"q_loss": q_loss, "policy_loss": policy_loss, "alpha": alpha, "entropy": entropy}

    def _check_dataset(self, dataset: TransitionDataset, epochs: int) -> None:
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        d = dataset.tensors().observation.shape[1]
        if d != self.obs_dim:
            raise ValueError(f"dataset has observation dimension {d}, agent has {self.obs_dim}")

    # -------------------------------------------------------------- checkpoints
    def _networks(self) -> dict[str, nn.Module]:
        return {
            "q1": self.q1,
            "q2": self.q2,
            "q1_target": self.q1_target,
            "q2_target": self.q2_target,
            "policy": self.policy,
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume or evaluate (see :meth:`save` for the layout)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "obs_dim": self.obs_dim,
            "n_actions": self.n_actions,
            "config": self.config.model_dump(),
            "alpha": self.alpha,
            "iteration": self.iteration,
            "normalizer": self.normalizer.state_dict(),
            "networks": {k: copy.deepcopy(m.state_dict()) for k, m in self._networks().items()},
            "optimizers": {
                "q": copy.deepcopy(self.q_optimizer.state_dict()),
                "policy": copy.deepcopy(self.policy_optimizer.state_dict()),
            },
            "generator": self.generator.get_state(),
            "np_rng": self.rng.bit_generator.state,
            "extra": copy.deepcopy(self.extra),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (same ``obs_dim``, ``n_actions`` and ``hidden``).

        Raises:
            ValueError: not a DiscreteSAC checkpoint, or one of another shape.
        """
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"not a {CHECKPOINT_FORMAT} checkpoint (format={state.get('format')!r})"
            )
        if int(state["format_version"]) > CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint format version {state['format_version']} is too new")
        shape = (state["obs_dim"], state["n_actions"], tuple(state["config"]["hidden"]))
        if shape != (self.obs_dim, self.n_actions, self.config.hidden):
            raise ValueError(
                f"checkpoint is for (obs_dim, n_actions, hidden)={shape}, agent is "
                f"{(self.obs_dim, self.n_actions, self.config.hidden)}"
            )
        self.config = SACConfig(**state["config"])
        for k, m in self._networks().items():
            m.load_state_dict(state["networks"][k])
        self.q_optimizer.load_state_dict(state["optimizers"]["q"])
        self.policy_optimizer.load_state_dict(state["optimizers"]["policy"])
        for group in (*self.q_optimizer.param_groups, *self.policy_optimizer.param_groups):
            group["lr"] = self.config.lr
        self.normalizer.load_state_dict(state["normalizer"])
        self.alpha = float(state["alpha"])
        self.iteration = int(state["iteration"])
        self.generator.set_state(state["generator"])
        self.rng.bit_generator.state = state["np_rng"]
        self.extra = copy.deepcopy(state.get("extra", {}))

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` with ``torch.save`` (atomically: a temporary file
        then a rename). The checkpoint is a dict::

            format, format_version      "defisim.learning.DiscreteSAC", 1
            obs_dim, n_actions, config  shape and SACConfig fields
            alpha, iteration            current entropy coefficient, iterations done
            normalizer                  {count, mean [D] float64, m2 [D] float64}
            networks                    state dicts of q1, q2, q1_target, q2_target, policy
            optimizers                  Adam state dicts of "q" (both critics) and "policy"
            generator                   torch.Generator state (init + minibatch order)
            np_rng                      numpy bit generator state (act without rng)
            extra                       caller's JSON-like dict (e.g. observation names)
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state_dict(), tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DiscreteSAC:
        """A new agent from a :meth:`save` file (``torch.load(weights_only=True)``).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a DiscreteSAC checkpoint.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint not found: {path}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
        agent = cls(state["obs_dim"], state["n_actions"], state["config"])
        agent.load_state_dict(state)
        return agent
