"""Price feeds: where a scenario's reference price comes from, step by step.

A :class:`PriceFeed` answers two questions:

- ``price_at(sim_time_s) -> float | None``: the reference price in force at a
  simulation time (seconds since the run's start). A **simulation-clocked** feed
  (:class:`FileFeed`, ``wall_clocked = False``) reads its path at that time: the
  same run gives the same prices, bit for bit. A **wall-clocked** feed
  (:class:`PacedReplayFeed`, :class:`ExchangeFeed`, ``wall_clocked = True``) ignores
  the simulation time and answers the latest price it has, or ``None`` when it has
  none yet or the latest one is stale (older than ``stale_after_s``): a stale price
  is reported, never silently reused as fresh.
- ``latest() -> (wall_time_s, price) | None``: the latest price a wall-clocked feed
  has seen and when (the feed's clock, seconds); ``None`` before the first price and
  always for a simulation-clocked feed (it has no wall time).

A reference-price agent calls ``price_at(sim.now)`` at each step, whatever the feed
(:class:`defisim.agents.LiveReferencePriceFeed`). What went wrong on the way (a
failed request, a price going stale, a recovery) is a :class:`FeedEvent` in the
feed's :attr:`~ExchangeFeed.events` and a log line on the ``defisim.prices.feeds``
logger; a feed never raises out of ``price_at``.

Wall-clocked feeds make a run that is not deterministic (what it sees depends on
when each step runs); they are meant for a live run paced in wall time
(:class:`defisim.server.live.LiveRun` with ``pace_s``).

This module imports nothing else of defisim; ccxt (the ``paper`` extra) is imported
only when an :class:`ExchangeFeed` is made.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .path import PricePath

__all__ = ["ExchangeFeed", "FeedEvent", "FileFeed", "PacedReplayFeed", "PriceFeed"]

log = logging.getLogger("defisim.prices.feeds")

Clock = Callable[[], float]
"""A clock: seconds (any origin), non-decreasing (``time.monotonic`` by default)."""


@runtime_checkable
class PriceFeed(Protocol):
    """A source of reference prices (module docstring).

    Attributes:
        wall_clocked: ``False``: ``price_at`` reads the simulation time
            (deterministic); ``True``: it answers the latest live price.
    """

    wall_clocked: bool

    def price_at(self, sim_time_s: float) -> float | None:
        """The price in force at simulation time ``sim_time_s`` (seconds), or ``None``
        (no price yet, or a stale one)."""
        ...

    def latest(self) -> tuple[float, float] | None:
        """``(wall_time_s, price)`` of the latest price, or ``None``."""
        ...

    def close(self) -> None:
        """Stop whatever the feed runs (a polling thread); idempotent."""
        ...


@dataclass(frozen=True)
class FeedEvent:
    """Something a feed reports: ``kind`` is ``"error"`` (a request failed; the
    message names why), ``"stale"`` (the latest price became older than the limit)
    or ``"recovered"`` (a fresh price after an error or staleness); ``time_s`` on the
    feed's clock."""

    time_s: float
    kind: str
    message: str


def _price_on_path(times: np.ndarray, prices: np.ndarray, t_s: float) -> tuple[int, float]:
    """Index and price of the last path point at or before ``t_s`` (clamped)."""
    i = int(np.searchsorted(times, t_s + 1e-9, side="right")) - 1
    i = min(max(i, 0), len(times) - 1)
    return i, float(prices[i])


class FileFeed:
    """A price path read at simulation time: the last point at or before ``t``
    (the first before the path starts, the last after it ends), as the scenarios'
    file reference has always done. Deterministic.

    Args:
        path: the :class:`~defisim.prices.PricePath` (e.g. from
            :func:`~defisim.prices.load_price_csv`).
    """

    wall_clocked = False

    def __init__(self, path: PricePath) -> None:
        self.path = path
        self._times = np.asarray(path.times_s, dtype=np.float64)
        self._prices = np.asarray(path.prices, dtype=np.float64)

    def price_at(self, sim_time_s: float) -> float | None:
        return _price_on_path(self._times, self._prices, float(sim_time_s))[1]

    def latest(self) -> tuple[float, float] | None:
        return None  # no wall time: read it with price_at

    def close(self) -> None:
        pass


class PacedReplayFeed:
    """A price path replayed in wall time, ``speed`` path seconds per wall second.

    The replay starts at :meth:`start` (or the first read); ``w`` seconds later on
    ``clock`` it shows the last path point at or before ``w * speed`` path seconds,
    and the last point once past the end (:attr:`finished`). Wall-clocked: a live run
    stepped at ``step_seconds / speed`` wall seconds follows the file step for step.

    Args:
        path: the path replayed.
        speed: path seconds per wall second (> 0; 60 replays an hour a minute).
        clock: the wall clock (injectable for tests; ``time.monotonic`` by default).

    Raises:
        ValueError: ``speed`` not finite and > 0.
    """

    wall_clocked = True

    def __init__(self, path: PricePath, speed: float = 1.0, clock: Clock = time.monotonic) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be finite and > 0, got {speed!r}")
        self.path = path
        self.speed = float(speed)
        self.clock = clock
        self._times = np.asarray(path.times_s, dtype=np.float64)
        self._prices = np.asarray(path.prices, dtype=np.float64)
        self.started_at: float | None = None

    def start(self) -> PacedReplayFeed:
        """Start the replay now (idempotent)."""
        if self.started_at is None:
            self.started_at = float(self.clock())
        return self

    def path_time(self) -> float:
        """Path seconds replayed so far (starts the replay if needed)."""
        self.start()
        return max(0.0, (float(self.clock()) - self.started_at) * self.speed)

    @property
    def finished(self) -> bool:
        """Whether the replay has passed the path's last point."""
        return self.started_at is not None and self.path_time() >= float(self._times[-1])

    def latest(self) -> tuple[float, float] | None:
        """``(wall time the point was replayed, its price)``."""
        i, price = _price_on_path(self._times, self._prices, self.path_time())
        return self.started_at + float(self._times[i]) / self.speed, price

    def price_at(self, sim_time_s: float) -> float | None:
        """The replayed price now (``sim_time_s`` is not read)."""
        return self.latest()[1]

    def close(self) -> None:
        pass


def _ccxt() -> Any:
    try:
        import ccxt
    except ImportError as exc:
        # the extras' message (defisim.extras is a foundation too, but prices imports
        # nothing of defisim; the text is the same)
        raise ImportError(f"ExchangeFeed needs the 'paper' extra (ccxt is not installed: "
                          f"{exc}): pip install 'defisim[paper]'") from exc
    return ccxt


class ExchangeFeed:
    """The last traded price of ``symbol`` on a live exchange, polled with ccxt.

    A background thread (:meth:`start`) calls ``fetch_ticker(symbol)`` every
    ``poll_s`` seconds and keeps the ticker's ``last`` price (``close`` when there is
    no ``last``) with the time it was received. :meth:`poll` does one request
    (tests, or a caller that drives the polling itself).

    A failed request (a network error, an HTTP error, a timeout, a ticker without a
    price) is a :class:`FeedEvent` of kind ``"error"`` and a warning log line; the
    previous price stays, with its own time. A price older than ``stale_after_s``
    is stale: :meth:`price_at` answers ``None`` and one ``"stale"`` event is
    reported when it becomes so; the next fresh price reports ``"recovered"``.

    Args:
        exchange: a ccxt exchange id (``"binance"``, ``"kraken"``, ...) or a ccxt
            exchange object (tests point one at a local fake server through its
            ``urls["api"]``).
        symbol: the unified market symbol, e.g. ``"BTC/USDT"``.
        poll_s: seconds between requests (> 0).
        stale_after_s: age in seconds beyond which the latest price is stale (> 0).
        timeout_s: the request timeout (seconds; ccxt's ``timeout`` in ms).
        clock: the clock ages are measured on (``time.monotonic``).
        options: more ccxt constructor options (``{"enableRateLimit": True}`` is the
            default; ccxt then spaces requests by the exchange's rate limit).

    Attributes:
        events: every :class:`FeedEvent` so far (the newest last, at most 1,000).
        requests, failures: counts of requests and failed ones.

    Raises:
        ImportError: ccxt is not installed (names the ``paper`` extra).
        ValueError: an unknown exchange id, bad ``poll_s`` / ``stale_after_s`` /
            ``timeout_s``.
    """

    wall_clocked = True
    max_events = 1000

    def __init__(self, exchange: str | Any = "binance", symbol: str = "BTC/USDT", *,
                 poll_s: float = 2.0, stale_after_s: float = 30.0, timeout_s: float = 10.0,
                 clock: Clock = time.monotonic, options: dict[str, Any] | None = None) -> None:
        for name, v in (("poll_s", poll_s), ("stale_after_s", stale_after_s),
                        ("timeout_s", timeout_s)):
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if isinstance(exchange, str):
            ccxt = _ccxt()
            cls = getattr(ccxt, exchange, None) if exchange in ccxt.exchanges else None
            if cls is None:
                raise ValueError(f"unknown exchange {exchange!r} (ccxt ids such as "
                                 f"'binance', 'kraken', 'coinbase')")
            exchange = cls({"enableRateLimit": True, **(options or {})})
        self.exchange = exchange
        self.exchange.timeout = int(timeout_s * 1000)
        self.symbol = symbol
        self.poll_s = float(poll_s)
        self.stale_after_s = float(stale_after_s)
        self.clock = clock
        self.events: list[FeedEvent] = []
        self.requests = 0
        self.failures = 0
        self._latest: tuple[float, float] | None = None
        self._stale_reported = False
        self._failing = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ polling
    def _report(self, kind: str, message: str) -> None:
        ev = FeedEvent(float(self.clock()), kind, message)
        with self._lock:
            self.events.append(ev)
            del self.events[: -self.max_events]
        (log.warning if kind in ("error", "stale") else log.info)(
            "%s %s: %s: %s", getattr(self.exchange, "id", "exchange"), self.symbol, kind, message)

    def poll(self) -> float | None:
        """One ``fetch_ticker`` request: the price received, or ``None`` (the failure
        is an ``"error"`` event). Never raises for what the exchange does."""
        self.requests += 1
        try:
            ticker = self.exchange.fetch_ticker(self.symbol)
            price = ticker.get("last") if ticker.get("last") is not None else ticker.get("close")
            price = float(price) if price is not None else math.nan
            if not (math.isfinite(price) and price > 0):
                raise ValueError(f"the ticker has no positive price (last={ticker.get('last')!r})")
        except Exception as exc:  # ccxt.NetworkError, ExchangeError, a malformed answer
            self.failures += 1
            self._failing = True
            self._report("error", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            return None
        recovering = self._failing or self._stale_reported
        with self._lock:
            self._latest = (float(self.clock()), price)
            self._stale_reported = False
            self._failing = False
        if recovering:
            self._report("recovered", f"price {price:g}")
        return price

    def start(self) -> ExchangeFeed:
        """Poll in a daemon thread every ``poll_s`` seconds (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"defisim-feed-{self.symbol}",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.poll_s)

    def wait_first(self, timeout_s: float) -> float | None:
        """Wait (polling if no thread runs) up to ``timeout_s`` wall seconds for a first
        price; the price, or ``None``."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._latest is not None:
                return self._latest[1]
            if self._thread is None:
                self.poll()
                if self._latest is not None:
                    return self._latest[1]
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.05 if self._thread else self.poll_s,
                           max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        """Stop the polling thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_s + self.stale_after_s)

    # ------------------------------------------------------------ readings
    def latest(self) -> tuple[float, float] | None:
        with self._lock:
            return self._latest

    def age_s(self) -> float | None:
        """Seconds since the latest price was received (``None`` before the first)."""
        latest = self.latest()
        return None if latest is None else float(self.clock()) - latest[0]

    @property
    def stale(self) -> bool:
        """Whether there is no price or the latest is older than ``stale_after_s``."""
        age = self.age_s()
        return age is None or age > self.stale_after_s

    def price_at(self, sim_time_s: float) -> float | None:
        """The latest price, or ``None`` when there is none or it is stale (the first
        time it is, a ``"stale"`` event). ``sim_time_s`` is not read."""
        latest = self.latest()
        if latest is None:
            return None
        age = float(self.clock()) - latest[0]
        if age > self.stale_after_s:
            if not self._stale_reported:
                self._stale_reported = True
                self._report("stale", f"the latest price {latest[1]:g} is {age:.1f} s old "
                                      f"(limit {self.stale_after_s:g} s)")
            return None
        return latest[1]

    def __enter__(self) -> ExchangeFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
