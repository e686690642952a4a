"""Learning clients and providers of the compute marketplace (spec 8, "Multi-agent RL").

A learner is the scenario's own :class:`ComputeProvider` / :class:`ComputeClient`
whose *price decision* comes from the environment instead of a section-5 policy;
everything else (capacity check, escrow, commence, results, collect, upkeep) stays
the agent's. The decision point is deferred:

- during a runner tick the agent receives a price message it must answer (a provider:
  a ``request`` that fits its capacity, or an ``offer``; a client: an ``offer``) and,
  instead of calling its policy, queues a :class:`PendingDecision`;
- before the next tick the environment hands the learner its action for the
  *earliest* pending decision (:meth:`LearnerMixin.decide`); the agent then runs its
  ordinary answer path with a one-shot policy returning that decision
  (:class:`_Given`), so the cost-floor / reservation-value rules, path bookkeeping and
  escrow still apply.

Pending decisions whose topic closed in the meantime (reply timer, the counterparty
terminated) are dropped, not decided.

Action map (spec 8; the forms and the mask are :mod:`.compute_actions`'): reject is
``terminate(rejected)``, counter an offer at ``x_min + f (x_max - x_min)`` (``f`` the
price fraction; token units, rounded in the sender's favour), accept takes the
received price (a provider's, unmasked, echoes it in an offer).
``[x_min, x_max]`` (a choice): a provider ``[floor, max(floor, cap * c_ref)]`` (its
cost floor, spec 5's economic binding), a client ``[0, V]`` -- ``cap`` is
``price_cap`` of the environment (default 3: V is at most 3 c_ref, spec 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.agents.compute.client import ComputeClient
from defisim.agents.compute.policy import Accept, Counter, Decision, PolicyContext, Terminate
from defisim.agents.compute.provider import ComputeProvider

from .compute_actions import ACCEPT, HEAD_MESSAGES, REJECT, ActionForm, parse_action

if TYPE_CHECKING:
    from defisim.agents.compute.base import ComputeAgent
    from defisim.service import Simulation

__all__ = ["LearnerClient", "LearnerProvider", "PendingDecision", "action_to_decision",
           "head_to_decision", "make_learner"]


@dataclass
class PendingDecision:
    """A price message waiting for the learner's answer.

    Attributes:
        env: the envelope to answer (``request`` or ``offer``).
        topic: the negotiation topic (``<request_id>/<provider>``).
        y: the received price, token units.
        x_min, x_max: the action's price range, token units (module docstring).
        c_ref: the job class's reference cost, USD (the observation's price scale).
        t0: when the negotiation started (the request's publish time), s.
        received: when the learner received the message (simulated s; the AEC env's
            order of decisions).
    """

    env: Any
    topic: str
    y: float
    x_min: float
    x_max: float
    c_ref: float
    t0: float
    received: float = 0.0


class _Given:
    """A one-shot policy returning the environment's decision (records y like any
    section-5 policy, spec 5)."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision

    def respond(self, msg: object, ctx: PolicyContext) -> Decision:
        if ctx.received_amount is not None:
            ctx.memory.received.append(ctx.y)
        return self.decision


def action_to_decision(action: Any, pending: PendingDecision, role: str,
                       form: ActionForm = "flat") -> Decision:
    """An action of ``form`` (:mod:`.compute_actions`) as a section-5 decision (module
    docstring).

    Raises:
        ValueError: a malformed action (:func:`~.compute_actions.parse_action`).
    """
    head, frac = parse_action(action, form)
    return head_to_decision(head, frac, pending, role)


def head_to_decision(head: int, frac: float, pending: PendingDecision, role: str) -> Decision:
    """Head (:data:`~.compute_actions.HEADS` index) and price fraction as a decision:
    reject ``terminate(rejected)``, accept the received price, counter at ``x_min +
    frac (x_max - x_min)`` (module docstring)."""
    if head == REJECT:
        return Terminate("rejected")
    if head == ACCEPT:
        return Accept()
    x = pending.x_min + frac * (pending.x_max - pending.x_min)
    ctx = PolicyContext(role, 0.0, None, None)  # type: ignore[arg-type]
    return ctx.counter(max(x, 1e-6))


_TX_EVENTS = {"escrow": "Escrowed", "commence": "Commenced", "post_result": "ResultPosted",
              "collect": "DealClosed", "claim_timeout": "DealClosed",
              "cancel_escrow": "DealClosed", "challenge": "MediationRequested"}
"""A learner's compute call -> the event it emits on success (spec 4.3)."""


class LearnerMixin:
    """The deferred decision point shared by both learner roles (module docstring).

    Attributes:
        pending: the price messages waiting, oldest first.
        price_cap: the provider's ``x_max`` in units of c_ref.
        own_last: topic -> the learner's last price on it, token units.
    """

    pending: list[PendingDecision]
    price_cap: float
    own_last: dict[str, float]
    decisions: int
    deal_gas: dict[str, float]
    _forced: Decision | None
    _sim: Simulation | None

    def _init_learner(self, price_cap: float) -> None:
        self.pending, self.price_cap, self.own_last = [], float(price_cap), {}
        self.decisions, self._forced = 0, None
        self.deal_gas, self._sim = {}, None

    def bind(self, sim: Simulation) -> None:
        """Book gas per deal from now on (:meth:`_tx`; the ``surplus`` reward)."""
        self._sim = sim

    def _tx(self, action: str, receipt: Any) -> Any:
        """The agent's gas booking, plus: the USD booked is added to ``deal_gas`` under
        the escrow uid (``market``) of the newest recent event of this learner's that
        the call emits (:data:`_TX_EVENTS`, or its ``TransactionRejected``; a call
        naming no deal is not kept)."""
        before = self.cost_usd
        out = super()._tx(action, receipt)
        kinds = (_TX_EVENTS.get(action), "TransactionRejected")
        recent = self._sim.recent_events(16) if self._sim is not None else []
        uid = next((e.market for e in reversed(recent) if type(e).__name__ in kinds
                    and getattr(e, "party", "") == self.name), "")
        if uid:
            self.deal_gas[uid] = self.deal_gas.get(uid, 0.0) + self.cost_usd - before
        return out

    def live_pending(self, sim: Simulation) -> PendingDecision | None:
        """The earliest pending decision whose topic is still open (closed ones are
        dropped), or None."""
        while self.pending:
            p = self.pending[0]
            tp = sim.compute.topic(p.topic)
            if p.env.topic == "requests" and tp is None:
                # not answered yet (the topic opens with the answer): live while open
                if p.env.body["request_id"] in sim.compute.open_requests():
                    return p
                self.pending.pop(0)
                continue
            if tp is not None and tp.state != "CLOSED":
                return p
            self.pending.pop(0)
        return None

    def decide(self, sim: Simulation, action: Any, form: ActionForm = "flat",
               masked: bool = False) -> tuple[bool, int]:
        """Apply ``action`` (of ``form``) to the earliest live pending decision (no-op
        when none).

        With ``masked``, a head the scheme table does not allow
        (:func:`~.compute_actions.action_mask`) is refused as the scheme refuses any
        such message: the learner sends that message type (``accept`` from a provider,
        say), the scheme answers ``MessageRejected`` (``wrong_role`` /
        ``invalid_in_state``), the decision is used up and the topic stays unanswered
        (its reply timer closes it). Without ``masked`` (the flat parallel/Gymnasium
        envs) a provider's accept echoes the price (spec 10.1, CoopHive's echo).

        Returns:
            ``(decided, invalid)``: whether a decision was made, and how many of the
            learner's messages the scheme refused (``MessageRejected``) doing it.

        Raises:
            ValueError: a malformed action (:func:`~.compute_actions.parse_action`).
        """
        head, frac = parse_action(action, form)
        p = self.live_pending(sim)
        if p is None:
            return False, 0
        self.pending.pop(0)
        msg = HEAD_MESSAGES[head]
        if masked and msg not in sim.compute.allowed_messages(self.name, p.topic):
            sim.compute.publish(self.name, p.topic, msg, {})  # refused: the table says no
        else:
            d = head_to_decision(head, frac, p, self.role)
            if isinstance(d, Counter):
                self.own_last[p.topic] = d.amount / 1e6
            elif isinstance(d, Accept):
                self.own_last[p.topic] = p.y
            self._forced = d
            try:
                self._apply(sim, p)
            finally:
                self._forced = None
        self.decisions += 1
        bad = len(sim.compute.rejections(self.name))
        self.invalid_messages += bad
        return True, bad

    def _apply(self, sim: Simulation, p: PendingDecision) -> None:
        raise NotImplementedError


class LearnerProvider(LearnerMixin, ComputeProvider):
    """A :class:`ComputeProvider` answering prices from the environment's actions."""

    def _answer(self, sim: Simulation, topic: str, info: Any, terms: Any, env: Any) -> bool:
        if self._forced is None:  # queue it: the environment decides before the next tick
            ref = self.market.c_ref[info.job.job_class]
            lo = float(info.bounds.x_min)
            self.pending.append(PendingDecision(env, topic, terms.price / 1e6, lo,
                                                max(lo, self.price_cap * ref), ref, info.t0,
                                                sim.now))
            return True
        saved, info.policy = info.policy, _Given(self._forced)
        try:
            return super()._answer(sim, topic, info, terms, env)
        finally:
            info.policy = saved

    def _apply(self, sim: Simulation, p: PendingDecision) -> None:
        info = self.topics.get(p.topic)
        if info is not None:
            self._answer(sim, p.topic, info, p.env.body["terms"], p.env)


class LearnerClient(LearnerMixin, ComputeClient):
    """A :class:`ComputeClient` answering offers from the environment's actions (its
    request's opening price is still its section-5 policy's)."""

    def _on_message(self, sim: Simulation, env: Any) -> None:
        rid = env.topic.rpartition("/")[0]
        req = self.requests.get(rid)
        if self._forced is None and env.type == "offer" and req is not None and not req.filled:
            ref = self.market.c_ref[req.job.job_class]
            x_max = float(req.bounds.x_max)
            self.pending.append(PendingDecision(env, env.topic, env.body["terms"].price / 1e6,
                                                0.0, x_max, ref, req.t0, sim.now))
            return
        super()._on_message(sim, env)

    def _apply(self, sim: Simulation, p: PendingDecision) -> None:
        req = self.requests.get(p.topic.rpartition("/")[0])
        if req is None:
            return
        saved, req.policy = req.policy, _Given(self._forced)
        try:
            self._on_message(sim, p.env)
        finally:
            req.policy = saved


def make_learner(agent: ComputeAgent, price_cap: float = 3.0) -> LearnerMixin:
    """The learner twin of a scenario's client or provider: the same state (name,
    machines, capital, rng, ...), the learner class (module docstring).

    Raises:
        ValueError: ``agent`` is neither a client nor a provider, or ``price_cap <= 0``.
    """
    if not price_cap > 0:
        raise ValueError(f"price_cap must be > 0, got {price_cap!r}")
    cls = {ComputeProvider: LearnerProvider, ComputeClient: LearnerClient}.get(type(agent))
    if cls is None:
        raise ValueError(f"agent {agent.name!r} ({type(agent).__name__}) is not a compute "
                         "client or provider")
    twin = cls.__new__(cls)
    twin.__dict__.update(agent.__dict__)
    twin._init_learner(price_cap)
    return twin
