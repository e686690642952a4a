"""Speed of the remote Simulation API (issue 15): calls per second and latency
percentiles on a live ``btc_futures`` run, half views (``futures.market_view``) and
half transactions (``futures.submit_order``, immediate-or-cancel limit orders around
the mark, so no party's book grows), four ways:

- **in process**: the agent calls the :class:`~defisim.service.Simulation` itself;
- **loopback**: through :class:`~defisim.service.loopback.JsonLoopbackSimulation`
  (every call and result encoded to JSON and back, no transport);
- **http x1**: one :class:`~defisim.service.remote.RemoteSimulation` over a localhost
  socket, the server (:class:`~defisim.server.live.LiveRun`, its runner stepping every
  ``--pace`` s) in another process;
- **http xN**: ``--clients`` concurrent clients (threads of this process, each its own
  party and connection) against that server.

Each row prints the calls, calls per wall second, the client process's CPU seconds
and, for HTTP, the server process's, and latency p50 / p95 / p99 / max in ms, over
``--seconds`` of calls per client.

Usage::

    PYTHONPATH=src python benchmarks/bench_remote.py [--seconds 3] [--clients 50]
        [--pace 0.05]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import threading
import time
from collections.abc import Callable

import numpy as np

STEPS = 1_000_000


def scenario():
    from defisim.scenarios import get_scenario
    cls = get_scenario("btc_futures")
    return cls(cls.Params(steps=STEPS))


def order_loop(sim, party: str, market: str, seconds: float, seed: int,
               barrier: threading.Barrier | None = None) -> list[float]:
    """Alternate a market view and an IOC order of 0.01 for ``seconds``; the latency of
    each call (s)."""
    rng = np.random.default_rng(seed)
    mid = sim.futures.market_view(market).mark_price or 30_000.0
    if barrier is not None:
        barrier.wait()
    out = []
    end = time.perf_counter() + seconds
    while (t0 := time.perf_counter()) < end:
        if len(out) % 2 == 0:
            mid = sim.futures.market_view(market).mark_price or mid
        else:
            side = "buy" if rng.random() < 0.5 else "sell"
            sim.futures.submit_order(party, market, side, 0.01,
                                     round(mid * (1 + rng.normal(0, 2e-3)), 2),
                                     time_in_force="IOC")
        out.append(time.perf_counter() - t0)
    return out


def row(label: str, lat: list[float], wall: float, cpu: float, server_cpu: float | None) -> None:
    ms = np.percentile(np.asarray(lat), [50, 95, 99, 100]) * 1e3
    srv = f"{server_cpu:6.2f}" if server_cpu is not None else "     -"
    print(f"{label:12s} {len(lat):8,d} {len(lat) / wall:10,.0f} {cpu:7.2f} {srv}   "
          f"{ms[0]:7.3f} {ms[1]:7.3f} {ms[2]:7.3f} {ms[3]:8.2f}")


def in_process(view: Callable, seconds: float) -> tuple[list[float], float, float]:
    from defisim.server.live import LiveRun
    live = LiveRun(scenario(), seed=1)
    live.host.register_party("bench", {"USDT": 1e9})
    sim = view(live.run.sim)
    market = sim.futures.markets[0]
    w0, c0 = time.perf_counter(), time.process_time()
    lat = order_loop(sim, "bench", market, seconds, 0)
    return lat, time.perf_counter() - w0, time.process_time() - c0


def serve(conn, n_parties: int, pace: float) -> None:
    """The server process: a live run, its parties' tokens sent up the pipe; on
    ``"stop"`` its CPU seconds are sent back."""
    from defisim.server.live import LiveRun
    live = LiveRun(scenario(), seed=1, pace_s=pace)
    tokens = [live.host.register_party(f"p{i}", {"USDT": 1e9}) for i in range(n_parties)]
    with live, live.serve() as server:
        c0 = time.process_time()
        conn.send((server.url, tokens, live.run.sim.futures.markets[0]))
        conn.recv()
        conn.send((time.process_time() - c0, live.run.step))


def over_http(url: str, tokens: list[str], market: str, n: int, seconds: float):
    from defisim.service.remote import RemoteSimulation
    clients = [RemoteSimulation(url, token=t) for t in tokens[:n]]
    barrier = threading.Barrier(n + 1)
    lats: list[list[float]] = [[] for _ in range(n)]

    def work(i: int) -> None:
        lats[i] = order_loop(clients[i], f"p{i}", market, seconds, i, barrier)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    w0, c0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    for c in clients:
        c.close()
    return [x for xs in lats for x in xs], wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pace", type=float, default=0.05, help="server step every PACE s")
    a = ap.parse_args()
    from defisim.service.loopback import JsonLoopbackSimulation

    print(f"{'':12s} {'calls':>8s} {'calls/s':>10s} {'CPU s':>7s} {'srv s':>6s}   "
          f"{'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'max ms':>8s}")
    row("in process", *in_process(lambda s: s, a.seconds), None)
    row("loopback", *in_process(JsonLoopbackSimulation, a.seconds), None)
    ctx = mp.get_context("spawn")
    for n in (1, a.clients):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=serve, args=(child, n, a.pace), daemon=True)
        proc.start()
        url, tokens, market = parent.recv()
        lat, wall, cpu = over_http(url, tokens, market, n, a.seconds)
        parent.send("stop")
        server_cpu, steps = parent.recv()
        proc.join(timeout=30)
        row(f"http x{n}", lat, wall, cpu, server_cpu)
    print(f"(the server's runner stepped every {a.pace} s; CPU s: this process / the server)")


if __name__ == "__main__":
    main()
