"""Applying a fuzz transaction (a plain dict, see :mod:`defisim.agents.fuzzers`) to a
:class:`~defisim.Simulation` through its public API: :func:`execute`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from defisim.service import Simulation

TX_KINDS = (
    "order", "order_human", "amend", "cancel", "cancel_all", "lp_submit", "lp_amend",
    "lp_cancel", "oracle", "transfer", "burn", "mint", "governance", "close", "terminate",
    "settle",
)
"""The transaction kinds :func:`execute` applies (fields: :mod:`defisim.agents.fuzzers`)."""


def _last_rejection(sim: Simulation) -> str:
    recent = sim.recent_events(1)
    if recent and type(recent[-1]).__name__ == "TransactionRejected":
        return str(recent[-1].reason)
    return "REJECTED"


def _order_outcome(r) -> tuple[bool, str, int]:
    if not r.accepted:
        return False, str(r.reason), 0
    status = str(r.status)
    return True, f"{status}:{r.reason}" if r.reason else status, int(r.order_id or 0)


def _expiry_s(sim: Simulation, rel: Any) -> float | None:
    return None if rel is None else sim.now + rel


def resolve_order(tx: dict, order_of_tx: dict[int, int]) -> int:
    """The order id a transaction targets: its ``ref`` resolved, else its ``order_id``."""
    ref = tx.get("ref")
    if ref is not None:
        return order_of_tx.get(ref, 0)
    return tx.get("order_id", 0)


def execute(sim: Simulation, tx: dict, order_of_tx: dict[int, int]) -> tuple[bool, str, int]:
    """Apply ``tx`` to ``sim``: ``(accepted, outcome, id of the order it created or 0)``.

    Raises whatever the called API raises (:meth:`TxLog.run` classifies it).
    """
    k = tx["kind"]
    g = tx.get
    if k == "order":
        rel = g("expires_in_ns")
        r = sim.futures.submit_order_raw(
            g("party"), g("market"), g("side"), g("size"), g("price", 0), g("type", "LIMIT"),
            g("tif", "GTC"), 0 if rel is None else sim.now_ns + rel, g("post_only", False),
            g("reduce_only", False), g("peg_reference", ""), g("peg_offset", 0))
        return _order_outcome(r)
    if k == "order_human":
        r = sim.futures.submit_order(
            g("party"), g("market"), g("side"), g("size"), g("price"), g("type"), g("tif"),
            _expiry_s(sim, g("expires_in_s")), g("post_only", False), g("reduce_only", False),
            g("peg_reference"), g("peg_offset", 0.0))
        return _order_outcome(r)
    if k == "amend":
        r = sim.futures.amend_order(
            g("party"), g("market"), resolve_order(tx, order_of_tx), price=g("price"),
            size=g("size"), expires_at=_expiry_s(sim, g("expires_in_s")),
            time_in_force=g("tif"), peg_offset=g("peg_offset"), peg_reference=g("peg_reference"))
        ok, outcome, _ = _order_outcome(r)
        return ok, outcome, 0
    if k == "cancel":
        r = sim.futures.cancel_order(g("party"), g("market"), resolve_order(tx, order_of_tx))
        ok, outcome, _ = _order_outcome(r)
        return ok, outcome, 0
    if k == "cancel_all":
        n = sim.futures.cancel_all(g("party"), g("market"))
        if n == 0 and g("market") is not None and g("market") not in sim.futures.markets:
            return False, _last_rejection(sim), 0
        return True, "CANCELLED" if n else "NOTHING", 0
    if k in ("lp_submit", "lp_amend", "lp_cancel"):
        if k == "lp_submit":
            res = sim.futures.submit_liquidity(g("party"), g("market"), g("commitment"), g("fee"))
        elif k == "lp_amend":
            res = sim.futures.amend_liquidity(g("party"), g("market"), g("commitment"), g("fee"))
        else:
            res = sim.futures.cancel_liquidity(g("party"), g("market"))
        return (True, "OK", 0) if res.accepted else (False, str(res.reason), 0)
    if k in ("oracle", "transfer", "burn"):
        if k == "oracle":
            ok = sim.futures.submit_oracle_price(g("market"), g("price"))
        elif k == "transfer":
            ok = sim.transfer(g("source"), g("destination"), g("asset"), g("amount"))
        else:
            ok = sim.burn(g("party"), g("asset"), g("amount"))
        return (True, "OK", 0) if ok else (False, _last_rejection(sim), 0)
    if k == "mint":
        sim.mint(g("party"), g("asset"), g("amount"))
        return True, "OK", 0
    if k == "governance":
        pid = sim.futures.propose_market_update(g("market"), g("changes"), sim.now + g("enact_in_s"))
        return (True, "PROPOSED", 0) if pid else (False, _last_rejection(sim), 0)
    if k == "close":
        pid = sim.futures.propose_market_close(g("market"), g("price"), sim.now + g("enact_in_s"))
        return (True, "PROPOSED", 0) if pid else (False, _last_rejection(sim), 0)
    if k == "terminate":
        sim.futures.terminate_market(g("market"))
        return True, "OK", 0
    if k == "settle":
        sim.futures.settle_market(g("market"), g("price"))
        return True, "OK", 0
    raise ValueError(f"unknown transaction kind {k!r}")
