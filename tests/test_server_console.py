"""The live console of ``defisim serve`` (:mod:`defisim.server.console`), issue 15.

A short ``btc_futures`` run is hosted live (stepped in process) and recorded to a run
folder with the same seed: the frame's numbers are compared with the service's views
(live) and with direct DuckDB queries (recorded), and the live chart's points with the
recorded ``book_top`` rows of the same steps. The websocket's frames follow the steps;
the controls refuse without the operator's token and do exactly what they say with
it; the page loads nothing from outside the server.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("plotly")
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from defisim.cli import app as cli_app  # noqa: E402
from defisim.runner import run_scenario  # noqa: E402
from defisim.scenarios import get_scenario  # noqa: E402
from defisim.server import DuckDBRunData, create_app  # noqa: E402
from defisim.server.console import console_frame, console_router, create_live_app  # noqa: E402
from defisim.server.live import LiveRun  # noqa: E402

MARKET = "BTCUSDT-FUT"
STEPS = 60
SEED = 3


def _scenario(steps: int = STEPS):
    cls = get_scenario("btc_futures")
    return cls(cls.Params(steps=steps))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("console") / "run"
    res = run_scenario(_scenario(), seed=SEED, out_dir=out, progress=False)
    assert res.ok, res.error
    return out


@pytest.fixture()
def live():
    run = LiveRun(_scenario(), seed=SEED)
    app = create_live_app(run)
    with TestClient(app) as client:
        yield run, app.state.history, client
    run.stop(finish=False)


def _op(run: LiveRun) -> dict[str, str]:
    return {"Authorization": f"Bearer {run.host.operator_token}"}


def _same(a, b) -> bool:
    """Equal numbers; None stands for a missing value (NaN in a KPI)."""
    if a is None or b is None:
        return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
    return a == b


# ----------------------------------------------------------------- the frames
def test_live_frame_equals_the_service_views(live):
    run, history, client = live
    run.step(30)
    frame = client.get("/console/frame").json()
    sim = run.run.sim
    view = sim.futures.market_view(MARKET)
    (m,) = frame["markets"]
    assert frame["step"] == 30 and frame["steps"] == STEPS and frame["time_s"] == sim.now
    assert m["best_bid"] == view.best_bid and m["best_ask"] == view.best_ask
    assert m["mark"] == view.mark_price and m["trades"] == view.trades > 0
    assert m["open_interest"] == view.open_interest and m["state"] == view.state == "ACTIVE"
    depth = sim.futures.market_depth(MARKET, 10)
    assert m["depth"] == {k: [list(x) for x in v] for k, v in depth.items()}
    assert len(m["depth"]["bids"]) > 1 and m["depth"]["bids"][0][0] == view.best_bid
    trades = sim.futures.trades(MARKET, last=20)
    assert [t["price"] for t in m["recent_trades"]] == [t.price / 100 for t in trades]
    assert [t["size"] for t in m["recent_trades"]] == [t.size / 1000 for t in trades]
    positions = sim.futures.positions(MARKET)
    assert {p["party"]: p["position"] for p in m["positions"]} == positions
    for p in m["positions"]:
        d = sim.futures.position_details(p["party"], MARKET)
        assert p["pnl"] == d["realised_pnl"] + d["unrealised_pnl"]
    # a long and a short side: positions net to zero (the network party included)
    assert abs(sum(positions.values())) < 1e-9
    kpis = run.run.scenario.kpis(sim)
    assert all(_same(frame["kpis"][k], v) for k, v in kpis.items())
    # the chart: one point per step, the last one this step's views
    points = frame["history"]["points"]
    assert [p[0] for p in points] == list(range(30))
    assert points[-1][2]["reference"] == kpis["reference_price"]
    # the opening auction ended in the first step: marked on the timeline
    assert any(mk["kind"] == "auction end" and mk["label"] == "opening auction end"
               for mk in frame["markers"])
    assert console_frame(run)["markets"] == frame["markets"]  # the same builder in process
    assert frame["compute"] is None and frame["pools"] == [] and frame["external"] == {}


def test_recorded_frame_equals_the_duckdb_rows(recorded):
    data = DuckDBRunData(recorded)
    frame = console_frame(data, step=30)
    con = duckdb.connect(str(recorded / "run.duckdb"), read_only=True)
    bid, ask, mark, state = con.execute(
        "SELECT best_bid, best_ask, mark_price, state FROM book_top "
        "WHERE market = ? AND step = 30", [MARKET]).fetchone()
    (m,) = frame["markets"]
    assert (m["best_bid"], m["best_ask"], m["mark"], m["state"]) == (bid, ask, mark, state)
    trades = con.execute("SELECT price_f, size_f FROM trades WHERE step <= 30 "
                         "ORDER BY rowid DESC LIMIT 20").fetchall()[::-1]
    assert [(t["price"], t["size"]) for t in m["recent_trades"]] == trades
    assert m["trades"] == con.execute("SELECT count(*) FROM trades WHERE step <= 30").fetchone()[0]
    pos = dict(con.execute("SELECT party, position FROM positions WHERE step = 30 "
                           "AND position <> 0").fetchall())
    assert {p["party"]: p["position"] for p in m["positions"]} == pos
    ref = con.execute("SELECT value FROM kpis WHERE step = 30 AND name = 'reference_price' "
                      "AND market IS NULL").fetchone()[0]
    assert frame["kpis"]["reference_price"] == ref
    steps = con.execute("SELECT count(DISTINCT step) FROM book_top").fetchone()[0]
    assert len(frame["history"]["points"]) == steps
    n_markers = con.execute(
        "SELECT count(*) FROM events WHERE type IN ('AuctionStarted', 'AuctionEnded', "
        "'MarketStateChanged', 'PositionClosedOut', 'MarketSettled')").fetchone()[0]
    assert len(frame["markers"]) == n_markers >= 2  # the opening auction's end, settlement
    assert frame["markers"][-1]["label"] == "SETTLED"
    assert any(mk["kind"] == "settled" for mk in frame["markers"])
    with pytest.raises(ValueError, match="step must be >= 0"):
        console_frame(data, step=-1)


def test_live_chart_points_equal_the_recorded_run(live, recorded):
    run, history, _ = live
    run.step(40)
    con = duckdb.connect(str(recorded / "run.duckdb"), read_only=True)
    rows = con.execute("SELECT step, mark_price, best_bid, best_ask FROM book_top "
                       "WHERE step < 40 ORDER BY step").fetchall()
    got = [(p[0], p[2][f"{MARKET}:mark"], p[2][f"{MARKET}:bid"], p[2][f"{MARKET}:ask"])
           for p in history.points]
    assert got == [tuple(None if isinstance(x, float) and math.isnan(x) else x for x in r)
                   for r in rows]


# ----------------------------------------------------------------- the feed
def test_websocket_frames_follow_the_steps(live):
    run, history, client = live
    run.step(5)
    with client.websocket_connect("/console/ws") as ws:
        first = json.loads(ws.receive_text())
        assert first["step"] == 5 and first["history"] == {"from": 0,
                                                           "points": history.points[:5]}
        assert "markers" in first
        run.step(3)
        second = json.loads(ws.receive_text())
        assert second["step"] == 8
        # only the new points, and no markers when they did not change
        assert second["history"]["from"] == 5
        assert [p[0] for p in second["history"]["points"]] == [5, 6, 7]
        if len(history.markers) == len(first["markers"]):
            assert "markers" not in second


def test_external_agents_metrics_are_shown(live):
    run, _, client = live
    run.host.metrics = {"alice": {"pnl": 12.5, "sharpe": float("nan")}}
    frame = client.get("/console/frame?history=0").json()
    assert frame["external"] == {"alice": {"pnl": 12.5, "sharpe": None}}
    assert frame["history"]["points"] == [] and frame["error"] is None
    run.error = RuntimeError("invariant violated")  # what stopped the pacing thread
    assert client.get("/console/frame").json()["error"] == "RuntimeError: invariant violated"


# ----------------------------------------------------------------- the controls
def test_controls_refuse_without_the_operators_token(live):
    run, _, client = live
    alice = run.host.register_party("alice", {"USDT": 1000})
    for path in ("/console/pause", "/console/resume", "/console/step", "/console/speed"):
        assert client.post(path).status_code == 401
        assert client.post(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.post(path, headers={"Authorization": f"Bearer {alice}"}).status_code == 403
    assert run.run.step == 0 and not run.paused
    assert client.get("/console/auth").json() == {"operator": False, "live": True}
    assert client.get("/console/auth", headers=_op(run)).json()["operator"] is True
    assert client.get(f"/console/auth?token={run.host.operator_token}").json()["operator"]


def test_controls_pause_step_resume_and_speed(live):
    run, _, client = live
    op = _op(run)
    client.post("/console/speed", json={"pace_s": 0.01}, headers=op)
    assert run.pace_s == 0.01
    client.post("/console/resume", headers=op)  # starts the pacing thread
    deadline = time.monotonic() + 10
    while run.run.step < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    answer = client.post("/console/pause", headers=op).json()["ok"]
    assert answer["paused"] is True
    time.sleep(0.2)  # a step under way ends
    stopped = run.run.step
    time.sleep(0.3)  # 30 paces: none stepped
    assert run.run.step == stopped >= 3
    answer = client.post("/console/step", json={"n": 4}, headers=op).json()["ok"]
    assert answer["step"] == run.run.step == stopped + 4 and answer["paused"] is True
    client.post("/console/resume", headers=op)
    while run.run.step < stopped + 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.run.step >= stopped + 8
    for bad in ({"n": 0}, {"n": "2"}, {"n": 10**9}, []):
        assert client.post("/console/step", json=bad, headers=op).status_code == 400
    for bad in ({"pace_s": 0}, {"pace_s": "fast"}, {"pace_s": 1e9}, {}):
        assert client.post("/console/speed", json=bad, headers=op).status_code == 400
    # stepping past the end finishes the run; a finished run refuses more steps
    client.post("/console/pause", headers=op)
    done = client.post("/console/step", json={"n": 10_000}, headers=op).json()["ok"]
    assert done["finished"] is True and done["step"] == STEPS
    assert client.post("/console/step", json={"n": 1}, headers=op).status_code == 409
    assert client.post("/console/resume", headers=op).status_code == 409


# ----------------------------------------------------------------- the page
def test_the_page_loads_nothing_from_outside(live):
    _, _, client = live
    html = client.get("/").text
    assert client.get("/").headers["cache-control"] == "no-store"
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert refs and all(r.startswith("/") for r in refs), refs
    for path in ["/", *(r for r in refs if r != "/console/plotly.min.js")]:
        body = client.get(path)
        assert body.status_code == 200, path
        urls = re.findall(r"(?:https?|wss?)://[^\s\"'<>)]+", body.text)
        assert [u for u in urls if not re.match(r"\w+://(localhost|127\.0\.0\.1)", u)] == []
    import plotly

    bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    served = client.get("/console/plotly.min.js")
    assert served.status_code == 200 and served.content == bundle.read_bytes()
    assert client.get("/console/static/secret.py").status_code == 404


def test_recorded_run_console(recorded):
    app = create_app(recorded)
    app.include_router(console_router(data=app.state.data))
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert client.get("/console/auth").json() == {"operator": False, "live": False}
        frame = client.get("/console/frame?step=10&history=0").json()
        assert frame["mode"] == "recorded" and frame["step"] == 10
        assert frame["history"]["points"] == [] and frame["finished"] is True
        assert client.get("/console/frame?step=-1").status_code == 400
        assert client.post("/console/pause").status_code == 404
        assert client.get("/graphql?query={run{scenario}}").status_code == 200
    with pytest.raises(ValueError, match="give live or data"):
        console_router()


def test_cli_serve_refuses_bad_arguments(recorded):
    runner = CliRunner()
    for args, message in (
        ([], "give a run folder or --scenario"),
        ([str(recorded), "--scenario", "btc_futures"], "give a run folder or --scenario"),
        (["--scenario", "no_such_scenario"], "no_such_scenario"),
        (["--scenario", "btc_futures", "--set", "nope=1"], "no parameter 'nope'"),
        ([str(recorded), "--set", "steps=3"], "apply to a live run"),
    ):
        res = runner.invoke(cli_app, ["serve", *args])
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output and res.output.count("error:") == 1


def test_compute_negotiations_are_the_live_topics():
    """A live compute marketplace: the frame lists the latest live topics with the
    state, participants, offers and last offer the service's views give."""
    cls = get_scenario("compute_marketplace")
    run = LiveRun(cls(cls.Params(hours=0.1, n_clients=10, n_providers=4)), seed=SEED)
    try:
        run.step(60)
        frame = console_frame(run)
        c, neg = run.run.sim.compute, frame["compute"]["negotiations"]
        live = c.topic_ids(live_only=True)
        assert neg and [n["topic"] for n in neg] == live[-len(neg):]
        assert set(live) < set(c.topic_ids())  # some topics closed already
        for n in neg:
            tp, last = c.topic(n["topic"]), c.last_offer_terms(n["topic"])
            assert n["state"] == tp.state and n["offers"] == tp.price_count
            assert n["participants"] == sorted(tp.participants)
            assert n["last_offer"] == (None if last is None else last.price)
    finally:
        run.stop(finish=False)


def test_the_live_app_serves_graphql_over_the_run(live):
    """``defisim serve --scenario``'s app: GraphQL over the live run at /graphql gives
    the trades the service's views give, as the run advances."""
    run, _history, client = live
    run.step(20)
    q = {"query": "{ trades(limit: 1000) { total items { price size } } }"}
    r = client.post("/graphql", json=q)
    assert r.status_code == 200, r.text
    got = r.json()["data"]["trades"]
    want = run.run.sim.futures.trades(MARKET)
    assert got["total"] == len(want) > 0
    assert client.post("/graphql", json={"query": "mutation { x }"}).status_code in (200, 400)
    assert "errors" in client.post("/graphql", json={"query": "mutation { x }"}).json()


def test_v3_lp_positions_are_shown_live():
    """A live V3 pool: the frame's LP column is each position's range and liquidity,
    as ``sim.amm.positions`` gives them."""
    cls = get_scenario("amm_pool")
    run = LiveRun(cls(cls.Params(steps=30)), seed=SEED)
    try:
        run.step(10)
        frame = console_frame(run)
        sim = run.run.sim
        v3 = [p for p in frame["pools"] if p["kind"] == "V3"]
        assert v3
        for pool in v3:
            want = {f"{p.party} [{p.tick_lower}, {p.tick_upper})": float(p.liquidity)
                    for p in sim.amm.positions(pool_id=pool["id"])}
            assert want and pool["lp"] == want
    finally:
        run.stop(finish=False)
