"""Console frames of a recorded run (:mod:`defisim.server.console_frame` describes a
frame), read through :class:`~defisim.server.data.RunData` only: the chart's series
from ``book_top`` (mark, best bid and ask), the ``kpis`` table (``reference_price``)
and ``amm_pools`` (pool prices); the markers from ``events``; a step's snapshot from
the rows of that step (or the latest before it).

What a run folder does not hold is left out: the book's depth beyond the top (one
level a side, with its volume), LP token balances (``lp`` is the net liquidity each
party minted, from ``amm_liquidity``), compute deals and external agents' metrics.
"""

from __future__ import annotations

import json
from typing import Any

from .console_frame import MARKER_EVENTS, NS_PER_SECOND, num
from .data import RunData, Where

__all__ = ["recorded_frame", "recorded_history"]

PAGE = 1000
"""Rows read per ``RunData.rows`` call."""


def _all(data: RunData, table: str, where: Where) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = data.rows(table, where, len(out), PAGE)
        out.extend(page)
        if len(page) < PAGE:
            return out


def _last(data: RunData, table: str, where: Where, n: int) -> list[dict[str, Any]]:
    count = data.count(table, where)
    return data.rows(table, where, max(count - n, 0), n)


def recorded_history(data: RunData) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """The run's chart points ``[step, time_s, {series: value}]`` (one per recorded
    step, in step order) and its timeline markers (module docstring)."""
    by_step: dict[int, list[Any]] = {}

    def point(step: int, time_s: float) -> dict[str, Any]:
        p = by_step.get(step)
        if p is None:
            p = by_step[step] = [step, time_s, {}]
        return p[2]

    for r in _all(data, "book_top", Where()):
        values = point(r["step"], r["time_ns"] / NS_PER_SECOND)
        m = r["market"]
        values[f"{m}:mark"] = num(r["mark_price"])
        values[f"{m}:bid"] = num(r["best_bid"])
        values[f"{m}:ask"] = num(r["best_ask"])
    for r in _all(data, "kpis", Where(equal={"name": "reference_price", "market": None})):
        point(r["step"], r["time_s"])["reference"] = num(r["value"])
    for r in _all(data, "amm_pools", Where()):
        point(r["step"], r["time_ns"] / NS_PER_SECOND)[f"{r['pool']}:price"] = num(r["price"])
    points = [by_step[s] for s in sorted(by_step)]
    markers = []
    for kind in MARKER_EVENTS:
        for r in _all(data, "events", Where(equal={"type": kind})):
            payload = json.loads(r["payload"] or "{}")
            label = {"closeout": f"closeout {r['party'] or payload.get('party', '')}",
                     "state": str(payload.get("state", "")),
                     }.get(MARKER_EVENTS[kind],
                           f"{payload.get('auction', '')} {MARKER_EVENTS[kind]}".strip())
            markers.append({"step": r["step"], "time_s": r["time_ns"] / NS_PER_SECOND,
                            "kind": MARKER_EVENTS[kind], "market": r["market"] or "",
                            "label": label, "seq": r["seq"]})
    markers.sort(key=lambda m: m.pop("seq"))
    return points, markers


def _market(data: RunData, m: dict[str, Any], step: int, trades: int) -> dict[str, Any]:
    mid = m["id"]
    upto = Where(equal={"market": mid}, step_to=step, latest=True)
    top = data.rows("book_top", upto, 0, 1)
    t = top[0] if top else {}
    recent = [{"time_s": r["time_ns"] / NS_PER_SECOND, "price": r["price_f"],
               "size": r["size_f"], "buyer": r["buyer"], "seller": r["seller"],
               "aggressor": r["aggressor"]}
              for r in _last(data, "trades", Where(equal={"market": mid}, step_to=step), trades)]
    positions = [{"party": r["party"], "position": r["position"],
                  "entry": r["average_entry_price"], "realised_pnl": r["realised_pnl"],
                  "unrealised_pnl": r["unrealised_pnl"], "pnl": r["pnl"]}
                 for r in _all(data, "positions", upto) if r["position"]]
    positions.sort(key=lambda p: p["party"])
    n_trades = data.count("trades", Where(equal={"market": mid}, step_to=step))
    state = t.get("state")
    return {
        "id": mid, "asset": m["asset"], "state": state,
        "in_auction": state in ("PENDING", "SUSPENDED"),
        "mark": num(t.get("mark_price")), "last": recent[-1]["price"] if recent else None,
        "oracle": None, "best_bid": num(t.get("best_bid")), "best_ask": num(t.get("best_ask")),
        "open_interest": None, "volume": None, "trades": n_trades, "closeouts": None,
        "depth": {"bids": [[t["best_bid"], t["bid_volume"]]] if num(t.get("best_bid")) else [],
                  "asks": [[t["best_ask"], t["ask_volume"]]] if num(t.get("best_ask")) else []},
        "recent_trades": recent, "positions": positions,
    }


def _pool(data: RunData, p: dict[str, Any], step: int) -> dict[str, Any]:
    pid = p["id"]
    rows = data.rows("amm_pools", Where(equal={"pool": pid}, step_to=step, latest=True), 0, 1)
    r = rows[0] if rows else {}
    lp: dict[str, float] = {}
    for row in _all(data, "amm_liquidity", Where(equal={"pool": pid}, step_to=step)):
        sign = -1 if str(row["kind"]).lower() in ("burn", "remove") else 1
        lp[row["party"]] = lp.get(row["party"], 0.0) + sign * float(row["liquidity"] or 0)
    return {"id": pid, "kind": p["kind"], "assets": p["assets"], "price": num(r.get("price")),
            "reserves": [num(r.get("reserve0_f")), num(r.get("reserve1_f"))],
            "liquidity": num(r.get("liquidity")), "fee": p["fee"],
            "lp": {k: v for k, v in lp.items() if v}}


def recorded_frame(data: RunData, step: int | None = None, *, history: bool = True,
                   trades: int = 20, **_: Any) -> dict[str, Any]:
    """A frame of a recorded run at ``step`` (default: its last recorded step).

    Args:
        data: the run (:class:`~defisim.server.data.RunData`).
        step: the step shown (the rows of that step, or the latest before it).
        history: include the whole chart history and the markers.
        trades: recent trades shown per market.

    Raises:
        ValueError: ``step`` negative.
    """
    info = data.info()
    last = info.get("last_step")
    if step is not None and step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    at = last if step is None else (step if last is None else min(step, last))
    at = 0 if at is None else at
    kpi_rows = data.rows("kpis", Where(equal={"market": None}, step_to=at, latest=True), 0,
                         PAGE)
    time_s = kpi_rows[0]["time_s"] if kpi_rows else None
    points, markers = recorded_history(data) if history else ([], [])
    if time_s is None:
        time_s = next((p[1] for p in reversed(points) if p[0] <= at), 0.0)
    summary = info.get("summary") or {}
    return {
        "mode": "recorded", "scenario": info.get("scenario"), "seed": info.get("seed"),
        "step": at, "steps": last, "time_s": time_s,
        "finished": bool(info.get("complete")), "paused": False, "pace_s": None,
        "markets": [_market(data, m, at, trades) for m in data.markets()],
        "pools": [_pool(data, p, at) for p in data.pools()],
        "kpis": {r["name"]: num(r["value"]) for r in kpi_rows},
        "compute": None, "external": {},
        "history": {"from": 0, "points": points},
        "markers": markers,
        "error": summary.get("error"),
    }
