"""Price feeds (:mod:`defisim.prices.feeds`, issue 15's paper trading): a file read at
simulation time, a file replayed in wall time on a fake clock, a ccxt exchange feed
against a local fake exchange (prices, an HTTP 500, a timeout, staleness), and
``btc_futures`` following a paced file in a live run."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fake_exchange import FakeExchange

from defisim.prices import PricePath, load_price_csv
from defisim.prices.feeds import ExchangeFeed, FileFeed, PacedReplayFeed, PriceFeed
from defisim.scenarios.btc_futures import BtcFutures, BtcFuturesParams

PATH = PricePath(np.array([0.0, 60.0, 120.0, 300.0]), np.array([100.0, 101.0, 99.5, 102.0]))


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def price_file(tmp_path: Path, n: int = 30) -> Path:
    rows, t, price = ["timestamp,close"], 1_600_000_000, 20_000.0
    for i in range(n):
        rows.append(f"{t},{price:.2f}")
        t += 3600
        price *= 1.001 if i % 3 else 0.997
    f = tmp_path / "p.csv"
    f.write_text("\n".join(rows) + "\n")
    return f


# ------------------------------------------------------------------ file, paced
def test_file_feed_reads_the_path_at_simulation_time():
    feed = FileFeed(PATH)
    assert isinstance(feed, PriceFeed) and not feed.wall_clocked
    got = [feed.price_at(t) for t in (-5.0, 0.0, 59.9, 60.0, 200.0, 300.0, 1e6)]
    assert got == [100.0, 100.0, 100.0, 101.0, 99.5, 102.0, 102.0]
    assert feed.latest() is None


def test_paced_replay_on_a_fake_clock():
    clock = FakeClock(1000.0)
    feed = PacedReplayFeed(PATH, speed=10.0, clock=clock)  # 10 path seconds per wall second
    assert isinstance(feed, PriceFeed) and feed.wall_clocked
    feed.start()
    expected = {0.0: 100.0, 5.9: 100.0, 6.0: 101.0, 11.0: 101.0, 12.0: 99.5, 29.9: 99.5,
                30.0: 102.0, 500.0: 102.0}
    for wall, price in expected.items():
        clock.t = 1000.0 + wall
        assert feed.price_at(123456.0) == price, wall  # the simulation time is not read
    assert feed.finished
    clock.t = 1013.0
    assert feed.latest() == (1012.0, 99.5)  # replayed at start + 120 / 10
    with pytest.raises(ValueError, match="speed"):
        PacedReplayFeed(PATH, speed=0.0)


# ----------------------------------------------------------------- exchange
@pytest.fixture()
def fake():
    with FakeExchange(price=65_000.0) as f:
        yield f


def test_exchange_feed_reads_the_fake_exchanges_prices(fake):
    clock = FakeClock()
    feed = ExchangeFeed(fake.exchange(), "BTC/USDT", poll_s=0.05, stale_after_s=5.0,
                        clock=clock)
    assert feed.wall_clocked and feed.latest() is None and feed.price_at(0.0) is None
    assert feed.poll() == 65_000.0
    assert feed.price_at(0.0) == 65_000.0 and feed.latest() == (clock.t, 65_000.0)
    fake.price = 65_123.45
    with feed:  # the polling thread
        assert feed.wait_first(5.0) is not None
        for _ in range(200):
            if feed.price_at(0.0) == 65_123.45:
                break
            clock.t += 0.01
            time.sleep(0.01)
    assert feed.price_at(0.0) == 65_123.45 and fake.tickers >= 2
    assert feed.failures == 0 and feed.events == []


def test_exchange_errors_are_events_and_a_stale_price_is_not_used(fake):
    clock = FakeClock()
    feed = ExchangeFeed(fake.exchange(), "BTC/USDT", stale_after_s=10.0, timeout_s=0.3,
                        clock=clock)
    assert feed.poll() == 65_000.0
    fake.mode = "500"
    clock.t += 4.0
    assert feed.poll() is None  # no exception
    assert feed.events[-1].kind == "error" and "500" in feed.events[-1].message
    assert feed.price_at(0.0) == 65_000.0  # 4 s old: still fresh
    fake.mode, fake.delay_s = "slow", 1.0
    clock.t += 4.0
    assert feed.poll() is None
    assert feed.events[-1].kind == "error" and "Timeout" in feed.events[-1].message
    clock.t += 4.0  # 12 s since the last price
    assert feed.price_at(0.0) is None and feed.stale
    assert feed.price_at(0.0) is None
    assert [e.kind for e in feed.events] == ["error", "error", "stale"]  # reported once
    assert "12.0 s old" in feed.events[-1].message
    fake.mode, fake.price = "ok", 64_000.0
    assert feed.poll() == 64_000.0 and feed.price_at(0.0) == 64_000.0
    assert feed.events[-1].kind == "recovered" and feed.failures == 2 and feed.requests == 4


def test_exchange_feed_refuses_bad_settings():
    with pytest.raises(ValueError, match="unknown exchange 'nosuchexchange'"):
        ExchangeFeed("nosuchexchange")
    with pytest.raises(ValueError, match="poll_s"):
        ExchangeFeed("binance", poll_s=0)


# ------------------------------------------------------- btc_futures, live
def test_btc_futures_follows_a_paced_file_in_a_live_run(tmp_path):
    from defisim.server.live import LiveRun

    f = price_file(tmp_path)
    path = load_price_csv(f)
    clock = FakeClock(50.0)
    source = PacedReplayFeed(path, speed=3600.0, clock=clock)  # an hour a wall second
    scn = BtcFutures(BtcFuturesParams(prices_file=str(f), reference_feed="paced",
                                      speed=3600.0), price_feed=source)
    live = LiveRun(scn, seed=1)
    seen = []
    for _ in range(6):
        live.step()
        seen.append(scn.kpis(live.run.sim)["reference_price"])
        clock.t += 1.0
    assert seen == [float(p) for p in path.prices[:6]]
    clock.t += 2.5  # the wall clock ran ahead: step 7 sees the file at 8.5 h, not 6 h
    live.step()
    k = scn.kpis(live.run.sim)
    assert k["reference_price"] == float(path.prices[8]) and k["reference_stale"] == 0.0
    assert scn.feed.price_ahead(3) == scn.feed.price  # no future in a live reference
    live.finish()


def test_btc_futures_on_a_stale_exchange_keeps_and_flags_the_price(fake):
    from defisim.server.live import LiveRun

    clock = FakeClock()
    source = ExchangeFeed(fake.exchange(), "BTC/USDT", stale_after_s=10.0, clock=clock)
    scn = BtcFutures(BtcFuturesParams(reference_feed="exchange", steps=10, poll_s=1.0),
                     price_feed=source)
    assert scn.step_seconds == 1.0  # the poll interval
    live = LiveRun(scn, seed=1)
    live.step(2)
    assert scn.kpis(live.run.sim)["reference_price"] == 65_000.0
    fake.mode = "500"
    source.poll()
    clock.t += 11.0
    live.step()
    k = scn.kpis(live.run.sim)
    assert (k["reference_price"], k["reference_stale"], k["reference_stale_steps"]) == \
        (65_000.0, 1.0, 1.0)
    fake.mode, fake.price = "ok", 66_000.0
    source.poll()
    live.step()
    k = scn.kpis(live.run.sim)
    assert (k["reference_price"], k["reference_stale"]) == (66_000.0, 0.0)
    live.finish()


def test_btc_futures_reference_feed_errors(tmp_path):
    with pytest.raises(ValueError, match="replays prices_file"):
        BtcFutures(BtcFuturesParams(reference_feed="paced"))
    with pytest.raises(ValueError, match="price_feed is for"):
        BtcFutures(BtcFuturesParams(), price_feed=FileFeed(PATH))
