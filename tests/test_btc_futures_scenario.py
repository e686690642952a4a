"""The ``btc_futures`` scenario: auction, continuous trading, tracking, conservation,
determinism, price files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defisim import Simulation
from defisim.prices import PriceFileError
from defisim.scenarios import get_scenario
from defisim.scenarios.btc_futures import MARKET_ID, BtcFutures, BtcFuturesParams

BTC_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "crypto" / "BTCUSDT_1h.csv"


def drive(scenario: BtcFutures, seed: int = 1, steps: int | None = None):
    """A minimal runner loop (as ``defisim.runner``): build, seeded agent rngs, initialise,
    then per step the agents by phase in a seeded random order, block end, KPIs."""
    sim = Simulation(seed)  # invariant checks on: conservation checked at every block end
    agents = scenario.build(sim)
    for a in agents:
        a.rng = sim.rng(f"agent:{a.name}")
    for a in agents:
        a.initialise(sim)
    order = sim.rng("runner:agent_order")
    phases = sorted({a.phase for a in agents})
    kpis, trades = [], []
    n = scenario.total_steps() if steps is None else steps
    for k in range(n):
        for ph in phases:
            group = [a for a in agents if a.phase == ph]
            for i in order.permutation(len(group)):
                group[i].step(sim)
        sim.end_block()
        kpis.append(scenario.kpis(sim))
        trades.extend(
            (k, t.price, t.size, t.buyer, t.seller, str(t.trade_type))
            for t in sim.drain_events()
            if type(t).__name__ == "TradeExecuted"
        )
        sim.begin_block(round((k + 1) * scenario.step_seconds * 1e9))
    scenario.finish(sim)
    for a in agents:
        a.finalise(sim)
    sim.end_block()
    return sim, kpis, trades


@pytest.fixture(scope="module")
def gbm_run():
    sc = BtcFutures(BtcFuturesParams(steps=300))
    return (sc, *drive(sc))


def test_registered_and_defaults():
    cls = get_scenario("btc_futures")
    assert cls is BtcFutures
    sc = cls()
    assert sc.total_steps() == 2000 and sc.params.step_seconds == 3600.0
    assert sc.markets == [MARKET_ID]


def test_leaves_the_opening_auction_at_the_reference(gbm_run):
    sc, sim, kpis, trades = gbm_run
    assert kpis[0]["in_auction"] == 1.0  # step 0 is in the 30-minute opening auction
    assert kpis[1]["in_auction"] == 0.0
    auction = [t for t in trades if t[5] == "AUCTION"]
    assert auction and {t[1] for t in auction} == {3_000_000}  # 30000.00, the GBM's s0
    assert sc.feed is not None and sc.feed.path.prices[0] == 30_000.0


def test_trades_in_every_third(gbm_run):
    _, _, kpis, trades = gbm_run
    steps = np.array([t[0] for t in trades])
    for lo, hi in ((0, 100), (100, 200), (200, 300)):
        n = int(((steps >= lo) & (steps < hi)).sum())
        assert n > 500, (lo, hi, n)  # measured ~1,500 per 100 steps
    traders = {t[3] for t in trades} | {t[4] for t in trades}
    for who in (
        "auctioneer",
        "mm_as_0",
        "mm_sym_0",
        "taker_0",
        "ps_taker_0",
        "informed_0",
        "noise_0",
    ):
        assert who in traders
    vol = [k["volume"] for k in kpis]
    assert vol[-1] > vol[150] > vol[1] > 0


def test_mark_tracks_the_reference(gbm_run):
    _, _, kpis, _ = gbm_run
    assert np.isnan(kpis[0]["mark_price"])  # step 0: still in the opening auction
    ref = np.array([k["reference_price"] for k in kpis[1:]])
    mark = np.array([k["mark_price"] for k in kpis[1:]])
    err = np.abs(mark - ref) / ref
    # measured (seed 1, 300 steps): median ~7 bps, 90 % ~17 bps, max < 2 %
    assert np.median(err) < 15e-4
    assert np.quantile(err, 0.9) < 40e-4
    assert err.max() < 0.03
    spread = np.array([k["spread"] for k in kpis[1:]])
    assert np.nanmedian(spread / ref) < 25e-4


def test_money_is_conserved_and_settled(gbm_run):
    sc, sim, kpis, _ = gbm_run
    assert sim.chain.invariant_errors() == []
    assert sim.futures.market_state(MARKET_ID) == "SETTLED"
    assert sim.futures.positions(MARKET_ID) == {}
    # everything minted is still somewhere: general accounts + infrastructure fees + pools
    led = sim.chain.ledger
    total = sum(b for _, b in led.accounts())
    assert total == led.supply["USDT"]
    assert kpis[-1]["closeouts"] >= 0 and kpis[-1]["open_interest"] > 0


def test_same_seed_same_trades():
    a = drive(BtcFutures(BtcFuturesParams(steps=120)), seed=7)[2]
    b = drive(BtcFutures(BtcFuturesParams(steps=120)), seed=7)[2]
    c = drive(BtcFutures(BtcFuturesParams(steps=120)), seed=8)[2]
    assert len(a) > 500
    assert a == b
    assert a != c


def test_malformed_price_file_fails_at_construction(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,close\n2021-01-01 00:00:00,100\n2021-01-01 01:00:00,abc\n")
    with pytest.raises(PriceFileError):
        BtcFutures(BtcFuturesParams(prices_file=str(bad)))
    with pytest.raises(PriceFileError):
        BtcFutures(BtcFuturesParams(prices_file=str(tmp_path / "missing.csv")))


def small_file(tmp_path, n=40, gap_at=10) -> Path:
    rows = ["timestamp,close"]
    t = 1_600_000_000
    price = 20_000.0
    for i in range(n):
        if i == gap_at:
            t += 3600  # one missing hour
        rows.append(f"{t},{price:.2f}")
        t += 3600
        price *= 1.001
    f = tmp_path / "p.csv"
    f.write_text("\n".join(rows) + "\n")
    return f


def test_price_file_one_step_per_row(tmp_path):
    f = small_file(tmp_path)
    sc = BtcFutures(BtcFuturesParams(prices_file=str(f)))
    assert sc.params.step_seconds == 3600.0  # resolved from the file
    assert sc.total_steps() == 40  # one per row, the gap collapsed
    assert BtcFutures(BtcFuturesParams(prices_file=str(f), steps=25)).total_steps() == 25
    assert BtcFutures(BtcFuturesParams(prices_file=str(f), steps=99)).total_steps() == 40
    # an explicit step resamples by time: 41 hours of data on a 30-minute grid
    sc2 = BtcFutures(BtcFuturesParams(prices_file=str(f), step_seconds=1800))
    assert sc2.total_steps() == 81
    sim, kpis, _ = drive(sc)
    assert [k["reference_price"] for k in kpis][:3] == [20_000.0, 20_020.0, 20_040.02]
    assert sim.futures.market_state(MARKET_ID) == "SETTLED"


def test_with_the_runner():
    runner = pytest.importorskip("defisim.runner")
    sc = BtcFutures(BtcFuturesParams(steps=40))
    res = runner.run_scenario(sc, seed=3, record=False, progress=False)
    assert res.error is None and res.steps == 40
    assert res.trades > 100
    assert res.kpis["volume"] > 0


@pytest.mark.data
def test_real_btc_file_tracks(tmp_path):
    sc = BtcFutures(BtcFuturesParams(prices_file=str(BTC_FILE), steps=400))
    assert BtcFutures(BtcFuturesParams(prices_file=str(BTC_FILE))).total_steps() == 23_988
    assert sc.params.step_seconds == 3600.0
    sim, kpis, trades = drive(sc)
    ref = np.array([k["reference_price"] for k in kpis[1:]])
    mark = np.array([k["mark_price"] for k in kpis[1:]])
    # the opening auction uncrosses at the first close
    assert {t[1] for t in trades if t[5] == "AUCTION"} == {5_802_511}
    err = np.abs(mark - ref) / ref
    # measured on the whole file: median 6 bps, 90 % 16 bps, 99 % 32 bps
    assert np.median(err) < 15e-4 and np.quantile(err, 0.9) < 40e-4
    assert len(trades) > 400 * 5


def eth_file(tmp_path, n=60) -> Path:
    """A Binance-style hourly ETHUSDT kline file around 2,000 USDT (deterministic moves)."""
    rows = ["date,open,high,low,close,volume,ticker"]
    price = 2_000.0
    for i in range(n):
        move = 1.0 + 0.004 * ((i * 7) % 5 - 2)  # -0.8 % .. +0.8 %
        close = round(price * move, 2)
        rows.append(f"2021-04-{1 + i // 24:02d} {i % 24:02d}:00:00,{price:.2f},{max(price, close):.2f},"
                    f"{min(price, close):.2f},{close:.2f},100.0,ETHUSDT")
        price = close
    f = tmp_path / "ETHUSDT_1h.csv"
    f.write_text("\n".join(rows) + "\n")
    return f


def test_price_file_of_another_instrument(tmp_path):
    import math

    from defisim.agents import NoiseLimitTrader
    from defisim.scenarios.btc_futures import instrument_from_file

    f = eth_file(tmp_path)
    closes = [float(line.split(",")[4]) for line in f.read_text().splitlines()[1:]]
    sc = BtcFutures(BtcFuturesParams(
        prices_file=str(f), steps=20, auction_notional=1_000, mm_order_notional=500,
        mm_max_inventory_notional=6_000, taker_mean_notional=100, noise_mean_notional=300,
        informed_trade_notional=200, momentum_position_limit_notional=1_000))
    # (a) the market is named after the file's instrument
    assert sc.market_id == "ETHUSDT-FUT" and sc.markets == ["ETHUSDT-FUT"]
    # (c) risk sigma: sample std of the hourly log returns, annualised over 365 days
    r = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False)]
    mean = sum(r) / len(r)
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / (len(r) - 1))
    assert sc.params.risk_sigma == pytest.approx(sd * math.sqrt(365 * 24), rel=1e-12)
    assert 0.1 < sc.params.risk_sigma < 1.0
    # (b) notional (USDT) in contracts at the first price 2,000, rounded to 0.001 lots
    p = sc.params
    assert closes[0] == 2_000.0 * 0.992
    first = closes[0]
    assert (p.auction_size, p.mm_order_size, p.mm_max_inventory) == (
        round(1_000 / first, 3), round(500 / first, 3), round(6_000 / first, 3))
    assert (p.taker_mean_size, p.noise_mean_size, p.informed_trade_size) == (
        round(100 / first, 3), round(300 / first, 3), round(200 / first, 3))
    assert p.momentum_position_limit == round(1_000 / first, 3)
    assert p.momentum_trade_size == 0.1 and p.ps_taker_count == 2  # not given: unchanged
    sim = Simulation(1)
    agents = {a.name: a for a in sc.build(sim)}
    m = sim.futures.internal_market("ETHUSDT-FUT")
    assert m.config.risk_model.sigma == p.risk_sigma
    assert agents["auctioneer"].size_each == p.auction_size
    assert agents["mm_as_0"].order_size == p.mm_order_size
    assert agents["taker_0"].mean_size == p.taker_mean_size
    noise = agents["noise_0"]
    assert isinstance(noise, NoiseLimitTrader) and noise.mean_size == p.noise_mean_size
    # it runs, trades and settles on the instrument's market
    sim, kpis, trades = drive(BtcFutures(sc.params))
    assert sim.futures.market_state("ETHUSDT-FUT") == "SETTLED" and len(trades) > 20
    assert kpis[0]["reference_price"] == first
    # the noise size can be set in contracts too; instrument and risk_sigma override
    sc2 = BtcFutures(BtcFuturesParams(prices_file=str(f), instrument="ETHBTC", risk_sigma=0.5,
                                      noise_mean_size=0.2))
    assert sc2.market_id == "ETHBTC-FUT" and sc2.params.risk_sigma == 0.5
    assert sc2.params.noise_mean_size == 0.2 and sc2.params.mm_order_size == 0.25
    assert instrument_from_file("data/Binance_SOLUSDT_15m.csv") == "SOLUSDT"
    assert instrument_from_file("ETHUSDT-1h-2021-04.csv") == "ETHUSDT"
    assert instrument_from_file("prices.csv") is None


def test_gbm_and_unnamed_files_keep_the_btc_defaults(tmp_path):
    sc = BtcFutures(BtcFuturesParams(steps=10))
    p = sc.params
    assert sc.market_id == MARKET_ID == "BTCUSDT-FUT" and p.risk_sigma == 0.8
    assert (p.auction_size, p.mm_order_size, p.taker_mean_size, p.noise_mean_size) == (0.5, 0.25, 0.05, 0.05)
    # a file whose name gives no instrument: BTCUSDT-FUT, sigma from the file
    sc = BtcFutures(BtcFuturesParams(prices_file=str(small_file(tmp_path))))
    assert sc.market_id == MARKET_ID and sc.params.risk_sigma != 0.8
    # notional on the GBM path: at s0
    sc = BtcFutures(BtcFuturesParams(steps=10, s0=40_000, mm_order_notional=10_000))
    assert sc.params.mm_order_size == 0.25
    with pytest.raises(ValueError, match="below one lot"):
        BtcFutures(BtcFuturesParams(steps=10, noise_mean_notional=1.0))
