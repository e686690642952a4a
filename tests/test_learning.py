"""defisim.learning: transition datasets, discrete SAC, the offline training loop.

The toy env: a signal s_t in {-1, +1} in the observation predicts the sign of the
next price move with probability 0.8; actions hold / buy one / sell one (position
clipped to [-1, 1]); reward = position * price move (the PnL change). Following
the signal is optimal; the random policy earns 0 on average.
"""

from __future__ import annotations

import json
import math
import shutil

import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

from defisim.learning import (
    DiscreteSAC,
    ObservationNormalizer,
    TransitionDataset,
    TransitionWriter,
    collect_transitions,
    evaluate_policy,
    random_policy,
    read_log,
    read_transitions,
    train_offline,
)
from defisim.learning.transitions import METADATA_KEY


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class SignalEnv(gym.Env):
    """The toy market (see the module docstring); price ~ 60000 to exercise the
    observation normaliser."""

    observation_names = ["signal", "position", "price"]
    action_names = ["hold", "buy", "sell"]

    def __init__(self, length: int = 20, accuracy: float = 0.8):
        self.length, self.accuracy = length, accuracy
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = gym.spaces.Discrete(3)

    def _obs(self):
        return np.array([self.signal, self.position, self.price], dtype=np.float32)

    def _info(self):
        return {"pnl": self.pnl, "position": float(self.position)}

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.position, self.pnl = 0, 0, 0.0
        self.price = 60000.0 + float(self.np_random.integers(-500, 500))
        self.signal = int(self.np_random.choice([-1, 1]))
        return self._obs(), self._info()

    def step(self, action):
        if action == 1:
            self.position = min(self.position + 1, 1)
        elif action == 2:
            self.position = max(self.position - 1, -1)
        move = self.signal if self.np_random.random() < self.accuracy else -self.signal
        reward = float(self.position * move)
        self.price += move
        self.pnl += reward
        self.t += 1
        self.signal = int(self.np_random.choice([-1, 1]))
        return self._obs(), reward, self.t >= self.length, False, self._info()


NAMES = ["signal", "position", "price"]


def write_rows(path, rows, extra_columns=("pnl",), metadata=None):
    with TransitionWriter(
        path,
        NAMES,
        3,
        metadata or {"scenario": "toy", "seed": 7},
        action_names=["hold", "buy", "sell"],
        extra_columns=extra_columns,
        buffer_rows=2,
    ) as w:
        for r in rows:
            w.write(**r)
    return path


def toy_dataset(tmp_path, episodes=10, seed=0, name="d.parquet"):
    env = SignalEnv()
    with TransitionWriter(tmp_path / name, NAMES, 3, {}, extra_columns=("pnl", "position")) as w:
        collect_transitions(env, random_policy(3), episodes, seed, w)
    return TransitionDataset(tmp_path / name)


# ------------------------------------------------------------------ datasets
def test_round_trip_values_dtypes_and_metadata(tmp_path):
    rows = [
        dict(
            episode=0,
            step=0,
            observation=[1, 0, 60000.5],
            action=1,
            reward=0.0,
            next_observation=[-1, 1, 60001.5],
            next_action=2,
            terminated=False,
            extras={"pnl": 0.0},
        ),
        dict(
            episode=0,
            step=1,
            observation=[-1, 1, 60001.5],
            action=2,
            reward=1.0,
            next_observation=[1, 0, 60002.5],
            next_action=0,
            terminated=False,
        ),
        dict(
            episode=0,
            step=2,
            observation=[1, 0, 60002.5],
            action=0,
            reward=-0.25,
            next_observation=[1, 0, 60001.5],
            next_action=-1,
            terminated=True,
            extras={"pnl": 0.75},
        ),
    ]
    path = write_rows(tmp_path / "a" / "t.parquet", rows)
    assert not (tmp_path / "a" / "t.parquet.partial").exists()
    table, info = read_transitions(path)
    assert table.num_rows == 3
    schema = table.schema
    d = 3
    assert schema.field("episode").type == pa.int32()
    assert schema.field("step").type == pa.int32()
    assert schema.field("obs").type == pa.list_(pa.float32(), d)
    assert schema.field("next_obs").type == pa.list_(pa.float32(), d)
    assert schema.field("action").type == pa.int64()
    assert schema.field("next_action").type == pa.int64()
    assert schema.field("reward").type == pa.float64()
    assert schema.field("done").type == pa.bool_()
    assert schema.field("truncated").type == pa.bool_()
    assert schema.field("pnl").type == pa.float64()
    raw = json.loads(pq.read_schema(path).metadata[METADATA_KEY])
    assert raw["observation_names"] == NAMES and raw["observation_dim"] == 3
    assert raw["n_actions"] == 3 and raw["action_names"] == ["hold", "buy", "sell"]
    assert raw["metadata"] == {"scenario": "toy", "seed": 7}
    assert info.observation_names == tuple(NAMES) and info.extra_columns == ("pnl",)

    ds = TransitionDataset(path)
    b = ds.tensors()
    assert len(ds) == 3
    assert b.observation.dtype == torch.float32 and b.observation.shape == (3, 3)
    assert b.action.dtype == torch.int64 and b.next_action.dtype == torch.int64
    assert b.reward.dtype == torch.float32 and b.done.dtype == torch.float32
    assert b.observation.is_contiguous()
    assert b.observation[2].tolist() == [1.0, 0.0, 60002.5]
    assert b.next_observation[0].tolist() == [-1.0, 1.0, 60001.5]
    assert b.action.tolist() == [1, 2, 0] and b.next_action.tolist() == [2, 0, -1]
    assert b.reward.tolist() == [0.0, 1.0, -0.25] and b.done.tolist() == [0.0, 0.0, 1.0]
    assert ds.step.tolist() == [0, 1, 2] and ds.episode.tolist() == [0, 0, 0]
    assert ds.extras["pnl"][0] == 0.0 and math.isnan(ds.extras["pnl"][1])
    assert ds[1].action.item() == 2

    # several files concatenate; minibatches are a seeded permutation
    ds2 = TransitionDataset([path, path])
    assert len(ds2) == 6 and ds2.schema.files == (str(path), str(path))
    seen = torch.cat([mb.reward for mb in ds2.minibatches(4, torch.Generator().manual_seed(1))])
    assert sorted(seen.tolist()) == sorted(ds2.tensors().reward.tolist())
    again = torch.cat([mb.reward for mb in ds2.minibatches(4, torch.Generator().manual_seed(1))])
    assert torch.equal(seen, again)


def test_collect_sarsa_consistency_and_reproducibility(tmp_path):
    ds = toy_dataset(tmp_path, episodes=4, seed=3)
    b = ds.tensors()
    assert len(ds) == 4 * 20
    for i in range(len(ds) - 1):
        if ds.episode[i] == ds.episode[i + 1]:
            assert b.next_action[i] == b.action[i + 1]
            assert torch.equal(b.next_observation[i], b.observation[i + 1])
            assert b.done[i] == 0
        else:
            assert b.done[i] == 1 and b.next_action[i] == -1
    assert b.done[-1] == 1 and b.next_action[-1] == -1
    assert ds.episode.unique().tolist() == [0, 1, 2, 3]
    # position and pnl come from info; pnl is the cumulative reward
    for k in range(4):
        m = ds.episode == k
        assert np.isclose(ds.extras["pnl"][m][-1].item(), b.reward[m].sum().item())

    stats = collect_transitions(SignalEnv(), random_policy(3), 4, 3)
    assert stats.length.tolist() == [20] * 4
    assert np.allclose(stats.reward, [b.reward[ds.episode == k].sum().item() for k in range(4)])
    assert np.allclose(stats.pnl, stats.reward)
    # episode k depends only on (seed, k)
    other = toy_dataset(tmp_path, episodes=2, seed=3, name="e.parquet")
    assert torch.equal(other.tensors().action, b.action[:40])


class WrongDimEnv(SignalEnv):
    def _obs(self):
        return np.zeros(2, dtype=np.float32)


def test_bad_inputs(tmp_path):
    row = dict(
        episode=0,
        step=0,
        observation=[0.0, 0.0, 1.0],
        action=0,
        reward=0.0,
        next_observation=[0.0, 0.0, 1.0],
        next_action=1,
        terminated=False,
    )
    with pytest.raises(ValueError, match=r"observation must have shape \(3,\)"):
        write_rows(tmp_path / "a.parquet", [{**row, "observation": [1.0, 2.0]}])
    assert not (tmp_path / "a.parquet").exists() and not (tmp_path / "a.parquet.partial").exists()
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 3\)"):
        write_rows(tmp_path / "b.parquet", [{**row, "action": 3}])
    with pytest.raises(ValueError, match="next_action must be -1 when terminated"):
        write_rows(tmp_path / "c.parquet", [{**row, "terminated": True}])
    with pytest.raises(ValueError, match="non-finite"):
        write_rows(tmp_path / "d.parquet", [{**row, "next_observation": [0.0, math.nan, 1.0]}])
    with pytest.raises(ValueError, match=r"extra columns \['oops'\] were not declared"):
        write_rows(tmp_path / "e.parquet", [{**row, "extras": {"oops": 1.0}}])
    with pytest.raises(ValueError, match="JSON"):
        TransitionWriter(tmp_path / "f.parquet", NAMES, 3, {"x": object()})
    with pytest.raises(FileNotFoundError, match="missing.parquet"):
        read_transitions(tmp_path / "missing.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(ValueError, match="not a transition file"):
        TransitionDataset(tmp_path / "plain.parquet")
    good = write_rows(tmp_path / "g.parquet", [row])
    other = write_rows(tmp_path / "h.parquet", [row], extra_columns=())
    with pytest.raises(ValueError, match="extra_columns"):
        read_transitions([good, other])
    with pytest.raises(ValueError, match=r"observation from env.reset must have shape \(3,\)"):
        collect_transitions(WrongDimEnv(), random_policy(3), 1, 0)
    with pytest.raises(ValueError, match="action from the policy"):
        collect_transitions(SignalEnv(), lambda obs, rng: 5, 1, 0)
    bad_space = SignalEnv()
    bad_space.observation_space = gym.spaces.Box(-1, 1, (2, 2), np.float32)
    with pytest.raises(ValueError, match="1-D gymnasium.spaces.Box"):
        collect_transitions(bad_space, random_policy(3), 1, 0)
    agent = DiscreteSAC(3, 3, hidden=(8,))
    with pytest.raises(ValueError, match=r"observation must have shape \(3,\)"):
        agent.act(np.zeros(4, dtype=np.float32))
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        DiscreteSAC.load(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        DiscreteSAC(3, 3, gamma=-0.1)


# ----------------------------------------------------------------------- SAC
def test_observation_normalizer_merges_batches():
    rng = np.random.default_rng(0)
    x = np.column_stack([60000 + 50 * rng.normal(size=300), rng.normal(size=300), np.ones(300)])
    norm = ObservationNormalizer(3)
    for part in np.array_split(x, [7, 100, 101]):
        norm.update(part)
    assert norm.count == 300
    assert np.allclose(norm.mean.numpy(), x.mean(0))
    assert np.allclose(norm.std.numpy()[:2], x.std(0)[:2])
    assert norm.std[2] == 1.0  # constant component: only centred
    z = norm(torch.tensor(x, dtype=torch.float32), clip=10.0)
    assert z.dtype == torch.float32 and abs(z[:, 0].mean().item()) < 1e-3
    assert torch.all(z[:, 2] == 0)


def params(agent):
    return {k: v.clone() for k, v in agent.state_dict()["networks"]["policy"].items()} | {
        f"q1.{k}": v.clone() for k, v in agent.state_dict()["networks"]["q1"].items()
    }


def test_sac_training_is_deterministic_and_checkpoints_resume(tmp_path):
    ds = toy_dataset(tmp_path, episodes=5)
    cfg = dict(hidden=(16, 16), batch_size=32, lr=1e-3, seed=5)

    def trained(n_iter, agent=None):
        agent = agent or DiscreteSAC(3, 3, cfg)
        if agent.iteration == 0:
            agent.update_normalizer(ds.tensors().observation)
        for _ in range(n_iter):
            agent.train_iteration(ds, epochs_q=2, epochs_pi=2)
        return agent

    a, b = trained(2), trained(2)
    for k, v in params(a).items():
        assert torch.equal(v, params(b)[k]), k
    c = DiscreteSAC(3, 3, {**cfg, "seed": 6})
    c.update_normalizer(ds.tensors().observation)
    c.train_iteration(ds, 2, 2)
    assert not torch.equal(params(a)["0.weight"], params(c)["0.weight"])

    # save after 1 iteration, load, train 1 more == 2 iterations straight
    one = trained(1)
    one.save(tmp_path / "ck.pt")
    resumed = trained(1, DiscreteSAC.load(tmp_path / "ck.pt"))
    assert resumed.iteration == 2 and resumed.alpha == a.alpha
    for k, v in params(a).items():
        assert torch.equal(v, params(resumed)[k]), k
    obs = ds.tensors().observation[:5]
    assert np.array_equal(a.policy_probs(obs), resumed.policy_probs(obs))


class FixedQ(nn.Module):
    """Q(s, .) = q_pos where the first standardised feature is > 0, else q_neg."""

    def __init__(self, q_pos, q_neg):
        super().__init__()
        self.register_buffer("q_pos", torch.tensor(q_pos))
        self.register_buffer("q_neg", torch.tensor(q_neg))

    def forward(self, z):
        return torch.where(z[:, :1] > 0, self.q_pos, self.q_neg)


def two_state_dataset(tmp_path, n=64, done=False, n_actions=3, reward=None, seed=0):
    """Observations (x, noise) with x in {0, 1}; uniformly random actions."""
    rng = np.random.default_rng(seed)
    path = tmp_path / f"two_state_{n}_{done}.parquet"
    with TransitionWriter(path, ["x", "noise"], n_actions, {}) as w:
        for i in range(n):
            obs = [float(i % 2), rng.normal()]
            nxt = [float((i + 1) % 2), rng.normal()]
            a = int(rng.integers(n_actions))
            r = reward(a, rng) if reward else float(rng.normal())
            w.write(0, i, obs, a, r, nxt, -1 if done else 0, done)
    return TransitionDataset(path)


def test_policy_improvement_converges_to_softmax_of_q(tmp_path):
    """With the critics fixed, [C19] eq. 12 is minimised by pi = softmax(Q / alpha)."""
    ds = two_state_dataset(tmp_path)
    alpha = 0.5
    q_pos, q_neg = [1.0, 0.5, 0.0], [0.0, 0.3, -0.4]
    agent = DiscreteSAC(2, 3, hidden=(16,), alpha=alpha, lr=0.02, batch_size=64, seed=1)
    agent.update_normalizer(ds.tensors().observation)
    agent.q1, agent.q2 = FixedQ(q_pos, q_neg), FixedQ([2.0, 2.0, 2.0], q_neg)  # min = q
    loss, entropy = agent.improve_policy(ds, epochs=300)
    got = agent.policy_probs(np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.float32))
    want = torch.softmax(torch.tensor([q_pos, q_neg]) / alpha, -1).numpy()
    assert np.abs(got - want).max() < 1e-2
    # the minimum loss is -alpha * logsumexp(Q / alpha), averaged over the two states
    lse = alpha * torch.logsumexp(torch.tensor([q_pos, q_neg]) / alpha, -1).mean().item()
    assert loss == pytest.approx(-lse, abs=1e-3)
    ent = -(want * np.log(want)).sum(-1).mean()
    assert entropy == pytest.approx(ent, abs=1e-2)


def test_soft_value_target_by_hand(tmp_path):
    """y = r + gamma (1 - done) sum_a' pi(a'|s') [min_i Qbar_i(s', a') - alpha log pi(a'|s')]."""
    ds = two_state_dataset(tmp_path, n=6)
    agent = DiscreteSAC(2, 3, hidden=(8,), alpha=0.3, gamma=0.9, reward_scale=2.0, seed=3)
    agent.update_normalizer(ds.tensors().observation)
    q1, q2 = [1.0, -2.0, 0.5], [0.0, 3.0, 0.25]
    agent.q1_target, agent.q2_target = FixedQ(q1, q1), FixedQ(q2, q2)
    b = ds.tensors()
    b = b._replace(done=torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0]))
    y = agent.q_targets(b).numpy()
    p = agent.policy_probs(b.next_observation).astype(np.float64)
    v = (p * (np.minimum(q1, q2) - 0.3 * np.log(p))).sum(-1)
    want = 2.0 * b.reward.numpy() + 0.9 * (1 - b.done.numpy()) * v
    assert np.allclose(y, want, atol=1e-5)


def test_policy_evaluation_on_a_bandit(tmp_path):
    """One-step episodes (done): Q(s, a) converges to the mean reward of action a."""
    means = np.array([1.0, -0.5, 0.25])
    ds = two_state_dataset(
        tmp_path, n=1500, done=True, reward=lambda a, rng: means[a] + 0.2 * rng.normal()
    )
    agent = DiscreteSAC(2, 3, hidden=(32,), q_loss="mse", lr=1e-2, batch_size=128, seed=0)
    agent.update_normalizer(ds.tensors().observation)
    loss = agent.fit_q(ds, epochs=25)
    assert loss < 0.06  # noise variance 0.04
    q = agent.q_values(ds.tensors().observation)
    assert np.abs(q.mean(0) - means).max() < 0.05
    q_states = agent.q_values(np.array([[0.0, 0.0], [1.0, 0.0]], dtype=np.float32))
    assert np.abs(q_states - means).max() < 0.05


# -------------------------------------------------------------------- training
SAC = dict(
    hidden=(32, 32), gamma=0.9, lr=3e-3, batch_size=128, tau=0.05, alpha=0.5, alpha_decay=0.5
)


def test_end_to_end_learning_beats_random(tmp_path):
    res = train_offline(
        SignalEnv,
        tmp_path / "run",
        max_iterations=3,
        episodes_per_iteration=20,
        seed=0,
        epochs_q=10,
        epochs_pi=5,
        sac_config=SAC,
        progress=False,
    )
    assert [r["iteration"] for r in res.log] == [1, 2, 3]
    assert res.log[0]["collection_policy"] == "random"
    assert res.log[-1]["dataset_transitions"] == 3 * 20 * 20
    assert (tmp_path / "run" / "training_curve.png").stat().st_size > 0
    trained = evaluate_policy(SignalEnv, res.agent, 50, 10_000)
    rand = evaluate_policy(SignalEnv, random_policy(3), 50, 10_000)
    assert len(trained.step_pnl) == 50 and trained.step_pnl[0].shape == (20,)
    assert trained.step_position[0][-1] in (-1.0, 0.0, 1.0)
    assert trained.step_pnl[0][-1] == trained.pnl[0] == trained.reward[0]
    se = math.hypot(trained.reward_se, rand.reward_se)
    assert trained.reward_mean - rand.reward_mean > 2 * se, (trained.summary(), rand.summary())


def test_train_offline_resume(tmp_path):
    kw = dict(
        episodes_per_iteration=3,
        seed=1,
        epochs_q=2,
        epochs_pi=2,
        epsilon=0.1,
        sac_config={"hidden": (8,), "batch_size": 32},
        progress=False,
    )
    out = tmp_path / "run"
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        train_offline(SignalEnv, out, max_iterations=2, resume=True, **kw)
    first = train_offline(SignalEnv, out, max_iterations=2, **kw)
    assert first.iterations_run == 2 and first.agent.iteration == 2
    with pytest.raises(FileExistsError, match="resume=True"):
        train_offline(SignalEnv, out, max_iterations=3, **kw)
    with pytest.raises(ValueError, match="epochs_q"):
        train_offline(SignalEnv, out, max_iterations=3, resume=True, **{**kw, "epochs_q": 3})
    # an interrupted iteration 3 left data behind: it is dropped and redone
    shutil.copy(out / "data" / "iteration_0001.parquet", out / "data" / "iteration_0003.parquet")
    res = train_offline(SignalEnv, out, max_iterations=3, resume=True, **kw)
    assert res.iterations_run == 1
    log = read_log(out / "training_log.csv")
    assert [r["iteration"] for r in log] == [1, 2, 3]
    assert DiscreteSAC.load(out / "checkpoints" / "latest.pt").iteration == 3
    for i in (1, 2, 3):
        assert (out / "data" / f"iteration_{i:04d}.parquet").is_file()
        assert (out / "checkpoints" / f"iteration_{i:04d}.pt").is_file()
    _, info = read_transitions(out / "data" / "iteration_0003.parquet")
    assert info.metadata["iteration"] == 3 and info.observation_names == tuple(NAMES)
    # resuming gives exactly the uninterrupted run
    straight = train_offline(SignalEnv, tmp_path / "straight", max_iterations=3, **kw)
    for k, v in params(straight.agent).items():
        assert torch.equal(v, params(res.agent)[k]), k
    assert log[2]["episode_reward_mean"] == straight.log[2]["episode_reward_mean"]
