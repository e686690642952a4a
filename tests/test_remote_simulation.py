"""The remote Simulation API (issue 15): agents run unchanged against a simulation in
another thread over a real localhost socket (:class:`RemoteSimulation`), per-party
tokens stop one client acting for another party, malformed or oversized requests get
a 4xx and never a 500, a live run advances by its runner or an operator, and 50
concurrent clients lose no transaction (slow)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_agent_interface import Trace, first_difference, registered

from defisim.agents import ReferencePriceFeed, SymmetricMarketMaker
from defisim.protocols.futures import OrderStatus
from defisim.runner import Recorder, RecorderSink
from defisim.scenarios.base import Scenario, ScenarioParams
from defisim.server.access import ACCESS, BUNDLE, OPERATOR, TX, VIEW, register_access, rule_of
from defisim.server.live import LiveRun
from defisim.server.remote import (
    DEFAULT_BIND,
    ServerThread,
    SimulationHost,
    create_app,
)
from defisim.service import PROTOCOLS, FuturesFacade, Simulation, wire
from defisim.service.interface import interface_of
from defisim.service.remote import RemoteSimulation
from defisim.store import RunStore

from helpers import make_market

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def served():
    """One host and its server on a free localhost port; each test attaches its sim."""
    host = SimulationHost()
    with ServerThread(create_app(host)) as server:
        yield host, server


# ------------------------------------------------ the same run, in process and remote
def trace(make, seed: int, view=None) -> Trace:
    sc = make()
    from defisim.runner import Run
    run = Run(sc, seed, agent_view=view)
    t = Trace(sc, run)

    def hook(run, step, kpis) -> None:
        t.events.extend(repr(e) for e in run.sim.drain_events())
        t.kpis.append((step, repr(kpis)))

    run.hooks.append(hook)
    run.run()
    return t


@pytest.mark.parametrize("make", [
    pytest.param(registered("btc_futures", steps=10), id="btc_futures"),
    # wild and extreme transactions (the outcomes' log is compared too)
    pytest.param(registered("fuzz", steps=30, wild_prob=0.5, extreme_prob=0.5), id="fuzz",
                 marks=pytest.mark.slow),
])
def test_agents_run_identically_through_remote_simulation(served, make):
    host, server = served
    direct = trace(make, seed=11)

    def remote(sim):
        host.attach(sim)
        return RemoteSimulation(server.url, token=host.operator_token)

    before = host.statuses[200]
    wired = trace(make, seed=11, view=remote)
    client = wired.run.agent_sim
    client.close()
    assert isinstance(client, RemoteSimulation)
    assert len(direct.events) > 200
    assert direct.digest == wired.digest, first_difference(direct.events, wired.events)
    assert direct.kpis == wired.kpis, first_difference(direct.kpis, wired.kpis)
    assert wire.same(direct.run.sim.accounts(), wired.run.sim.accounts())
    # every agent call crossed the socket: one 200 per request
    n = sum(client.calls.values())
    assert client.calls["futures.submit_order"] + client.calls["futures.submit_order_raw"] > 10
    assert host.statuses[200] - before == n
    if direct.scenario.name == "fuzz":
        assert direct.scenario.ctx.log.outcomes == wired.scenario.ctx.log.outcomes


def test_exceptions_cross_http_with_type_and_message(market):
    sim, host, server = market
    remote = RemoteSimulation(server.url, token=host.operator_token)
    for call in (lambda s: s.futures.market_view("NOPE"), lambda s: s.mint("ghost", "USD", 1),
                 lambda s: s.mint("a", "USD", float("nan")), lambda s: s.forward_time(-1)):
        with pytest.raises(Exception) as direct:
            call(sim)
        with pytest.raises(Exception) as wired:
            call(remote)
        assert type(wired.value) is type(direct.value) and str(wired.value) == str(direct.value)
    assert remote.errors == {"futures.market_view: KeyError": 1, "mint: ValueError": 2,
                             "forward_time: ValueError": 1}
    with pytest.raises(TypeError, match="a random generator cannot cross the wire"):
        remote.rng("agent:x")


# ------------------------------------------------------------------------ tokens
@pytest.fixture
def market(served):
    host, server = served
    sim = make_market(parties=("a", "b"), funds=100_000, open_price=100, asset_decimals=2)
    host.attach(sim)
    return sim, host, server


def events_of(sim: Simulation) -> list[str]:
    return [repr(e) for e in sim.recent_events(10_000)]


def test_a_party_cannot_act_for_another(market):
    sim, host, server = market
    with RemoteSimulation(server.url, token=host.token_for("a")) as a:
        r = a.futures.submit_order("a", "M", "sell", 2, 101)
        assert r.status is OrderStatus.ACTIVE
        before, orders = events_of(sim), sim.futures.open_orders("b")
        refused = host.statuses[403]
        for call in (lambda: a.futures.submit_order("b", "M", "buy", 2, 101),
                     lambda: a.futures.submit_order(party="b", market="M", side="buy", size=2,
                                                    price=101),
                     lambda: a.futures.cancel_all("b"),
                     lambda: a.transfer("b", "a", "USD", 10),
                     lambda: a.mint("a", "USD", 1e6),          # an operator's call
                     lambda: a.forward_time(60),               # the clock is the operator's
                     lambda: a.futures.submit_oracle_price("M", 99.0),  # party "" by default
                     lambda: a.create_party("c")):
            with pytest.raises(PermissionError):
                call()
        assert host.statuses[403] == refused + 8
        assert events_of(sim) == before and sim.futures.open_orders("b") == orders
        assert "c" not in sim.parties and sim.now == 1.0
        # views need a token, any token
        assert a.futures.open_orders("b") == orders and a.balance("b", "USD") == sim.balance("b", "USD")
        assert a.futures.submit_oracle_price("M", 99.0, party="a") is True  # its own, named
    # b's token may trade for b, the operator's for anyone
    with RemoteSimulation(server.url, token=host.token_for("b")) as b:
        assert b.futures.submit_order("b", "M", "buy", 1, 101).status is OrderStatus.FILLED
    with RemoteSimulation(server.url, token=host.operator_token) as op:
        op.mint("b", "USD", 5)
        assert op.futures.submit_order("a", "M", "buy", 1, 99).status is OrderStatus.ACTIVE


def test_tokens_are_required_and_checked(market):
    sim, host, server = market
    for token in (None, "", "not-a-token", host.token_for("a") + "x"):
        with pytest.raises(PermissionError, match="token"):
            RemoteSimulation(server.url, token=token)
    with pytest.raises(ValueError, match="unknown party 'ghost'"):
        host.token_for("ghost")
    token = host.register_party("carol", {"USD": 50})
    assert sim.balance("carol", "USD") == 50 and host.token_for("carol") == token


def test_raw_transactions_must_be_signed_by_the_caller(market):
    from defisim.chain import Transaction
    sim, host, server = market
    with RemoteSimulation(server.url, token=host.token_for("a")) as a:
        with pytest.raises(PermissionError, match="acts for 'b'"):
            a.send(Transaction("b", "", "transfer", ("a", "USD", 100)))
        before = sim.balance("b", "USD")
        a.send(Transaction("a", "", "transfer", ("b", "USD", 100)))
        assert sim.balance("b", "USD") == before + 1  # 100 base units of a 2-decimal asset


def test_every_method_of_the_interface_is_classified():
    """A view, an operator's call, or a transaction whose party parameter exists."""
    import inspect
    classes = [Simulation] + [f for _, f in PROTOCOLS.values() if isinstance(f, type)]
    assert len(classes) >= 5
    for cls in classes:
        methods = {n for n, k in interface_of(cls).items() if k == "method"}
        table = ACCESS[cls]
        assert methods == set(table), (cls.__name__, methods ^ set(table))
        for name, rule in table.items():
            if rule not in (VIEW, OPERATOR, TX, BUNDLE):
                assert rule in inspect.signature(getattr(cls, name)).parameters, (name, rule)
    with pytest.raises(ValueError, match="no parameter 'trader'"):
        register_access(FuturesFacade, {"submit_order": "trader"})
    with pytest.raises(ValueError, match="no such method"):
        register_access(FuturesFacade, {"teleport": VIEW})
    # spot checks of the intent
    sim = Simulation(seed=0)
    assert rule_of(sim.futures, "submit_order") == "party"
    assert rule_of(sim.futures, "market_view") == VIEW
    assert rule_of(sim, "transfer") == "source" and rule_of(sim, "mint") == OPERATOR
    assert rule_of(sim, "a_method_nobody_classified") == OPERATOR  # deny by default


# --------------------------------------------------------------- hostile requests
_HTTP = httpx.Client(timeout=10)


def post(server, body: bytes | str, token: str | None, path: str = "/v1/call") -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return _HTTP.post(server.url + path, content=body, headers=headers)


def test_bad_requests_get_a_4xx_with_the_reason(market):
    sim, host, server = market
    tok = host.token_for("a")
    req = lambda **kw: wire.encode({"op": "call", "target": "", "args": (), "kwargs": {}, **kw})  # noqa: E731
    cases = [
        (b"{not json", 400, ValueError, ""),
        (b"\xff\xfe\x00", 400, ValueError, "not UTF-8"),
        (b"[" * 50_000 + b"]" * 50_000, 400, ValueError, "nested too deeply"),
        (b'{"$obj": "subprocess.Popen", "f": {}}', 400, TypeError, "not on the allow-list"),
        (b'{"op": "exec", "name": "x"}', 400, ValueError, "bad request"),
        (req(name=5), 400, ValueError, "must be strings"),
        # a transaction's arguments are bound to find its party: refused before it runs
        (req(target="futures", name="submit_order", args=("a",), kwargs={"bogus": 1}), 400,
         TypeError, "futures.submit_order: "),
        (req(name="no_such_method"), 404, AttributeError, "no_such_method is not part"),
        (req(name="chain", op="get"), 404, AttributeError, "chain is the simulation's internal"),
        (req(name="_owned_keys"), 404, AttributeError, "private names"),
        (req(target="governance", name="pending", op="get"), 404, AttributeError,
         "no protocol facade"),
        (req(target="futures", name="internal_market", args=("M",)), 404, AttributeError,
         "live market engine"),
        (b"x" * (2 << 20), 413, ValueError, "over 1048576 bytes"),
    ]
    for body, status, exc_type, why in cases:
        r = post(server, body, tok)
        assert r.status_code == status, (body[:60], r.status_code, r.text[:200])
        err = wire.decode(r.text)["error"]
        assert type(err) is exc_type and why in str(err), (body[:60], err)
    assert post(server, req(name="now", op="get"), None).status_code == 401
    # a view's bad arguments are the service's own TypeError, as in process
    r = post(server, req(name="balance", args=("a", "USD", 1, 2, 3, 4, 5)), tok)
    assert r.status_code == 200 and type(wire.decode(r.text)["error"]) is TypeError
    assert post(server, b'{"n": 1}', tok, "/v1/step").status_code == 403  # a party
    r = post(server, b'{"n": 1}', host.operator_token, "/v1/step")
    assert r.status_code == 409 and "no run" in r.text  # a bare simulation has no runner
    assert post(server, b'{"n": "many"}', host.operator_token, "/v1/step").status_code == 400
    r = _HTTP.get(server.url + "/v1/interface", headers={"authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and "submit_order" in wire.decode(r.text)["ok"]["futures"]
    assert _HTTP.get(server.url + "/v1/interface").status_code == 401
    # the server still serves, and no answer was a 500
    assert RemoteSimulation(server.url, token=tok).futures.markets == ["M"]
    assert not any(s >= 500 for s in host.statuses)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              lambda c: st.lists(c, max_size=4)
                              | st.dictionaries(st.sampled_from(
                                  ["op", "target", "name", "args", "kwargs", "$obj", "f", "$int"]),
                                  c, max_size=5), max_leaves=12).map(json.dumps)))
def test_arbitrary_bodies_never_make_a_5xx(market, body):
    sim, host, server = market
    r = post(server, body, host.token_for("a"))
    assert 200 <= r.status_code < 500, (body, r.status_code, r.text[:200])
    resp = wire.decode(r.text)  # always a wire response
    assert type(resp) is dict and ("error" in resp) != ("ok" in resp)


def test_connection_errors_name_the_url():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ConnectionError, match=re.escape(url)):
        RemoteSimulation(url, token="t")
    with pytest.raises(ValueError, match="http://"):
        RemoteSimulation("127.0.0.1:8765")


def test_the_server_binds_localhost_unless_told_otherwise(served):
    host, server = served
    assert DEFAULT_BIND == "127.0.0.1" and server.bind == "127.0.0.1"
    assert server.server.servers[0].sockets[0].getsockname()[0] == "127.0.0.1"


def test_the_websocket_carries_the_same_requests(market):
    from websockets.sync.client import connect
    sim, host, server = market
    url = server.url.replace("http://", "ws://") + f"/v1/ws?token={host.token_for('a')}"
    with connect(url) as ws:
        ws.send(wire.encode({"op": "call", "target": "futures", "name": "market_view",
                                  "args": ("M",), "kwargs": {}}))
        assert wire.decode(ws.recv())["ok"] == sim.futures.market_view("M")
        ws.send(wire.encode({"op": "call", "target": "futures", "name": "cancel_all",
                                  "args": ("b",), "kwargs": {}}))
        assert type(wire.decode(ws.recv())["error"]) is PermissionError
    with pytest.raises(Exception, match="rejected WebSocket connection: HTTP 403"), \
            connect(url.split("?")[0] + "?token=forged") as ws:
        ws.send("{}")
        ws.recv()


# --------------------------------------------------------------------- live runs
class LiveMarket(Scenario):
    """A BTC future in USDT quoted by a symmetric market maker on a GBM reference."""

    name = "live_market"

    def build(self, sim):
        sim.create_asset("USDT", 6)
        sim.futures.create_market(
            market_id="BTC", asset="USDT", decimal_places=2, position_decimal_places=3,
            risk_model={"kind": "simple", "factor_long": 0.05, "factor_short": 0.05},
            opening_auction_duration_s=0.0, mark_price_frequency_s=0)
        for p in ("open_b", "open_s"):
            sim.create_party(p)
            sim.mint(p, "USDT", 1e8)
        sim.futures.submit_order("open_b", "BTC", "buy", 0.001, 30_000.0)
        sim.futures.submit_order("open_s", "BTC", "sell", 0.001, 30_000.0)
        feed = ReferencePriceFeed.from_gbm("ref", self.params.steps + 2, self.params.step_seconds,
                                           30_000.0, 0.0, 0.5, sim.rng("live:path"))
        return [feed, SymmetricMarketMaker("mm", "BTC", feed, order_size=0.5)]


def external_trader(sim, party: str, rng: np.random.Generator) -> None:
    """An external agent's turn: one limit order around the mid."""
    view = sim.futures.market_view("BTC")
    mid = view.mid or view.mark_price or 30_000.0
    side = "buy" if rng.random() < 0.5 else "sell"
    sim.futures.submit_order(party, "BTC", side, 0.01, round(mid * (1 + rng.normal(0, 5e-4)), 2))


def operator_stepped_digest(remote: bool, served) -> tuple[str, int]:
    """Two external traders and the operator's steps, in process or over HTTP: the
    digest of every event and how many name an external party."""
    live = LiveRun(LiveMarket(ScenarioParams(steps=15, step_seconds=10.0)), seed=3)
    tokens = {p: live.host.register_party(p, {"USDT": 1e6}) for p in ("x", "y")}
    rngs = {p: np.random.default_rng(i) for i, p in enumerate(tokens)}
    h, external = hashlib.sha256(), 0
    with live.serve() as server:
        clients = {p: RemoteSimulation(server.url, token=t) if remote else live.run.sim
                   for p, t in tokens.items()}
        for _ in range(15):
            for p, c in clients.items():
                external_trader(c, p, rngs[p])
            if remote:
                r = post(server, b'{"n": 1}', live.host.operator_token, "/v1/step")
                assert r.status_code == 200, r.text
            else:
                live.step()
            for e in live.run.sim.drain_events():
                h.update(repr(e).encode())
                external += getattr(e, "party", "") in tokens
        live.finish()
        assert live.run.finished and live.run.step == 15
        assert post(server, b"", live.host.operator_token, "/v1/finish").status_code == 409
    return h.hexdigest(), external


def test_an_operator_stepped_live_run_is_deterministic(served):
    direct = operator_stepped_digest(False, served)
    assert direct[1] >= 30  # every external order is an event at least
    assert operator_stepped_digest(True, served) == direct


def test_the_runner_paces_a_live_run():
    live = LiveRun(LiveMarket(ScenarioParams(steps=20, step_seconds=10.0)), seed=3, pace_s=0.01)
    with live:
        deadline = time.monotonic() + 20
        while not live.run.finished and time.monotonic() < deadline:
            time.sleep(0.02)
    assert live.error is None and live.run.finished and live.run.step == 20
    with pytest.raises(ValueError, match="pace_s"):
        LiveRun(LiveMarket(ScenarioParams(steps=2, step_seconds=1.0)), pace_s=0)


# ---------------------------------------------------------------------- load
def percentile(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


@pytest.mark.slow
def test_fifty_concurrent_clients_lose_nothing(tmp_path):
    """50 clients, each its own party and connection, submit orders for 3 s to a live
    market the runner steps every 20 ms; every accepted order is in the run store."""
    n_clients, seconds = 50, 3.0
    store = RunStore(tmp_path / "run.duckdb")
    live = LiveRun(LiveMarket(ScenarioParams(steps=100_000, step_seconds=1.0)), seed=5,
                   pace_s=0.02, sinks=[RecorderSink(Recorder(store))])
    tokens = {f"c{i:02d}": live.host.register_party(f"c{i:02d}", {"USDT": 1e7})
              for i in range(n_clients)}
    accepted: dict[str, list[int]] = {p: [] for p in tokens}
    latencies: dict[str, list[float]] = {p: [] for p in tokens}
    failures: list[BaseException] = []
    with live, live.serve() as server:
        start = threading.Barrier(n_clients)

        def client(i: int, party: str) -> None:
            try:
                with RemoteSimulation(server.url, token=tokens[party]) as sim:
                    rng = np.random.default_rng(i)
                    start.wait()
                    end = time.perf_counter() + seconds
                    while (t0 := time.perf_counter()) < end:
                        side = "buy" if rng.random() < 0.5 else "sell"
                        price = round(30_000 * (1 + rng.normal(0, 2e-3)), 2)
                        r = sim.futures.submit_order(party, "BTC", side, 0.01, price)
                        latencies[party].append(time.perf_counter() - t0)
                        if r.accepted:
                            accepted[party].append(r.order_id)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=client, args=(i, p)) for i, p in enumerate(tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 60)
    live.run.close()
    assert not failures, failures[:3]
    assert live.error is None and live.run.step > 10
    lat = [x for xs in latencies.values() for x in xs]
    total = sum(len(v) for v in accepted.values())
    assert all(accepted.values()) and total > n_clients
    with RunStore(tmp_path / "run.duckdb") as s:
        rows = s.query("SELECT party, payload FROM events WHERE type = 'OrderUpdated' "
                       "AND party LIKE 'c%'")
    stored: dict[str, set[int]] = {}
    for party, payload in rows:
        stored.setdefault(party, set()).add(json.loads(payload)["order_id"])
    for party, ids in accepted.items():
        missing = set(ids) - stored.get(party, set())
        assert not missing, (party, sorted(missing)[:5])
    print(f"\n{n_clients} clients x {seconds} s: {len(lat)} orders ({total} accepted), "
          f"{len(lat) / seconds:.0f} calls/s, latency p50 {percentile(lat, 50) * 1e3:.2f} ms, "
          f"p95 {percentile(lat, 95) * 1e3:.2f} ms, p99 {percentile(lat, 99) * 1e3:.2f} ms, "
          f"max {max(lat) * 1e3:.1f} ms (mean {statistics.fmean(lat) * 1e3:.2f}); "
          f"{live.run.step} steps")


# --------------------------------------------------------------------- README
def test_the_readme_remote_example_runs(monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    server_block = next(b for b in blocks if "LiveRun(" in b)
    agent_block = next(b for b in blocks if "RemoteSimulation(os.environ" in b)
    server_block = server_block.replace("port=8765", "port=0").replace("steps=2000", "steps=200")
    env: dict = {}

    def run_the_agent(prompt: str = "") -> str:  # the README's "press Enter": the agent runs
        monkeypatch.setenv("DEFISIM_URL", env["server"].url)
        monkeypatch.setenv("DEFISIM_TOKEN", env["token"])
        exec(compile(agent_block, "README.md", "exec"), {})
        return ""

    env["input"] = run_the_agent
    exec(compile(server_block, "README.md", "exec"), env)
    out = capsys.readouterr().out.splitlines()
    statuses = [ln.split()[-1] for ln in out if ln.startswith("t=")]
    assert len(statuses) == 5 and set(statuses) <= {"ACTIVE", "FILLED", "PARTIALLY_FILLED"}
    assert env["live"].run.finished and os.environ.get("DEFISIM_TOKEN") == env["token"]
