"""The mediation side of the ``compute`` protocol (``compute-marketplace.md`` 4.3.5,
4.3.6, 4.4): a client's challenge, a panel mediator's verdict, and the resolution of
a mediation (verdicts tallied, fees paid, a wrong result slashed), mixed into
:class:`~.protocol.ComputeProtocol` (which supplies the chain, the deals, the
registry and the helpers ``_live_deal``, ``_close``)."""

from __future__ import annotations

from typing import Any

from defisim.chain.transactions import EXECUTED, Receipt

from . import events as ev
from . import settlement
from .deals import Deal
from .mediation import CHALLENGE, PENDING, VOID, WRONG, Mediation
from .params import NAME


class MediationTransactions:
    """``challenge`` and ``mediate``, the mediation requests and their settlement."""

    chain: Any
    params: Any
    registry: Any
    draws: Any
    deals: dict[str, Deal]
    by_validation: dict[str, str]
    mediations: list[Mediation]
    pending: dict[str, Mediation]

    def tx_challenge(self, sender: str, escrow_uid: str) -> Receipt:
        """Spec 4.3.5: the client asks for mediation before the challenge deadline."""
        tx = "challenge"
        d = self._live_deal(tx, sender, escrow_uid, "client")
        if not isinstance(d, Deal):
            return d
        if not d.result_uid:
            return self.reject(tx, sender, "no_result", "no result posted", d.escrow_uid)
        if d.method == "none":
            return self.reject(tx, sender, "no_validation", "method none has no validation", d.escrow_uid)
        if d.validation_uid in self.pending:
            return self.reject(tx, sender, "mediation_pending", "a mediation is pending", d.escrow_uid)
        if self.now_s > d.challenge_deadline:
            return self.reject(tx, sender, "period_closed", f"challenges closed at {d.challenge_deadline}",
                               d.escrow_uid)
        left = d.terms.client_deposit - d.fees_paid
        if left < d.panel_fee:
            return self.reject(tx, sender, "deposit_too_small", f"D left {left} < k*f {d.panel_fee}",
                               d.escrow_uid)
        self._request_mediation(d, CHALLENGE, sender, -1.0)
        return Receipt(EXECUTED, block=self.chain.block)

    def tx_mediate(self, sender: str, validation_uid: str, correct: bool) -> Receipt:
        """Spec 4.3.6: a panel mediator's verdict; value: the verdict uid."""
        tx = "mediate"
        uid = self.by_validation.get(validation_uid) if isinstance(validation_uid, str) else None
        if uid is None:
            return self.reject(tx, sender, "unknown_validation", f"no validation {validation_uid!r}")
        m = self.pending.get(validation_uid)
        if m is None:
            return self.reject(tx, sender, "no_mediation", "no mediation is pending", uid)
        if sender not in m.panel:
            return self.reject(tx, sender, "not_on_panel", f"panel is {list(m.panel)}", uid)
        if sender in m.verdicts:
            return self.reject(tx, sender, "already_voted", "one verdict per mediator", uid)
        if self.now_s > m.deadline:
            return self.reject(tx, sender, "mediation_timeout", f"verdicts were due by {m.deadline}", uid)
        ok = bool(correct)
        vuid = self.registry.attest("verdict", self.now_s, sender, NAME, {"correct": ok},
                                    ref_uid=validation_uid).uid
        m.verdicts[sender] = ok
        self.chain.emit(ev.VerdictPosted(*self.chain.stamp(), uid, sender, vuid, ok))
        self._settle(m, sender)
        return Receipt(EXECUTED, block=self.chain.block, value=vuid)


    # -- mediation ------------------------------------------------------------------
    def _request_mediation(self, d: Deal, kind: str, challenger: str, u: float) -> None:
        t = d.terms
        panel = self.draws.panel(t.mediators, t.panel)
        now = self.now_s
        m = Mediation(d.escrow_uid, d.validation_uid, kind, challenger, panel, t.threshold, now,
                      now + self.params.mediation_timeout_s)
        self.mediations.append(m)
        self.pending[d.validation_uid] = m
        d.mediations.append(kind)
        self.chain.emit(ev.MediationRequested(*self.chain.stamp(), d.escrow_uid, challenger or NAME, kind,
                                              d.validation_uid, panel, u))

    def _settle(self, m: Mediation, party: str) -> None:
        """Resolve ``m`` if its verdicts (or the clock) decide it (spec 4.3.6, 4.4)."""
        outcome = m.tally(self.now_s)
        if outcome == PENDING:
            return
        m.outcome = outcome
        del self.pending[m.validation_uid]
        d = self.deals[m.escrow_uid]
        voters = tuple(x for x in m.panel if x in m.verdicts)
        led = self.chain.ledger
        fees = 0
        if outcome == WRONG:
            self.registry.revoke(d.validation_uid, NAME, self.now_s)
            paid = settlement.slash(led, d, voters, self.params, m.challenger)
            fees = paid["mediators"]
        elif outcome != VOID:
            fees = settlement.pay_fees(led, d, voters)
        self.chain.emit(ev.MediationResolved(*self.chain.stamp(), d.escrow_uid, party, outcome, fees,
                                             m.dropped()))
        if outcome == WRONG:
            self._close(d, "slashed", party, paid)

    def end_block(self) -> None:
        """Mediations past their deadline drop their silent mediators and resolve."""
        if not self.pending:
            return
        now = self.now_s
        for m in [m for m in self.pending.values() if now > m.deadline]:
            self._settle(m, NAME)
