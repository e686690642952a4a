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
