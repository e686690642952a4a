"""The offline training loop: collect with the current policy, fit Q, improve, repeat.

Iteration ``i`` (1-based) of :func:`train_offline`:

1. **collect** ``episodes_per_iteration`` episodes with the current policy (the
   uniform random policy in iteration 1 when ``first_policy="random"``; otherwise
   :class:`~defisim.learning.sac.DiscreteSAC` sampling from ``pi``, with probability
   ``epsilon`` of a uniform action instead) into ``data/iteration_{i:04d}.parquet``.
   The collection seed is ``seed + (i - 1) * episodes_per_iteration``, so episode
   ``k`` of iteration ``i`` runs ``env.reset(seed=seed + (i-1)*E + k)`` (every
   training episode has its own env seed; see :mod:`.rollout`);
2. **fit Q** (policy evaluation) for ``epochs_q`` epochs and **improve the policy**
   for ``epochs_pi`` epochs on the data of all iterations so far (``keep_all_data``,
   a replay buffer of Parquet files) or of this iteration only; the observation
   normaliser first takes in this iteration's observations;
3. decay ``alpha``, write ``checkpoints/iteration_{i:04d}.pt`` and
   ``checkpoints/latest.pt``, append a row to ``training_log.csv`` and redraw
   ``training_curve.png``.

Output folder::

    out_dir/
      config.json                    TrainConfig (JSON)
      data/iteration_0001.parquet    transitions collected in iteration 1 (see .transitions)
      checkpoints/iteration_0001.pt  agent after iteration 1 (see DiscreteSAC.save)
      checkpoints/latest.pt          agent after the last completed iteration
      training_log.csv               one row per iteration (LOG_COLUMNS)
      training_curve.png             mean episode PnL +- 2 SE, losses, alpha and entropy

Everything is seeded: the same configuration gives the same files, and an
interrupted run resumed with ``resume=True`` continues exactly as if uninterrupted
(the checkpoint holds the generator states).
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from defisim.progress import ProgressBar

from .rollout import (
    EpisodeStats,
    Policy,
    action_names,
    check_spaces,
    epsilon_greedy,
    info_float,
    observation_names,
    random_policy,
    run_episode,
)
from .sac import DiscreteSAC, SACConfig
from .transitions import TransitionDataset, TransitionWriter, collect_transitions

INFO_COLUMNS = ("pnl", "position")
LOG_COLUMNS = (
    "iteration",
    "collection_policy",
    "episodes",
    "transitions",
    "dataset_transitions",
    "episode_reward_mean",
    "episode_reward_std",
    "episode_reward_se",
    "episode_pnl_mean",
    "episode_pnl_std",
    "episode_pnl_se",
    "episode_length_mean",
    "q_loss",
    "policy_loss",
    "alpha",
    "entropy",
    "collect_seconds",
    "train_seconds",
    "wall_seconds",
)


class TrainConfig(BaseModel):
    """Settings of :func:`train_offline` (validated; stored as ``config.json``)."""

    model_config = ConfigDict(extra="forbid")

    max_iterations: int = Field(
        ..., ge=1, description="train until this many iterations are complete (in total)"
    )
    episodes_per_iteration: int = Field(
        ..., ge=1, description="episodes collected with the current policy per iteration"
    )
    seed: int = Field(0, ge=0, description="base seed of episodes (env.reset) and policy draws")
    epochs_q: int = Field(
        20, ge=0, description="passes over the data fitting the critics, per iteration"
    )
    epochs_pi: int = Field(
        5, ge=0, description="passes over the data improving the policy, per iteration"
    )
    keep_all_data: bool = Field(
        True, description="train on every iteration's transitions (else the latest only)"
    )
    first_policy: Literal["random", "agent"] = Field(
        "random", description="iteration 1 collects with the uniform policy or the initial agent"
    )
    epsilon: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="probability of a uniform random action when collecting with the agent",
    )
    max_episode_steps: int | None = Field(
        None, ge=1, description="truncate collection episodes after this many steps"
    )
    sac_config: SACConfig = Field(
        default_factory=SACConfig, description="DiscreteSAC hyperparameters"
    )


@dataclass
class TrainResult:
    """What :func:`train_offline` did.

    Attributes:
        out_dir: the output folder.
        agent: the agent after the last completed iteration.
        log: the rows of ``training_log.csv`` (all iterations, also resumed ones).
        iterations_run: iterations run by this call.
        config: the configuration used.
    """

    out_dir: Path
    agent: DiscreteSAC
    log: list[dict[str, Any]]
    iterations_run: int
    config: TrainConfig

    @property
    def checkpoint(self) -> Path:
        """``checkpoints/latest.pt``."""
        return self.out_dir / "checkpoints" / "latest.pt"


@dataclass
class EvaluationResult(EpisodeStats):
    """Episodes of :func:`evaluate_policy`: the per-episode arrays of
    :class:`~defisim.learning.rollout.EpisodeStats` (``reward``, ``pnl``, ``length``,
    with ``reward_mean``/``_std``/``_se`` and ``pnl_mean``/``_std``/``_se``) and, per
    episode, float64 arrays over its steps of ``info["pnl"]`` and ``info["position"]``
    after each step (NaN where the env gives none)."""

    step_pnl: list[np.ndarray] = field(default_factory=list)
    step_position: list[np.ndarray] = field(default_factory=list)


def evaluate_policy(
    make_env: Callable[[], gym.Env],
    policy: Policy,
    episodes: int,
    seed: int,
    *,
    max_steps: int | None = None,
) -> EvaluationResult:
    """Run ``policy`` for ``episodes`` episodes in a fresh ``make_env()`` (closed after).

    Episode ``k`` runs ``env.reset(seed=seed + k)`` with the policy drawing from
    ``np.random.default_rng([seed, k])``. Use seeds apart from the training ones
    (``train_offline`` uses ``seed`` .. ``seed + max_iterations * E - 1``). For a
    :class:`DiscreteSAC`, pass ``agent`` (sampling) or ``agent.as_policy(True)``
    (greedy).

    Returns:
        :class:`EvaluationResult`.

    Raises:
        ValueError: ``episodes < 1``, bad spaces, observations or actions.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = make_env()
    try:
        check_spaces(env)
        rewards, pnls, lengths, step_pnl, step_pos = [], [], [], [], []
        for k in range(episodes):
            total, sp, spos = 0.0, [], []
            for s in run_episode(env, policy, seed, k, max_steps):
                total += s.reward
                sp.append(info_float(s.info, "pnl"))
                spos.append(info_float(s.info, "position"))
            rewards.append(total)
            pnls.append(sp[-1])
            lengths.append(len(sp))
            step_pnl.append(np.array(sp))
            step_pos.append(np.array(spos))
    finally:
        env.close()
    return EvaluationResult(
        np.array(rewards), np.array(pnls), np.array(lengths, dtype=np.int64), step_pnl, step_pos
    )


def _resolve_config(
    config: TrainConfig | dict[str, Any] | None, fields: dict[str, Any]
) -> TrainConfig:
    base = config.model_dump() if isinstance(config, TrainConfig) else dict(config or {})
    merged = {**base, **fields}
    if isinstance(merged.get("sac_config"), SACConfig):
        merged["sac_config"] = merged["sac_config"].model_dump()
    return TrainConfig(**merged)


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``training_log.csv`` (numbers as int/float, the policy as str)."""
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            out: dict[str, Any] = {}
            for k, v in row.items():
                if k == "collection_policy":
                    out[k] = v
                elif k in ("iteration", "episodes", "transitions", "dataset_transitions"):
                    out[k] = int(v)
                else:
                    out[k] = float(v) if v != "" else math.nan
            rows.append(out)
    return rows


def _write_log(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in LOG_COLUMNS})
    tmp.replace(path)


def plot_training_curve(rows: list[dict[str, Any]], path: str | Path) -> None:
    """``training_curve.png``: mean episode PnL (or reward, when the env reports no
    PnL) +- 2 standard errors, the critic and policy losses, alpha and entropy, per
    iteration (matplotlib, Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    it = np.array([r["iteration"] for r in rows], dtype=float)

    def col(name: str) -> np.ndarray:
        return np.array([r[name] for r in rows], dtype=float)

    key = "episode_pnl" if np.isfinite(col("episode_pnl_mean")).any() else "episode_reward"
    mean, se = col(f"{key}_mean"), np.nan_to_num(col(f"{key}_se"))
    fig = Figure(figsize=(8, 8), layout="constrained")
    FigureCanvasAgg(fig)
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
    ax1.plot(it, mean, marker="o", label=f"mean {key.replace('_', ' ')}")
    ax1.fill_between(it, mean - 2 * se, mean + 2 * se, alpha=0.3, label="+- 2 SE")
    ax1.axhline(0.0, color="grey", lw=0.8)
    ax1.set_ylabel(key.replace("_", " "))
    ax1.set_title("collection episodes per iteration")
    ax1.legend(loc="best")
    ax2.plot(it, col("q_loss"), marker="o", label="Q loss")
    ax2.plot(it, col("policy_loss"), marker="o", label="policy loss")
    ax2.set_ylabel("loss")
    ax2.legend(loc="best")
    ax3.plot(it, col("alpha"), marker="o", label="alpha")
    ax3.plot(it, col("entropy"), marker="o", label="policy entropy (nats)")
    ax3.set_xlabel("iteration")
    ax3.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax3.legend(loc="best")
    fig.savefig(path, dpi=100)


def train_offline(
    make_env: Callable[[], gym.Env],
    out_dir: str | Path,
    config: TrainConfig | dict[str, Any] | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    **fields: Any,
) -> TrainResult:
    """Train a :class:`DiscreteSAC` by alternating data collection and offline
    fitting (see the module docstring for the iteration and the folder layout).

    Args:
        make_env: builds the env (1-D ``Box`` observations, ``Discrete`` actions);
            called once; ``info["pnl"]`` and ``info["position"]`` are recorded when given.
        out_dir: output folder.
        config: a :class:`TrainConfig` or dict; ``**fields`` (``max_iterations``,
            ``episodes_per_iteration``, ``seed``, ``sac_config``, ``epochs_q``,
            ``epochs_pi``, ``keep_all_data``, ``first_policy``, ``epsilon``,
            ``max_episode_steps``) override it.
        resume: continue from ``checkpoints/latest.pt``, the data and the log in
            ``out_dir`` with the stored configuration; only ``max_iterations`` may
            change. Data and log rows of iterations after the checkpoint (an
            interrupted iteration) are dropped and redone.
        progress: show a rich progress bar (stderr).

    Returns:
        :class:`TrainResult`.

    Raises:
        pydantic.ValidationError (a ValueError): bad configuration.
        FileExistsError: ``resume=False`` and ``out_dir`` already holds a training run.
        FileNotFoundError: ``resume=True`` and there is no checkpoint.
        ValueError: on resume, settings other than ``max_iterations`` differ from the
            stored ones, or the env's spaces differ from the checkpoint's.
    """
    out = Path(out_dir)
    data_dir, ckpt_dir = out / "data", out / "checkpoints"
    latest, log_path = ckpt_dir / "latest.pt", out / "training_log.csv"
    env = make_env()
    try:
        if resume:
            cfg, agent, log = _resume(env, out, config, fields)
        else:
            if latest.exists() or any(data_dir.glob("iteration_*.parquet")):
                raise FileExistsError(
                    f"{out} already holds a training run; pass resume=True or use another folder"
                )
            cfg = _resolve_config(config, fields)
            dim, n = check_spaces(env)
            agent = DiscreteSAC(dim, n, cfg.sac_config)
            agent.extra = {
                "observation_names": observation_names(env, dim),
                "action_names": action_names(env, n),
            }
            log = []
        out.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(exist_ok=True)
        ckpt_dir.mkdir(exist_ok=True)
        (out / "config.json").write_text(cfg.model_dump_json(indent=2))
        start = agent.iteration
        bar = ProgressBar(cfg.max_iterations, "training", progress, done=start,
                          refresh_every=1)
        try:
            for i in range(start + 1, cfg.max_iterations + 1):
                log.append(_iteration(env, agent, cfg, i, data_dir, bar))
                bar.describe(f"iteration {i}/{cfg.max_iterations}: saving")
                agent.save(ckpt_dir / f"iteration_{i:04d}.pt")
                agent.save(latest)
                _write_log(log_path, log)
                plot_training_curve(log, out / "training_curve.png")
                bar.advance()
            bar.describe(f"trained {cfg.max_iterations} iterations")
        finally:
            bar.stop()
    finally:
        env.close()
    return TrainResult(out, agent, log, max(0, cfg.max_iterations - start), cfg)


def _resume(
    env: gym.Env, out: Path, config: TrainConfig | dict[str, Any] | None, fields: dict[str, Any]
) -> tuple[TrainConfig, DiscreteSAC, list[dict[str, Any]]]:
    """The configuration, agent and log rows to continue the run in ``out``; drops
    data files of iterations after the checkpoint's."""
    latest, cfg_path = out / "checkpoints" / "latest.pt", out / "config.json"
    for path in (latest, cfg_path):
        if not path.is_file():
            raise FileNotFoundError(f"cannot resume: {path} not found")
    cfg = TrainConfig.model_validate_json(cfg_path.read_text())
    if config is not None or fields:
        given = config.model_dump() if isinstance(config, TrainConfig) else config
        asked = _resolve_config({**cfg.model_dump(), **(given or {})}, fields)
        a, s = asked.model_dump(), cfg.model_dump()
        diff = sorted(k for k in a if k != "max_iterations" and a[k] != s[k])
        if diff:
            raise ValueError(
                f"cannot resume with different settings ({', '.join(diff)}); "
                f"only max_iterations may change"
            )
        cfg = asked
    agent = DiscreteSAC.load(latest)
    dim, n = check_spaces(env)
    if (agent.obs_dim, agent.n_actions) != (dim, n):
        raise ValueError(
            f"checkpoint is for observation dimension {agent.obs_dim} and "
            f"{agent.n_actions} actions, env has {dim} and {n}"
        )
    log_path = out / "training_log.csv"
    log = read_log(log_path) if log_path.is_file() else []
    log = [r for r in log if r["iteration"] <= agent.iteration]
    for p in (out / "data").glob("iteration_*.parquet"):
        if int(p.stem.split("_")[1]) > agent.iteration:
            p.unlink()
    return cfg, agent, log


def _iteration(
    env: gym.Env, agent: DiscreteSAC, cfg: TrainConfig, i: int, data_dir: Path, bar: ProgressBar
) -> dict[str, Any]:
    """Collect, fit Q, improve the policy for iteration ``i``; its log row."""
    t0 = time.perf_counter()
    label = f"iteration {i}/{cfg.max_iterations}"
    bar.describe(f"{label}: collecting")
    E = cfg.episodes_per_iteration
    if i == 1 and cfg.first_policy == "random":
        policy, name = random_policy(agent.n_actions), "random"
    else:
        policy, name = epsilon_greedy(agent, agent.n_actions, cfg.epsilon), "agent"
    seed_i = cfg.seed + (i - 1) * E
    meta = {
        "iteration": i,
        "seed": seed_i,
        "collection_policy": name,
        "epsilon": cfg.epsilon,
        "alpha": agent.alpha,
        "env": type(env.unwrapped).__name__,
    }
    names = agent.extra.get("observation_names") or observation_names(env, agent.obs_dim)
    with TransitionWriter(
        data_dir / f"iteration_{i:04d}.parquet",
        names,
        agent.n_actions,
        meta,
        action_names=agent.extra.get("action_names"),
        extra_columns=INFO_COLUMNS,
    ) as writer:
        stats = collect_transitions(
            env,
            policy,
            E,
            seed_i,
            writer,
            episode_offset=(i - 1) * E,
            max_steps=cfg.max_episode_steps,
        )
    t1 = time.perf_counter()
    first = 1 if cfg.keep_all_data else i
    dataset = TransitionDataset(
        [data_dir / f"iteration_{j:04d}.parquet" for j in range(first, i + 1)]
    )
    agent.update_normalizer(dataset.tensors().observation[len(dataset) - stats.transitions :])
    alpha = agent.alpha
    bar.describe(f"{label}: fitting Q")
    q_loss = agent.fit_q(dataset, cfg.epochs_q)
    bar.describe(f"{label}: improving policy")
    policy_loss, entropy = agent.improve_policy(dataset, cfg.epochs_pi)
    agent.end_iteration()
    t2 = time.perf_counter()
    s = stats.summary()
    return {
        "iteration": i,
        "collection_policy": name,
        "episodes": E,
        "transitions": stats.transitions,
        "dataset_transitions": len(dataset),
        "episode_reward_mean": s["reward_mean"],
        "episode_reward_std": s["reward_std"],
        "episode_reward_se": s["reward_se"],
        "episode_pnl_mean": s["pnl_mean"],
        "episode_pnl_std": s["pnl_std"],
        "episode_pnl_se": s["pnl_se"],
        "episode_length_mean": s["length_mean"],
        "q_loss": q_loss,
        "policy_loss": policy_loss,
        "alpha": alpha,
        "entropy": entropy,
        "collect_seconds": t1 - t0,
        "train_seconds": t2 - t1,
        "wall_seconds": t2 - t0,
    }


def load_config(out_dir: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` stored in ``out_dir/config.json``.

    Raises:
        FileNotFoundError: no ``config.json``.
    """
    path = Path(out_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"no training configuration: {path} not found")
    return TrainConfig(**json.loads(path.read_text()))
