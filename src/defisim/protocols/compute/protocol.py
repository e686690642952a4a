"""The ``compute`` chain protocol: escrow, collateral, results, validation and
mediation of compute deals (``compute-marketplace.md`` 4.1 to 4.7).

Transactions (``Transaction(sender, "compute", call, args)``; amounts are the terms'
integer base units, times integer seconds; every rule and rejection reason is spec
4.3's, a rejected call emits ``TransactionRejected`` and changes nothing):

- ``escrow(job_cid, terms, provider="")`` (client): P + D into escrow; value: the
  escrow uid. Reasons: ``bad_terms``, ``unknown_token``, ``bad_price``,
  ``no_mediators``, ``bad_panel``, ``deposit_too_small``, ``insufficient_funds``.
- ``cancel_escrow(escrow_uid)`` (client): ``unknown_escrow``, ``not_client``,
  ``escrow_closed``, ``already_committed``, ``commit_window_open``.
- ``commence(escrow_uid, machine_id="")`` (provider): T into collateral; value: the
  collateral uid. ``unknown_escrow``, ``commit_window_closed``, ``escrow_closed``,
  ``already_committed``, ``wrong_provider``, ``insufficient_funds``.
- ``post_result(escrow_uid, result_cid)`` (provider): C into collateral, T back,
  validation started, audit drawn under ``random(p)``; value: the result uid.
  ``unknown_escrow``, ``not_committed``, ``deadline_passed`` (before any check of
  the escrow's state), ``not_provider``, ``escrow_closed``, ``result_posted``,
  ``insufficient_funds``.
- ``collect(escrow_uid)`` (provider): ``unknown_escrow``, ``not_provider``,
  ``escrow_closed``, ``no_result``, ``mediation_pending``, ``period_open``.
- ``challenge(escrow_uid)`` (client): ``unknown_escrow``, ``not_client``,
  ``escrow_closed``, ``no_result``, ``no_validation`` (method ``none``),
  ``mediation_pending``, ``period_closed``, ``deposit_too_small``.
- ``mediate(validation_uid, correct)`` (a panel mediator; the agent re-runs the job):
  ``unknown_validation``, ``no_mediation``, ``not_on_panel``, ``already_voted``,
  ``mediation_timeout``.
- ``claim_timeout(escrow_uid)`` (client): ``unknown_escrow``, ``not_client``,
  ``escrow_closed``, ``not_committed``, ``result_posted``, ``deadline_not_reached``.
- ``approve(token)`` (anyone): an ERC20 allowance; the ledger has no allowances, so it
  only costs gas (4.7).
- ``set_l1_base_fee(wei)`` (the L1 fee oracle): the L1 base fee of the optional L1
  data fee (4.6, :mod:`.l1_fee`: ``not_oracle``, ``bad_fee``, ``insufficient_gas_funds``).

Messages (off-chain, no gas; :mod:`.messaging`): ``publish``, ``subscribe``,
``inbox``, ``rejections``, ``topic``, ``open_requests``; the bus delivers at each
block opening and a deal's close closes its topic (spec 2.3 row 11).

Reason codes are the spec's lower-case names. The protocol does not decide whether a
result is correct: the provider agent posts a CID (``result_cid(job_cid)`` when
honest) and mediator agents post verdicts; :meth:`ComputeProtocol.result_is_correct`
is the truth they consult. Capacity reservation (4.3.2) is the provider agent's.

Invariants (block end): each deal's escrow and collateral accounts hold what its
state says (:meth:`Deal.expected_escrow`); the ledger's conservation covers every
token across accounts, escrow and collateral.
"""

from __future__ import annotations

from typing import Any, ClassVar

from defisim.chain.ledger import general
from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import EXECUTED, Receipt

from . import events as ev
from . import settlement
from .attestations import AttestationRegistry
from .deals import (
    CLOSED,
    COMMITTED,
    DELIVERED,
    OPEN,
    TOPIC_REASON,
    Deal,
    collateral_key,
    escrow_key,
)
from .gas import GAS, REVERT_GAS
from .l1_fee import L1DataFeeMixin
from .mediation import AUDIT, Mediation, MediationDraws
from .mediation_tx import MediationTransactions
from .messaging import MessagingMixin
from .params import NAME, ComputeParams
from .schemas import register_statement_schemas
from .types import Terms, result_cid

NS = 1_000_000_000
MEDIATION_STREAM = "compute:mediation"


class ComputeProtocol(L1DataFeeMixin, MediationTransactions, MessagingMixin, ChainProtocol):
    """The compute marketplace's on-chain side (module docstring).

    Args:
        params: :class:`ComputeParams` or its fields (default: the spec's).

    Attributes:
        registry: the :class:`AttestationRegistry` (``registry.get(uid)``).
        deals: escrow uid -> :class:`Deal`. mediations: every check, in request order.
        draws: the mediation stream (:meth:`force_audit_draws` sets its next draws).
    """

    name: ClassVar[str] = NAME
    gas: ClassVar[dict[str, int]] = dict(GAS)
    revert_gas: ClassVar[int | None] = REVERT_GAS

    def __init__(self, params: ComputeParams | dict | None = None) -> None:
        self.params = params if isinstance(params, ComputeParams) else ComputeParams(**(params or {}))
        self.gas = dict(self.params.gas)  # type: ignore[misc]  # per instance: a parameter
        self.revert_gas = self.params.revert_gas  # type: ignore[misc]
        self.registry = AttestationRegistry()
        register_statement_schemas(self.registry)
        self.deals: dict[str, Deal] = {}
        self.by_validation: dict[str, str] = {}
        self.mediations: list[Mediation] = []
        self.pending: dict[str, Mediation] = {}
        self.approvals: set[tuple[str, str]] = set()

    def attach(self, chain: Any) -> None:
        super().attach(chain)
        self.draws = MediationDraws(chain.rng.generator(MEDIATION_STREAM))
        chain.ledger.reserve_party(self.params.treasury)
        chain.ledger.reserve_party(self.params.jackpot)
        self._attach_l1_fee(chain)
        self._attach_bus(chain)

    def begin_block(self) -> None:
        """Bus timers and deliveries due by the block's time (:mod:`.messaging`)."""
        self._deliver()

    # -- helpers ------------------------------------------------------------------
    @property
    def now_s(self) -> int:
        """Chain time in whole seconds (attestation times)."""
        return self.chain.now // NS

    def force_audit_draws(self, *us: float) -> None:
        """The next audit draws are ``us`` (a test's handle, spec 9(b))."""
        self.draws.force(*us)

    def result_is_correct(self, escrow_uid: str) -> bool | None:
        """Whether the deal's posted result is ``result_cid(job_cid)`` (``None``: no
        result): what an honest mediator's re-run finds."""
        d = self.deals.get(escrow_uid)
        if d is None or not d.result_cid:
            return None
        return d.result_cid == result_cid(d.job_cid)

    def _deal(self, tx: str, sender: str, uid: Any, role: str) -> Deal | Receipt:
        d = self.deals.get(uid) if isinstance(uid, str) else None
        if d is None:
            return self.reject(tx, sender, "unknown_escrow", f"no escrow {uid!r}", str(uid)[:64])
        who = d.client if role == "client" else d.provider
        if role and sender != who:
            reason = "not_client" if role == "client" else "not_provider"
            return self.reject(tx, sender, reason, f"{sender} is not the deal's {role} {who}", uid)
        return d

    def _live_deal(self, tx: str, sender: str, uid: Any, role: str) -> Deal | Receipt:
        """:meth:`_deal`, then the escrow-still-valid check (``escrow_closed``): the
        guard of every call whose rules check nothing before the escrow's state."""
        d = self._deal(tx, sender, uid, role)
        if isinstance(d, Deal) and (r := self._closed(tx, sender, d)) is not None:
            return r
        return d

    def _closed(self, tx: str, sender: str, d: Deal) -> Receipt | None:
        if not self.registry.valid(d.escrow_uid, self.now_s):
            return self.reject(tx, sender, "escrow_closed", f"escrow closed ({d.close_reason})", d.escrow_uid)
        return None

    def _funds(self, tx: str, sender: str, token: str, amount: int, uid: str) -> Receipt | None:
        have = self.chain.ledger.balance(general(sender, token))
        if have < amount:
            return self.reject(tx, sender, "insufficient_funds", f"{sender} holds {have} < {amount} {token}", uid)
        return None

    def _close(self, d: Deal, reason: str, party: str, paid: dict[str, int]) -> None:
        self.registry.revoke(d.escrow_uid, NAME, self.now_s)
        d.state, d.close_reason = CLOSED, reason
        self.chain.emit(ev.DealClosed(*self.chain.stamp(), d.escrow_uid, party, reason, TOPIC_REASON[reason],
                                      paid["client"],
                                      paid["provider"], paid["mediators"], paid["treasury"], paid["jackpot"]))
        self._chain_closed(d.escrow_uid, TOPIC_REASON[reason])  # spec 2.3 row 11

    # -- transactions -------------------------------------------------------------
    def tx_approve(self, sender: str, token: str) -> Receipt:
        """An ERC20 allowance for the escrow contracts: gas only (no ledger allowances)."""
        self.approvals.add((sender, str(token)))
        return Receipt(EXECUTED, block=self.chain.block)

    def tx_escrow(self, sender: str, job_cid: str, terms: Terms | dict, provider: str = "") -> Receipt:
        """Spec 4.3.1: move P + D into a new escrow; value: the escrow uid."""
        tx = "escrow"
        if isinstance(terms, dict):
            try:
                terms = Terms(**{**terms, "mediators": tuple(terms.get("mediators", ()))})
            except (TypeError, ValueError) as e:
                return self.reject(tx, sender, "bad_terms", str(e))
        if not isinstance(terms, Terms) or not isinstance(job_cid, str) or not isinstance(provider, str):
            return self.reject(tx, sender, "bad_terms", "terms must be Terms; job_cid and provider strings")
        t = terms
        if t.token not in self.chain.ledger.assets:
            return self.reject(tx, sender, "unknown_token", f"unknown token {t.token!r}")
        ints = (t.price, t.client_deposit, t.timeout_deposit, t.cheating_multiplier, t.instruction_count,
                t.mediation_fee, t.timeout_s, t.mediation_period_s)
        if any(type(x) is not int or x < 0 for x in ints) or t.price <= 0:
            return self.reject(tx, sender, "bad_price", "price must be a positive integer, amounts >= 0")
        if t.pricing == "per_instruction" and t.instruction_count <= 0:
            return self.reject(tx, sender, "bad_price", "per-instruction pricing needs N > 0")
        if t.verification != "none":
            if not t.mediators:
                return self.reject(tx, sender, "no_mediators", "a validated deal needs mediators")
            if not 1 <= t.threshold <= t.panel <= len(t.mediators):
                return self.reject(tx, sender, "bad_panel",
                                   f"need 1 <= threshold {t.threshold} <= panel {t.panel} <= {len(t.mediators)}")
        if t.verification == "random" and t.client_deposit < t.panel * t.mediation_fee:
            return self.reject(tx, sender, "deposit_too_small",
                               f"D {t.client_deposit} < k*f {t.panel * t.mediation_fee}")
        amount = t.max_payment + t.client_deposit
        if (r := self._funds(tx, sender, t.token, amount, "")) is not None:
            return r
        data = {"token": t.token, "amount": amount, "price": t.price, "arbiter": NAME,
                "demand": {"job_cid": job_cid, "terms_hash": t.hash, "provider": provider}}
        uid = self.registry.attest("escrow", self.now_s, sender, NAME, data).uid
        d = Deal(uid, sender, provider, job_cid, t, self.now_s)
        self.deals[uid] = d
        self.chain.ledger.transfer(general(sender, t.token), escrow_key(sender, t.token, uid), amount,
                                   "compute_escrow")
        self.chain.emit(ev.Escrowed(*self.chain.stamp(), uid, sender, provider, job_cid, amount))
        return Receipt(EXECUTED, block=self.chain.block, value=uid)

    def tx_cancel_escrow(self, sender: str, escrow_uid: str) -> Receipt:
        """Spec 4.3.8: P + D back to a client whose escrow was never committed."""
        tx = "cancel_escrow"
        d = self._live_deal(tx, sender, escrow_uid, "client")
        if not isinstance(d, Deal):
            return d
        if d.state != OPEN:
            return self.reject(tx, sender, "already_committed", "the provider has commenced", d.escrow_uid)
        if self.now_s <= d.escrow_time + self.params.commit_window_s:
            return self.reject(tx, sender, "commit_window_open",
                               f"window open until {d.escrow_time + self.params.commit_window_s}", d.escrow_uid)
        self._close(d, "cancelled", sender, settlement.refund(self.chain.ledger, d, with_collateral=False))
        return Receipt(EXECUTED, block=self.chain.block)

    def tx_commence(self, sender: str, escrow_uid: str, machine_id: str = "") -> Receipt:
        """Spec 4.3.2: lock T, attest the collateral; value: the collateral uid."""
        tx = "commence"
        d = self._deal(tx, sender, escrow_uid, "")
        if not isinstance(d, Deal):
            return d
        if self.now_s > d.escrow_time + self.params.commit_window_s:
            return self.reject(tx, sender, "commit_window_closed",
                               f"window closed at {d.escrow_time + self.params.commit_window_s}", d.escrow_uid)
        if (r := self._closed(tx, sender, d)) is not None:
            return r
        if d.state != OPEN:
            return self.reject(tx, sender, "already_committed", "the escrow is committed", d.escrow_uid)
        if d.provider and sender != d.provider:
            return self.reject(tx, sender, "wrong_provider", f"the escrow names {d.provider}", d.escrow_uid)
        t = d.terms
        if (r := self._funds(tx, sender, t.token, t.timeout_deposit, d.escrow_uid)) is not None:
            return r
        deadline = self.now_s + t.timeout_s
        data = {"token": t.token, "timeout_deposit": t.timeout_deposit, "machine_id": str(machine_id),
                "job_deadline": deadline}
        cuid = self.registry.attest("collateral", self.now_s, sender, NAME, data, ref_uid=d.escrow_uid).uid
        d.provider, d.state, d.collateral_uid, d.job_deadline = sender, COMMITTED, cuid, deadline
        self.chain.ledger.transfer(general(sender, t.token), collateral_key(sender, t.token, d.escrow_uid),
                                   t.timeout_deposit, "compute_timeout_deposit")
        self.chain.emit(ev.Commenced(*self.chain.stamp(), d.escrow_uid, sender, cuid, t.timeout_deposit,
                                     deadline))
        return Receipt(EXECUTED, block=self.chain.block, value=cuid)

    def tx_post_result(self, sender: str, escrow_uid: str, result: str,
                       instruction_count: int | None = None) -> Receipt:
        """Spec 4.3.3: attest the result, lock C, release T, start the validation, draw
        the audit under ``random(p)``; value: the result uid. ``instruction_count``:
        N_reported (default the terms' N), an int in 1..N under per-instruction pricing
        and N itself otherwise (``bad_instruction_count``)."""
        tx = "post_result"
        d = self._deal(tx, sender, escrow_uid, "")
        if not isinstance(d, Deal):
            return d
        if not d.collateral_uid:
            return self.reject(tx, sender, "not_committed", "the job was never commenced", d.escrow_uid)
        if self.now_s > d.job_deadline:  # before any check of the escrow's state (4.3.3)
            return self.reject(tx, sender, "deadline_passed", f"job deadline was {d.job_deadline}", d.escrow_uid)
        if sender != d.provider:
            return self.reject(tx, sender, "not_provider", f"the provider is {d.provider}", d.escrow_uid)
        if (r := self._closed(tx, sender, d)) is not None:
            return r
        if d.result_uid:
            return self.reject(tx, sender, "result_posted", "a result is already posted", d.escrow_uid)
        t = d.terms
        n = t.instruction_count if instruction_count is None else instruction_count
        ok = type(n) is int and (1 <= n <= t.instruction_count if t.pricing == "per_instruction"
                                 else n == t.instruction_count)
        if not ok:
            return self.reject(tx, sender, "bad_instruction_count",
                               f"reported {n!r} of N = {t.instruction_count} ({t.pricing})",
                               d.escrow_uid)
        led = self.chain.ledger
        c = t.cheating_collateral
        if (r := self._funds(tx, sender, t.token, c, d.escrow_uid)) is not None:
            return r
        now = self.now_s
        d.reported = n
        data = {"result_cid": str(result), "instruction_count": n, "cheating_collateral": c}
        d.result_uid = self.registry.attest("result", now, sender, NAME, data, ref_uid=d.escrow_uid).uid
        d.result_cid, d.state = str(result), DELIVERED
        col = collateral_key(sender, t.token, d.escrow_uid)
        led.transfer(general(sender, t.token), col, c, "compute_cheating_collateral")
        led.transfer(col, general(sender, t.token), t.timeout_deposit, "compute_timeout_deposit_return")
        if t.verification != "none":
            d.challenge_deadline = now + t.mediation_period_s
            vdata = {"query": d.job_cid, "method": t.verification, "challenge_deadline": d.challenge_deadline}
            d.validation_uid = self.registry.attest("validation", now, sender, NAME, vdata,
                                                    ref_uid=d.result_uid).uid
            self.by_validation[d.validation_uid] = d.escrow_uid
        self.chain.emit(ev.ResultPosted(*self.chain.stamp(), d.escrow_uid, sender, d.result_uid, d.result_cid,
                                        d.validation_uid, c, d.challenge_deadline))
        if t.verification == "random":
            u = self.draws.audit_draw()
            if u < t.check_probability:
                self._request_mediation(d, AUDIT, "", u)
        return Receipt(EXECUTED, block=self.chain.block, value=d.result_uid)

    def tx_collect(self, sender: str, escrow_uid: str) -> Receipt:
        """Spec 4.3.4: pay the provider once the challenge period is over."""
        tx = "collect"
        d = self._live_deal(tx, sender, escrow_uid, "provider")
        if not isinstance(d, Deal):
            return d
        if not d.result_uid:
            return self.reject(tx, sender, "no_result", "no result posted", d.escrow_uid)
        if d.validation_uid in self.pending:
            return self.reject(tx, sender, "mediation_pending", "a mediation is pending", d.escrow_uid)
        if d.method != "none" and self.now_s <= d.challenge_deadline:
            return self.reject(tx, sender, "period_open", f"challenges open until {d.challenge_deadline}",
                               d.escrow_uid)
        self._close(d, "collected", sender, settlement.collect(self.chain.ledger, d, self.params))
        return Receipt(EXECUTED, block=self.chain.block)

    def tx_claim_timeout(self, sender: str, escrow_uid: str) -> Receipt:
        """Spec 4.3.7: P + D + T to the client once the job deadline passed unanswered."""
        tx = "claim_timeout"
        d = self._live_deal(tx, sender, escrow_uid, "client")
        if not isinstance(d, Deal):
            return d
        if d.state == OPEN:
            return self.reject(tx, sender, "not_committed", "never commenced: use cancel_escrow", d.escrow_uid)
        if d.result_uid:
            return self.reject(tx, sender, "result_posted", "a result was posted", d.escrow_uid)
        if self.now_s <= d.job_deadline:
            return self.reject(tx, sender, "deadline_not_reached", f"job deadline {d.job_deadline}", d.escrow_uid)
        self._close(d, "refunded", sender, settlement.refund(self.chain.ledger, d, with_collateral=True))
        return Receipt(EXECUTED, block=self.chain.block)

    def next_deadline_ns(self) -> int | None:
        """The earliest of a mediation's deadline, a message's delivery and a scheme
        timer (a run that skips idle time still wakes for them)."""
        times = [(min(m.deadline for m in self.pending.values()) + 1) * NS] if self.pending else []
        bus = getattr(self, "bus", None)
        if bus is not None:
            for t in (bus.next_delivery_time(), bus.next_timer_time()):
                if t is not None:
                    times.append(int(round(t * NS)))
        return min(times) if times else None

    # -- checks -----------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        led = self.chain.ledger
        errors = []
        for d in self.deals.values():
            e = led.balance(escrow_key(d.client, d.token, d.escrow_uid))
            if e != d.expected_escrow():
                errors.append(f"compute deal {d.escrow_uid[:12]}: escrow holds {e}, expected {d.expected_escrow()}")
            if d.provider:
                c = led.balance(collateral_key(d.provider, d.token, d.escrow_uid))
                if c != d.expected_collateral():
                    errors.append(f"compute deal {d.escrow_uid[:12]}: collateral holds {c}, "
                                  f"expected {d.expected_collateral()}")
            live = self.registry.valid(d.escrow_uid, self.now_s)
            if live != (d.state != CLOSED):
                errors.append(f"compute deal {d.escrow_uid[:12]}: escrow attestation live={live}, state {d.state}")
        for v, m in self.pending.items():
            if self.deals[m.escrow_uid].state == CLOSED:
                errors.append(f"compute: mediation of {v[:12]} pending on a closed deal")
        return errors
