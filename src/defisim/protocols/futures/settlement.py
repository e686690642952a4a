"""Mark-to-market and final settlement cash flows (spec sections 5 and 9, 0003-MTMK, 0002-STTL).

A mixin of :class:`~defisim.protocols.futures.market.FuturesMarket`: it reads the
market's parties, ledger and accounts and moves money through the market's
settlement account, which is empty again when each method returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import accounts as acct
from .accounts import NETWORK_PARTY
from .events import LossSocialised, MarketSettled, MarkPriceUpdated
from .types import MarketState, OrderStatus, Reason

if TYPE_CHECKING:
    from .state import PartyState


class SettlementMixin:
    """Mark-to-market, loss socialisation, trading termination and final settlement."""

    def _mark_to_market(self, new_mark: int) -> None:
        """Settle every position to ``new_mark`` (section 5) and set the mark price."""
        self._settle_flows(new_mark, "mtm")
        if new_mark != self.mark_price:
            self.mark_price = new_mark
            c = self.chain
            c.emit(MarkPriceUpdated(c.block, c.now, self.market_id, new_mark))
        self.traded_since_mark = False

    def _settle_flows(self, new_price: int, kind: str) -> None:
        """Settle every position and the trades since the last mark to ``new_price`` (section 5).

        Per party, ``amount = V_prev (P_new - P_prev) + sum q_i (P_new - price_i)`` in
        raw price x size units; :meth:`_transfer_flows` moves the money.
        """
        prev = self.mark_price
        flows: list[tuple[PartyState, int]] = []
        for ps in self.parties.values():
            q = ps.mtm_q
            if ps.position == 0 and q == 0 and ps.mtm_qp == 0:
                continue
            raw = (ps.position - q) * (new_price - prev) + new_price * q - ps.mtm_qp
            ps.mtm_q = 0
            ps.mtm_qp = 0
            if raw:
                flows.append((ps, raw))
        self._transfer_flows(flows, kind)

    def _transfer_flows(self, flows: list[tuple[PartyState, int]], kind: str) -> None:
        """Collect losses into the settlement account, then pay winners.

        ``flows`` are signed raw amounts (price units x raw size; > 0 receives), in
        base units ``amount * price_factor / 10^PDP``: losses round up, wins down.
        Losers pay from margin, general, bond, then the insurance pool (the network
        party from the pool only). If less was collected than owed, winners get
        ``floor(gain * collected / owed)`` and the last winner the rounding
        remainder (loss socialisation); rounding dust left when everything was
        collected goes to the insurance pool, so the settlement account ends at 0.
        Used by mark-to-market, final settlement and perpetual funding.
        """
        led = self.ledger
        balances = led.balances
        pf, d = self.price_factor, self.position_factor
        settle, ins = self.settlement_key, self.insurance_key
        winners: list[tuple[PartyState, int]] = []
        paid_in: list[tuple] = []  # losses fully covered by margin, moved as one batch
        k = f"{kind}_loss"
        for ps, raw in flows:
            if raw > 0:
                winners.append((ps, raw * pf // d))
                continue
            loss = -(raw * pf // d)  # ceil
            if not loss:
                continue
            if balances.get(ps.margin_key, 0) >= loss and ps.party != NETWORK_PARTY:
                paid_in.append((ps.margin_key, settle, loss))
                continue
            if ps.party == NETWORK_PARTY:
                led.transfer_up_to(ins, settle, loss, k)
                continue
            got = led.transfer_up_to(ps.margin_key, settle, loss, k)
            if got < loss:
                got += led.transfer_up_to(ps.general_key, settle, loss - got, k)
            if got < loss:
                got += led.transfer_up_to(ps.bond_key, settle, loss - got, k)
            if got < loss:
                led.transfer_up_to(ins, settle, loss - got, f"{kind}_loss_insurance")
        led.transfer_batch(paid_in, k)
        owed = sum(w for _, w in winners)
        collected = led.balance(settle)
        c = self.chain
        if owed and collected < owed:
            paid = 0
            for i, (ps, w) in enumerate(winners):
                share = w * collected // owed
                if i == len(winners) - 1:
                    share = collected - paid
                paid += share
                dest = ins if ps.party == NETWORK_PARTY else ps.margin_key
                led.transfer(settle, dest, share, f"{kind}_win")
                if w - share:
                    c.emit(LossSocialised(c.block, c.now, self.market_id, ps.party, w - share))
        else:
            led.transfer_batch(
                [(settle, ins if ps.party == NETWORK_PARTY else ps.margin_key, w)
                 for ps, w in winners if w], f"{kind}_win")
            rest = led.balance(settle)
            if rest:
                led.transfer(settle, ins, rest, f"{kind}_rounding")

    def terminate(self) -> None:
        """Trading terminated (section 9): cancel every order; positions wait for settlement."""
        if self.state in (MarketState.TRADING_TERMINATED, MarketState.SETTLED, MarketState.CANCELLED, MarketState.CLOSED):
            return
        for o in list(self.orders.values()):
            self._cancel_order(o, self.parties[o.party], OrderStatus.CANCELLED, Reason.TRADING_TERMINATED)
        if self.state == MarketState.PENDING:
            self._set_state(MarketState.CANCELLED, "terminated before the opening auction ended")
            for ps in self.parties.values():
                self._margin_update(ps)
            return
        self._set_state(MarketState.TRADING_TERMINATED)

    def settle(self, price: int, final_state: MarketState = MarketState.SETTLED) -> None:
        """Final settlement at the oracle ``price`` (raw ticks, section 9).

        Each party receives ``V (price - last mark)`` plus the unsettled part of its
        trades since the last mark, collected and paid like mark-to-market (with
        loss socialisation); then margin and bond accounts return to general, the
        insurance pool goes to the global pool, and the market is SETTLED.

        Raises:
            ValueError: ``price`` is not a positive integer, or trading was not terminated.
        """
        if self.state != MarketState.TRADING_TERMINATED:
            raise ValueError(f"market {self.market_id} is {self.state}; terminate trading first")
        if not isinstance(price, int) or price <= 0:
            raise ValueError(f"settlement price must be a positive integer, got {price!r}")
        if self.perp is not None:  # a perpetual closing: last funding period first
            self._settle_funding()
        self._settle_flows(price, "settlement")
        self._lp_close()  # last liquidity fees out, bonds back (before the releases below)
        led = self.ledger
        self._open_interest = 0
        for ps in self.parties.values():
            ps.settle_at(price)
            if ps.party == NETWORK_PARTY:
                continue
            led.transfer_all(ps.margin_key, ps.general_key, "settlement_release")
            led.transfer_all(ps.bond_key, ps.general_key, "bond_release")
        led.transfer_all(self.insurance_key, acct.global_insurance(self.asset), "insurance_to_global")
        self.settlement_price = price
        c = self.chain
        c.emit(MarketSettled(c.block, c.now, self.market_id, price))
        self._set_state(final_state)
