"""Fuzz agents: random valid and invalid transactions of every kind, as plain data.

A *transaction* here is a plain dict of JSON values (``{"kind": "order", "party":
"fz_maker_0", "market": "FUT", "side": 1, ...}``) that :func:`execute` applies to a
:class:`~defisim.Simulation` through its public API. Agents generate transactions,
a :class:`TxLog` numbers them (``"id"``), executes them, records their outcome and
keeps them in order together with *block markers* (``{"kind": "block", "t_ns": T}``:
close the open block, open the next one at ``T``), so that a run can be replayed
exactly (:mod:`defisim.scenarios.fuzzing` replays, shrinks and saves failing sequences).

Transaction kinds (:data:`TX_KINDS`) and their fields (raw integers are ticks,
10^-PDP contracts and base units; human floats are prices, contracts and asset units):

- ``order``: ``submit_order_raw``: ``party, market, side, size, price, type, tif,
  expires_in_ns`` (relative to the block time; ``None``: no expiry), ``post_only,
  reduce_only, peg_reference, peg_offset``.
- ``order_human``: ``submit_order`` with human floats (NaN, infinities, too many
  decimals, odd side strings): ``party, market, side, size, price, type, tif,
  expires_in_s, post_only, reduce_only, peg_reference, peg_offset``.
- ``amend``: ``amend_order``: ``party, market, order_id`` or ``ref`` (the id of the
  transaction that created the order; resolved at execution, so shrinking that
  drops earlier orders does not retarget it), optional ``price, size, expires_in_s,
  tif, peg_offset, peg_reference`` (human units).
- ``cancel`` (``order_id``/``ref``), ``cancel_all`` (``market`` may be ``None``).
- ``lp_submit`` (``commitment`` asset units, ``fee`` fraction), ``lp_amend``
  (``commitment``/``fee``, each optional), ``lp_cancel``.
- ``oracle`` (``market, price``), ``transfer`` (``source, destination, asset,
  amount``), ``burn``, ``mint`` (``party, asset, amount``; the faucet).
- ``governance`` (``market, changes, enact_in_s``): a market parameter change
  (``Simulation.propose_market_update``), enacted at the first block at or after it;
  ``close`` (``market, price, enact_in_s``): governance closes a market
  (``propose_market_close``; valid ones only for the markets of
  ``FuzzContext.closable``, once ``FuzzContext.close_after_s`` has passed).
- ``terminate``, ``settle`` (``market``, ``price``): lifecycle calls (the fuzz
  scenario's finish settles every market).

Outcomes (:meth:`TxLog.run`): ``accepted`` (with the order status, e.g.
``FILLED`` or ``STOPPED:NO_LIQUIDITY``), ``rejected`` (with the reason code, or
``raised ValueError`` for a documented exception of a setup or lifecycle call), or
``crashed``: an undocumented exception. The service promises rejections, never
exceptions, for bad transactions (DESIGN.md, "The null chain"), so the log reports a
crash to its :class:`~defisim.agents.fuzzers.log.CrashSink` (the fuzz scenario's
:class:`~defisim.agents.fuzzers.log.CrashMonitor`, registered with
``Simulation.add_invariant_check``, turns it into an invariant violation at the block
end).

Randomness: generators draw only through a :class:`Draw` (``integer(lo, hi)``), backed
by the agent's seeded generator (:class:`RngDraw`) or by Hypothesis (the stateful
test draws the same transaction space from ``st.data()``).

Modules: :mod:`.draws` (where choices come from), :mod:`.context` (markets, parties,
funding), :mod:`.execution` (a transaction applied to the simulation), :mod:`.log`
(numbering, outcomes, block markers), :mod:`.generator` (random transactions per
profile), :mod:`.fuzz_agent` and :mod:`.block_marker` (the agents),
:mod:`.counters` (run-wide event counters).
"""

from .block_marker import BlockMarker
from .context import FuzzContext, MarketInfo
from .counters import FuzzCounters
from .draws import Draw, RngDraw, chance, pick, weighted
from .execution import TX_KINDS, execute, resolve_order
from .fuzz_agent import FuzzAgent
from .generator import BAD_MARKETS, BAD_PARTIES, PROFILE_KINDS, PROFILES, TxGenerator
from .log import BLOCK, EXPECTED_ERRORS, RECENT_ORDERS, CrashMonitor, CrashSink, TxLog

__all__ = [
    "BAD_MARKETS",
    "BAD_PARTIES",
    "BLOCK",
    "EXPECTED_ERRORS",
    "PROFILES",
    "PROFILE_KINDS",
    "RECENT_ORDERS",
    "TX_KINDS",
    "BlockMarker",
    "CrashMonitor",
    "CrashSink",
    "Draw",
    "FuzzAgent",
    "FuzzContext",
    "FuzzCounters",
    "MarketInfo",
    "RngDraw",
    "TxGenerator",
    "TxLog",
    "chance",
    "execute",
    "pick",
    "resolve_order",
    "weighted",
]
