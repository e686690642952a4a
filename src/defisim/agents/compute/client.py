"""The default client of the compute marketplace (spec 1, 3, 5, 2.3).

Jobs arrive as a Poisson process (``rate_per_h``) over a class mix; a job's value is
``V = c_ref(1 + u)``, ``u ~ U[0.2, 2.0]``, its deadline ``arrival + 3*duration + 600``
(spec 3). For each job the client publishes a request at its policy's opening price
and answers each topic with that policy and a per-topic :class:`PolicyMemory` (the
request's memory copied, spec 1). On Accept it escrows ``P + D`` then sends ``accept``
with the escrow uid (with the chain's fee market: once the escrow's receipt is in, its
other topics of the request cancelled meanwhile; a refused escrow terminates the
topic) -- unless the price is above V (an unbounded policy such as
``kalman`` may accept it; the agent then rejects: its reservation value) -- and terminates its other topics of the request (``cancelled``).
It cancels an escrow nobody commenced after the commit window, claims the timeout of
a deal not delivered by its deadline (spec 7.2's client surplus counts an
undetected fake result as worth 0 to it), and challenges a delivered result under
``challenge`` = ``always`` / ``never`` / ``random`` (probability ``p_c``).

Terms (a choice): timeout ``2*duration + 600`` s after commencement; mediation fee f
= 5 % of c_ref per mediator, D = panel*f; T = 10 % of V; m such that C = m*N is about
``collateral_factor * V`` -- or a fixed ``cheating_multiplier`` m (USDC per
instruction, the same for every job, spec 4.3's m) when given; verification and mediators from the scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.chain.events import Event
from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.types import Job, Terms

from .base import ComputeAgent, scaled_policy
from .market import Market
from .policy import (
    Accept,
    Bounds,
    Counter,
    Policy,
    PolicyContext,
    PolicyMemory,
    Terminate,
    round_price,
)

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["CHALLENGE_MODES", "ComputeClient"]

CHALLENGE_MODES = ("always", "never", "random")


@dataclass
class _Request:
    job: Job
    policy: Policy
    memory: PolicyMemory
    bounds: Bounds
    t0: float
    filled: bool = False
    escrowing: bool = False  # its escrow transaction waits for its block
    topics: dict[str, PolicyMemory] = field(default_factory=dict)


class ComputeClient(ComputeAgent):
    """A client (module docstring).

    Args:
        name, market, capital: the party, the shared :class:`Market`, USDC held.
        policy: a section-5 policy name. rate_per_h: λ, jobs per hour.
        class_mix: job class -> weight. mediators, verification, check_probability,
            panel: the validation terms offered. challenge, p_c: the challenge policy.
        collateral_factor: C ≈ factor × V. cheating_multiplier: a fixed m, payment
            tokens per instruction (C = m*N), overriding ``collateral_factor``.

    Raises:
        ValueError: unknown policy, class or challenge mode; a negative rate,
            collateral factor or multiplier.
    """

    role = "client"
    closed_states: tuple[str, ...] = ("CLOSED",)
    """Topic states in which the client no longer negotiates."""

    def __init__(self, name: str, market: Market, capital: float, *, policy: str,
                 rate_per_h: float, class_mix: dict[str, float], mediators: tuple[str, ...],
                 verification: str = "random", check_probability: float = 0.1,
                 panel: int = 1, challenge: str = "never", p_c: float = 0.0,
                 collateral_factor: float = 2.0, cheating_multiplier: float | None = None,
                 metric_interval_s: float = 3600.0) -> None:
        super().__init__(name, market, capital, metric_interval_s)
        scaled_policy(policy, "client", 1.0)  # validates the name now
        if challenge not in CHALLENGE_MODES:
            raise ValueError(f"challenge must be one of {CHALLENGE_MODES}, got {challenge!r}")
        if rate_per_h < 0:
            raise ValueError(f"rate_per_h must be >= 0, got {rate_per_h!r}")
        bad = sorted(set(class_mix) - set(ctypes.JOB_CLASSES))
        if bad:
            raise ValueError(f"unknown job class(es) {bad}; known: {sorted(ctypes.JOB_CLASSES)}")
        self.policy_name, self.rate_per_h = policy, float(rate_per_h)
        total = sum(class_mix.values())
        self.classes = list(class_mix)
        self.weights = np.array([class_mix[c] / total for c in self.classes])
        self.mediators, self.verification = tuple(sorted(mediators)), verification
        self.check_probability, self.panel = float(check_probability), int(panel)
        self.challenge, self.p_c = challenge, float(p_c)
        if collateral_factor < 0 or (cheating_multiplier is not None and cheating_multiplier < 0):
            raise ValueError(f"collateral_factor and cheating_multiplier must be >= 0, got "
                             f"{collateral_factor!r}, {cheating_multiplier!r}")
        self.collateral_factor = float(collateral_factor)
        self.cheating_multiplier = cheating_multiplier
        self.requests: dict[str, _Request] = {}
        self.deals: dict[str, tuple[Job, float]] = {}  # escrow uid -> (job, gas USD)
        self.decided: set[str] = set()
        self._next_arrival: float | None = None
        self._count = 0

    # -- the step ---------------------------------------------------------------------------
    def step(self, sim: Simulation) -> None:
        now = sim.now
        if self._next_arrival is None:
            self._next_arrival = self._gap()
        while self._next_arrival <= now:
            self._arrive(sim, now)
            self._next_arrival += self._gap()
        self._poll(sim)
        for env in sim.compute.inbox(self.name):
            self._on_message(sim, env)
        self._upkeep(sim)
        self._read_rejections(sim)
        self._sample(sim)

    def _gap(self) -> float:
        return float(self.rng.exponential(3600.0 / self.rate_per_h)) if self.rate_per_h > 0 \
            else math.inf

    # -- requests ---------------------------------------------------------------------------
    def _arrive(self, sim: Simulation, now: float) -> None:
        cls = ctypes.JOB_CLASSES[self.classes[int(self.rng.choice(len(self.classes),
                                                                   p=self.weights))]]
        value = self.market.c_ref[cls.name] * (1 + float(self.rng.uniform(0.2, 2.0)))
        self._count += 1
        job = Job(f"{self.name}-{self._count}", self.name, cls.name, cls.cpu, cls.gpu,
                  cls.ram_gib, cls.duration_s, cls.instruction_count,
                  now + 3 * cls.duration_s + 600, value)
        policy = scaled_policy(self.policy_name, "client", value / 550)
        usdc = self.market.snapshot.prices[self.market.snapshot.payment_symbol]
        bounds = Bounds(x_max=value / usdc)
        mem = PolicyMemory()
        x0 = policy.open(job, PolicyContext("client", 0.0, mem, self.rng, job, bounds=bounds))
        price = max(1, round_price(x0, "client"))
        if self._publish_request(sim, job, self._terms(job, price)):
            self.requests[job.job_id] = _Request(job, policy, mem, bounds, now)
            self.market.book.requests += 1
            self.market.book.open_requests[job.job_id] = job.deadline

    def _publish_request(self, sim: Simulation, job: Job, terms: Terms) -> bool:
        """Publish ``job``'s request at ``terms`` (spec 2.3); whether it was accepted."""
        return self._publish(sim, "requests", "request",
                             {"request_id": job.job_id, "job": job, "terms": terms})

    def _topic(self, sim: Simulation, topic: str) -> Any:
        """The state of ``topic`` (a hook: :mod:`.coophive` maps its per-seller topics)."""
        return sim.compute.topic(topic)

    def _terms(self, job: Job, price: int) -> Terms:
        ref = self.market.c_ref[job.job_class]
        fee = max(1, round(0.05 * ref * 1e6))
        if self.cheating_multiplier is not None:  # a fixed m, base units per instruction
            m = round(self.cheating_multiplier * 1e6)
        else:
            m = max(1, math.ceil(self.collateral_factor * job.value * 1e6 / job.instruction_count))
        return Terms(price=price, client_deposit=self.panel * fee,
                     timeout_s=2 * job.duration_s + 600,
                     timeout_deposit=max(1, round(0.1 * job.value * 1e6)),
                     cheating_multiplier=m, instruction_count=job.instruction_count,
                     verification=self.verification, check_probability=self.check_probability,
                     panel=self.panel, threshold=1, mediators=self.mediators,
                     mediation_fee=fee)

    # -- negotiation --------------------------------------------------------------------------
    def _on_message(self, sim: Simulation, env: Any) -> None:
        rid, _, provider = env.topic.rpartition("/")
        req = self.requests.get(rid)
        if req is None or env.type not in ("offer", "collateral_missing"):
            return
        tp = self._topic(sim, env.topic)
        if tp is None or tp.state in self.closed_states:
            return
        if env.type == "collateral_missing" or req.filled or req.escrowing:
            self._publish(sim, env.topic, "terminate", {"reason": "cancelled"})
            return
        terms: Terms = env.body["terms"]
        if env.topic not in req.topics:  # the topic's message 0 is the request
            self.market.book.paths.setdefault(env.topic, []).append(
                (0, "client", self.market.usd(tp.history[0].body["terms"].price)))
        mem = req.topics.setdefault(env.topic, req.memory.copy())
        ctx = PolicyContext("client", sim.now - req.t0, mem, self.rng, req.job, terms.price,
                            bounds=req.bounds)
        d = req.policy.respond(env, ctx)
        if isinstance(d, Accept) and terms.price > req.bounds.x_max * 1e6:
            self._publish(sim, env.topic, "terminate", {"reason": "rejected"})  # above V
        elif isinstance(d, Accept):
            self._accept(sim, req, env.topic, provider, terms, len(tp.history))
        elif isinstance(d, Counter):
            if self._publish(sim, env.topic, "offer", {"terms": terms.with_price(max(1, d.amount))}):
                self.market.book.paths[env.topic].append(
                    (env.seq + 1, "client", self.market.usd(max(1, d.amount))))
        elif isinstance(d, Terminate):
            self._publish(sim, env.topic, "terminate", {"reason": d.reason})

    def _accept(self, sim: Simulation, req: _Request, topic: str, provider: str, terms: Terms,
                messages: int) -> None:
        req.escrowing = True  # other topics are cancelled meanwhile
        self._submit(sim, "escrow", sim.compute.escrow(self.name, req.job.cid, terms, provider),
                     partial(self._escrowed, req, topic, provider, terms, messages))

    def _escrowed(self, req: _Request, topic: str, provider: str, terms: Terms, messages: int,
                  sim: Simulation, r: Any, gas_usd: float) -> None:
        """The escrow's receipt is in: accept with its uid, or terminate if refused."""
        req.escrowing = False
        if not r.accepted:
            self._publish(sim, topic, "terminate", {"reason": "cancelled"})
            return
        self._accepted(sim, req, topic, provider, terms, messages, r.value, gas_usd)

    def _accepted(self, sim: Simulation, req: _Request, topic: str, provider: str,
                  terms: Terms, messages: int, uid: str, gas_usd: float) -> None:
        """The escrow ``uid`` is on chain: send ``accept`` with it and book the deal."""
        self.deals[uid] = (req.job, gas_usd)
        if not self._publish(sim, topic, "accept", {"terms_hash": terms.hash, "escrow_uid": uid}):
            return  # the escrow is cancelled after the commit window (upkeep)
        req.filled = True
        book = self.market.book
        ref = self.market.c_ref[req.job.job_class]
        book.agreed.append((topic, req.job.job_class, provider, self.market.usd(terms.price),
                            messages, sim.now - req.t0, ref, req.job.value, uid, terms.price))
        book.open_requests.pop(req.job.job_id, None)
        for other in req.topics:
            if other != topic:
                tp = self._topic(sim, other)
                if tp is not None and tp.state not in self.closed_states:
                    self._publish(sim, other, "terminate", {"reason": "cancelled"})

    def _publish(self, sim: Simulation, topic: str, type: str, body: dict) -> bool:
        return not isinstance(sim.compute.publish(self.name, topic, type, body), Event)

    # -- deals ------------------------------------------------------------------------------
    def _upkeep(self, sim: Simulation) -> None:
        cx, now = sim.compute, sim.now
        for uid in list(self.deals):
            if self._busy(uid):  # its last transaction waits for its block
                continue
            v = cx.deal(uid)
            if v.state == "open" and now > v.escrow_time + cx.params.commit_window_s:
                self._submit(sim, "cancel_escrow", cx.cancel_escrow(self.name, uid), key=uid)
            elif v.state == "committed" and now > v.job_deadline:
                self._submit(sim, "claim_timeout", cx.claim_timeout(self.name, uid), key=uid)
            elif v.state == "delivered" and uid not in self.decided:
                self.decided.add(uid)
                if self._wants_challenge() and v.terms.verification != "none":
                    self._submit(sim, "challenge", cx.challenge(self.name, uid),
                                 partial(self._challenged, uid), key=uid)
            elif v.state == "closed":
                job, gas = self.deals.pop(uid)
                if v.close_reason == "collected":  # a fake result is worth nothing to it
                    value = job.value if cx.result_is_correct(uid) else 0.0
                    self.market.book.client_surplus.append(
                        value - self.market.usd(v.terms.price) - gas)

    def _challenged(self, uid: str, sim: Simulation, r: Any, gas_usd: float) -> None:
        if r.accepted:
            self.market.book.challenges += 1
            if sim.compute.result_is_correct(uid):
                self.market.book.false_challenges += 1

    def _wants_challenge(self) -> bool:
        if self.challenge == "random":
            return bool(self.rng.random() < self.p_c)
        return self.challenge == "always"

    def locked(self, sim: Simulation) -> int:
        return sum(sim.compute.deal(uid).escrow for uid in self.deals)
