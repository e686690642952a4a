"""The figures ``compute_marketplace`` writes into its run folder (negotiation paths,
utilisation, agent returns): valid PNGs after a short recorded run, and the series they
draw equal recomputations from the run's CSV, its KPI table and the agents' 7.1
metrics."""

from __future__ import annotations

import csv
import math

import duckdb
import numpy as np
import pytest

from defisim.runner import run_scenario
from defisim.scenarios import compute_plots as cp
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")
FILES = ("negotiation_paths.png", "utilisation.png", "agent_returns.png")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "run"
    sc = SCEN(SCEN.Params(hours=0.25, n_clients=12, n_providers=6, metric_interval_s=300))
    r = run_scenario(sc, seed=2, out_dir=out, progress=False, plots=True)
    assert r.error is None
    return sc, r, out


def test_the_figures_are_valid_pngs(recorded):
    from matplotlib.image import imread

    _, r, out = recorded
    for name in FILES:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        img = imread(out / name)
        assert img.shape[0] > 200 and img.shape[1] > 400 and img.std() > 0
        assert name in r.plots


def test_no_figures_unless_the_run_draws_plots(tmp_path):
    """plots=False (the Python API's default): the CSV only, no PNG."""
    sc = SCEN(SCEN.Params(hours=0.02, n_clients=3, n_providers=2))
    r = run_scenario(sc, seed=2, out_dir=tmp_path / "run", progress=False)
    assert r.error is None and not r.plots_requested and r.plots == []
    assert (tmp_path / "run" / "negotiation_paths.csv").exists()
    assert not list((tmp_path / "run").glob("*.png"))


def test_negotiation_paths_are_the_csv_normalised_by_c_ref(recorded):
    sc, _, out = recorded
    with open(out / "negotiation_paths.csv") as f:
        rows = [(t, int(s), who, float(p)) for t, s, who, p in list(csv.reader(f))[1:]]
    job_class = {jid: req.job.job_class for c in sc.agents["client"]
                 for jid, req in c.requests.items()}
    agreed = {a[0] for a in sc.market.book.agreed}
    series = cp.path_series(rows, sc.topic_classes(), sc.market.c_ref, agreed)
    by_topic: dict[str, list] = {}
    for t, s, who, p in rows:
        by_topic.setdefault(t, []).append((s, who, p))
    assert sum(len(v) for v in series.values()) == len(by_topic) > 20
    for topic, msgs in by_topic.items():
        cls = job_class[topic.rsplit("/", 1)[0]]
        seq, price, senders, ok = series[cls][topic]
        msgs.sort()
        assert list(seq) == [m[0] for m in msgs] and senders == tuple(m[1] for m in msgs)
        assert np.allclose(price, [m[2] / sc.market.c_ref[cls] for m in msgs], rtol=1e-12)
        assert ok == (topic in agreed)
        assert senders[0] == "client" and seq[0] == 0  # the request opens every path
    assert any(t[3] for v in series.values() for t in v.values())
    # the median path, by hand on one class: at seq 1, the median over agreed topics
    cls = max(series, key=lambda c: len(series[c]))
    at1 = [p for s, ps, _, ok in series[cls].values() if ok
           for x, p in zip(s, ps, strict=True) if x == 1]
    x, y = cp.median_paths(series[cls], True)
    assert x[0] == 0 and y[list(x).index(1)] == pytest.approx(float(np.median(at1)))


def test_utilisation_series_are_the_recorded_kpis(recorded):
    sc, r, out = recorded
    with duckdb.connect(str(out / "run.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT time_s, name, value FROM kpis WHERE market IS NULL "
                           "AND name LIKE 'utilisation%'").fetchall()
    t, series = cp.utilisation_series(rows)
    assert set(series) == {"utilisation.cpu", "utilisation.gpu", "utilisation.ram_gib",
                           "utilisation.cpu.us-east", "utilisation.cpu.eu-central",
                           "utilisation.cpu.asia-east"}
    assert len(t) == sc.total_steps() + 1 and t[-1] == 900.0
    for name, y in series.items():
        assert y[-1] == pytest.approx(r.kpis[name], rel=1e-12)
    k = len(t) // 2
    want = {n: v for tt, n, v in rows if tt == t[k]}
    assert {n: y[k] for n, y in series.items()} == pytest.approx(want, rel=1e-12)


def test_agent_returns_end_at_each_agents_cumulative_return(recorded):
    sc, _, _ = recorded
    series = cp.return_series(sc.agents)
    assert set(series) == {"client", "provider", "mediator"}
    for role, agents in sc.agents.items():
        assert len(series[role]) == len(agents)
        for a in agents:
            t, ret = series[role][a.name]
            assert t[0] == 0.0 and np.all(np.diff(t) == 300) and ret[0] == 0.0
            cr = a.metrics()["cumulative_return"]
            assert (ret[-1] == pytest.approx(cr, rel=1e-9, abs=1e-12)) if not math.isnan(cr) \
                else len(ret) < 2
    t, mean = cp.role_mean(series["client"])
    at_end = [r[-1] for _, r in series["client"].values()]
    assert mean[-1] == pytest.approx(float(np.mean(at_end)))
