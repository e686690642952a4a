"""The zoo scenarios (``ideal_market_maker``, ``historic_market_maker``,
``comprehensive_market``, ``load_test``): short runs with invariants on, checked on
their numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names

NAMES = ["ideal_market_maker", "historic_market_maker", "comprehensive_market", "load_test"]
BTC_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crypto" / "BTCUSDT_1h.csv"


def run(name: str, seed: int = 0, **params):
    cls = get_scenario(name)
    scenario = cls(cls.Params(**params))
    result = run_scenario(scenario, seed=seed, record=False, progress=False)
    return scenario, result


@pytest.mark.parametrize("name", NAMES)
def test_registered_and_short_run_without_error(name):
    assert name in scenario_names()
    _, result = run(name, steps=50)
    assert result.error is None and not result.interrupted
    assert result.steps == 50
    assert result.trades > 0


def test_ideal_market_maker_quotes_and_is_filled_on_both_sides():
    scenario, result = run("ideal_market_maker", steps=50)
    k = result.kpis
    assert k["mm_buy_fills"] > 0 and k["mm_sell_fills"] > 0
    assert k["mm_fills"] == k["mm_buy_fills"] + k["mm_sell_fills"]
    assert k["mm_volume"] > 0
    # the maker quotes a two-sided market a few bps wide around the reference
    spread_bps = k["mm_quoted_spread_bps"]
    assert 1 < spread_bps < 100
    assert k["mm_bid"] < k["mm_ask"]
    assert abs(k["mm_inventory"]) <= scenario.params.glft_max_inventory + 1e-9
    assert k["mm_return_on_capital"] == pytest.approx(
        k["mm_pnl"] / scenario.params.glft_collateral
    )


def test_historic_market_maker_gbm_defaults_to_hourly_steps():
    cls = get_scenario("historic_market_maker")
    s = cls()
    assert s.params.step_seconds == 3600.0
    assert s.total_steps() == 2000


@pytest.mark.skipif(not BTC_FILE.exists(), reason="no BTCUSDT_1h.csv")
def test_historic_market_maker_on_price_file():
    scenario, result = run("historic_market_maker", steps=50, prices_file=str(BTC_FILE))
    assert scenario.params.step_seconds == 3600.0
    assert result.error is None
    first = float(BTC_FILE.read_text().splitlines()[1].split(",")[4])
    assert scenario.feed.path.prices[0] == pytest.approx(first)
    assert result.kpis["mm_buy_fills"] > 0 and result.kpis["mm_sell_fills"] > 0


def test_comprehensive_market_has_every_kind_and_mechanics_on():
    scenario, result = run("comprehensive_market", steps=50)
    assert result.error is None
    names = {a for a in scenario.kinds}
    assert names == {"as", "sym", "glft", "book", "peg", "lp"}
    assert all(scenario.kinds[k] for k in names)
    assert len(scenario.leveraged) == 4
    assert result.kpis["volume"] > 0
    assert result.kpis["target_stake"] > 0


def test_comprehensive_market_default_day_shows_auctions_and_closeouts():
    # the 8 % crash at noon (defaults): the 600-s trigger's bound is about 1.4 % at
    # sigma 0.8 and p 0.9999, so the fall starts an auction; leveraged longs at half
    # their maximum leverage cannot survive 8 %, and the network disposes of them
    scenario, result = run("comprehensive_market", seed=0)
    k = result.kpis
    assert result.error is None and result.steps == 1440
    assert k["auctions"] >= 1 and k["time_in_auction_s"] >= 60.0
    assert k["leveraged_closed_out"] >= 1 and k["closeouts"] >= k["leveraged_closed_out"]
    assert k["disposal_trades"] >= 1
    path = scenario.feed.path.prices
    noon = int(12 * 3600 / scenario.step_seconds)
    assert path[noon + 10] / path[noon] == pytest.approx(0.92, rel=0.02)


def test_load_test_creates_markets_and_parties_and_every_market_trades():
    scenario, result = run("load_test", steps=50, markets=3, parties=60)
    assert result.error is None
    assert scenario.markets == ["LOAD-0", "LOAD-1", "LOAD-2"]
    traders = [a for agents in scenario.traders.values() for a in agents]
    assert len(traders) == 60
    assert len({a.name for a in traders}) == 60
    assert sorted(len(v) for v in scenario.traders.values()) == [20, 20, 20]
    k = result.kpis
    assert k["markets_trading"] == 3
    for m in scenario.markets:
        assert k[f"trades.{m}"] > 0
        assert k[f"orders.{m}"] > 0
    assert k["trades"] == sum(k[f"trades.{m}"] for m in scenario.markets)


def test_load_test_defaults():
    p = get_scenario("load_test").Params()
    assert (p.markets, p.parties) == (4, 300)
