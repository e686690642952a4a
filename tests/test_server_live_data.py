"""GraphQL over a live run (:class:`defisim.server.live_data.LiveRunData`): the same
numbers as the same run (same seed) recorded to DuckDB, and a cap that drops the
oldest rows and says how many."""

from __future__ import annotations

import pytest

pytest.importorskip("strawberry")
pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from defisim.runner import run_scenario  # noqa: E402
from defisim.scenarios import get_scenario  # noqa: E402
from defisim.server import RunData, create_app  # noqa: E402
from defisim.server.data import Where  # noqa: E402
from defisim.server.live import LiveRun  # noqa: E402
from defisim.server.live_data import LiveRunData  # noqa: E402

STEPS = 40
PARAMS = dict(steps=STEPS, step_seconds=300, opening_auction_s=600)


def _scenario():
    cls = get_scenario("btc_futures")
    return cls(cls.Params(**PARAMS))


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live") / "run"
    assert run_scenario(_scenario(), seed=5, out_dir=folder, progress=False).ok
    live = LiveRun(_scenario(), seed=5)
    data = LiveRunData.of(live)
    assert isinstance(data, RunData)
    live.step(STEPS)
    live.finish()
    with TestClient(create_app(folder)) as rec, TestClient(create_app(data=data)) as lv:
        yield rec, lv


def _q(client, query: str) -> dict:
    r = client.post("/graphql", json={"query": query})
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    return body["data"]


QUERIES = {
    "trades": "{ trades(limit: 1000) { total items { tradeId price size buyer seller "
              "buyerFee sellerFee aggressor } } }",
    "orders": "{ orders(limit: 1000, party: \"noise_0\") { total items { orderId status "
              "price remaining } } }",
    "positions": "{ positions(latest: true, limit: 1000) { total items { party position "
                 "margin general pnl averageEntryPrice realisedPnl unrealisedPnl } } }",
    "accounts": "{ accounts(latest: true, limit: 1000) { total items { accountType owner "
                "asset market balanceRaw } } }",
    "kpis": "{ kpis(limit: 1000, window: {fromStep: 5, toStep: 30}) { total items { step "
            "market name value } } }",
    "events": "{ events(limit: 1) { total } fills: events(type: \"TradeExecuted\", limit: 1) "
              "{ total } orders: events(type: \"OrderUpdated\", limit: 1) { total } }",
    "book": "{ book(limit: 1000) { items { step state bestBid bestAsk bidDepth askDepth "
            "markPrice indicativePrice indicativeVolume } } }",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_live_queries_equal_the_recorded_run(clients, name):
    rec, live = clients
    a, b = _q(rec, QUERIES[name]), _q(live, QUERIES[name])
    if name == "accounts":  # a recorded run keeps the ledger's order, the live one sorts
        key = lambda r: (r["accountType"], r["owner"], r["asset"], r["market"])  # noqa: E731
        a["accounts"]["items"].sort(key=key)
        b["accounts"]["items"].sort(key=key)
    assert a == b
    first = next(iter(a.values()))
    assert first.get("total", len(first.get("items", []))) > 0  # a test that can fail


def test_run_and_markets(clients):
    rec, live = clients
    q = "{ run { scenario seed complete lastStep truncatedBefore } markets { id state " \
        "tradeCount volume markPrice bestBid lastStep settlementPrice } }"
    a, b = _q(rec, q), _q(live, q)
    # volume: DuckDB sums the trades' float sizes, the live view divides the exact total
    va, vb = a["markets"][0].pop("volume"), b["markets"][0].pop("volume")
    assert va == pytest.approx(vb, rel=1e-12) and vb > 0
    assert a["markets"] == b["markets"] and a["markets"][0]["state"] == "SETTLED"
    assert b["run"] == {"scenario": "btc_futures", "seed": 5, "complete": True,
                        "lastStep": STEPS, "truncatedBefore": b["run"]["truncatedBefore"]}
    assert a["run"]["lastStep"] == STEPS and a["run"]["truncatedBefore"] == {}
    assert set(b["run"]["truncatedBefore"].values()) == {0}


def test_the_cap_drops_the_oldest_rows_and_says_so():
    live = LiveRun(_scenario(), seed=5)
    full = LiveRunData.of(live)
    capped = LiveRunData.of(live, max_rows=50)
    for _ in range(STEPS):  # queries between steps see the steps so far
        live.step(1)
        assert capped.count("kpis", Where()) <= 50
    everything = full.rows("orders", Where(), 0, 10**6)
    kept = capped.rows("orders", Where(), 0, 10**6)
    assert len(everything) > 50 and kept == everything[-50:]
    assert capped.info()["truncated_before"]["orders"] == len(everything) - 50
    assert full.info()["truncated_before"]["orders"] == 0
    # the latest snapshot is whole while one step's rows fit in the cap
    last = full.rows("book_top", Where(latest=True), 0, 10)
    assert capped.rows("book_top", Where(latest=True), 0, 10) == last and last[0]["step"] == STEPS - 1
    with TestClient(create_app(data=capped)) as client:
        run = _q(client, "{ run { truncatedBefore } }")["run"]
    assert run["truncatedBefore"]["orders"] == len(everything) - 50
    with pytest.raises(ValueError, match="max_rows"):
        LiveRunData.of(live, max_rows=0)
