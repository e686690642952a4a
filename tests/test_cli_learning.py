"""``defisim train`` and ``defisim evaluate`` end to end on a small btc_futures env."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from typer.testing import CliRunner

from defisim.cli import app

runner = CliRunner()

SMALL = ["--episodes", "3", "--episode-steps", "8", "--warmup-steps", "2",
         "--epochs-q", "2", "--epochs-pi", "1", "--quiet",
         "--observation", "position,reference_lookahead:1,time_left", "--reward-scale", "0.01"]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_train_resume_and_evaluate(tmp_path):
    out = tmp_path / "train"
    r = runner.invoke(app, ["train", "btc_futures", "--max-iterations", "2", "--out", str(out),
                            *SMALL])
    assert r.exit_code == 0, r.output
    assert (out / "checkpoints" / "latest.pt").is_file()
    env = json.loads((out / "env.json").read_text())
    assert env["observation"] == ["position", "reference_lookahead:1", "time_left"]
    assert env["episode_steps"] == 8
    rows = list(csv.DictReader((out / "training_log.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [1, 2]
    assert [int(r["transitions"]) for r in rows] == [24, 24]  # 3 episodes x 8 steps

    # resume to 3 iterations: the stored env and training settings are used
    r = runner.invoke(app, ["train", "btc_futures", "--max-iterations", "3", "--out", str(out),
                            "--resume", "--quiet"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((out / "training_log.csv").open()))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3]
    assert (out / "checkpoints" / "iteration_0003.pt").is_file()

    # a second fresh run into the same folder is refused
    r = runner.invoke(app, ["train", "btc_futures", "--max-iterations", "1", "--out", str(out),
                            *SMALL])
    assert r.exit_code == 2 and "already holds a training run" in r.output

    r = runner.invoke(app, ["evaluate", str(out), "--episodes", "3"])
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "evaluation" / "metrics.json").read_text())
    assert list(metrics) == ["trained", "random", "hold", "buy_and_hold", "zero_intelligence"]
    assert metrics["hold"]["pnl_mean"] == 0.0  # never trades: no fee, no position
    assert metrics["trained"]["episodes"] == 3.0
    assert (out / "evaluation" / "pnl.png").is_file()
    assert (out / "evaluation" / "position.png").is_file()
    assert (out / "evaluation" / "episodes.png").is_file()


@pytest.mark.parametrize("args, message", [
    (["train", "nope", "--max-iterations", "1"], "unknown scenario"),
    (["train", "btc_futures", "--observation", "position,wizard"], "unknown observation feature"),
    (["train", "btc_futures", "--set", "sigma=abc"], "parameter sigma expects"),
    (["train", "btc_futures", "--action", "continuous"], "discrete actions"),
    (["train", "btc_futures", "--reward", "moon"], "reward.kind"),
    (["evaluate", "/nonexistent/ckpt.pt"], "no checkpoint"),
])
def test_bad_input_is_one_error_line(tmp_path, args, message):
    if args[0] == "train":
        args = [*args, "--out", str(tmp_path / "t"), "--quiet"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], r.output
