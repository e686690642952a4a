"""Position resolution (spec section 6, 0012-POSR): distressed parties, closeouts to the
network party, and the network party's gradual disposal of what it took over.

A mixin of :class:`~defisim.protocols.futures.market.FuturesMarket`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.numeric.fixed import ONE, ceil_div

from .accounts import NETWORK_PARTY
from .events import MarginLevelsBreached, PositionClosedOut
from .types import Order, OrderStatus, OrderType, Reason, TimeInForce, TradeType

if TYPE_CHECKING:
    from .state import PartyState


class CloseoutMixin:
    """Closeouts and the network party's disposal orders."""

    def _margins_and_closeouts(self) -> None:
        """After mark-to-market: margin update for everyone, then closeouts (section 6);
        with invariant checks on, the result is checked (:meth:`_margin_consistency`)."""
        self._update_margins_and_close_out()
        if self.chain.check_invariants:
            self._margin_errors = self._margin_consistency()

    def _margin_consistency(self) -> list[str]:
        """Right after the margin update: every party's margin account agrees with its
        levels. A party with exposure holds at most its release level (unless in an
        auction), at least maintenance (else it would have been closed out), and below
        search only when neither general nor bond could top it up; a party with no
        exposure holds no margin."""
        errors = []
        bal = self.ledger.balance
        auction = self.in_auction
        for ps in self.parties.values():
            if ps.party == NETWORK_PARTY:
                continue
            m = bal(ps.margin_key)
            if not ps.position and not ps.orders:
                if m:
                    errors.append(f"{ps.party} has no exposure but {m} in margin")
                continue
            lv = self.margin_calc.levels(self.maintenance_for(ps))
            if m > lv.release and not auction:
                errors.append(f"{ps.party}: margin {m} above release level {lv.release}")
            elif m < lv.maintenance and ps.position:
                errors.append(f"{ps.party}: margin {m} below maintenance {lv.maintenance} after closeouts")
            elif m < lv.search and (bal(ps.general_key) or bal(ps.bond_key)):
                errors.append(f"{ps.party}: margin {m} below search {lv.search} with funds left to top up")
        return errors

    def _update_margins_and_close_out(self) -> None:
        # every party: a flat one may have just been paid a mark-to-market win into margin
        if self.perp is None and not self.in_auction and self.mark_price:
            distressed = self._margin_pass()
        else:
            distressed = [ps for ps in list(self.parties.values()) if self._margin_update(ps)]
        if not distressed:
            return
        c = self.chain
        led = self.ledger
        for ps in distressed:
            mm = self.maintenance_for(ps)
            c.emit(MarginLevelsBreached(c.block, c.now, self.market_id, ps.party, mm, led.balance(ps.margin_key)))
            for o in list(ps.orders.values()):
                self._cancel_order(o, ps, OrderStatus.CANCELLED, Reason.DISTRESSED)
            if ps.position == 0:
                self._margin_update(ps)
                continue
            mm = self.maintenance_for(ps)
            if led.balance(ps.margin_key) >= mm:
                self._margin_update(ps)  # cancelling its orders saved it: release the excess
                continue
            self._close_out(ps)

    def _margin_pass(self) -> list[PartyState]:
        """:meth:`_margin_update` for every party in continuous trading, returning the
        distressed ones; a party whose margin lies within [search, release] (the usual
        case after a mark-to-market) is decided with one multiplication from its cached
        per-unit maintenance instead of the full update."""
        calc = self.margin_calc
        # maintenance = ceil(price * unit * price_factor / den) (MarginCalculator.maintenance_at)
        scale, den = self.mark_price * self.price_factor, calc.denominator
        s_f, r_f = calc.search_factor, calc.release_factor
        unit = calc.unit
        balances = self.ledger.balances
        update = self._margin_update
        out = []
        for ps in list(self.parties.values()):
            v = ps.position
            if not v and not ps.orders:
                if balances.get(ps.margin_key) and update(ps):
                    out.append(ps)
                continue
            if ps.party == NETWORK_PARTY:
                continue
            # FuturesMarket._unit inlined: this loop runs for every party at every mark
            key = (v, ps.buy_volume, ps.sell_volume)
            if ps.mm_key != key:
                ps.mm_key = key
                ps.mm_unit = unit(v, key[1], key[2])
            b = balances.get(ps.margin_key, 0)
            mm = -(-(scale * ps.mm_unit) // den) if ps.mm_unit > 0 else 0
            if mm * s_f // ONE <= b <= mm * r_f // ONE:
                if b < mm:
                    out.append(ps)
            elif update(ps):
                out.append(ps)
        return out

    def _close_out(self, ps: PartyState) -> None:
        """Move ``ps``'s whole position to the network party at the mark price."""
        c = self.chain
        price = self.mark_price
        size = ps.position
        net = self.party_state(NETWORK_PARTY)
        self._apply_trade(ps, net, -size, price)
        self.trade_seq += 1
        if size > 0:
            buyer, seller = NETWORK_PARTY, ps.party
        else:
            buyer, seller = ps.party, NETWORK_PARTY
        self._trade(self.trade_seq, price, abs(size), buyer, seller, 0, 0, 0, TradeType.CLOSEOUT, 0, 0)
        moved = self.ledger.transfer_all(ps.margin_key, self.insurance_key, "closeout_margin")
        if self.liquidity.is_liquidity_provider(ps.party):
            self.liquidity.stop(ps.party)
        self.closeouts += 1
        c.emit(PositionClosedOut(c.block, c.now, self.market_id, ps.party, size, price, moved))

    def _dispose(self) -> None:
        """The network party sends one IOC order to unwind its position (section 6).

        Its trades do not feed the mark price (Vega 0012-POSR-026): they set neither
        ``last_trade_price`` nor ``traded_since_mark``."""
        net = self.parties.get(NETWORK_PARTY)
        if net is None or net.position == 0:
            return
        bb, ba = self.book.best_bid(), self.book.best_ask()
        if bb is None or ba is None:
            return
        cp = self.config.closeout
        pos = abs(net.position)
        side = -1 if net.position > 0 else 1
        mid2 = bb + ba  # twice the mid, to stay in integers
        if side < 0:  # selling into bids down to mid * (1 - slippage)
            edge = ceil_div(mid2 * (ONE - self._slippage), 2 * ONE)
            edge += (-edge) % self.tick
            opposite = self.book.volume_within(1, edge, bb)
        else:
            edge = (mid2 * (ONE + self._slippage)) // (2 * ONE)
            edge -= edge % self.tick
            opposite = self.book.volume_within(-1, ba, edge)
        if self.monitor is not None:
            # the network does not trade outside the price-monitoring bounds
            # (Vega 0012-POSR-026/030): its limit stops at the edge of the valid range
            valid = self.monitor.valid_price_range(self.chain.now)
            if valid is not None:
                low, high = valid
                if side < 0:
                    edge = max(edge, low + (-low) % self.tick)
                    opposite = self.book.volume_within(1, edge, bb)
                else:
                    edge = min(edge, high - high % self.tick)
                    opposite = self.book.volume_within(-1, ba, edge)
        if opposite == 0 or edge <= 0:
            return
        size = pos if pos <= cp.full_disposal_size else ceil_div(pos * self._disposal_fraction, ONE)
        size = min(size, ceil_div(self._max_consumed * opposite, ONE), pos)
        fills, _ = self.book.plan(side, edge, size, NETWORK_PARTY)
        if not fills:
            return
        fee_rows = [self.fees.continuous(f, p.price) for p, f in fills]
        total = sum(sum(r) for r in fee_rows)
        if self.ledger.balance(self.insurance_key) < total:
            fee_rows = [(0, 0, 0)] * len(fills)  # the pool cannot pay: trade without fees
        c = self.chain
        o = Order(self._next_order_id(), self.market_id, NETWORK_PARTY, side, OrderType.NETWORK,
                  TimeInForce.IOC, edge, size, 0, c.now)
        for (passive, f), (fm, fi, fl) in zip(fills, fee_rows, strict=True):
            price = passive.price
            pps = self.parties[passive.party]
            led = self.ledger
            led.transfer(self.insurance_key, pps.general_key, fm, "fee_maker")
            led.transfer(self.insurance_key, self.infra_key, fi, "fee_infrastructure")
            led.transfer(self.insurance_key, self.liquidity_key, fl, "fee_liquidity")
            self._fill_passive(passive, f)
            o.remaining -= f
            self._apply_trade(net, pps, side * f, price)
            self.trade_seq += 1
            fee = fm + fi + fl
            if side > 0:
                args = (NETWORK_PARTY, passive.party, side, o.order_id, passive.order_id, TradeType.NETWORK, fee, 0)
            else:
                args = (passive.party, NETWORK_PARTY, side, passive.order_id, o.order_id, TradeType.NETWORK, 0, fee)
            self._trade(self.trade_seq, price, f, *args)
            # no last_trade_price / traded_since_mark: a disposal trade does not move
            # the mark price (Vega 0012-POSR-026)
            self.volume_traded += f
            if self.monitor is not None:
                self.monitor.record_trade(c.now, price, f)
        o.status = OrderStatus.FILLED if o.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        self._emit_order(o)
        for passive, _ in fills:
            self._margin_update(self.parties[passive.party])
