"""Liquidity provision in the market (spec section 8; 0044-LIME, 0042-LIQF, 0041-TSTK).

A mixin of :class:`~defisim.protocols.futures.market.FuturesMarket`. The
:class:`~defisim.protocols.futures.liquidity.LiquidityEngine` decides (commitments,
fee factor, target stake, time on book, fee split, penalties, slashing); this
module moves the money it decides and emits the events:

- LP transactions move the bond between the party's general and bond accounts;
- every trade but closeout transfers feeds the engine's market value (ELS growth);
- at each block end (after mark-to-market and closeouts) the LPs are measured on
  the book; at each epoch end the engine's transfers are made (fees from the
  market's liquidity fee account to general, slashes and early-exit penalties
  from bond to the insurance pool, releases from bond to general) and the
  market's liquidity fee factor is chosen again;
- a party whose margin needs its bond pays a bond penalty to the insurance pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.numeric.fixed import ONE, ceil_div, to_fixed

from . import accounts as acct
from .events import LiquidityEpochEnded, LiquidityProvisionUpdated
from .state import LiquidityResult
from .types import MarketState

if TYPE_CHECKING:
    from .liquidity import EpochResult

_OPEN = (MarketState.PENDING, MarketState.ACTIVE, MarketState.SUSPENDED)


class ProvisionMixin:
    """Liquidity commitments and their epochs."""

    # ----------------------------------------------------------- transactions
    def submit_liquidity(self, party: str, commitment: int, fee: float | str) -> LiquidityResult:
        """Commit ``commitment`` base units of bond with fee bid ``fee`` (a fraction).

        Returns a :class:`LiquidityResult`: true when the bond moved, else false with
        the reason code (a rejection event is emitted)."""
        if self.state not in _OPEN:
            return self._lp_reject("submit_liquidity", party, "MARKET_NOT_TRADING", f"market is {self.state}")
        if party not in self.ledger.parties:
            return self._lp_reject("submit_liquidity", party, "PARTY_NOT_FOUND", f"unknown party {party!r}")
        try:
            fee_fixed = to_fixed(fee)
        except ValueError as exc:
            return self._lp_reject("submit_liquidity", party, "INVALID_FEE", str(exc))
        ps = self.party_state(party)
        act = self.liquidity.submit(party, commitment, fee_fixed, self.chain.now,
                                    self.ledger.balance(ps.general_key))
        return self._lp_apply("submit_liquidity", party, act)

    def amend_liquidity(self, party: str, commitment: int | None = None,
                        fee: float | str | None = None) -> LiquidityResult:
        """Change a commitment (bond moves now for increases, at the epoch end for
        decreases, with the early-exit penalty) or its fee bid; a
        :class:`LiquidityResult`."""
        ps = self.parties.get(party)
        if ps is None or not self.liquidity.is_liquidity_provider(party):
            return self._lp_reject("amend_liquidity", party, "NOT_LIQUIDITY_PROVIDER", f"{party!r} has no commitment")
        try:
            fee_fixed = None if fee is None else to_fixed(fee)
        except ValueError as exc:
            return self._lp_reject("amend_liquidity", party, "INVALID_FEE", str(exc))
        bal = self.ledger.balance
        act = self.liquidity.amend(party, self.chain.now, bal(ps.general_key), bal(ps.bond_key),
                                   commitment=commitment, fee=fee_fixed)
        return self._lp_apply("amend_liquidity", party, act)

    def cancel_liquidity(self, party: str) -> LiquidityResult:
        """Cancel a commitment; the bond returns at the epoch end (less any penalty).
        A :class:`LiquidityResult`."""
        ps = self.parties.get(party)
        if ps is None or not self.liquidity.is_liquidity_provider(party):
            return self._lp_reject("cancel_liquidity", party, "NOT_LIQUIDITY_PROVIDER", f"{party!r} has no commitment")
        act = self.liquidity.cancel(party, self.chain.now, self.ledger.balance(ps.bond_key))
        return self._lp_apply("cancel_liquidity", party, act)

    def _lp_reject(self, tx: str, party: str, reason: str, detail: str) -> LiquidityResult:
        self.chain.reject(tx, party, self.market_id, reason, detail)
        return LiquidityResult.rejected(reason, detail)

    def _lp_apply(self, tx: str, party: str, act) -> LiquidityResult:
        if act.reason:
            return self._lp_reject(tx, party, act.reason, act.detail)
        ps = self.party_state(party)
        led = self.ledger
        if act.to_bond:
            led.transfer(ps.general_key, ps.bond_key, act.to_bond, "lp_bond")
        if act.to_general:
            led.transfer(ps.bond_key, ps.general_key, act.to_general, "lp_bond_release")
        self._emit_provision(party, tx)
        return LiquidityResult.executed()

    def _emit_provision(self, party: str, what: str) -> None:
        p = self.liquidity.provision(party)
        c = self.chain
        c.emit(LiquidityProvisionUpdated(
            c.block, c.now, self.market_id, party,
            p.commitment if p is not None else 0,
            p.fee if p is not None else 0,
            p.pending_commitment if p is not None and p.pending_commitment is not None else -1,
            what))

    # ---------------------------------------------------------------- hooks
    def _lp_start(self) -> None:
        """The opening auction ended: commitments made in it are live; choose the fee."""
        now = self.chain.now
        self.liquidity.start(now)
        self._lp_record_open_interest()
        self._lp_set_fee_factor()

    def _lp_record_open_interest(self) -> None:
        """Record the open interest for the target stake: the peak since the last record,
        then the current value. Vega 0041-TSTK takes the max open interest of every change
        in the window, also several changes within one block (70 -> 130 -> 110 counts 130);
        the market keeps that peak as trades change positions (``_apply_trade``). Records
        happen within the block of the peak, so the block's time stands for its time."""
        now = self.chain.now
        oi = self._open_interest
        if self._oi_peak > oi:
            self.liquidity.record_open_interest(now, self._oi_peak)
        self.liquidity.record_open_interest(now, oi)
        self._oi_peak = oi

    def _lp_target_stake_query(self) -> int:
        """:meth:`_lp_target_stake` now, changing nothing: a query must not record open
        interest (the state, and so a replay's state hash, would depend on who looked)."""
        liq = self.liquidity
        saved = (liq._oi.copy(), self._oi_peak)
        try:
            return self._lp_target_stake()
        finally:
            liq._oi, self._oi_peak = saved

    def _lp_target_stake(self) -> int:
        self._lp_record_open_interest()  # changes made earlier in this block count too
        price = self.mark_price or self.indicative()[0]
        rf = self.risk_factors
        return self.liquidity.target_stake(self.chain.now, price, rf.long, rf.short)

    def _lp_set_fee_factor(self) -> None:
        if self.liquidity.parties():
            self.fees.liquidity = self.liquidity.fee_factor(self._lp_target_stake())

    def _lp_block_end(self) -> None:
        """Measure the LPs on the book and end the epoch when it is due."""
        eng = self.liquidity
        now = self.chain.now
        self._lp_record_open_interest()
        if not eng.parties():
            if eng.epoch_due(now):
                self._lp_end_epoch()
            return
        book = self.book
        parties = self.parties
        eng.observe(
            now,
            {p: parties[p].orders.values() for p in eng.active_parties() if p in parties},
            best_bid=book.static_best(1), best_ask=book.static_best(-1),
            mark_price=self.mark_price, in_auction=self.in_auction,
            last_trade_price=self.last_trade_price,
            indicative_price=self.indicative()[0] if self.in_auction else 0,
        )
        if eng.epoch_due(now):
            self._lp_end_epoch()

    def _lp_end_epoch(self) -> None:
        eng = self.liquidity
        ts = self._lp_target_stake()
        bonds = {p: self.ledger.balance(acct.bond(p, self.market_id, self.asset)) for p in eng.parties()}
        res = eng.end_epoch(self.chain.now, self.ledger.balance(self.liquidity_key), bonds, ts)
        self._lp_transfers(res)
        self._lp_set_fee_factor()
        c = self.chain
        c.emit(LiquidityEpochEnded(c.block, c.now, self.market_id, res.epoch_start, res.epoch_end,
                                   self.fees.liquidity, ts, eng.supplied_stake(),
                                   res.fees_paid))
        for p in res.removed:
            self._emit_provision(p, "removed")

    def _lp_transfers(self, res: EpochResult) -> None:
        led = self.ledger
        for t in res.transfers():
            src = self.liquidity_key if t.source == "fee" else acct.bond(t.party, self.market_id, self.asset)
            if t.destination == "insurance":
                dst = self.insurance_key
            else:
                dst = acct.general(t.party, self.asset)
            led.transfer(src, dst, t.amount, t.kind)

    def _lp_close(self) -> None:
        """Settlement or closure: pay out the last fees and return every bond."""
        eng = self.liquidity
        if not eng.parties():
            return
        bonds = {p: self.ledger.balance(acct.bond(p, self.market_id, self.asset)) for p in eng.parties()}
        res = eng.close(self.chain.now, self.ledger.balance(self.liquidity_key), bonds)
        self._lp_transfers(res)

    def _bond_penalty(self, ps, taken_from_bond: int) -> None:
        """A margin shortfall covered from the bond costs ``ceil(factor x amount)`` of
        bond to the insurance pool (0044-LIME, bond penalty parameter)."""
        factor = self._bond_penalty_factor
        if not factor or taken_from_bond <= 0:
            return
        penalty = ceil_div(taken_from_bond * factor, ONE)
        self.ledger.transfer_up_to(ps.bond_key, self.insurance_key, penalty, "lp_bond_penalty")
