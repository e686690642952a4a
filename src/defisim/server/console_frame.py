"""The live console's frames: what ``defisim serve`` shows of a run, as one JSON-ready
dict (:func:`console_frame`), from a live simulation or a recorded run folder.

A frame (every number a float in human units, ``None`` where it has no value):

- ``mode`` (``"live"`` or ``"recorded"``), ``scenario``, ``seed``, ``step`` (steps
  done), ``steps`` (the run's length), ``time_s`` (simulated seconds), ``finished``;
  live only: ``paused``, ``pace_s``, ``error`` (what stopped the pacing thread, or
  ``None``);
- ``markets``: per futures market ``id, asset, state, in_auction, mark, last, oracle,
  best_bid, best_ask, open_interest, volume, trades, closeouts``, ``depth``
  (``{"bids": [[price, size], ...], "asks": ...}``, best first; a recorded run keeps
  only the top of book: one level a side), ``recent_trades`` (newest last: ``time_s,
  price, size, buyer, seller, aggressor``) and ``positions`` (per party: ``position,
  entry, realised_pnl, unrealised_pnl, pnl``);
- ``pools``: per AMM pool ``id, kind, assets, price`` (live: token0 in token1, the
  pool view's; recorded: base in quote, the ``amm_pools`` row's), ``reserves``,
  ``liquidity``, ``fee`` and ``lp`` (live: party -> LP tokens held for V2 and
  Balancer pools, ``"party [tick_lower, tick_upper)"`` -> liquidity for V3 positions;
  recorded: net liquidity minted);
- ``kpis``: the scenario's KPIs (a netlist's KPIs are its scenario KPIs) at the step;
- ``compute``: ``open_requests``, the latest live ``negotiations`` (topic, state,
  participants, offers so far, last offered price) and the latest ``deals`` with their
  topic's state and last offered price (``None`` without the compute marketplace);
- ``external``: metrics external agents posted (party -> {name: value}; live only);
- ``history``: ``{"from": index, "points": [[step, time_s, {series: value}], ...]}``,
  the chart's points from ``from`` on (``series``: ``<market>:mark``, ``:bid``,
  ``:ask``, ``reference``, ``<pool>:price``);
- ``markers``: timeline marks ``{step, time_s, kind, market, label}``: auctions
  (``AuctionStarted``/``AuctionEnded`` and market state changes) and closeouts
  (``PositionClosedOut``), settlement.

Sources: a live run is read ONLY through the :class:`~defisim.service.Simulation`'s
views (``sim.futures.market_view / market_depth / trades / positions /
position_details``, ``sim.amm.pool_view``, ``sim.compute`` topics and deals,
``sim.event_cursor()``) and the scenario's ``kpis``; the history and markers are
gathered step by step by a :class:`ConsoleHistory` hook. A run folder is read through
:class:`~defisim.server.data.RunData` (:mod:`defisim.server.console_recorded`).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MARKER_EVENTS", "ConsoleHistory", "console_frame", "live_frame", "num"]

MARKER_EVENTS: dict[str, str] = {
    "AuctionStarted": "auction",
    "AuctionEnded": "auction end",
    "MarketStateChanged": "state",
    "PositionClosedOut": "closeout",
    "MarketSettled": "settled",
}
"""Event type -> the marker kind the timeline shows for it."""

NS_PER_SECOND = 1_000_000_000


def num(x: Any) -> float | None:
    """``x`` as a JSON-safe float: ``None`` for None, NaN, infinities and non-numbers."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _marker(ev: Any, step: int) -> dict[str, Any]:
    kind = MARKER_EVENTS[type(ev).__name__]
    market = getattr(ev, "market", "")
    if kind == "closeout":
        label = f"closeout {ev.party}"
    elif kind == "state":
        label = f"{ev.state}"
    elif kind in ("auction", "auction end"):
        label = f"{getattr(ev, 'auction', '')} {kind}".strip()
    else:
        label = kind
    return {"step": step, "time_s": ev.time_ns / NS_PER_SECOND, "kind": kind,
            "market": market, "label": label}


def chart_values(sim: Any, kpis: dict[str, Any] | None) -> dict[str, float | None]:
    """The chart's series now (``<market>:mark/bid/ask``, ``reference``,
    ``<pool>:price``), read through the simulation's views."""
    out: dict[str, float | None] = {}
    if "futures" in sim.protocols:
        for m in sim.futures.markets:
            v = sim.futures.market_view(m)
            out[f"{m}:mark"] = num(v.mark_price)
            out[f"{m}:bid"] = num(v.best_bid)
            out[f"{m}:ask"] = num(v.best_ask)
    if kpis and "reference_price" in kpis:
        out["reference"] = num(kpis["reference_price"])
    if "amm" in sim.protocols:
        for p in sim.amm.pools():
            out[f"{p}:price"] = num(sim.amm.pool_view(p).price)
    return out


class ConsoleHistory:
    """A run's step hook (``run.hooks``) that keeps the console's chart points and
    timeline markers of a live run, and the latest scenario KPIs.

    Called under the host's lock after every step (the runner's ``_record``); reads
    the simulation's views and its own event cursor. At most ``max_points`` points
    and ``max_markers`` markers are kept (the oldest go first; ``base`` counts them).

    Args:
        sim: the run's simulation (its event cursor is opened at the oldest event).
        max_points, max_markers: how many to keep.

    Attributes:
        points: ``[step, time_s, {series: value}]`` rows; ``base`` the index of the first.
        markers: marker dicts (module docstring); kpis: the last step's KPIs.
    """

    def __init__(self, sim: Any, max_points: int = 20_000, max_markers: int = 2_000) -> None:
        if max_points < 1 or max_markers < 1:
            raise ValueError("max_points and max_markers must be >= 1")
        self.sim = sim
        self.max_points, self.max_markers = max_points, max_markers
        self.points: list[list[Any]] = []
        self.base = 0
        self.markers: list[dict[str, Any]] = []
        self.kpis: dict[str, float | None] = {}
        self._cursor = sim.event_cursor(from_oldest=True)

    def __call__(self, run: Any, step: int, kpis: dict[str, Any] | None) -> None:
        sim = self.sim
        self.kpis = {str(k): num(v) for k, v in (kpis or {}).items()}
        self.points.append([step, sim.now_ns / NS_PER_SECOND, chart_values(sim, kpis)])
        if len(self.points) > self.max_points:
            drop = len(self.points) - self.max_points // 2
            del self.points[:drop]
            self.base += drop
        for ev in self._cursor.read():
            if type(ev).__name__ in MARKER_EVENTS:
                self.markers.append(_marker(ev, step))
        if len(self.markers) > self.max_markers:
            del self.markers[: len(self.markers) - self.max_markers]

    @property
    def end(self) -> int:
        """The index after the last point (a client's next ``since``)."""
        return self.base + len(self.points)

    def since(self, index: int) -> dict[str, Any]:
        """``{"from", "points"}``: the points from ``index`` on (from the oldest kept
        when ``index`` is older)."""
        start = max(index, self.base)
        return {"from": start, "points": self.points[start - self.base:]}


# ------------------------------------------------------------------ live frames
def _market(sim: Any, m: str, depth: int, trades: int) -> dict[str, Any]:
    f = sim.futures
    v = f.market_view(m)
    book = f.market_depth(m, depth)
    recent = []
    for t in f.trades(m, last=trades):
        recent.append({"time_s": t.time_ns / NS_PER_SECOND,
                       "price": f.raw_to_price(m, t.price), "size": f.raw_to_size(m, t.size),
                       "buyer": t.buyer, "seller": t.seller, "aggressor": int(t.aggressor)})
    positions = []
    for party in sorted(f.positions(m)):
        d = f.position_details(party, m)
        positions.append({"party": party, "position": d["position"],
                          "entry": d["average_entry_price"], "realised_pnl": d["realised_pnl"],
                          "unrealised_pnl": d["unrealised_pnl"],
                          "pnl": d["realised_pnl"] + d["unrealised_pnl"]})
    return {
        "id": m, "asset": v.asset, "state": v.state, "in_auction": v.in_auction,
        "mark": num(v.mark_price), "last": num(v.last_traded_price),
        "oracle": num(v.oracle_price), "best_bid": num(v.best_bid),
        "best_ask": num(v.best_ask), "open_interest": v.open_interest, "volume": v.volume,
        "trades": v.trades, "closeouts": v.closeouts,
        "depth": {"bids": [list(x) for x in book["bids"]],
                  "asks": [list(x) for x in book["asks"]]},
        "recent_trades": recent, "positions": positions,
    }


def _pool(sim: Any, pid: str) -> dict[str, Any]:
    v = sim.amm.pool_view(pid)
    lp: dict[str, float] = {}
    if v.lp_supply_raw:  # V2 and Balancer pools mint LP tokens: their holders
        for party in sim.parties:
            held = sim.balance(party, v.lp_asset)
            if held:
                lp[party] = held
    elif v.kind == "V3":  # V3 positions are not tokens: each range's liquidity
        for pos in sim.amm.positions(pool_id=pid):
            lp[f"{pos.party} [{pos.tick_lower}, {pos.tick_upper})"] = float(pos.liquidity)
    return {"id": pid, "kind": v.kind, "assets": list(v.assets), "price": num(v.price),
            "reserves": [num(r) for r in v.reserves],
            "liquidity": num(v.liquidity if v.liquidity is not None else v.lp_supply),
            "fee": v.fee, "lp": lp}


def _compute(sim: Any, deals: int) -> dict[str, Any]:
    c = sim.compute
    out_deals = []
    for uid in c.deal_ids()[-deals:]:
        d = c.deal(uid)
        topic = c.topic_of_escrow(uid)
        state = c.topic(topic) if topic else None
        last = c.last_offer_terms(topic) if topic else None
        out_deals.append({"escrow": uid, "client": d.client, "provider": d.provider,
                          "state": d.state, "price": d.terms.price, "topic": topic,
                          "topic_state": None if state is None else state.state,
                          "offers": None if state is None else state.price_count,
                          "last_offer": None if last is None else last.price})
    negotiations = []  # the latest live topics: who, where they stand, the last price
    for tid in c.topic_ids(live_only=True)[-deals:]:
        tp = c.topic(tid)
        last = c.last_offer_terms(tid)
        negotiations.append({"topic": tid, "state": tp.state,
                             "participants": sorted(tp.participants), "offers": tp.price_count,
                             "last_offer": None if last is None else last.price})
    return {"scheme": c.scheme_name, "open_requests": list(c.open_requests())[:50],
            "negotiations": negotiations, "deals": out_deals}


def live_frame(sim: Any, *, run: Any = None, live: Any = None,
               history: ConsoleHistory | None = None, since: int | None = 0,
               depth: int = 10, trades: int = 20, deals: int = 20,
               metrics: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """A frame (module docstring) of a live simulation, read through its views.

    Args:
        sim: the :class:`~defisim.service.Simulation`.
        run: its :class:`~defisim.runner.Run` (step, length, scenario KPIs), if any.
        live: its :class:`~defisim.server.live.LiveRun` (pause, pace), if any.
        history: the run's :class:`ConsoleHistory` (chart points, markers, KPIs).
        since: the first history point to include (``None``: none).
        depth, trades, deals: book levels a side, recent trades, compute deals shown.
        metrics: external agents' metrics (party -> {name: value}).

    Take the host's lock around the call: the simulation must not move meanwhile.
    """
    if live is not None and run is None:
        run = live.run
    protocols = sim.protocols
    kpis: dict[str, Any]
    if history is not None and (history.points or run is None):
        kpis = history.kpis
    elif run is not None:
        kpis = {str(k): num(v) for k, v in run.scenario.kpis(sim).items()}
    else:
        kpis = {}
    frame: dict[str, Any] = {
        "mode": "live",
        "scenario": None if run is None else run.scenario.name,
        "seed": None if run is None else run.seed,
        "step": None if run is None else run.step,
        "steps": None if run is None else run.steps,
        "time_s": sim.now,
        "finished": bool(run is not None and run.finished),
        "paused": bool(live is not None and live.paused),
        "pace_s": None if live is None else live.pace_s,
        "error": (None if live is None or live.error is None
                  else f"{type(live.error).__name__}: {live.error}"),
        "markets": ([_market(sim, m, depth, trades) for m in sim.futures.markets]
                    if "futures" in protocols else []),
        "pools": [_pool(sim, p) for p in sim.amm.pools()] if "amm" in protocols else [],
        "kpis": kpis,
        "compute": _compute(sim, deals) if "compute" in protocols else None,
        "external": {str(p): {str(k): num(v) for k, v in dict(m).items()}
                     for p, m in (metrics or {}).items()},
        "history": ({"from": 0, "points": []} if history is None or since is None
                    else history.since(since)),
        "markers": [] if history is None else list(history.markers),
    }
    return frame


def console_frame(source: Any, **options: Any) -> dict[str, Any]:
    """A console frame (module docstring) of ``source``: a
    :class:`~defisim.server.live.LiveRun`, a :class:`~defisim.runner.Run`, a
    :class:`~defisim.service.Simulation` (:func:`live_frame`), or a
    :class:`~defisim.server.data.RunData` (a recorded run;
    :func:`~defisim.server.console_recorded.recorded_frame`, ``step`` picks the step).

    Raises:
        TypeError: a source of none of those kinds.
    """
    from .data import RunData

    if isinstance(source, RunData):
        from .console_recorded import recorded_frame

        return recorded_frame(source, **options)
    if hasattr(source, "host") and hasattr(source, "run"):  # a LiveRun
        return live_frame(source.run.sim, live=source, **options)
    if hasattr(source, "scenario") and hasattr(source, "sim"):  # a Run
        return live_frame(source.sim, run=source, **options)
    if hasattr(source, "futures") or hasattr(source, "protocols"):
        return live_frame(source, **options)
    raise TypeError(f"console_frame needs a LiveRun, Run, Simulation or RunData, "
                    f"got {type(source).__name__}")
