"""Paper trading (issue 15): a trained policy trades a live run through the remote API
(:class:`~defisim.learning.paper.RemotePolicyTrader`) exactly as it would in process,
reports its metrics to the host (``/v1/metrics``), and ``defisim paper`` runs it on a
paced price file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from defisim.cli import app
from defisim.envs.observations import DEFAULT_OBSERVATION, ObservationBuilder
from defisim.learning import DiscreteSAC
from defisim.learning.paper import MetricsReporter, RemotePolicyTrader, load_checkpoint_policy
from defisim.scenarios.btc_futures import BtcFutures, BtcFuturesParams
from defisim.server.live import LiveRun
from defisim.service import wire
from defisim.service.remote import RemoteSimulation

MARKET = "BTCUSDT-FUT"
OBS = list(DEFAULT_OBSERVATION)


@pytest.fixture(scope="module")
def agent() -> DiscreteSAC:
    """A small greedy policy whose action depends on the observation: the last layer
    scaled up, the normaliser fitted to observations of the market."""
    dim = ObservationBuilder(OBS).size
    a = DiscreteSAC(dim, 3, hidden=(16,), seed=3)
    with torch.no_grad():
        a.policy[-1].weight.mul_(300)
    live = LiveRun(BtcFutures(BtcFuturesParams(steps=30)), seed=2)
    live.step(5)
    live.host.register_party("probe", {"USDT": 100_000.0})
    t = RemotePolicyTrader(live.run.sim, "probe", lambda o: 0, market=MARKET, observation=OBS,
                           action={"kind": "discrete"}, episode_steps=20, capital=1e5,
                           step_seconds=3600.0)
    obs = [t.begin()]
    for _ in range(10):
        t.act()
        live.step()
        t.after_step()
        obs.append(t.observe())
    a.update_normalizer(np.stack(obs))
    return a


def trade(agent: DiscreteSAC, remote: bool, steps: int = 15):
    """The policy trading an operator-stepped live btc_futures, over HTTP or in process."""
    live = LiveRun(BtcFutures(BtcFuturesParams(steps=40)), seed=2)
    live.step(5)
    token = live.host.register_party("paper", {"USDT": 100_000.0})
    with live.serve() as server:
        sim = RemoteSimulation(server.url, token=token) if remote else live.run.sim
        report = MetricsReporter(server.url, token) if remote else None
        trader = RemotePolicyTrader(sim, "paper", lambda o: agent.act(o, deterministic=True),
                                    market=MARKET, observation=OBS,
                                    action={"kind": "discrete", "size": 0.1},
                                    episode_steps=20, capital=1e5, step_seconds=3600.0,
                                    report=report)
        trader.begin()
        for _ in range(steps):
            trader.act()
            live.step()
            trader.after_step()
        metrics = dict(live.host.metrics)
    live.finish()
    return trader, metrics


def test_the_remote_trader_acts_as_the_policy_in_process(agent):
    remote, reported = trade(agent, remote=True)
    local, _ = trade(agent, remote=False)
    assert len(remote.actions) == 15 and len(set(remote.actions)) >= 2  # it trades
    assert remote.actions == local.actions
    for a, b in zip(remote.observations, local.observations, strict=True):
        assert a.dtype == np.float32 and np.array_equal(a, b)
    # the same greedy policy on the observations the remote trader built
    assert remote.actions == [agent.act(o, deterministic=True) for o in remote.observations]
    assert remote.metrics == local.metrics
    m = reported["paper"]
    assert m == remote.metrics and m["step"] == 15.0
    assert m["equity"] == pytest.approx(100_000.0 + m["pnl"], abs=1e-6)
    assert np.isfinite(m["sharpe"])


def test_a_feature_reading_the_scenario_cannot_trade_remotely():
    with pytest.raises(ValueError, match="reference_lookahead:1.*cannot trade remotely"):
        RemotePolicyTrader(None, "p", lambda o: 0, market=MARKET,
                           observation=["position", "reference_lookahead:1"],
                           action={"kind": "discrete"}, episode_steps=1, capital=1.0,
                           step_seconds=1.0)


def test_metrics_route_checks_the_token():
    live = LiveRun(BtcFutures(BtcFuturesParams(steps=5)), seed=1)
    ta = live.host.register_party("a", {"USDT": 1.0})
    tb = live.host.register_party("b", {"USDT": 1.0})
    op = live.host.operator_token

    def post(token, body):
        h = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{server.url}/v1/metrics", content=body, headers=h)

    with live.serve() as server:
        ok = wire.encode({"metrics": {"pnl": 1.5, "sharpe": float("nan")}})
        assert post(ta, ok).status_code == 200
        assert post(tb, wire.encode({"party": "a", "metrics": {"pnl": 9.0}})).status_code == 403
        assert post(op, ok).status_code == 403
        assert post(None, ok).status_code == 401
        assert post("nope", ok).status_code == 401
        assert post(ta, b"{not json").status_code == 400
        assert post(ta, wire.encode({"metrics": {"pnl": "high"}})).status_code == 400
        assert post(ta, wire.encode({"metrics": {"": 1.0}})).status_code == 400
        got = httpx.get(f"{server.url}/v1/metrics", headers={"authorization": f"Bearer {tb}"})
        assert got.status_code == 200
        m = wire.decode(got.text)["ok"]
        assert list(m) == ["a"] and m["a"]["pnl"] == 1.5 and np.isnan(m["a"]["sharpe"])
        assert httpx.get(f"{server.url}/v1/metrics").status_code == 401
        # a failed report is counted, never raised
        bad = MetricsReporter(server.url, "nope")
        assert bad({"pnl": 1.0}) is False and bad.failures == 1 and "401" in bad.last_error
        bad.close()
    assert list(live.host.metrics) == ["a"] and live.host.metrics["a"]["pnl"] == 1.5


# ------------------------------------------------------------------------ CLI
def checkpoint(tmp_path: Path, agent: DiscreteSAC) -> Path:
    """A training folder as ``defisim train`` writes it (env.json + checkpoint)."""
    folder = tmp_path / "train"
    agent.save(folder / "checkpoints" / "latest.pt")
    env = {"scenario": "btc_futures", "scenario_params": {}, "market": None,
           "learner": "learner", "collateral": 100_000.0, "warmup_steps": 2,
           "episode_steps": 20, "steps_per_action": 1, "observation": OBS,
           "action": {"kind": "discrete", "size": 0.1, "max_size": 0.5,
                      "max_offset_bps": 50.0, "dead_zone": 0.05,
                      "spreads_bps": [5.0, 10.0, 20.0, 40.0]}}
    (folder / "env.json").write_text(json.dumps(env))
    return folder


def test_load_checkpoint_policy(tmp_path, agent):
    pol = load_checkpoint_policy(checkpoint(tmp_path, agent))
    for obs in np.random.default_rng(0).normal(0, 1e3, (5, agent.obs_dim)).astype(np.float32):
        assert pol.act(obs) == agent.act(obs, deterministic=True)
    assert pol.env["observation"] == OBS
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint_policy(tmp_path / "nothing")


def test_defisim_paper_trades_a_paced_file(tmp_path, agent):
    rows, t, price = ["timestamp,close"], 1_600_000_000, 20_000.0
    for i in range(60):
        rows.append(f"{t},{price:.2f}")
        t, price = t + 3600, price * (1.002 if i % 4 else 0.995)
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    res = CliRunner().invoke(app, ["paper", str(checkpoint(tmp_path, agent)), "--feed", "paced",
                                   "--prices", str(tmp_path / "p.csv"), "--pace-s", "0.05",
                                   "--steps", "8"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["steps"] == 8 and summary["reference_stale_steps"] == 0
    assert sum(ln.startswith("step ") for ln in lines) >= 4  # live lines in the console


def test_defisim_paper_refuses_a_bad_feed(tmp_path, agent):
    res = CliRunner().invoke(app, ["paper", str(checkpoint(tmp_path, agent)), "--feed", "tv"])
    assert res.exit_code == 2 and "error: --feed must be file, paced or exchange" in res.output
    res = CliRunner().invoke(app, ["paper", str(tmp_path / "none"), "--feed", "paced"])
    assert res.exit_code == 2 and "error: no checkpoint" in res.output
