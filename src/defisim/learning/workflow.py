"""Train and evaluate a learning trader on a scenario: what ``defisim train`` and
``defisim evaluate`` do.

:func:`train_scenario` writes the environment's configuration to
``OUT/env.json`` next to what :func:`~defisim.learning.train.train_offline` writes
(``config.json``, ``data/``, ``checkpoints/``, ``training_log.csv``,
``training_curve.png``), so a checkpoint is enough to rebuild its environment.

:func:`evaluate_checkpoint` plays ``episodes`` evaluation episodes (seeds
``EVAL_SEED_OFFSET + k``, away from the training seeds) with the trained policy
(greedy: the most probable action) and with baselines on the same seeds:

- ``random``: uniform over the actions;
- ``hold``: action 0 throughout (for the ``discrete`` kind: never trade);
- ``buy_and_hold``: buy once at the first step, then hold (``discrete`` kind);
- ``zero_intelligence``: at each step, with probability 0.2, a uniformly random
  non-hold action, else hold (random orders at random times, after Gode and
  Sunder 1993, without their budget constraint: the market's margin check is it).

It writes ``metrics.csv`` / ``metrics.json`` (per policy: mean, std and standard
error of the final episode PnL, win rate, and the episode means of the risk
metrics of :func:`defisim.metrics.summarize` on each episode's PnL path:
annualised Sharpe and Sortino with a 365-day year, max drawdown, historical VaR
and CVaR at 95 %), ``pnl.png`` (mean PnL path per policy with a ±2 SE band, and
the final PnL distribution), ``position.png`` (mean position path per policy) and
``episodes.png`` (every episode's PnL and position path, one column per policy).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from defisim.metrics import summarize

from .sac import DiscreteSAC
from .train import EvaluationResult, TrainConfig, TrainResult, evaluate_policy, train_offline

EVAL_SEED_OFFSET = 1_000_000
"""Evaluation episodes use env seeds from here (training uses 0, 1, 2, ...)."""

ENV_FILE = "env.json"


def _make_env_factory(env_config: dict[str, Any]):
    from defisim.envs import TradingEnv

    def make():
        return TradingEnv(env_config)
    return make


def train_scenario(env_config: dict[str, Any], out_dir: str | Path,
                   train_config: TrainConfig | dict[str, Any] | None = None, *,
                   resume: bool = False, progress: bool = True) -> TrainResult:
    """Train a :class:`DiscreteSAC` on :class:`~defisim.envs.TradingEnv` (``env_config``).

    On ``resume`` the stored ``env.json`` is used and ``env_config`` must be empty
    or equal to it.

    Raises:
        defisim.envs.EnvSetupError: bad environment parameters.
        ValueError: a continuous action space (the learner is for discrete actions),
            or on resume a different environment configuration.
        FileExistsError / FileNotFoundError: as :func:`train_offline`.
    """
    from defisim.envs import TradingEnv

    out = Path(out_dir)
    env_path = out / ENV_FILE
    if resume and env_path.exists():
        cfg = json.loads(env_path.read_text())
        if env_config and TradingEnv(env_config).config.model_dump(mode="json") != cfg:
            raise ValueError(f"{out}: the stored {ENV_FILE} differs from the environment given; "
                             "resume without environment options")
    elif resume:
        raise FileNotFoundError(f"cannot resume: {env_path} not found")
    else:
        cfg = TradingEnv(env_config).config.model_dump(mode="json")  # validates, builds once
    if cfg["action"]["kind"] == "continuous":
        raise ValueError("the offline soft actor-critic needs discrete actions "
                         "(action kind 'discrete' or 'quotes')")
    if not resume:
        if (out / "checkpoints" / "latest.pt").exists():
            raise FileExistsError(f"{out} already holds a training run; use --resume or "
                                  "another --out")
    out.mkdir(parents=True, exist_ok=True)
    env_path.write_text(json.dumps(cfg, indent=2))
    return train_offline(_make_env_factory(cfg), out, train_config, resume=resume,
                         progress=progress)


@dataclass
class PolicyEvaluation:
    """One policy's evaluation: the raw episodes and the metrics row."""

    name: str
    result: EvaluationResult
    metrics: dict[str, float]


def _baselines(kind: str, n_actions: int) -> dict[str, Any]:
    def random(obs, rng):
        return int(rng.integers(n_actions))

    def hold(obs, rng):
        return 0

    out = {"random": random, "hold": hold}
    if kind == "discrete":
        seen = {"rng": None}

        def buy_and_hold(obs, rng):
            # every episode gets a fresh generator (rollout.run_episode): its first
            # call is the episode's first step
            if rng is not seen["rng"]:
                seen["rng"] = rng
                return 1
            return 0
        out["buy_and_hold"] = buy_and_hold

    def zero_intelligence(obs, rng):
        if rng.random() < 0.2:
            return int(rng.integers(1, n_actions))
        return 0
    out["zero_intelligence"] = zero_intelligence
    return out


def _episode_metrics(res: EvaluationResult, capital: float, period_s: float) -> dict[str, float]:
    rows = []
    for path in res.step_pnl:
        pnl = np.concatenate([[0.0], np.asarray(path, dtype=np.float64)])
        rows.append(summarize(pnl, capital, period_s))
    keys = ("sharpe", "sortino", "max_drawdown", "var", "cvar")
    out = {
        "episodes": float(res.episodes),
        "pnl_mean": res.pnl_mean,
        "pnl_std": res.pnl_std,
        "pnl_se": res.pnl_se,
        "win_rate": float(np.mean(res.pnl > 0)),
        "reward_mean": res.reward_mean,
    }
    for k in keys:
        vals = np.array([r[k] for r in rows], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        out[f"{k}_mean"] = float(vals.mean()) if len(vals) else math.nan
    return out


def evaluate_checkpoint(checkpoint: str | Path, episodes: int = 50, out_dir: str | Path | None
                        = None, seed: int = EVAL_SEED_OFFSET,
                        baselines: bool = True) -> dict[str, PolicyEvaluation]:
    """Evaluate a trained checkpoint against the baselines (module docstring).

    Args:
        checkpoint: a ``.pt`` file written by training, or a training folder
            (its ``checkpoints/latest.pt``).
        episodes: evaluation episodes per policy (>= 1).
        out_dir: where the tables and plots go (default ``<training folder>/evaluation``).
        seed: env seed of the first evaluation episode.
        baselines: also evaluate the baselines.

    Returns:
        Policy name -> :class:`PolicyEvaluation` (``"trained"`` first).

    Raises:
        FileNotFoundError: no checkpoint, or no ``env.json`` beside it.
        ValueError: ``episodes < 1``, or a checkpoint whose spaces do not match the env.
    """
    path = Path(checkpoint)
    if path.is_dir():
        path = path / "checkpoints" / "latest.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {checkpoint}")
    train_dir = path.parent.parent
    env_path = train_dir / ENV_FILE
    if not env_path.is_file():
        raise FileNotFoundError(f"{env_path} not found: evaluate needs the env.json written "
                                "by defisim train beside checkpoints/")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env_cfg = json.loads(env_path.read_text())
    agent = DiscreteSAC.load(path)
    make = _make_env_factory(env_cfg)
    probe = make()
    if probe.observation_space.shape[0] != agent.obs_dim or probe.action_space.n != agent.n_actions:
        raise ValueError(f"checkpoint {path} has {agent.obs_dim} observations and "
                         f"{agent.n_actions} actions; the env has "
                         f"{probe.observation_space.shape[0]} and {probe.action_space.n}")
    capital = float(env_cfg["collateral"])
    period_s = probe.session.step_ns / 1e9 * env_cfg["steps_per_action"]
    policies: dict[str, Any] = {"trained": agent.as_policy(True)}
    if baselines:
        policies.update(_baselines(env_cfg["action"]["kind"], agent.n_actions))
    results: dict[str, PolicyEvaluation] = {}
    for name, pol in policies.items():
        res = evaluate_policy(make, pol, episodes, seed)
        results[name] = PolicyEvaluation(name, res, _episode_metrics(res, capital, period_s))
    out = Path(out_dir) if out_dir is not None else train_dir / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    _write_tables(results, out)
    _plot(results, out)
    return results


def _write_tables(results: dict[str, PolicyEvaluation], out: Path) -> None:
    names = list(results)
    cols = list(next(iter(results.values())).metrics)
    lines = ["policy," + ",".join(cols)]
    for n in names:
        lines.append(n + "," + ",".join(repr(float(results[n].metrics[c])) for c in cols))
    (out / "metrics.csv").write_text("\n".join(lines) + "\n")

    def clean(v: float):
        return v if math.isfinite(v) else None
    (out / "metrics.json").write_text(json.dumps(
        {n: {c: clean(float(results[n].metrics[c])) for c in cols} for n in names}, indent=2))


def _plot(results: dict[str, PolicyEvaluation], out: Path) -> None:
    from defisim.runner.plot_style import new_figure

    fig, (ax, ax2) = new_figure(1, 2, figsize=(12, 4.5))
    for name, ev in results.items():
        paths = _stack(ev.result.step_pnl)
        mean = np.nanmean(paths, axis=0)
        se = np.nanstd(paths, axis=0, ddof=1) / math.sqrt(max(1, paths.shape[0])) \
            if paths.shape[0] > 1 else np.zeros_like(mean)
        x = np.arange(1, len(mean) + 1)
        ax.plot(x, mean, label=name)
        ax.fill_between(x, mean - 2 * se, mean + 2 * se, alpha=0.15)
    ax.set_xlabel("env step")
    ax.set_ylabel("PnL (asset units)")
    ax.set_title("mean PnL path, ±2 SE")
    ax.legend()
    ax2.boxplot([ev.result.pnl for ev in results.values()], tick_labels=list(results))
    ax2.set_title("final episode PnL")
    ax2.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    fig.savefig(out / "pnl.png", dpi=110)

    fig, ax = new_figure(figsize=(7, 4))
    for name, ev in results.items():
        paths = _stack(ev.result.step_position)
        ax.plot(np.arange(1, paths.shape[1] + 1), np.nanmean(paths, axis=0), label=name)
    ax.set_xlabel("env step")
    ax.set_ylabel("position (contracts)")
    ax.set_title("mean position path")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "position.png", dpi=110)

    # every episode of each policy: PnL (top) and position (bottom), one column each
    names = list(results)
    fig, axes = new_figure(2, len(names), figsize=(3.2 * len(names), 5.5), sharex=True,
                             squeeze=False)
    for j, name in enumerate(names):
        ev = results[name].result
        for path in ev.step_pnl:
            axes[0, j].plot(np.arange(1, len(path) + 1), path, lw=0.6, alpha=0.5)
        for path in ev.step_position:
            axes[1, j].plot(np.arange(1, len(path) + 1), path, lw=0.6, alpha=0.5)
        axes[0, j].set_title(name)
        axes[1, j].set_xlabel("env step")
    axes[0, 0].set_ylabel("PnL (asset units)")
    axes[1, 0].set_ylabel("position (contracts)")
    fig.suptitle("per episode")
    fig.tight_layout()
    fig.savefig(out / "episodes.png", dpi=100)


def _stack(paths: list[np.ndarray]) -> np.ndarray:
    """Episode paths as rows of one array, shorter ones padded with their last value."""
    n = max(len(p) for p in paths)
    out = np.full((len(paths), n), np.nan)
    for i, p in enumerate(paths):
        if len(p):
            out[i, : len(p)] = p
            out[i, len(p):] = p[-1]
    return out
