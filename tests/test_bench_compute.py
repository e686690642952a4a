"""``benchmarks/bench_compute.py``'s scenario case runs and reports consistent figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_compute.py"


def test_scenario_case_reports_steps_and_topics(capsys):
    spec = importlib.util.spec_from_file_location("bench_compute", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.scenario(120)
    assert out["steps"] == 120 and out["wall_s"] > 0 and out["cpu_s"] > 0
    assert out["topics"] >= out["deals"] >= 0
    text = capsys.readouterr().out
    assert "scenario: steps" in text and "scenario: negotiations" in text
