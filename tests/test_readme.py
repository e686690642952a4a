"""The README's Python example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_as_documented():
    block = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "ACTIVE 29995.0"
    assert lines[1] == "STOPPED NO_LIQUIDITY"
    assert lines[2] == "REJECTED PRICE_NOT_ON_TICK"
    assert lines[-1] == "502.5 -502.5"


def test_readme_mechanics_example_runs():
    from defisim import Simulation

    block = next(b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
                 if '"PERP"' in b)
    sim = Simulation(seed=1)
    sim.create_asset("USDT", 6)
    for p in ("mm", "lp"):
        sim.create_party(p)
        sim.mint(p, "USDT", 100_000)
    env = {"sim": sim}
    exec(compile(block, "README.md", "exec"), env)
    m = sim.futures.internal_market("PERP")
    assert m.config.perpetual.funding_period_s == 28800 and m.monitor is not None
    assert sim.futures.liquidity_provisions("PERP")["lp"]["commitment"] == 50_000
    assert len(sim.governance.pending) == 2


def test_readme_learning_example_runs():
    pytest.importorskip("gymnasium")  # the rl extra
    block = next(b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
                 if "defisim/Trading-v0" in b)
    env: dict = {}
    exec(compile(block, "README.md", "exec"), env)
    # 6 features: position, margin, spread_bps, 10 mid returns, 5 book levels x 4, time_left
    assert env["obs"].shape == (1 + 1 + 1 + 10 + 20 + 1,)
    assert env["info"]["position"] == 0.1  # the buy of 0.1 BTC filled
    assert not env["terminated"]
