"""One cash-settled futures market: orders, auctions, margin, mark-to-market, closeouts.

Rules: ``../shared/specs/futures-market.md`` sections 1, 2 (opening auction), 3-7
and 9. All on-chain numbers are integers: prices in ticks of the market's decimal
places, sizes in 10^-PDP contracts, money in base units of the settlement asset.

Order pipeline (section 1): validate, check margin (skipped for orders that do not
add exposure), plan the matching, check the aggressor can pay the fees (else
reject with no trades), then commit trades, positions, fees and margins.
Mark-to-market, the margin update and closeouts run at block end.

The market is one class assembled from one module per concept: this module
(orders, amendments, the opening auction, margin top-up and release, block
hooks, invariants), :mod:`.settlement` (mark-to-market, loss socialisation,
termination and final settlement), :mod:`.closeout` (distressed parties,
closeouts, the network party's disposal) and :mod:`.state` (per-party state).

Clean places for the market-mechanics issue: price monitoring checks the
planned fills in ``_execute`` before the fee check and can switch the state to
SUSPENDED (the auction code paths, GFA cancellation at uncrossing and the
``FeeCalculator.auction_half`` fee mode already exist); pegged orders enter
through the order-type switch in ``_validate``; liquidity fees already
accumulate in the market's liquidity fee account.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING

from defisim.numeric.fixed import ceil_div, to_fixed

from . import accounts as acct
from .accounts import NETWORK_PARTY
from .book import OrderBook
from .closeout import CloseoutMixin
from .events import (
    AuctionEnded,
    AuctionExtended,
    AuctionStarted,
    FundingPeriodEnded,
    MarketStateChanged,
    OraclePrice,
    OrderUpdated,
    TradeExecuted,
)
from .fees import FeeCalculator
from .liquidity import LiquidityEngine
from .margin import MarginCalculator, MarginLevels
from .params import MarketConfig
from .perpetual import FundingCalculator
from .price_monitoring import PriceMonitor
from .provision import ProvisionMixin
from .risk import risk_factors_for
from .settlement import SettlementMixin
from .state import OrderResult, PartyState
from .types import (
    PERSISTENT,
    MarketState,
    Order,
    OrderStatus,
    OrderType,
    Reason,
    TimeInForce,
    TradeType,
)

if TYPE_CHECKING:
    from defisim.chain import Chain

NS = 1_000_000_000
MAX_INT = 2**63 - 1  # sizes, prices and offsets are 64-bit on Vega (and in the run store)

_CONTINUOUS_TIF = {
    OrderType.LIMIT: frozenset(
        {TimeInForce.GTC, TimeInForce.GTT, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GFN}
    ),
    OrderType.MARKET: frozenset({TimeInForce.IOC, TimeInForce.FOK}),
    OrderType.PEGGED: frozenset({TimeInForce.GTC, TimeInForce.GTT}),
}
_AUCTION_TIF = {
    OrderType.LIMIT: frozenset({TimeInForce.GTC, TimeInForce.GTT, TimeInForce.GFA}),
    OrderType.MARKET: frozenset(),
    OrderType.PEGGED: frozenset({TimeInForce.GTC, TimeInForce.GTT, TimeInForce.GFA}),
}
_TRADING_STATES = frozenset({MarketState.PENDING, MarketState.ACTIVE, MarketState.SUSPENDED})


class FuturesMarket(SettlementMixin, CloseoutMixin, ProvisionMixin):
    """A Vega-style cash-settled futures market on the null chain.

    Created through :class:`~defisim.protocols.futures.FuturesProtocol`; users and
    agents reach it through :class:`defisim.Simulation`.
    """

    state_exclude = ("_indicative", "recent_trades")
    """Left out of the chain's state hash (:mod:`defisim.chain.state_hash`): a cache, and
    the ring of the last trade events (history kept for queries, as the chain's event log;
    the trades' effects, positions, balances and ids, are hashed). The ring was 93 % of
    the bytes hashed per block of ``comprehensive_market``."""

    def __init__(self, chain: Chain, config: MarketConfig, next_order_id) -> None:
        self.chain = chain
        self.ledger = chain.ledger
        self.config = config
        self.market_id = config.market_id
        self.asset = config.asset
        asset = self.ledger.asset(config.asset)
        if config.decimal_places > asset.decimals:
            raise ValueError(
                f"market decimal_places {config.decimal_places} exceeds asset "
                f"{asset.asset_id} decimals {asset.decimals}"
            )
        self.price_factor = 10 ** (asset.decimals - config.decimal_places)
        self.position_factor = 10**config.position_decimal_places
        self.tick = config.tick_size
        self.risk_factors = risk_factors_for(config.risk_model)
        self.margin_calc = MarginCalculator(config, self.risk_factors, self.price_factor)
        self.fees = FeeCalculator(config.fees, self.price_factor, config.position_decimal_places)
        self.book = OrderBook()
        self.orders: dict[int, Order] = {}  # live (resting) orders
        self.parties: dict[str, PartyState] = {}
        self._next_order_id = next_order_id
        self.state = MarketState.PENDING
        self.in_auction = True  # PENDING or SUSPENDED; kept in step by _set_state
        self.mark_price = 0
        self.last_trade_price = 0
        self.last_mark_time = chain.now
        self.traded_since_mark = False
        self.trade_seq = 0
        self.opening_auction_end = chain.now + int(config.opening_auction_duration_s * NS)
        self._mark_freq_ns = int(config.mark_price_frequency_s * NS)
        self._expiries: list[tuple[int, int]] = []  # heap of (expires_at, order_id)
        self._indicative: tuple[int, int] | None = None  # cache, None = stale
        self.monitor: PriceMonitor | None = None
        if config.price_monitoring.triggers:
            rm = config.risk_model
            mu, sigma = (rm.mu, rm.sigma) if rm.kind == "lognormal" else (0.0, 0.0)
            self.monitor = PriceMonitor(config.price_monitoring, mu, sigma,
                                        factors=config.price_monitoring_bounds)
        self.auction_end = 0  # scheduled end of a price-monitoring auction (ns)
        self.perp: FundingCalculator | None = None  # created when the opening auction ends
        self.liquidity = LiquidityEngine(config.liquidity, self.price_factor, self.position_factor,
                                         now_ns=chain.now)
        self._bond_penalty_factor = to_fixed(config.liquidity.bond_penalty_factor)
        self.oracle_price = 0
        self._min_auction_ns = int(config.min_auction_duration_s * NS)
        self.pegs: dict[int, Order] = {}  # live pegged orders in entry order
        self._open_interest = 0  # sum of long positions, maintained by _apply_trade
        self._oi_peak = 0  # max open interest since it was last recorded (0041-TSTK)
        self._margin_errors: list[str] = []  # from the last margin update (invariant checks)
        self._peg_refs: tuple[int | None, int | None] | None = None  # references last priced at
        cp = config.closeout
        self._disposal_step_ns = int(cp.disposal_time_step_s * NS)
        self._last_disposal = chain.now
        self._disposal_fraction = to_fixed(cp.disposal_fraction)
        self._max_consumed = to_fixed(cp.max_fraction_consumed)
        self._slippage = to_fixed(cp.slippage_range)
        self.settlement_price = 0
        self.settlement_key = acct.settlement(self.market_id, self.asset)
        self.insurance_key = acct.insurance(self.market_id, self.asset)
        self.infra_key = acct.fee_infrastructure(self.asset)
        self.liquidity_key = acct.fee_liquidity(self.market_id, self.asset)
        self.closeouts = 0
        self.volume_traded = 0
        self.recent_trades: deque[TradeExecuted] = deque(maxlen=2000)

    def _trade(self, *fields) -> TradeExecuted:
        """Emit a :class:`TradeExecuted` (fields after block and time) and remember it."""
        c = self.chain
        t = TradeExecuted(c.block, c.now, self.market_id, *fields)
        c.emit(t)
        self.recent_trades.append(t)
        if fields[8] != TradeType.CLOSEOUT:
            self.liquidity.record_trade(fields[2], fields[1])
        return t

    # ------------------------------------------------------------------ helpers
    def party_state(self, party: str) -> PartyState:
        ps = self.parties.get(party)
        if ps is None:
            ps = PartyState(party, self.market_id, self.asset)
            self.parties[party] = ps
        return ps

    def indicative(self) -> tuple[int, int]:
        """Indicative uncrossing ``(price, volume)`` in an auction, ``(0, 0)`` if none."""
        if self._indicative is None:
            p, v = self.book.uncrossing()
            if v:
                p -= p % self.tick  # floor to a tick
            self._indicative = (p, v)
        return self._indicative

    def _margin_price(self) -> int:
        """P of section 4: the mark price; in the opening auction the indicative price."""
        if self.mark_price:
            return self.mark_price
        return self.indicative()[0]

    def _auction_price(self) -> int | None:
        if not self.in_auction:
            return None
        return max(self.mark_price, self.indicative()[0])

    def maintenance_for(self, ps: PartyState, dv: int = 0, db: int = 0, ds: int = 0,
                        dbn: int = 0, dsn: int = 0) -> int:
        """Maintenance margin of ``ps`` with optional changes to position/orders."""
        if self.perp is not None:
            extra = self.perp.margin_funding_term(ps.position + dv, self.price_factor,
                                                  self.position_factor, self.chain.now)
        else:
            extra = 0
        if not self.in_auction and self.mark_price:  # the common case, kept short
            if dv or db or ds:
                return extra + self.margin_calc.maintenance(
                    ps.position + dv, ps.buy_volume + db, ps.sell_volume + ds, self.mark_price)
            return extra + self.margin_calc.maintenance_at(self._unit(ps), self.mark_price)
        return extra + self.margin_calc.maintenance(
            ps.position + dv,
            ps.buy_volume + db,
            ps.sell_volume + ds,
            self._margin_price(),
            self._auction_price(),
            ps.buy_notional + dbn,
            ps.sell_notional + dsn,
        )

    def _unit(self, ps: PartyState) -> int:
        """``MarginCalculator.unit`` of ``ps``'s exposure, cached on the party."""
        key = (ps.position, ps.buy_volume, ps.sell_volume)
        if ps.mm_key != key:
            ps.mm_key = key
            ps.mm_unit = self.margin_calc.unit(*key)
        return ps.mm_unit

    def margin_levels(self, party: str) -> MarginLevels:
        """Current margin levels of ``party`` (all zero for a party with nothing here)."""
        ps = self.parties.get(party)
        mm = self.maintenance_for(ps) if ps is not None else 0
        return self.margin_calc.levels(mm)

    def _emit_order(self, o: Order) -> None:
        c = self.chain
        c.emit(
            OrderUpdated(
                c.block, c.now, self.market_id, o.order_id, o.party, o.side, o.order_type,
                o.tif, o.price, o.size, o.remaining, o.status, o.reason, o.expires_at,
            )
        )

    def _reject(self, tx: str, party: str, reason: Reason, detail: str, order_id: int = 0):
        self.chain.reject(tx, party, self.market_id, reason, detail, order_id)
        return OrderResult(order_id, OrderStatus.REJECTED, reason, detail)

    # ------------------------------------------------------------- order books
    def _rest(self, o: Order, ps: PartyState) -> None:
        """Make ``o`` a live order and put it on the book."""
        self._register(o, ps)
        self._place(o, ps)

    def _unrest(self, o: Order, ps: PartyState) -> None:
        """Take a live order (resting or parked) off the book and out of the live set."""
        if o.resting:
            self._displace(o, ps)
        self._deregister(o, ps)

    def _register(self, o: Order, ps: PartyState) -> None:
        """Live order bookkeeping (parked pegs are live but not on the book)."""
        self.orders[o.order_id] = o
        ps.orders[o.order_id] = o
        if o.peg_reference:
            self.pegs[o.order_id] = o
        if o.expires_at:
            heapq.heappush(self._expiries, (o.expires_at, o.order_id))

    def _deregister(self, o: Order, ps: PartyState) -> None:
        del self.orders[o.order_id]
        del ps.orders[o.order_id]
        if o.peg_reference:
            self.pegs.pop(o.order_id, None)

    def _place(self, o: Order, ps: PartyState) -> None:
        """Put a registered order on the book; its size counts in the party's exposure."""
        self.book.add(o)
        if o.side > 0:
            ps.buy_volume += o.remaining
            ps.buy_notional += o.remaining * o.price
        else:
            ps.sell_volume += o.remaining
            ps.sell_notional += o.remaining * o.price
        self._indicative = None

    def _displace(self, o: Order, ps: PartyState) -> None:
        """Take a resting order off the book and out of the party's exposure (stays live)."""
        self.book.remove(o)
        if o.side > 0:
            ps.buy_volume -= o.remaining
            ps.buy_notional -= o.remaining * o.price
        else:
            ps.sell_volume -= o.remaining
            ps.sell_notional -= o.remaining * o.price
        self._indicative = None

    def _fill_passive(self, o: Order, size: int) -> None:
        ps = self.parties[o.party]
        if o.side > 0:
            ps.buy_volume -= size
            ps.buy_notional -= size * o.price
        else:
            ps.sell_volume -= size
            ps.sell_notional -= size * o.price
        if size >= o.remaining:
            self.book.fill(o, size)
            self._deregister(o, ps)
            o.status = OrderStatus.FILLED
        else:
            self.book.fill(o, size)
        o.updated_at = self.chain.now
        self._indicative = None
        self._emit_order(o)

    # ------------------------------------------------------------ validation
    def _validate(self, o: Order, ps: PartyState) -> tuple[Reason, str] | None:
        if self.state not in _TRADING_STATES:
            return Reason.MARKET_NOT_TRADING, f"market is {self.state}"
        if o.party not in self.ledger.parties or o.party == NETWORK_PARTY:
            return Reason.PARTY_NOT_FOUND, f"unknown party {o.party!r}"
        if o.side not in (1, -1):
            return Reason.INVALID_SIDE, f"side must be +1 (buy) or -1 (sell), got {o.side!r}"
        if not isinstance(o.size, int) or o.size <= 0 or o.size > MAX_INT:
            return Reason.INVALID_SIZE, f"size must be a positive integer up to {MAX_INT}, got {o.size!r}"
        if o.order_type == OrderType.LIMIT:
            if not isinstance(o.price, int) or o.price <= 0 or o.price > MAX_INT:
                return Reason.INVALID_PRICE, f"limit price must be a positive integer up to {MAX_INT}, got {o.price!r}"
            if o.price % self.tick:
                return Reason.PRICE_NOT_ON_TICK, f"price {o.price} is not a multiple of tick {self.tick}"
        elif o.order_type == OrderType.MARKET:
            if o.price:
                return Reason.INVALID_PRICE, "a market order has no price"
        elif o.order_type == OrderType.PEGGED:
            err = self._validate_peg(o.side, o.peg_reference, o.peg_offset)
            if err:
                return Reason.INVALID_PEG, err
        else:
            return Reason.INVALID_ORDER_TYPE, f"order type {o.order_type} is not supported"
        allowed = (_AUCTION_TIF if self.in_auction else _CONTINUOUS_TIF)[o.order_type]
        if o.tif not in allowed:
            mode = "an auction" if self.in_auction else "continuous trading"
            return (
                Reason.INVALID_TIME_IN_FORCE,
                f"{o.order_type} {o.tif} is not allowed in {mode} (allowed: {sorted(allowed)})",
            )
        if o.tif == TimeInForce.GTT and not o.expires_at:
            return Reason.INVALID_EXPIRY, "GTT order needs an expiry"
        if o.expires_at:
            if not isinstance(o.expires_at, int) or not 0 < o.expires_at <= MAX_INT:
                return Reason.INVALID_EXPIRY, f"expiry must be a time in ns up to {MAX_INT}, got {o.expires_at!r}"
            if o.tif not in (TimeInForce.GTT, TimeInForce.GFA, TimeInForce.GFN):
                return Reason.INVALID_EXPIRY, f"{o.tif} orders take no expiry"
            if o.expires_at <= self.chain.now:
                return Reason.INVALID_EXPIRY, f"expiry {o.expires_at} is not after now {self.chain.now}"
        if o.post_only and (o.order_type != OrderType.LIMIT or o.tif not in PERSISTENT):
            return Reason.INVALID_FLAGS, "post_only needs a persistent LIMIT order"
        if o.reduce_only:
            if o.post_only or o.tif not in (TimeInForce.IOC, TimeInForce.FOK):
                return Reason.INVALID_FLAGS, "reduce_only needs an IOC or FOK order without post_only"
            if ps.position * o.side >= 0:
                return (
                    Reason.REDUCE_ONLY_WOULD_INCREASE,
                    f"position {ps.position}: a {'buy' if o.side > 0 else 'sell'} cannot reduce it",
                )
        return None

    def _validate_peg(self, side: int, reference: str, offset) -> str:
        """Empty string if the peg is valid (section 1), else why not."""
        if reference not in ("BEST_BID", "MID", "BEST_ASK"):
            return f"peg reference must be BEST_BID, MID or BEST_ASK, got {reference!r}"
        if side > 0 and reference == "BEST_ASK" or side < 0 and reference == "BEST_BID":
            return f"a {'buy' if side > 0 else 'sell'} cannot peg to {reference}"
        if not isinstance(offset, int) or offset < 0 or offset > MAX_INT or offset % self.tick:
            return f"peg offset must be a non-negative multiple of tick {self.tick}, got {offset!r}"
        if reference == "MID" and offset == 0:
            return "a MID peg needs a positive offset"
        return ""

    def _peg_price(self, o: Order, bid: int | None, ask: int | None) -> int | None:
        """Price of a pegged order from the static best prices, ``None`` if it parks.

        buy = reference - offset, sell = reference + offset; a fractional mid rounds
        up to a tick for buys and down for sells (0037-OPEG-020)."""
        ref = o.peg_reference
        if ref == "BEST_BID":
            price = None if bid is None else bid - o.peg_offset
        elif ref == "BEST_ASK":
            price = None if ask is None else ask + o.peg_offset
        elif bid is None or ask is None:
            price = None
        elif o.side > 0:
            price = ceil_div(bid + ask, 2 * self.tick) * self.tick - o.peg_offset
        else:
            price = (bid + ask) // (2 * self.tick) * self.tick + o.peg_offset
        return price if price is not None and price > 0 else None

    def _reprice_pegs(self, force: bool = False) -> None:
        """Reprice pegs in entry order to the back of their new level (section 1).

        Runs after each transaction and block hook, never in the middle of an
        aggressive order; pegs stay parked during auctions."""
        if not self.pegs or self.in_auction:
            return
        bid, ask = self.book.static_best(1), self.book.static_best(-1)
        if not force and self._peg_refs == (bid, ask):
            return
        self._peg_refs = (bid, ask)
        for o in list(self.pegs.values()):
            new = self._peg_price(o, bid, ask)
            if o.resting and new == o.price:
                continue
            if not o.resting and new is None:
                continue
            ps = self.parties[o.party]
            if o.resting:
                self._displace(o, ps)
            if new is None:
                o.status = OrderStatus.PARKED
            else:
                o.price = new
                o.status = OrderStatus.ACTIVE
                self._place(o, ps)
            o.updated_at = self.chain.now
            self._emit_order(o)

    def _park_all_pegs(self) -> None:
        """Auction start: every resting peg leaves the book, keeping its entry order."""
        for o in self.pegs.values():
            if o.resting:
                self._displace(o, self.parties[o.party])
                o.status = OrderStatus.PARKED
                self._emit_order(o)
        self._peg_refs = None

    def _order_margin_ok(self, ps: PartyState, side: int, size: int, price: int) -> tuple[bool, int]:
        """Margin gate of section 4: ``(ok, initial margin needed or 0 if not adding exposure)``."""
        before = self.maintenance_for(ps)
        if side > 0:
            after = self.maintenance_for(ps, db=size, dbn=size * price)
        else:
            after = self.maintenance_for(ps, ds=size, dsn=size * price)
        if after <= before:
            return True, 0
        initial = self.margin_calc.initial(after)
        bal = self.ledger.balance
        return bal(ps.margin_key) + bal(ps.general_key) >= initial, initial

    def _top_up_to(self, ps: PartyState, target: int) -> None:
        have = self.ledger.balance(ps.margin_key)
        if have < target:
            self.ledger.transfer_up_to(ps.general_key, ps.margin_key, target - have, "margin_top_up")

    # ------------------------------------------------------------- submission
    def submit(
        self,
        party: str,
        side: int,
        size: int,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        price: int = 0,
        expires_at: int = 0,
        post_only: bool = False,
        reduce_only: bool = False,
        peg_reference: str = "",
        peg_offset: int = 0,
    ) -> OrderResult:
        """Submit an order (raw integers). Never raises for bad input: a rejection
        event is emitted and an :class:`OrderResult` with status ``REJECTED`` returned.

        A PEGGED order gives ``peg_reference`` (BEST_BID or MID for buys, BEST_ASK or
        MID for sells) and a non-negative ``peg_offset`` in raw price units; its
        price follows the static best prices and it parks when there is none."""
        result = self._submit(party, side, size, order_type, tif, price, expires_at, post_only,
                              reduce_only, peg_reference, peg_offset)
        if self.pegs:
            self._reprice_pegs()
        return result

    def _submit(self, party, side, size, order_type, tif, price, expires_at, post_only,
                reduce_only, peg_reference, peg_offset) -> OrderResult:
        try:
            order_type = OrderType(order_type)
            tif = TimeInForce(tif)
        except ValueError as exc:
            return self._reject("submit_order", party, Reason.INVALID_ORDER_TYPE, str(exc))
        oid = self._next_order_id()
        o = Order(oid, self.market_id, party, side, order_type, tif, price or 0, size,
                  expires_at or 0, self.chain.now, bool(post_only), bool(reduce_only))
        if order_type == OrderType.PEGGED:
            o.peg_reference, o.peg_offset, o.price = str(peg_reference or ""), peg_offset, 0
        ps = self.parties.get(party) or PartyState(party, self.market_id, self.asset)
        err = self._validate(o, ps)
        if err is not None:
            return self._reject_order(o, *err)
        self.parties.setdefault(party, ps)
        parked = False
        if o.peg_reference:
            price = None if self.in_auction else self._peg_price(
                o, self.book.static_best(1), self.book.static_best(-1))
            parked = price is None
            o.price = price or 0
        if o.reduce_only:  # may only shrink the position: cap the size at it
            o.size = o.remaining = min(o.size, abs(ps.position))
            need_initial = 0
        elif parked:  # parked pegs carry no margin until they price
            need_initial = 0
        else:
            ok, need_initial = self._order_margin_ok(ps, side, size, o.price)
            if not ok:
                return self._reject_order(
                    o, Reason.MARGIN_CHECK_FAILED,
                    f"initial margin {need_initial} exceeds margin + general "
                    f"{self.ledger.balance(ps.margin_key) + self.ledger.balance(ps.general_key)}",
                )
        if parked:
            o.status = OrderStatus.PARKED
            self._register(o, ps)
            self._emit_order(o)
            return OrderResult(oid, o.status)
        if self.in_auction:
            self._top_up_to(ps, need_initial)
            self._rest(o, ps)
            self._emit_order(o)
            return OrderResult(oid, o.status)
        return self._execute(o, ps, need_initial)

    def _reject_order(self, o: Order, reason: Reason, detail: str) -> OrderResult:
        o.status = OrderStatus.REJECTED
        o.reason = reason
        # the event carries only representable values; the rejection detail keeps the input
        if not isinstance(o.size, int) or not 0 <= o.size <= MAX_INT:
            o.size = o.remaining = 0
        if not isinstance(o.price, int) or not 0 <= o.price <= MAX_INT:
            o.price = 0
        if not isinstance(o.expires_at, int) or not 0 <= o.expires_at <= MAX_INT:
            o.expires_at = 0
        self._emit_order(o)
        return self._reject("submit_order", o.party, reason, detail, o.order_id)

    def _execute(self, o: Order, ps: PartyState, need_initial: int, amend: Order | None = None) -> OrderResult:
        """Continuous trading: plan, fee check, commit. ``amend`` is the order being replaced."""
        limit = None if o.order_type == OrderType.MARKET else o.price
        fills, self_trade = self.book.plan(o.side, limit, o.remaining, o.party)
        if fills and o.post_only:
            return self._stop(o, Reason.POST_ONLY_WOULD_TRADE, amend)
        if o.tif == TimeInForce.FOK and (self_trade or sum(f for _, f in fills) < o.remaining):
            return self._stop(o, Reason.FOK_NOT_FILLED, amend)
        if fills and self.monitor is not None:
            breached, price = self._breaches(fills)
            if breached:
                return self._breach(o, ps, need_initial, amend, breached, price)
        fee_rows = []
        total_fee = 0
        if fills:
            cont = self.fees.continuous
            for passive, f in fills:
                fm, fi, fl = cont(f, passive.price)
                fee_rows.append((fm, fi, fl))
                total_fee += fm + fi + fl
            bal = self.ledger.balance
            have = bal(ps.general_key) + bal(ps.margin_key)
            if have < total_fee:
                detail = f"fees {total_fee} exceed general + margin {have}"
                if amend is not None:
                    return self._reject("amend_order", o.party, Reason.INSUFFICIENT_FUNDS_FOR_FEES, detail, amend.order_id)
                return self._reject_order(o, Reason.INSUFFICIENT_FUNDS_FOR_FEES, detail)
        # commit
        if amend is not None:
            self._unrest(amend, ps)
        self._top_up_to(ps, need_initial)
        trades = self._commit_fills(o, ps, fills, fee_rows)
        if o.remaining == 0:
            o.status = OrderStatus.FILLED
        elif self_trade:
            o.status = OrderStatus.STOPPED if not trades else OrderStatus.PARTIALLY_FILLED
            o.reason = Reason.SELF_TRADE
        elif o.tif in PERSISTENT:
            self._rest(o, ps)
        else:
            o.status = OrderStatus.PARTIALLY_FILLED if trades else OrderStatus.STOPPED
            o.reason = "" if trades else Reason.NO_LIQUIDITY
        o.updated_at = self.chain.now
        self._emit_order(o)
        if trades:
            self._after_trades(ps, fills)
        elif not o.resting:
            self._margin_update(ps)
        return OrderResult(o.order_id, o.status, o.reason, "", trades)

    def _breaches(self, fills) -> tuple[list[int], int]:
        """Triggers breached by the would-be trade prices of ``fills`` (section 2)."""
        now = self.chain.now
        seen = set()
        for passive, _ in fills:
            p = passive.price
            if p in seen:
                continue
            seen.add(p)
            b = self.monitor.breaches(now, p)
            if b:
                return b, p
        return [], 0

    def _breach(self, o, ps, need_initial, amend, breached, price) -> OrderResult:
        """A would-be trade breached price monitoring: a persistent order rests without
        trading and the market goes into auction; a non-persistent one is rejected."""
        if o.tif not in (TimeInForce.GTC, TimeInForce.GTT):
            detail = f"trade price {price} breaches price monitoring trigger(s) {breached}"
            if amend is not None:
                return self._reject("amend_order", o.party, Reason.PRICE_MONITORING_BREACH, detail, amend.order_id)
            return self._reject_order(o, Reason.PRICE_MONITORING_BREACH, detail)
        if amend is not None:
            self._unrest(amend, ps)
        self._enter_auction(breached, price)
        self._top_up_to(ps, need_initial)
        if o.peg_reference:  # a peg parks in the auction
            o.status = OrderStatus.PARKED
            self._register(o, ps)
        else:
            self._rest(o, ps)
        o.updated_at = self.chain.now
        self._emit_order(o)
        return OrderResult(o.order_id, o.status, "", "the market entered a price-monitoring auction")

    def _enter_auction(self, breached: list[int], price: int) -> None:
        """Start a price-monitoring auction: switch off the breached triggers, park pegs,
        cancel GFN orders."""
        now = self.chain.now
        ext = sum(self.monitor.trigger_auction(i) for i in breached)
        self.auction_end = now + max(ext, self._min_auction_ns)
        self._set_state(MarketState.SUSPENDED, f"price monitoring triggers {breached}")
        if self.perp is not None:
            self.perp.enter_auction(now)
        c = self.chain
        c.emit(AuctionStarted(c.block, now, self.market_id, "price_monitoring", price, tuple(breached),
                              self.auction_end))
        self._park_all_pegs()
        for o in list(self.orders.values()):
            if o.tif == TimeInForce.GFN:
                self._cancel_order(o, self.parties[o.party], OrderStatus.CANCELLED, Reason.AUCTION_STARTED)

    def _maybe_end_monitoring_auction(self) -> bool:
        """At the scheduled end: extend if the indicative price breaches a trigger still
        on; otherwise uncross (or leave with no trades), reset the price history and
        switch every trigger back on (section 2)."""
        now = self.chain.now
        if self.state != MarketState.SUSPENDED or now < self.auction_end:
            return False
        price, volume = self.indicative()
        ext = None if self.monitor is None else self.monitor.check_auction_end(now, price if volume else None)
        if ext:
            self.auction_end = now + ext
            c = self.chain
            c.emit(AuctionExtended(c.block, now, self.market_id, price, self.auction_end))
            return False
        if volume:
            self._uncross(price, volume, "price_monitoring")
            if self.monitor is not None:
                self.monitor.reset(now, price, volume)
        else:
            self._end_auction_without_trades()
            if self.monitor is not None:
                self.monitor.reset(now)
        self._set_state(MarketState.ACTIVE, "price-monitoring auction ended")
        if self.perp is not None:
            self.perp.leave_auction(now)
        self._reprice_pegs(force=True)
        if volume:
            self._mark_to_market(price)
        self._margins_and_closeouts()
        self.last_mark_time = now
        return True

    def _end_auction_without_trades(self) -> None:
        c = self.chain
        c.emit(AuctionEnded(c.block, c.now, self.market_id, 0, 0, "price_monitoring"))
        for o in list(self.orders.values()):
            if o.tif == TimeInForce.GFA:
                self._cancel_order(o, self.parties[o.party], OrderStatus.CANCELLED, Reason.AUCTION_ENDED)

    def _stop(self, o: Order, reason: Reason, amend: Order | None) -> OrderResult:
        if amend is not None:
            return self._reject("amend_order", o.party, reason, f"amended order would be stopped: {reason}", amend.order_id)
        o.status = OrderStatus.STOPPED
        o.reason = reason
        self._emit_order(o)
        return OrderResult(o.order_id, o.status, reason)

    def _commit_fills(self, o: Order, ps: PartyState, fills, fee_rows) -> list[TradeExecuted]:
        """Trade the planned fills of aggressive order ``o`` (continuous trading)."""
        led = self.ledger
        trades = []
        side = o.side
        for (passive, f), (fm, fi, fl) in zip(fills, fee_rows, strict=True):
            price = passive.price
            pps = self.parties[passive.party]
            # aggressor pays fees: general first, then margin
            total = fm + fi + fl
            if total:
                g = led.balance(ps.general_key)
                from_g = total if g >= total else g
                if fm:
                    self._pay(ps, fm, from_g, pps.general_key, "fee_maker")
                    from_g -= min(from_g, fm)
                if fi:
                    self._pay(ps, fi, from_g, self.infra_key, "fee_infrastructure")
                    from_g -= min(from_g, fi)
                if fl:
                    self._pay(ps, fl, from_g, self.liquidity_key, "fee_liquidity")
            self._fill_passive(passive, f)
            o.remaining -= f
            self._apply_trade(ps, pps, side * f, price)
            self.trade_seq += 1
            if side > 0:
                buyer, seller, bo, so, bf, sf = o.party, passive.party, o.order_id, passive.order_id, total, 0
            else:
                buyer, seller, bo, so, bf, sf = passive.party, o.party, passive.order_id, o.order_id, 0, total
            trades.append(self._trade(self.trade_seq, price, f, buyer, seller, side, bo, so,
                                      TradeType.DEFAULT, bf, sf))
            self.last_trade_price = price
            self.volume_traded += f
            if self.monitor is not None:
                self.monitor.record_trade(self.chain.now, price, f)
        if trades:
            self.traded_since_mark = True
        return trades

    def _pay(self, ps: PartyState, amount: int, from_general: int, dest, kind: str) -> None:
        g = min(from_general, amount)
        if g:
            self.ledger.transfer(ps.general_key, dest, g, kind)
        if amount - g:
            self.ledger.transfer(ps.margin_key, dest, amount - g, kind)

    def _apply_trade(self, ps: PartyState, other: PartyState, q: int, price: int) -> None:
        """``ps`` trades ``q`` (signed, positive: ``ps`` buys) with ``other`` at ``price``.

        Keeps the open interest and its peak since it was last recorded: the target
        stake counts the open interest after every trade (0041-TSTK; core records it
        after each trade's position update), so the peak is taken once both sides
        have moved, never between them."""
        a, b = ps.position, other.position
        ps.trade(q, price)
        other.trade(-q, price)
        a2, b2 = ps.position, other.position
        oi = (self._open_interest + (a2 if a2 > 0 else 0) - (a if a > 0 else 0)
              + (b2 if b2 > 0 else 0) - (b if b > 0 else 0))
        self._open_interest = oi
        if oi > self._oi_peak:
            self._oi_peak = oi

    def _after_trades(self, ps: PartyState, fills) -> None:
        """Margin update of the aggressor and every passive party of a trade."""
        seen = {ps.party}
        self._margin_update(ps)
        for passive, _ in fills:
            if passive.party not in seen:
                seen.add(passive.party)
                self._margin_update(self.parties[passive.party])

    # -------------------------------------------------------- amend / cancel
    def amend(
        self,
        party: str,
        order_id: int,
        price: int | None = None,
        size: int | None = None,
        expires_at: int | None = None,
        tif: TimeInForce | None = None,
        peg_offset: int | None = None,
        peg_reference: str | None = None,
    ) -> OrderResult:
        """Amend a resting order (section 1).

        A price change or a size increase is cancel-and-replace (back of the queue,
        may trade at once); a size decrease keeps priority; ``size <= 0`` cancels.
        ``size`` is the new remaining size. A failed amend leaves the order as it was.
        A pegged order amends its offset or reference instead of its price.
        """
        result = self._amend(party, order_id, price, size, expires_at, tif, peg_offset, peg_reference)
        if self.pegs:
            self._reprice_pegs()
        return result

    def _amend(self, party, order_id, price, size, expires_at, tif, peg_offset, peg_reference):
        o = self.orders.get(order_id)
        if o is None:
            return self._reject("amend_order", party, Reason.ORDER_NOT_FOUND, f"no live order {order_id}", order_id)
        if o.party != party:
            return self._reject("amend_order", party, Reason.NOT_ORDER_OWNER, f"order {order_id} belongs to another party", order_id)
        if self.state not in _TRADING_STATES:
            return self._reject("amend_order", party, Reason.MARKET_NOT_TRADING, f"market is {self.state}", order_id)
        ps = self.parties[party]
        if size is not None and size <= 0:
            self.cancel(party, order_id)
            return OrderResult(order_id, OrderStatus.CANCELLED)
        if o.peg_reference:
            return self._amend_peg(o, ps, price, size, expires_at, tif, peg_offset, peg_reference)
        if peg_offset is not None or peg_reference is not None:
            return self._reject("amend_order", party, Reason.INVALID_PEG, f"order {order_id} is not pegged", order_id)
        new_price = o.price if price is None else price
        new_size = o.remaining if size is None else size
        new_tif = o.tif if tif is None else TimeInForce(tif)
        new_exp = o.expires_at if expires_at is None else expires_at
        if new_price == o.price and new_size == o.remaining and new_tif == o.tif and new_exp == o.expires_at:
            return self._reject("amend_order", party, Reason.NOTHING_TO_AMEND, "the amendment changes nothing", order_id)
        if not isinstance(new_price, int) or new_price <= 0 or new_price > MAX_INT:
            return self._reject("amend_order", party, Reason.INVALID_PRICE, f"price must be a positive integer, got {new_price!r}", order_id)
        if new_price % self.tick:
            return self._reject("amend_order", party, Reason.PRICE_NOT_ON_TICK, f"price {new_price} is not a multiple of tick {self.tick}", order_id)
        if not isinstance(new_size, int) or new_size > MAX_INT:
            return self._reject("amend_order", party, Reason.INVALID_SIZE, f"size must be an integer up to {MAX_INT}, got {new_size!r}", order_id)
        if new_tif != o.tif and {new_tif, o.tif} != {TimeInForce.GTC, TimeInForce.GTT}:
            return self._reject("amend_order", party, Reason.INVALID_TIME_IN_FORCE, "only GTC <-> GTT can be amended", order_id)
        if new_tif == TimeInForce.GTT and (not new_exp or new_exp <= self.chain.now):
            return self._reject("amend_order", party, Reason.INVALID_EXPIRY, f"expiry {new_exp} is not after now", order_id)
        if new_tif == TimeInForce.GTC:
            new_exp = 0
        # margin check on the amended exposure
        dvol = new_size - o.remaining
        dnot = new_size * new_price - o.remaining * o.price
        before = self.maintenance_for(ps)
        if o.side > 0:
            after = self.maintenance_for(ps, db=dvol, dbn=dnot)
        else:
            after = self.maintenance_for(ps, ds=dvol, dsn=dnot)
        need_initial = 0
        if after > before:
            need_initial = self.margin_calc.initial(after)
            bal = self.ledger.balance
            if bal(ps.margin_key) + bal(ps.general_key) < need_initial:
                return self._reject("amend_order", party, Reason.MARGIN_CHECK_FAILED,
                                    f"initial margin {need_initial} exceeds margin + general", order_id)
        if new_price == o.price and new_size <= o.remaining:
            # in place, keeps priority
            if new_size < o.remaining:
                o.size -= o.remaining - new_size
                if o.side > 0:
                    ps.buy_volume -= o.remaining - new_size
                    ps.buy_notional -= (o.remaining - new_size) * o.price
                else:
                    ps.sell_volume -= o.remaining - new_size
                    ps.sell_notional -= (o.remaining - new_size) * o.price
                self.book.reduce(o, new_size)
                self._indicative = None
            o.tif, o.expires_at = new_tif, new_exp
            if new_exp:
                heapq.heappush(self._expiries, (new_exp, o.order_id))
            o.updated_at = self.chain.now
            self._emit_order(o)
            self._margin_update(ps)
            return OrderResult(order_id, o.status)
        # cancel-and-replace: the same order id goes to the back of its new level
        if self.in_auction:
            self._unrest(o, ps)
            o.size += new_size - o.remaining
            o.price, o.remaining, o.tif, o.expires_at = new_price, new_size, new_tif, new_exp
            self._top_up_to(ps, need_initial)
            self._rest(o, ps)
            o.updated_at = self.chain.now
            self._emit_order(o)
            return OrderResult(order_id, o.status)
        replacement = Order(order_id, self.market_id, party, o.side, o.order_type, new_tif, new_price,
                            o.size - o.remaining + new_size, new_exp, o.created_at, o.post_only, False)
        replacement.remaining = new_size
        return self._execute(replacement, ps, need_initial, amend=o)

    def _amend_peg(self, o, ps, price, size, expires_at, tif, peg_offset, peg_reference) -> OrderResult:
        """Amend a pegged order: size, expiry, GTC<->GTT, offset or reference. A size
        decrease keeps priority; anything else that changes its price or grows it goes
        to the back of its (new) level at the next repricing."""
        oid = o.order_id
        if price is not None:
            return self._reject("amend_order", o.party, Reason.ORDER_NOT_AMENDABLE,
                                "a pegged order's price follows its reference: amend its offset", oid)
        new_ref = o.peg_reference if peg_reference is None else str(peg_reference)
        new_off = o.peg_offset if peg_offset is None else peg_offset
        err = self._validate_peg(o.side, new_ref, new_off)
        if err:
            return self._reject("amend_order", o.party, Reason.INVALID_PEG, err, oid)
        new_size = o.remaining if size is None else size
        new_tif = o.tif if tif is None else TimeInForce(tif)
        new_exp = o.expires_at if expires_at is None else expires_at
        if new_tif != o.tif and {new_tif, o.tif} != {TimeInForce.GTC, TimeInForce.GTT}:
            return self._reject("amend_order", o.party, Reason.INVALID_TIME_IN_FORCE, "only GTC <-> GTT can be amended", oid)
        if new_tif == TimeInForce.GTT and (not new_exp or new_exp <= self.chain.now):
            return self._reject("amend_order", o.party, Reason.INVALID_EXPIRY, f"expiry {new_exp} is not after now", oid)
        if new_tif == TimeInForce.GTC:
            new_exp = 0
        if (new_ref, new_off, new_size, new_tif, new_exp) == (o.peg_reference, o.peg_offset, o.remaining, o.tif, o.expires_at):
            return self._reject("amend_order", o.party, Reason.NOTHING_TO_AMEND, "the amendment changes nothing", oid)
        if not isinstance(new_size, int) or new_size > MAX_INT:
            return self._reject("amend_order", o.party, Reason.INVALID_SIZE, f"size must be an integer up to {MAX_INT}, got {new_size!r}", oid)
        moves = new_ref != o.peg_reference or new_off != o.peg_offset or new_size > o.remaining
        if o.resting and new_size > o.remaining:
            before = self.maintenance_for(ps)
            d = new_size - o.remaining
            after = self.maintenance_for(ps, db=d, dbn=d * o.price) if o.side > 0 else \
                self.maintenance_for(ps, ds=d, dsn=d * o.price)
            if after > before:
                need = self.margin_calc.initial(after)
                bal = self.ledger.balance
                if bal(ps.margin_key) + bal(ps.general_key) < need:
                    return self._reject("amend_order", o.party, Reason.MARGIN_CHECK_FAILED,
                                        f"initial margin {need} exceeds margin + general", oid)
                self._top_up_to(ps, need)
        if o.resting and not moves:
            if new_size < o.remaining:  # a size decrease keeps priority
                d = o.remaining - new_size
                if o.side > 0:
                    ps.buy_volume -= d
                    ps.buy_notional -= d * o.price
                else:
                    ps.sell_volume -= d
                    ps.sell_notional -= d * o.price
                self.book.reduce(o, new_size)
                o.size -= d
        else:
            if o.resting:  # goes to the back of its level at this transaction's repricing
                self._displace(o, ps)
                o.status = OrderStatus.PARKED
            o.size += new_size - o.remaining
            o.remaining = new_size
            self._peg_refs = None
        o.peg_reference, o.peg_offset, o.tif, o.expires_at = new_ref, new_off, new_tif, new_exp
        if new_exp:
            heapq.heappush(self._expiries, (new_exp, oid))
        o.updated_at = self.chain.now
        self._emit_order(o)
        self._margin_update(ps)
        return OrderResult(oid, o.status)

    def cancel(self, party: str, order_id: int, reason: Reason | str = "") -> OrderResult:
        """Cancel one resting order of ``party``."""
        o = self.orders.get(order_id)
        if o is None:
            return self._reject("cancel_order", party, Reason.ORDER_NOT_FOUND, f"no live order {order_id}", order_id)
        if o.party != party:
            return self._reject("cancel_order", party, Reason.NOT_ORDER_OWNER, f"order {order_id} belongs to another party", order_id)
        ps = self.parties[party]
        self._cancel_order(o, ps, OrderStatus.CANCELLED, reason)
        self._margin_update(ps)
        if self.pegs:
            self._reprice_pegs()
        return OrderResult(order_id, OrderStatus.CANCELLED, reason)

    def cancel_all(self, party: str, reason: Reason | str = "") -> int:
        """Cancel every resting order of ``party``; return how many."""
        ps = self.parties.get(party)
        if ps is None or not ps.orders:
            return 0
        n = 0
        for o in list(ps.orders.values()):
            self._cancel_order(o, ps, OrderStatus.CANCELLED, reason)
            n += 1
        self._margin_update(ps)
        if self.pegs:
            self._reprice_pegs()
        return n

    def _cancel_order(self, o: Order, ps: PartyState, status: OrderStatus, reason) -> None:
        self._unrest(o, ps)
        o.status = status
        o.reason = reason
        o.updated_at = self.chain.now
        self._emit_order(o)

    # ------------------------------------------------------------------ margins
    def _margin_update(self, ps: PartyState) -> bool:
        """Top up below search (general, then bond) to initial; release above release
        (not in auctions) down to initial; everything back with no exposure.
        Returns True if the party is left below maintenance (distressed)."""
        if ps.party == NETWORK_PARTY:
            return False
        led = self.ledger
        bal = led.balance(ps.margin_key)
        if ps.position == 0 and not ps.orders:
            if bal:
                led.transfer(ps.margin_key, ps.general_key, bal, "margin_release")
            return False
        mm = self.maintenance_for(ps)
        calc = self.margin_calc
        if bal < calc.search(mm):
            need = calc.initial(mm) - bal
            got = led.transfer_up_to(ps.general_key, ps.margin_key, need, "margin_top_up")
            if got < need:
                from_bond = led.transfer_up_to(ps.bond_key, ps.margin_key, need - got, "margin_top_up_bond")
                got += from_bond
                self._bond_penalty(ps, from_bond)
            bal += got
        elif bal > calc.release(mm) and not self.in_auction:
            led.transfer(ps.margin_key, ps.general_key, bal - calc.initial(mm), "margin_release")
            return False
        return bal < mm

    # -------------------------------------------------------------- block hooks
    def begin_block(self) -> None:
        """Expire GTT orders whose time has come, before anything else happens; then end
        the opening auction if its minimum duration has passed."""
        now = self.chain.now
        exp = self._expiries
        while exp and exp[0][0] <= now:
            t, oid = heapq.heappop(exp)
            o = self.orders.get(oid)
            if o is not None and o.expires_at == t:
                ps = self.parties[o.party]
                self._cancel_order(o, ps, OrderStatus.EXPIRED, "")
                self._margin_update(ps)
        self._maybe_end_opening_auction()
        if self.state == MarketState.SUSPENDED:
            self._maybe_end_monitoring_auction()
        term = self.config.trading_termination_s
        if term is not None and now >= int(term * NS) and self.state in _TRADING_STATES:
            self.terminate()
        if self.pegs:
            self._reprice_pegs()

    def next_deadline_ns(self) -> int | None:
        """The earliest time at which a block of this market changes its state by itself
        (the runner's skip-idle jump): a GTT expiry, the termination time, the opening
        auction's end, a monitoring auction's end, the next mark, the network party's
        next disposal, the funding period's end, the liquidity epoch's end. With
        liquidity providers or pegged orders every block counts (their obligations and
        prices are measured per block), so it is the next nanosecond. ``None``: nothing
        is due (a settled market)."""
        now = self.chain.now
        if self.pegs or self.liquidity.parties():
            return now + 1
        out: list[int] = []
        if self._expiries:
            out.append(self._expiries[0][0])
        st = self.state
        term = self.config.trading_termination_s
        if term is not None and st in _TRADING_STATES:
            out.append(int(term * NS))
        if st == MarketState.PENDING:
            out.append(max(self.opening_auction_end, now + 1))
        elif st == MarketState.SUSPENDED:
            out.append(max(self.auction_end, now + 1))
        elif st == MarketState.ACTIVE:
            out.append(self.last_mark_time + max(self._mark_freq_ns, 1))
            net = self.parties.get(NETWORK_PARTY)
            if net is not None and net.position:
                out.append(self._last_disposal + max(self._disposal_step_ns, 1))
        if self.perp is not None and st in (MarketState.ACTIVE, MarketState.SUSPENDED):
            out.append(self.perp.next_due_ns())
        if st in (MarketState.ACTIVE, MarketState.SUSPENDED):
            out.append(self.liquidity._next_epoch)
        return max(min(out), now + 1) if out else None

    def _maybe_end_opening_auction(self) -> bool:
        """Uncross at the first block (start or end) at or after the minimum duration
        that has an indicative uncrossing price (section 2)."""
        if self.state != MarketState.PENDING or self.chain.now < self.opening_auction_end:
            return False
        price, volume = self.indicative()
        if not volume:
            return False
        self._uncross(price, volume, "opening")
        if self.monitor is not None:
            self.monitor.reset(self.chain.now, price, volume)
        self._set_state(MarketState.ACTIVE, "opening auction uncrossed")
        self._reprice_pegs(force=True)  # parked pegs come back in entry order
        self._mark_to_market(price)
        self._lp_start()
        if self.config.perpetual is not None:
            self.perp = FundingCalculator(self.config.perpetual, self.chain.now)
            self.perp.add_internal(self.chain.now, price)
            if self.oracle_price:
                self.perp.add_external(self.chain.now, self.oracle_price)
        self._margins_and_closeouts()
        self.last_mark_time = self.chain.now
        return True

    def end_block(self) -> None:
        """Opening-auction uncrossing, then mark-to-market, margins, closeouts, disposal;
        pegs are repriced last."""
        self._end_block()
        if self.pegs:
            self._reprice_pegs()
        if self.state in (MarketState.ACTIVE, MarketState.SUSPENDED):
            self._lp_block_end()

    def _end_block(self) -> None:
        now = self.chain.now
        if self.state == MarketState.PENDING:
            self._maybe_end_opening_auction()
            return
        if self.state == MarketState.SUSPENDED:
            self._maybe_end_monitoring_auction()
        if self.state == MarketState.SUSPENDED:
            if self.perp is not None:
                self._maybe_settle_funding()  # funding goes on in auctions; no closeouts
            return
        if self.state != MarketState.ACTIVE:
            return
        mark_due = now - self.last_mark_time >= self._mark_freq_ns
        if mark_due:
            new_mark = self.last_trade_price if self.traded_since_mark else self.mark_price
            if self.monitor is not None and new_mark != self.mark_price:
                breached = self.monitor.breaches(now, new_mark)
                if breached:  # the mark price candidate breaches: auction, no mark update
                    self._enter_auction(breached, new_mark)
                    return
            if self.traded_since_mark or new_mark != self.mark_price:
                self._mark_to_market(new_mark)
            if self.perp is not None:
                self.perp.add_internal(now, self.mark_price)
        funded = self.perp is not None and self._maybe_settle_funding()
        if mark_due or funded:
            self._margins_and_closeouts()
        if mark_due:
            self.last_mark_time = now
        if now - self._last_disposal >= self._disposal_step_ns:
            self._dispose()
            self._last_disposal = now

    # ------------------------------------------------------------- governance
    IMMUTABLE = ("market_id", "asset", "decimal_places", "tick_size", "position_decimal_places",
                 "opening_auction_duration_s")

    def _merged_config(self, changes: dict) -> MarketConfig:
        """The config with ``changes`` (nested dicts merge into nested models).

        Raises:
            ValueError / pydantic.ValidationError: an immutable or unknown field, a bad value.
        """
        fixed = sorted(set(changes) & set(self.IMMUTABLE))
        if fixed:
            raise ValueError(f"cannot change {', '.join(fixed)} of a running market")
        if "perpetual" in changes and (changes["perpetual"] is None) != (self.config.perpetual is None):
            raise ValueError("cannot turn a future into a perpetual or back")

        def merge(base: dict, upd: dict) -> dict:
            out = dict(base)
            for k, v in upd.items():
                if isinstance(v, dict) and isinstance(out.get(k), dict) and "kind" not in v:
                    out[k] = merge(out[k], v)
                else:
                    out[k] = v
            return out

        return MarketConfig.model_validate(merge(self.config.model_dump(), changes))

    def validate_update(self, changes: dict) -> str:
        """"" if ``changes`` make a valid config for this market, else why not."""
        if self.state not in _TRADING_STATES:
            return f"market {self.market_id} is {self.state}"
        try:
            self._merged_config(changes)
        except Exception as exc:  # pydantic.ValidationError, ValueError
            return " ".join(str(exc).split())
        return ""

    def apply_update(self, changes: dict) -> str:
        """Enact a parameter change (governance). Risk factors, margin levels, fees,
        closeout, price monitoring (reset to the current mark), liquidity and funding
        parameters take effect now; margins follow at the next mark-to-market."""
        why = self.validate_update(changes)
        if why:
            return why
        cfg = self._merged_config(changes)
        old = self.config
        self.config = cfg
        self.risk_factors = risk_factors_for(cfg.risk_model)
        self.margin_calc = MarginCalculator(cfg, self.risk_factors, self.price_factor)
        for ps in self.parties.values():  # cached per-unit maintenance is stale now
            ps.mm_key = None
        lp_factor = self.fees.liquidity
        self.fees = FeeCalculator(cfg.fees, self.price_factor, cfg.position_decimal_places)
        if self.liquidity.parties() and "liquidity" not in changes.get("fees", {}):
            self.fees.liquidity = lp_factor  # the LPs' factor stands
        self._mark_freq_ns = int(cfg.mark_price_frequency_s * NS)
        cp = cfg.closeout
        self._disposal_step_ns = int(cp.disposal_time_step_s * NS)
        self._disposal_fraction = to_fixed(cp.disposal_fraction)
        self._max_consumed = to_fixed(cp.max_fraction_consumed)
        self._slippage = to_fixed(cp.slippage_range)
        self._min_auction_ns = int(cfg.min_auction_duration_s * NS)
        if (cfg.price_monitoring, cfg.price_monitoring_bounds, cfg.risk_model) != (
                old.price_monitoring, old.price_monitoring_bounds, old.risk_model):
            self.monitor = None
            if cfg.price_monitoring.triggers:
                rm = cfg.risk_model
                mu, sigma = (rm.mu, rm.sigma) if rm.kind == "lognormal" else (0.0, 0.0)
                self.monitor = PriceMonitor(cfg.price_monitoring, mu, sigma,
                                            factors=cfg.price_monitoring_bounds)
                if self.mark_price:
                    self.monitor.reset(self.chain.now, self.mark_price)
        if cfg.liquidity != old.liquidity:
            self.liquidity.update_params(cfg.liquidity)
        self._bond_penalty_factor = to_fixed(cfg.liquidity.bond_penalty_factor)
        if self.perp is not None and cfg.perpetual != old.perpetual:
            self.perp.update_params(cfg.perpetual)
        c = self.chain
        c.emit(MarketStateChanged(c.block, c.now, self.market_id, self.state,
                                  f"parameters updated: {sorted(changes)}"))
        return ""

    def close(self, price: int) -> None:
        """Governance closes the market: trading ends and positions settle at ``price``;
        the market is CLOSED (a market still in its opening auction is CANCELLED)."""
        if self.state in _TRADING_STATES:
            self.terminate()
        if self.state == MarketState.TRADING_TERMINATED:
            self.settle(price, final_state=MarketState.CLOSED)

    def submit_oracle_price(self, price: int) -> None:
        """An external (oracle) price in raw ticks: the perpetual's external series."""
        if not isinstance(price, int) or price <= 0 or price > MAX_INT:
            raise ValueError(f"oracle price must be a positive integer up to {MAX_INT}, got {price!r}")
        self.oracle_price = price
        c = self.chain
        c.emit(OraclePrice(c.block, c.now, self.market_id, price))
        if self.perp is not None:
            self.perp.add_external(c.now, price)

    def _maybe_settle_funding(self) -> bool:
        """End a due funding period and settle its payments like mark-to-market."""
        if not self.perp.period_due(self.chain.now):
            return False
        self._settle_funding()
        return True

    def _settle_funding(self) -> None:
        res = self.perp.end_period(self.chain.now)
        c = self.chain
        c.emit(FundingPeriodEnded(c.block, c.now, self.market_id, res.seq, res.start_ns, res.end_ns,
                                  res.internal_twap or 0, res.external_twap or 0,
                                  res.funding_payment, res.funding_rate, res.skipped, res.reason or ""))
        if res.skipped or not res.funding_payment:
            return
        pay = res.funding_payment
        self._transfer_flows([(ps, -ps.position * pay) for ps in self.parties.values() if ps.position],
                             "funding")

    def _set_state(self, state: MarketState, detail: str = "") -> None:
        self.state = state
        self.in_auction = state in (MarketState.PENDING, MarketState.SUSPENDED)
        c = self.chain
        c.emit(MarketStateChanged(c.block, c.now, self.market_id, state, detail))

    # ------------------------------------------------------------------ auction
    def _uncross(self, price: int, volume: int, auction: str) -> None:
        """Trade the crossed volume at ``price`` (section 2); no fees in the opening auction."""
        c = self.chain
        pairs = self.book.uncross_plan(price, volume)
        touched: dict[str, PartyState] = {}
        charge = auction == "price_monitoring"
        for b, s, f in pairs:
            self._fill_passive(b, f)
            self._fill_passive(s, f)
            bps, sps = self.parties[b.party], self.parties[s.party]
            bf = sf = 0
            if charge:  # no maker fee; each side pays half of the other two (section 7)
                fi, fl = self.fees.auction_half(f, price)
                bf = self._pay_fees_up_to(bps, fi, fl)
                sf = self._pay_fees_up_to(sps, fi, fl)
            self._apply_trade(bps, sps, f, price)
            touched[b.party] = bps
            touched[s.party] = sps
            self.trade_seq += 1
            self._trade(self.trade_seq, price, f, b.party, s.party, 0, b.order_id, s.order_id,
                        TradeType.AUCTION, bf, sf)
            self.volume_traded += f
        self.last_trade_price = price
        self.traded_since_mark = True
        c.emit(AuctionEnded(c.block, c.now, self.market_id, price, volume, auction))
        # GFA orders leave when the auction ends
        for o in list(self.orders.values()):
            if o.tif == TimeInForce.GFA:
                self._cancel_order(o, self.parties[o.party], OrderStatus.CANCELLED, Reason.AUCTION_ENDED)

    def _pay_fees_up_to(self, ps: PartyState, infra: int, liquidity: int) -> int:
        """Auction fees from general then margin, as far as the party can pay (an
        uncrossing trade cannot be refused); returns what was paid."""
        led = self.ledger
        paid = 0
        for amount, dest, kind in ((infra, self.infra_key, "fee_infrastructure"),
                                   (liquidity, self.liquidity_key, "fee_liquidity")):
            got = led.transfer_up_to(ps.general_key, dest, amount, kind)
            if got < amount:
                got += led.transfer_up_to(ps.margin_key, dest, amount - got, kind)
            paid += got
        return paid

    # --------------------------------------------------------------- invariants
    def invariant_errors(self) -> list[str]:
        errors = [f"{self.market_id}: {e}" for e in self.book.check()]
        if self._margin_errors:
            errors += [f"{self.market_id}: after the margin update: {e}" for e in self._margin_errors]
            self._margin_errors = []
        if not self.in_auction and self.book.is_crossed():
            errors.append(f"{self.market_id}: resting book crossed outside an auction "
                          f"(bid {self.book.best_bid()} >= ask {self.book.best_ask()})")
        bal = self.ledger.balance(self.settlement_key)
        if bal:
            errors.append(f"{self.market_id}: settlement account holds {bal} between blocks")
        total = sum(ps.position for ps in self.parties.values())
        if total:
            errors.append(f"{self.market_id}: positions sum to {total}, not 0")
        oi = sum(ps.position for ps in self.parties.values() if ps.position > 0)
        if oi != self._open_interest:
            errors.append(f"{self.market_id}: open interest {self._open_interest} but long positions sum to {oi}")
        for o in self.orders.values():
            if not o.resting:
                if not o.peg_reference or o.status != OrderStatus.PARKED:
                    errors.append(f"{self.market_id}: live order {o.order_id} is neither resting nor a parked peg")
                continue
            if o.price % self.tick or o.price <= 0 or o.remaining <= 0:
                errors.append(f"{self.market_id}: order {o.order_id} rests off the market's rules")
        if self.pegs:
            bid, ask = self.book.static_best(1), self.book.static_best(-1)
            for o in self.pegs.values():
                want = None if self.in_auction else self._peg_price(o, bid, ask)
                if (o.price if o.resting else None) != want:
                    errors.append(f"{self.market_id}: peg {o.order_id} at {o.price if o.resting else 'parked'}, "
                                  f"its reference gives {want}")
        return errors

    # -------------------------------------------------------------- read views
    def open_interest(self) -> int:
        """Sum of long positions (raw); kept up to date as positions change."""
        return self._open_interest
