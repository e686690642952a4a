"""Train a deep-RL provider (PPO) in ``compute_marketplace`` and compare it with the CEM
threshold learner of ``docs/compute_learner.py`` and the section-5 policies in the same
seat on the same held-out seeds (compute spec 8, "Multi-agent RL").

The learner is ``provider0`` of :class:`defisim.envs.ComputeGymEnv` (market, seat, horizon
and profit measure as in ``docs/compute_learner.py``). The policy is stable-baselines3's
PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms", arXiv:1707.06347)
with a small MLP (two hidden layers of 64, tanh) on the 36 observation features, a
diagonal Gaussian over the flat ``Box([0,1]^2)`` action (clipped into the box), observations
and rewards standardised by ``VecNormalize``.

**Decision steps.** Only about 33 of an episode's 1440 ticks carry a pending decision; on
the others the action is ignored. :class:`DecisionSteps` runs those ticks with a
placeholder action and sums their rewards into the preceding decision's step, so one PPO
step is one price decision (a semi-Markov decision process: the ticks between decisions
are one transition). The episode, its seed and its reward sum are unchanged; PPO just
no longer spends samples and value-function capacity on steps where nothing it does
matters.

**Seeds.** Training episodes use env seeds ``10_000 + k`` (episode ``k`` of the run's
envs, in order), disjoint from the held-out ``1000..1019``; SB3's ``seed`` seeds torch,
numpy and the action noise; torch runs single-threaded with deterministic algorithms, so
the same arguments give the same weights and the same table.

Evaluation: deterministic actions (the Gaussian's mean) on the held-out seeds; profit =
W_end - W_0 of provider0 over the episode (USD; ``info["pnl"]`` at the last step; the
``c_invalid`` penalties are reward shaping, not money, and are not in it), return =
profit / W_0; 95 % t intervals and the paired differences PPO - other per seed.

Usage::

    PYTHONPATH=src python docs/compute_learner_ppo.py [--reward surplus --timesteps 40000
        --horizon 1440 --test-seeds 20 --seed 0 --save]
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from defisim.envs.compute import ComputeEnvConfig, ComputeSession
from defisim.envs.compute_gym import ComputeGymEnv

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("compute_learner", HERE / "compute_learner.py")
cem_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cem_script)

SEAT = cem_script.SEAT
BASELINES = (*cem_script.BASELINES, "naive_rejecter")
CEM_THETA = np.array([0.328, 0.854, 0.010, 0.348])
"""theta of docs/compute_learner.md (alpha, beta, delta, rho; as published, 3 decimals)."""
TRAIN_SEED0 = 10_000
PPO_ROW = "learner (PPO)"
CEM_ROW = "learner (CEM threshold)"
IDLE_ACTION = np.zeros(2, np.float32)


class DecisionSteps(gym.Wrapper):
    """One step per pending decision of the wrapped :class:`ComputeGymEnv` (module docstring).

    ``reset(seed=None)`` takes the next seed of ``seeds`` (an iterator of ints). A step
    applies the action, then runs the ticks without a pending decision (action ignored
    by the env) until the next decision or the episode's end, returning the sum of their
    rewards; ``info`` is the last tick's, with ``ticks`` (how many ran) added. The
    ticks ``reset`` runs before the first decision pay their rewards with the first
    step; an episode whose ticks run out during ``reset`` ends at that step.
    """

    def __init__(self, env: ComputeGymEnv, seeds: Any = None) -> None:
        super().__init__(env)
        self._seeds = seeds
        self._ended: tuple[bool, bool, dict] | None = None
        self._carry = 0.0  # the rewards of the ticks reset ran, paid with the first step
        self.episodes = 0

    def _skip(self, obs, info):
        total, term, trunc, n = 0.0, False, False, 0
        while not info["pending"] and not (term or trunc):
            obs, r, term, trunc, info = self.env.step(IDLE_ACTION)
            total, n = total + r, n + 1
        return obs, total, term, trunc, info, n

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is None and self._seeds is not None:
            seed = int(next(self._seeds))
        obs, info = self.env.reset(seed=seed, options=options)
        self.episodes += 1
        obs, self._carry, term, trunc, info, _ = self._skip(obs, info)
        self._ended = (term, trunc, info) if (term or trunc) else None
        return obs, info

    def step(self, action):
        if self._ended is not None:
            term, trunc, info = self._ended
            self._ended = None
            return (np.zeros(self.observation_space.shape, np.float32), self._carry, term,
                    trunc, {**info, "ticks": 0})
        obs, r, term, trunc, info = self.env.step(action)
        r, self._carry = r + self._carry, 0.0
        obs, r2, term, trunc, info, n = self._skip(obs, info) if not (term or trunc) else (
            obs, 0.0, term, trunc, info, 0)
        return obs, r + r2, term, trunc, {**info, "ticks": n + 1}


def make_vec_env(reward: str, horizon: int, n_envs: int, seed0: int) -> DummyVecEnv:
    """``n_envs`` decision-step envs; env ``i`` plays seeds ``seed0 + i, seed0 + i + n_envs, ...``."""
    def factory(i: int):
        def make():
            env = ComputeGymEnv(learner=SEAT, horizon_steps=horizon, reward=reward)
            return Monitor(DecisionSteps(env, iter(range(seed0 + i, 2**31, n_envs))))
        return make
    return DummyVecEnv([factory(i) for i in range(n_envs)])


def train_ppo(reward: str = "surplus", timesteps: int = 40_000, horizon: int = 1440,
              seed: int = 0, n_envs: int = 4, n_steps: int = 256,
              seed0: int = TRAIN_SEED0, learning_rate: float = 1e-3) -> tuple[PPO, VecNormalize]:
    """Train PPO (decision steps; module docstring). Same arguments, same weights.

    Args:
        reward: the env's reward, ``"pnl"`` or ``"surplus"`` (``"dsr"`` works too).
        timesteps: PPO steps (decisions), rounded up to ``n_envs * n_steps``.
        horizon: ticks of 5 s per episode.
        seed: SB3's seed (torch, numpy, action sampling).
        n_envs, n_steps: envs per rollout and decisions per env per rollout.
        seed0: the first training episode seed.
        learning_rate: Adam's step size.

    Returns:
        ``(model, vec_normalize)``; the latter holds the observation statistics that
        evaluation needs (set to ``training=False`` for evaluation).
    """
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    venv = VecNormalize(make_vec_env(reward, horizon, n_envs, seed0), gamma=0.99,
                        clip_obs=10.0)
    model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=128, n_epochs=10,
                learning_rate=learning_rate, gamma=0.99, gae_lambda=0.95, ent_coef=0.0, seed=seed,
                policy_kwargs={"net_arch": [64, 64], "log_std_init": -1.0}, verbose=0,
                device="cpu")
    model.learn(total_timesteps=timesteps)
    venv.training = False
    return model, venv


def ppo_profit(model: PPO, norm: VecNormalize, seed: int, horizon: int) -> tuple[float, float]:
    """One deterministic episode of the trained PPO provider: ``(profit USD, W_0 USD)``."""
    env = DecisionSteps(ComputeGymEnv(learner=SEAT, horizon_steps=horizon, reward="pnl"))
    obs, info = env.reset(seed=seed)
    w0 = env.unwrapped.learner.value_usd(env.unwrapped.multi.state.sim)
    done = False
    while not done:
        act, _ = model.predict(norm.normalize_obs(obs[None]), deterministic=True)
        obs, _, term, trunc, info = env.step(act[0])
        done = term or trunc
    return float(info["pnl"]), w0


def cem_profit(seed: int, horizon: int, theta: np.ndarray = CEM_THETA) -> tuple[float, float]:
    """One episode of the CEM threshold rule: ``(W_end - W_0 USD, W_0 USD)``."""
    env = ComputeGymEnv(learner=SEAT, horizon_steps=horizon, reward="pnl")
    obs, info = env.reset(seed=seed)
    w0 = env.learner.value_usd(env.multi.state.sim)
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(cem_script.threshold_action(obs, theta))
        done = term or trunc
    return float(info["pnl"]), w0


def table(rows: dict[str, list[tuple[float, float]]], ref: str) -> dict[str, Any]:
    """Print the markdown table (profit, return, paired ``ref`` - row); return the numbers."""
    base = [p for p, _ in rows[ref]]
    print("| provider0 policy | profit USD (mean ± 95 % CI) | return (mean ± 95 % CI) "
          "| PPO − policy, USD (paired) |")
    print("|---|---|---|---|")
    out: dict[str, Any] = {}
    for name, vals in rows.items():
        profits = [p for p, _ in vals]
        m, h = cem_script.ci95(profits)
        mr, hr = cem_script.ci95([p / w for p, w in vals])
        diff = "--"
        if name != ref:
            md, hd = cem_script.ci95([x - y for x, y in zip(base, profits, strict=True)])
            diff = f"{md:+.4f} ± {hd:.4f}"
            out[name] = {"diff": (md, hd)}
        print(f"| {name} | {m:.4f} ± {h:.4f} | {mr:.2e} ± {hr:.1e} | {diff} |")
        out.setdefault(name, {}).update(profit=(m, h), return_=(mr, hr), per_seed=profits)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reward", choices=("pnl", "surplus", "dsr"), default="pnl")
    ap.add_argument("--timesteps", type=int, default=40_000, help="PPO steps (decisions)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam's step size")
    ap.add_argument("--n-envs", type=int, default=4)
    ap.add_argument("--n-steps", type=int, default=256)
    ap.add_argument("--horizon", type=int, default=1440, help="ticks of 5 s")
    ap.add_argument("--test-seeds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="PPO's own seed")
    ap.add_argument("--eval-seed0", type=int, default=1000,
                    help="first evaluation seed (1000: the held-out seeds of the table)")
    ap.add_argument("--save", action="store_true",
                    help="write docs/compute_learner_ppo/ (model and VecNormalize, if < 1 MB)")
    a = ap.parse_args(argv)
    t0 = time.process_time()
    model, norm = train_ppo(a.reward, a.timesteps, a.horizon, a.seed, a.n_envs, a.n_steps,
                            learning_rate=a.lr)
    t_train = time.process_time() - t0
    test = list(range(a.eval_seed0, a.eval_seed0 + a.test_seeds))  # never trained on
    rows = {PPO_ROW: [ppo_profit(model, norm, s, a.horizon) for s in test],
            CEM_ROW: [cem_profit(s, a.horizon) for s in test]}
    cfg = ComputeEnvConfig(learners=(), horizon_steps=a.horizon)
    for name in BASELINES:
        session = ComputeSession(cfg.model_copy(update={"policies": {SEAT: name}}))
        rows[name] = [cem_script.baseline_profit(session, s, a.horizon) for s in test]
    n_episodes = sum(e.env.episodes for e in model.get_env().venv.envs)
    print(f"\nPPO, reward {a.reward}, {model.num_timesteps} decision steps in "
          f"{n_episodes} episodes (seeds {TRAIN_SEED0}..); training "
          f"{t_train:.1f} s CPU; held-out seeds {test[0]}..{test[-1]}, horizon {a.horizon} "
          f"ticks x 5 s\n")
    out = table(rows, PPO_ROW)
    out["train_cpu_s"] = t_train
    if a.save:
        save(model, norm, HERE / "compute_learner_ppo")
    print(f"\ntotal {time.process_time() - t0:.1f} s CPU")
    return out


def save(model: PPO, norm: VecNormalize, folder: Path, limit: int = 1 << 20) -> bool:
    """Write ``ppo.zip`` and ``vecnormalize.pkl`` under ``folder`` unless they total
    ``limit`` bytes or more (then remove them again); True when kept."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "ppo.zip")
    norm.save(str(folder / "vecnormalize.pkl"))
    files = [folder / "ppo.zip", folder / "vecnormalize.pkl"]
    if sum(f.stat().st_size for f in files) < limit:
        return True
    for f in files:
        f.unlink()
    print(f"model not saved: {folder} would exceed {limit} bytes")
    return False


def load(folder: Path = HERE / "compute_learner_ppo",
         horizon: int = 1440) -> tuple[PPO, VecNormalize]:
    """The model and observation statistics :func:`save` wrote, ready for :func:`ppo_profit`.

    Raises:
        FileNotFoundError: ``folder`` lacks ``ppo.zip`` or ``vecnormalize.pkl``.
    """
    norm = VecNormalize.load(str(folder / "vecnormalize.pkl"),
                             make_vec_env("pnl", horizon, 1, TRAIN_SEED0))
    norm.training = False
    return PPO.load(folder / "ppo.zip", device="cpu"), norm


if __name__ == "__main__":
    main()
