"""``defisim serve``'s GraphQL over a recorded run (:mod:`defisim.server`), issue 15.

Two short runs are recorded once per module: ``comprehensive_market`` (a futures
market: orders, trades, positions, book tops, accounts) and ``amm_arbitrage`` (three
AMM pools: swaps, liquidity, pool states). Every query's numbers are compared with a
direct DuckDB query of the same table; pages are checked to tile the full list; and
the safety rules hold: no mutation, limits on depth, aliases, page size and body size,
malformed requests answered with a 4xx or a GraphQL error, never a 500.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("strawberry")
pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from defisim.cli import app as cli_app  # noqa: E402
from defisim.runner import run_scenario  # noqa: E402
from defisim.scenarios import get_scenario  # noqa: E402
from defisim.server import DuckDBRunData, RunData, RunDataError, create_app  # noqa: E402
from defisim.server.schema import MAX_LIMIT  # noqa: E402

MARKET = "BTCUSDT-FUT"


def _record(tmp_path_factory, name: str, steps: int) -> Path:
    scn = get_scenario(name)(get_scenario(name).Params(steps=steps))
    out = tmp_path_factory.mktemp(name) / "run"
    res = run_scenario(scn, seed=1, out_dir=out, progress=False)
    assert res.ok, res.error
    return out


@pytest.fixture(scope="module")
def futures_run(tmp_path_factory) -> Path:
    return _record(tmp_path_factory, "comprehensive_market", 100)


@pytest.fixture(scope="module")
def amm_run(tmp_path_factory) -> Path:
    return _record(tmp_path_factory, "amm_arbitrage", 100)


@pytest.fixture(scope="module")
def fut(futures_run):
    with TestClient(create_app(futures_run)) as client:
        yield client


@pytest.fixture(scope="module")
def amm(amm_run):
    with TestClient(create_app(amm_run)) as client:
        yield client


def sql(run_dir: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(run_dir / "run.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def post(client, query: str, variables: dict | None = None):
    return client.post("/graphql", json={"query": query, "variables": variables or {}})


def gql(client, query: str, **variables) -> dict:
    r = post(client, query, variables)
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def errors(client, query: str, **variables) -> list[str]:
    """The GraphQL errors of a query that must fail (HTTP 200 or 4xx, never 5xx)."""
    r = post(client, query, variables)
    assert r.status_code < 500, r.text
    body = r.json()
    assert body.get("data") is None and body["errors"], body
    return [e["message"] for e in body["errors"]]


def all_pages(client, field: str, columns: str, args: str = "", limit: int = 7) -> list[dict]:
    """Every row of a paged field, page by page (``hasMore`` and ``total`` checked)."""
    out, offset = [], 0
    while True:
        page = gql(client, f"query($o: Int!) {{ {field}({args}{', ' if args else ''}"
                   f"offset: $o, limit: {limit}) {{ total hasMore items {{ {columns} }} }} }}",
                   o=offset)[field]
        out += page["items"]
        assert page["hasMore"] == (len(out) < page["total"])
        if not page["hasMore"]:
            assert len(out) == page["total"]
            return out
        assert len(page["items"]) == limit
        offset += limit


# ------------------------------------------------------------------ futures
def test_run_and_health(fut, futures_run):
    assert fut.get("/health").json() == {"status": "ok", "scenario": "comprehensive_market",
                                         "complete": True}
    run = gql(fut, "{ run { scenario seed params summary complete problems lastStep tables } }")
    run = run["run"]
    params = json.loads((futures_run / "params.json").read_text())
    summary = json.loads((futures_run / "summary.json").read_text())
    assert (run["scenario"], run["seed"], run["params"]) == (
        "comprehensive_market", 1, params["params"])
    assert run["summary"]["trades"] == summary["trades"] > 0
    assert (run["complete"], run["problems"], run["lastStep"]) == (True, [], 100)
    assert {"events", "accounts", "kpis", "trades", "orders", "positions"} <= set(run["tables"])


def test_market_matches_the_tables(fut, futures_run):
    (m,) = gql(fut, "{ markets { id asset decimalPlaces positionDecimalPlaces state markPrice "
                    "bestBid bestAsk lastStep tradeCount volume settlementPrice config } }"
               )["markets"]
    d = futures_run
    mark = sql(d, "SELECT mark_price FROM book_top WHERE market=? AND mark_price IS NOT NULL "
                  "ORDER BY step DESC LIMIT 1", [MARKET])[0][0]
    n, vol = sql(d, "SELECT count(*), sum(size_f) FROM trades WHERE market=?", [MARKET])[0]
    state, bid, ask, step = sql(d, "SELECT state, best_bid, best_ask, step FROM book_top "
                                   "WHERE market=? ORDER BY step DESC LIMIT 1", [MARKET])[0]
    settled = json.loads(sql(d, "SELECT payload FROM events WHERE type='MarketSettled'")[0][0])
    assert m["id"] == MARKET and m["asset"] == "USDT"
    assert (m["decimalPlaces"], m["positionDecimalPlaces"]) == (2, 3) == (
        m["config"]["decimal_places"], m["config"]["position_decimal_places"])
    assert (m["markPrice"], m["tradeCount"], m["volume"]) == (mark, n, vol)
    assert (m["state"], m["bestBid"], m["bestAsk"], m["lastStep"]) == (state, bid, ask, step)
    assert m["settlementPrice"] == str(settled["price"])
    assert gql(fut, "query($id: String!) { market(id: $id) { id tradeCount } }", id=MARKET)[
        "market"] == {"id": MARKET, "tradeCount": n}
    assert gql(fut, '{ market(id: "nope") { id } }')["market"] is None


def test_trades_equal_the_table_row_for_row(fut, futures_run):
    rows = all_pages(fut, "trades", "tradeId price priceF size sizeF buyer seller aggressor "
                                    "tradeType buyerFee sellerFee timeNs step", limit=50)
    table = sql(futures_run, "SELECT trade_id, price, price_f, size, size_f, buyer, seller, "
                             "aggressor, trade_type, buyer_fee, seller_fee, time_ns, step "
                             "FROM trades ORDER BY rowid")
    assert len(rows) == len(table) > 20
    for got, want in zip(rows, table, strict=True):
        assert tuple(got.values()) == (
            str(want[0]), str(want[1]), want[2], str(want[3]), *want[4:9], str(want[9]),
            str(want[10]), str(want[11]), want[12])
    assert sum(int(r["price"]) for r in rows) == sql(
        futures_run, "SELECT sum(price) FROM trades")[0][0]


def test_trades_by_party_are_the_buyer_or_seller_ones(fut, futures_run):
    party = sql(futures_run, "SELECT buyer FROM trades GROUP BY buyer ORDER BY count(*) DESC "
                             "LIMIT 1")[0][0]
    got = gql(fut, "query($p: String!) { trades(party: $p, limit: 1000) { total items { "
                   "tradeId } } }", p=party)["trades"]
    want = sql(futures_run, "SELECT trade_id FROM trades WHERE buyer=? OR seller=? "
                            "ORDER BY rowid", [party, party])
    assert got["total"] == len(want) and [r["tradeId"] for r in got["items"]] == [
        str(w[0]) for w in want]
    nested = gql(fut, "query($id: String!, $p: String) { market(id: $id) { trades(party: $p, "
                      "limit: 1000) { total } } }", id=MARKET, p=party)["market"]["trades"]
    assert nested["total"] == len(want)


def test_orders_filters_and_pages_tile_the_list(fut, futures_run):
    party, status = sql(futures_run, "SELECT party, status FROM orders GROUP BY ALL "
                                     "ORDER BY count(*) DESC LIMIT 1")[0]
    args = f'party: "{party}", status: "{status}", window: {{fromStep: 10, toStep: 60}}'
    rows = all_pages(fut, "orders", "orderId price size remaining step party status", args,
                     limit=97)
    want = sql(futures_run, "SELECT order_id, price, size, remaining, step FROM orders WHERE "
                            "party=? AND status=? AND step BETWEEN 10 AND 60 ORDER BY rowid",
               [party, status])
    assert len(rows) == len(want) > 97
    assert [(r["orderId"], r["price"], r["size"], r["remaining"], r["step"]) for r in rows] == [
        (str(a), str(b), str(c), str(e), s) for a, b, c, e, s in want]
    assert {(r["party"], r["status"]) for r in rows} == {(party, status)}
    total = gql(fut, "{ orders { total } }")["orders"]["total"]
    assert total == sql(futures_run, "SELECT count(*) FROM orders")[0][0]
    # the time window is in seconds: steps 10..60 of 60 s are 600..3600 s
    by_time = gql(fut, f'{{ orders(party: "{party}", status: "{status}", window: '
                       f'{{fromTime: 600, toTime: 3600}}) {{ total }} }}')["orders"]["total"]
    assert by_time == len(want)


def test_latest_positions_equal_the_last_step(fut, futures_run):
    got = gql(fut, "{ positions(latest: true, limit: 1000) { total items { step party "
                   "position margin pnl realisedPnl } } }")["positions"]
    want = sql(futures_run, "SELECT step, party, position, margin, pnl, realised_pnl FROM "
                            "positions WHERE step = (SELECT max(step) FROM positions) "
                            "ORDER BY rowid")
    assert got["total"] == len(want) > 5
    assert [tuple(r.values()) for r in got["items"]] == want
    assert sum(r["pnl"] for r in got["items"]) == pytest.approx(sum(w[4] for w in want))


def test_accounts_sum_exactly(fut, futures_run):
    got = gql(fut, '{ accounts(latest: true, asset: "USDT", limit: 1000) { total items { '
                   "owner accountType balanceRaw balance step } } }")["accounts"]
    want = sql(futures_run, "SELECT owner, account_type, balance_raw, balance, step FROM "
                            "accounts WHERE asset='USDT' AND step=(SELECT max(step) FROM "
                            "accounts WHERE asset='USDT') ORDER BY rowid")
    assert got["total"] == len(want)
    assert [(r["owner"], r["accountType"], int(r["balanceRaw"]), r["balance"], r["step"])
            for r in got["items"]] == want
    assert sum(int(r["balanceRaw"]) for r in got["items"]) == sum(w[2] for w in want)
    one = gql(fut, '{ accounts(owner: "auctioneer", accountType: "general", window: '
                   '{toStep: 0}) { items { balanceRaw } } }')["accounts"]["items"]
    assert [int(r["balanceRaw"]) for r in one] == [r[0] for r in sql(
        futures_run, "SELECT balance_raw FROM accounts WHERE owner='auctioneer' AND "
                     "account_type='general' AND step <= 0")]


def test_events_by_type_and_their_payload(fut, futures_run):
    counts = dict(sql(futures_run, "SELECT type, count(*) FROM events GROUP BY type"))
    for typ in ("TradeExecuted", "MarkPriceUpdated", "PartyCreated"):
        assert gql(fut, f'{{ events(type: "{typ}") {{ total }} }}')["events"]["total"] == \
            counts[typ]
    (ev,) = gql(fut, '{ events(type: "TradeExecuted", limit: 1) { items { seq block timeNs '
                     "market party payload data } } }")["events"]["items"]
    seq, block, time_ns, payload = sql(futures_run, "SELECT seq, block, time_ns, payload FROM "
                                       "events WHERE type='TradeExecuted' ORDER BY seq "
                                       "LIMIT 1")[0]
    assert (ev["seq"], ev["block"], ev["timeNs"], ev["payload"]) == (
        str(seq), str(block), str(time_ns), payload)
    assert ev["data"] == json.loads(payload) and ev["market"] == MARKET
    window = gql(fut, "{ events(window: {fromStep: 3, toStep: 4}) { total } }")["events"]
    assert window["total"] == sql(futures_run, "SELECT count(*) FROM events WHERE step "
                                               "BETWEEN 3 AND 4")[0][0]


def test_kpis_by_name_market_and_scope(fut, futures_run):
    got = gql(fut, f'{{ kpis(name: "mark_price", market: "{MARKET}", limit: 1000) {{ total '
                   "items { step timeS value } } }")["kpis"]
    want = sql(futures_run, "SELECT step, time_s, value FROM kpis WHERE name='mark_price' "
                            "AND market=? ORDER BY rowid", [MARKET])
    assert got["total"] == len(want) > 10
    assert [tuple(r.values()) for r in got["items"]] == want
    scen = gql(fut, "{ kpis(scenarioOnly: true) { total } }")["kpis"]["total"]
    assert scen == sql(futures_run, "SELECT count(*) FROM kpis WHERE market IS NULL")[0][0]
    assert "not both" in errors(fut, f'{{ kpis(scenarioOnly: true, market: "{MARKET}") '
                                     "{ total } }")[0]


def test_book_tops_per_market(fut, futures_run):
    got = gql(fut, f'{{ market(id: "{MARKET}") {{ book(window: {{fromStep: 50}}, limit: 1000)'
                   " { total items { step midpoint: mid markPrice } } } }")
    page = got["market"]["book"]
    want = sql(futures_run, "SELECT step, mid, mark_price FROM book_top WHERE step >= 50 "
                            "ORDER BY rowid")
    assert page["total"] == len(want) == 51
    assert [tuple(r.values()) for r in page["items"]] == want


# ---------------------------------------------------------------------- AMM
def test_pools_match_their_last_state(amm, amm_run):
    pools = gql(amm, "{ pools { id kind assets fee swapCount state { step price tvl "
                     "liquidity tick volumeCum feesCum } } }")["pools"]
    assert [p["id"] for p in pools] == [r[0] for r in sql(
        amm_run, "SELECT market FROM events WHERE type='AmmPoolCreated' ORDER BY seq")]
    for p in pools:
        last = sql(amm_run, "SELECT step, price, tvl, liquidity, tick, volume_cum, fees_cum "
                            "FROM amm_pools WHERE pool=? ORDER BY step DESC LIMIT 1",
                   [p["id"]])[0]
        assert tuple(p["state"].values()) == last
        assert p["swapCount"] == sql(amm_run, "SELECT count(*) FROM amm_swaps WHERE pool=?",
                                     [p["id"]])[0][0]
    assert sum(p["swapCount"] for p in pools) > 10
    assert gql(amm, "{ markets { id } }")["markets"] == []  # no futures in this run


def test_swaps_sum_exactly_and_tile(amm, amm_run):
    rows = all_pages(amm, "swaps", "pool party assetIn amountIn amountOut priceF: price",
                     limit=9)
    want = sql(amm_run, "SELECT pool, party, asset_in, amount_in, amount_out, price FROM "
                        "amm_swaps ORDER BY rowid")
    assert [(r["pool"], r["party"], r["assetIn"], int(r["amountIn"]), int(r["amountOut"]),
             r["priceF"]) for r in rows] == want
    assert any(int(r["amountIn"]) > 2**53 for r in rows)  # exact beyond a double
    pool = want[0][0]
    nested = gql(amm, "query($id: String!) { pool(id: $id) { swaps(limit: 1000) { total "
                      "items { amountIn } } states(limit: 1) { total } } }", id=pool)
    swaps = nested["pool"]["swaps"]
    assert [int(r["amountIn"]) for r in swaps["items"]] == [w[3] for w in want if w[0] == pool]
    assert nested["pool"]["states"]["total"] == sql(
        amm_run, "SELECT count(*) FROM amm_pools WHERE pool=?", [pool])[0][0]


def test_liquidity_and_pool_states(amm, amm_run):
    got = gql(amm, "{ liquidityChanges { total items { pool kind tickLower tickUpper "
                   "liquidity amount0 amount1 } } }")["liquidityChanges"]
    want = sql(amm_run, "SELECT pool, kind, tick_lower, tick_upper, liquidity, amount0, amount1"
                        " FROM amm_liquidity ORDER BY rowid")
    assert got["total"] == len(want) == 3
    assert [(r["pool"], r["kind"], r["tickLower"], r["tickUpper"], int(r["liquidity"]),
             int(r["amount0"]), int(r["amount1"])) for r in got["items"]] == want
    latest = gql(amm, "{ poolStates(latest: true) { items { pool step tvl } } }")["poolStates"]
    assert [tuple(r.values()) for r in latest["items"]] == sql(
        amm_run, "SELECT pool, step, tvl FROM amm_pools WHERE step=(SELECT max(step) FROM "
                 "amm_pools) ORDER BY rowid")
    assert gql(amm, "{ trades { total items { price } } }")["trades"] == {"total": 0,
                                                                         "items": []}


# ------------------------------------------------------------------- safety
def test_there_is_no_mutation_or_subscription(fut):
    assert gql(fut, "{ __schema { mutationType { name } subscriptionType { name } } }")[
        "__schema"] == {"mutationType": None, "subscriptionType": None}
    assert "mutation" in errors(fut, "mutation { run { scenario } }")[0]
    assert "subscription" in errors(fut, "subscription { run { scenario } }")[0].lower()
    r = fut.get("/graphql", params={"query": "mutation { x }"})
    assert 400 <= r.status_code < 500


def test_limits_give_graphql_errors(fut):
    for limit in (MAX_LIMIT + 1, 0, -5):
        assert errors(fut, f"{{ trades(limit: {limit}) {{ total }} }}") == [
            f"limit must be between 1 and {MAX_LIMIT}, got {limit}"]
    assert errors(fut, "{ orders(offset: -1) { total } }") == ["offset must be 0 or more, got -1"]
    deep = "{ markets { trades { items { price { a { b { c { d } } } } } } } }"
    assert any("exceeds maximum operation depth" in e for e in errors(fut, deep))
    aliases = "{ " + " ".join(f"a{i}: run {{ seed }}" for i in range(50)) + " }"
    assert any("aliases" in e.lower() for e in errors(fut, aliases))
    assert errors(fut, "{ nope }")
    assert errors(fut, "{ trades(window: {fromTime: 1e400}) { total } }")
    assert errors(fut, "{ trades(limit: 99999999999) { total } }")  # not a 32-bit Int


def test_malformed_and_oversized_requests_get_4xx(fut):
    r = fut.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = fut.post("/graphql", json=[{"query": "{ run { seed } }"}])
    assert r.status_code == 400
    r = fut.post("/graphql", json={"query": 5})
    assert r.status_code == 400
    big = {"query": "{ run { seed } }", "pad": "x" * 70_000}
    r = fut.post("/graphql", json=big)
    assert r.status_code == 413 and r.json() == {"detail": "request body over 65536 bytes"}

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(70):
            yield b"x" * 1024

    r = fut.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = fut.post("/graphql", content=b"", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500


def test_a_small_body_limit(futures_run):
    with TestClient(create_app(futures_run, max_body_bytes=200)) as client:
        assert gql(client, "{ run { seed } }") == {"run": {"seed": 1}}
        r = client.get("/graphql", params={"query": "{ run { seed } }" + " " * 300})
        assert r.status_code == 414
        r = client.post("/graphql", json={"query": "{ run { seed } }" + " " * 300})
        assert r.status_code == 413


def test_a_big_page_and_graphiql(fut):
    page = gql(fut, "{ orders(limit: 1000) { hasMore items { orderId } } }")["orders"]
    assert len(page["items"]) == 1000 and page["hasMore"]
    r = fut.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()


# ------------------------------------------------------------ set-up errors
def test_bad_run_folders(tmp_path, futures_run):
    with pytest.raises(RunDataError, match="does not exist"):
        create_app(tmp_path / "nope")
    with pytest.raises(RunDataError, match="has no run.duckdb"):
        create_app(tmp_path)
    with pytest.raises(ValueError, match="one of them"):
        create_app()
    data = DuckDBRunData(futures_run)
    assert isinstance(data, RunData)
    with pytest.raises(ValueError, match="one of them"):
        create_app(futures_run, data=data)
    with pytest.raises(ValueError, match="has no column 'nope'"):
        from defisim.server import Where

        data.count("trades", Where(equal={"nope": 1}))
    data.close()


def test_cli_serve_refuses_a_bad_folder(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli_app, ["serve", str(tmp_path / "nope")])
    assert res.exit_code == 2 and f"error: run folder {tmp_path / 'nope'} does not exist" in (
        res.output)
    res = runner.invoke(cli_app, ["serve", str(tmp_path)])
    assert res.exit_code == 2 and "has no run.duckdb" in res.output
    res = runner.invoke(cli_app, ["serve", "--help"])
    assert "127.0.0.1" in res.output


def test_the_readme_query_runs(fut):
    import re

    readme = Path(__file__).resolve().parents[1] / "README.md"
    (query,) = re.findall(r"```graphql\n(.*?)```", readme.read_text(), re.S)
    data = gql(fut, query)
    assert data["markets"][0]["trades"]["total"] > 0 and data["kpis"]["items"]
