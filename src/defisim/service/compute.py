"""``sim.compute``: the compute marketplace's on-chain side (``compute-marketplace.md``
4.1 to 4.7), the facade of :class:`~defisim.protocols.compute.protocol.ComputeProtocol`.

Add it with ``Simulation(protocols=[..., "compute"])`` (not a default). Amounts are
integers in base units of the payment token, as the spec's terms carry them
(:class:`~defisim.protocols.compute.types.Terms`); views give base units too (use
``sim.money(token, raw)`` for token units). Times are seconds of chain time.

Transactions never raise: a rule broken is a ``TransactionRejected`` event with the
spec's reason and a receipt whose ``accepted`` is false. An executed call's receipt
carries in ``value`` the uid it created (escrow, collateral, result, verdict). In
mempool mode a call returns the pending receipt and ``sim.receipt(tx_id)`` has the
value once the block closes; gas is the protocol's table (spec 4.7) and a refused
call pays ``revert_gas`` (4.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import Receipt, Transaction
from defisim.protocols.compute.attestations import Attestation
from defisim.protocols.compute.deals import collateral_key, escrow_key
from defisim.protocols.compute.protocol import NAME, ComputeProtocol
from defisim.protocols.compute.schemes import Envelope, MessageRejected, TopicState
from defisim.protocols.compute.schemes.engine import Reject
from defisim.protocols.compute.types import Terms

if TYPE_CHECKING:
    from .simulation import Simulation


def compute_protocol(**params: Any) -> ComputeProtocol:
    """A :class:`ComputeProtocol` with :class:`~defisim.protocols.compute.params.ComputeParams`
    ``params`` (a scenario's composition: ``Simulation(protocols=[compute_protocol(...)])``).

    Raises:
        pydantic.ValidationError: an unknown or bad parameter.
    """
    return ComputeProtocol(params)


@dataclass(frozen=True, slots=True)
class DealView:
    """A deal (keyed by its escrow uid) in base units and seconds: ``state`` ``open``,
    ``committed``, ``delivered`` or ``closed`` (``close_reason`` then); ``escrow`` and
    ``collateral`` what its accounts hold now; ``reported`` the result's N_reported (0
    before a result); ``mediation`` ``pending`` or the last
    check's outcome ("" if never checked)."""

    escrow_uid: str
    client: str
    provider: str
    job_cid: str
    terms: Terms
    state: str
    close_reason: str
    escrow_time: int
    job_deadline: int
    challenge_deadline: int
    collateral_uid: str
    result_uid: str
    result_cid: str
    validation_uid: str
    escrow: int
    collateral: int
    fees_paid: int
    mediation: str
    panel: tuple[str, ...]
    reported: int = 0


AttestationView = Attestation
"""Attestations are frozen records already (``uid``, ``schema``, ``time``,
``expiration_time``, ``revocation_time``, ``ref_uid``, ``recipient``, ``attester``,
``revocable``, ``data``); the view is the record."""


class ComputeFacade:
    """``sim.compute`` (module docstring). ``registry`` is the read-only attestation
    registry (``registry.get(uid)``, ``registry.valid(uid, now)``) schemes look uids up in.
    """

    def __init__(self, sim: Simulation, protocol: ComputeProtocol) -> None:
        self.sim = sim
        self.protocol = protocol

    # -- views ------------------------------------------------------------------------
    @property
    def params(self) -> Any:
        """The protocol's :class:`~defisim.protocols.compute.params.ComputeParams`."""
        return self.protocol.params

    @property
    def registry(self) -> Any:
        """The attestation registry (read it, never write it)."""
        return self.protocol.registry

    def attestation(self, uid: str) -> AttestationView | None:
        """The attestation ``uid`` or ``None``."""
        return self.protocol.registry.get(uid)

    def valid(self, uid: str) -> bool:
        """``uid`` is live now (spec 4.1)."""
        return self.protocol.registry.valid(uid, self.protocol.now_s)

    def deal_ids(self) -> list[str]:
        """Escrow uids of every deal, in creation order."""
        return list(self.protocol.deals)

    def deal(self, escrow_uid: str) -> DealView:
        """The deal of ``escrow_uid``. Raises ``KeyError`` for an unknown uid."""
        d = self.protocol.deals.get(escrow_uid)
        if d is None:
            raise KeyError(f"no compute deal {escrow_uid!r}")
        led = self.sim.chain.ledger
        last = next((m for m in reversed(self.protocol.mediations) if m.escrow_uid == escrow_uid), None)
        col = led.balance(collateral_key(d.provider, d.token, d.escrow_uid)) if d.provider else 0
        return DealView(d.escrow_uid, d.client, d.provider, d.job_cid, d.terms, d.state, d.close_reason,
                        d.escrow_time, d.job_deadline, d.challenge_deadline, d.collateral_uid, d.result_uid,
                        d.result_cid, d.validation_uid, led.balance(escrow_key(d.client, d.token, d.escrow_uid)),
                        col, d.fees_paid, last.outcome if last else "", last.panel if last else (),
                        d.reported)

    def result_is_correct(self, escrow_uid: str) -> bool | None:
        """What an honest mediator's re-run finds: the posted result equals
        ``result_cid(job_cid)`` (``None``: no result yet)."""
        return self.protocol.result_is_correct(escrow_uid)

    def gas(self, action: str) -> int:
        """Gas units of ``action`` (spec 4.7). Raises ``KeyError`` for an unknown one."""
        return self.protocol.gas[action]

    @property
    def l1_base_fee(self) -> int:
        """The L1 base fee posted on chain (wei per gas; 0 until posted, spec 4.6)."""
        return self.protocol.l1_base_fee

    def l1_fee(self, action: str) -> int:
        """The L1 data fee ``action`` pays now, wei (0 when the fee is off)."""
        return self.protocol.l1_fee_of(action)

    # -- messages (off-chain: no gas, never raise) ---------------------------------------
    def publish(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
                signed_by: str | None = None) -> Envelope | MessageRejected:
        """Publish a message of the ``compute`` scheme (spec 2.3) on ``channel``
        (``"requests"`` or a topic id ``request_id/provider``) now. Returns the accepted
        :class:`Envelope` or the :class:`MessageRejected` event (also in the run's event
        log and in :meth:`rejections`)."""
        return self.protocol.publish(sender, channel, type, body, signed_by)

    def subscribe(self, party: str, channel: str) -> None:
        """Receive ``channel``'s messages from now on (providers: ``"requests"``)."""
        self.protocol.subscribe(party, channel)

    def inbox(self, party: str) -> list[Envelope]:
        """The messages delivered to ``party`` since its last call (drains)."""
        return self.protocol.inbox(party)

    def rejections(self, party: str) -> list[MessageRejected]:
        """``party``'s refused messages since its last call (drains)."""
        return self.protocol.rejections(party)

    def topic(self, topic: str) -> TopicState | None:
        """The topic's shared state (read-only by convention), or None."""
        return self.protocol.topic(topic)

    def allowed_messages(self, party: str, topic: str) -> tuple[str, ...]:
        """The message types ``party`` may send on ``topic`` now by the scheme's
        transition table (spec 2.3 rows 1 to 9; coophive: 2.2): the rows of the topic's
        state that name the party's role, less those that need the party's turn when it
        sent the last price. A topic that opens with the answer (``request_id/provider``
        of an open request) is in its opening state. The rows' named checks (expiry,
        ``max_offers``, terms hash, ...) are not evaluated: a type listed can still be
        refused. ``()`` for a closed or unknown topic or a non-participant. Types in the
        scheme's declaration order."""
        proto = self.protocol
        # coophive routes by the body's offerId, compute by the channel
        route = proto.scheme.route(party, topic, "", {"offerId": topic}, proto.bus_now)
        if isinstance(route, Reject) or route.role is None:
            return ()
        tp, defn = route.topic, proto.bus.definition
        if tp.state in defn.terminal_states:
            return ()
        out = []
        for m in defn.messages:
            rows = [r for r in defn.transitions if r.state == tp.state
                    and r.message == m.name and route.role in r.roles]
            if rows and not all(r.turn and tp.last_price_sender == party for r in rows):
                out.append(m.name)
        return tuple(out)

    def topic_ids(self, live_only: bool = False) -> list[str]:
        """Ids of the negotiation topics opened so far, in opening order (``live_only``:
        those not in a terminal state); read each with :meth:`topic`."""
        return self.protocol.topic_ids(bool(live_only))

    def open_requests(self) -> list[str]:
        """Request ids open now (not expired, not filled)."""
        return self.protocol.open_requests()

    def topic_of_escrow(self, escrow_uid: str) -> str | None:
        """The topic whose ``accept`` (coophive: ``buyAttest``) carried ``escrow_uid``,
        or None."""
        return self.protocol.topic_of_escrow(escrow_uid)

    def last_offer_terms(self, topic: str) -> Terms | None:
        """The terms of ``topic``'s last price message, or None."""
        tp = self.protocol.topic(topic)
        if tp is None or self.protocol.scheme_name != "compute":
            return None
        return self.protocol.scheme.last_offer_terms(tp)

    def use_scheme(self, name: str) -> None:
        """Run the bus under ``name`` (``compute``, the default, or ``coophive``, spec
        2.2) -- only before the first message. Raises ``ValueError`` otherwise."""
        self.protocol.use_scheme(name)

    @property
    def scheme_name(self) -> str:
        """The scheme the bus runs (``compute`` or ``coophive``)."""
        return self.protocol.scheme_name

    @property
    def broadcast_channel(self) -> str:
        """Where requests (compute) or initial offers (coophive) are published."""
        return self.protocol.broadcast_channel

    # -- set-up -----------------------------------------------------------------------
    def force_audit_draws(self, *us: float) -> None:
        """The next audit draws of the mediation stream are ``us`` (tests; spec 9(b))."""
        self.protocol.force_audit_draws(*us)

    # -- transactions -------------------------------------------------------------------
    def _send(self, party: str, call: str, *args: Any) -> Receipt:
        return self.sim.send(Transaction(party, NAME, call, args))

    def approve(self, party: str, token: str) -> Receipt:
        """An ERC20 allowance (gas only, spec 4.7)."""
        return self._send(party, "approve", token)

    def escrow(self, client: str, job_cid: str, terms: Terms, provider: str = "") -> Receipt:
        """Escrow P + D for ``job_cid`` under ``terms`` (4.3.1); ``provider`` "" is open
        to anyone. Value: the escrow uid."""
        return self._send(client, "escrow", job_cid, terms, provider)

    def cancel_escrow(self, client: str, escrow_uid: str) -> Receipt:
        """Take back an uncommitted escrow after the commit window (4.3.8)."""
        return self._send(client, "cancel_escrow", escrow_uid)

    def commence(self, provider: str, escrow_uid: str, machine_id: str = "") -> Receipt:
        """Lock T and start the job (4.3.2). Value: the collateral uid."""
        return self._send(provider, "commence", escrow_uid, machine_id)

    def post_result(self, provider: str, escrow_uid: str, result_cid: str,
                    instruction_count: int | None = None) -> Receipt:
        """Post a result CID, lock C (4.3.3). Value: the result uid.
        ``instruction_count``: N_reported under per-instruction pricing (default N)."""
        if instruction_count is None:
            return self._send(provider, "post_result", escrow_uid, result_cid)
        return self._send(provider, "post_result", escrow_uid, result_cid, instruction_count)

    def collect(self, provider: str, escrow_uid: str) -> Receipt:
        """Collect the payment after the challenge period (4.3.4)."""
        return self._send(provider, "collect", escrow_uid)

    def challenge(self, client: str, escrow_uid: str) -> Receipt:
        """Ask for mediation of the result (4.3.5)."""
        return self._send(client, "challenge", escrow_uid)

    def mediate(self, mediator: str, validation_uid: str, correct: bool) -> Receipt:
        """A panel mediator's verdict (4.3.6). Value: the verdict uid."""
        return self._send(mediator, "mediate", validation_uid, bool(correct))

    def set_l1_base_fee(self, oracle: str, wei_per_gas: int) -> Receipt:
        """Post the L1 base fee (the oracle party only; spec 4.6's L1 data fee)."""
        return self._send(oracle, "set_l1_base_fee", int(wei_per_gas))

    def claim_timeout(self, client: str, escrow_uid: str) -> Receipt:
        """Take back P + D + T after an unanswered job deadline (4.3.7)."""
        return self._send(client, "claim_timeout", escrow_uid)
