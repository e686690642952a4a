"""The default provider of the compute marketplace (spec 1, 3, 4.3, 5, 2.3).

It subscribes to ``requests`` and answers a request only if the job fits the free
committed capacity (running jobs plus agreed topics, spec 3) of one of its machines,
else ``terminate(capacity)``; it negotiates each topic with its policy, bound to its
cost floor (energy at ``E_region(now)`` + amortisation + its gas, spec 5). On an
``accept`` it verifies the escrow (amount >= price + D, recipient, terms, not revoked)
or answers ``collateral_missing``; it never accepts below its cost floor (an
unbounded policy's accept there is a ``terminate(rejected)``); else it decides whether to
cheat -- ``cheat_policy="bernoulli"``: ``cheat ~ Bernoulli(q)``; ``"rational"``: a
would-be cheater (``q > 0``) cheats iff the cost it saves exceeds ``p_detect*(P + m*N)``
(spec 4.4, :mod:`.deterrence`; no draw) -- commences
(locking T) and sends ``attestation(commence)``. An honest job reserves its resources,
pays electricity ``power*dt*E_region/3.6e6`` USD each step (booked as a cost, not on
the ledger) and posts ``result_cid`` after ``ceil(duration/speed)``; a cheater
reserves nothing and posts a fake result after ``fake_delay_s``. It collects once the
challenge period is over and no mediation is pending. With the chain's fee market each
of commence, post_result and collect is followed up once its receipt is in
(:meth:`~.base.ComputeAgent._submit`): the job starts when the commence executed (its
capacity held meanwhile); a refused commence frees it and terminates the topic (error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from defisim.chain.events import Event
from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.types import Job, Machine, Terms

from .base import ComputeAgent, scaled_policy
from .binding import provider_cost_floor
from .deterrence import cheat_saving, cheating_pays, detection_probability
from .market import PROVIDER_GAS, RESOURCES, Market
from .policy import Accept, Bounds, Counter, Policy, PolicyContext, PolicyMemory, Terminate

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["ComputeProvider"]

CHEAT_POLICIES = ("bernoulli", "rational")
"""How a provider decides to cheat (module docstring)."""


@dataclass
class _Topic:
    job: Job
    policy: Policy
    memory: PolicyMemory
    bounds: Bounds
    t0: float
    floor_usd: float


@dataclass
class _Running:
    job: Job
    machine: Machine
    due: float
    cheat: bool
    reserved: bool
    energy_usd: float = 0.0
    gas_usd: float = 0.0
    posted: bool = False


def _need(job: Job) -> tuple[float, float, float]:
    return (job.cpu, job.gpu, job.ram_gib)


class ComputeProvider(ComputeAgent):
    """A provider (module docstring).

    Args:
        name, market, capital: the party, the shared :class:`Market`, USDC held.
        machines: its machines (each in a region of the global state).
        policy: a section-5 policy name. q: cheat probability. fake_delay_s: when a
            cheater posts. usd_per_core_hour, usd_per_gpu_hour: amortisation (spec 3).
        cheat_policy: ``bernoulli`` or ``rational`` (module docstring).
        challenge_p: the clients' challenge probability the provider assumes in its
            detection probability (``rational`` only, :mod:`.deterrence`).

    Raises:
        ValueError: no machine, a machine in an unknown region, q or challenge_p
            outside [0, 1], an unknown policy or cheat policy.
    """

    role = "provider"

    def __init__(self, name: str, market: Market, capital: float, *, machines: list[Machine],
                 policy: str, q: float = 0.0, fake_delay_s: float = 0.0,
                 usd_per_core_hour: float = 0.02, usd_per_gpu_hour: float = 1.0,
                 cheat_policy: str = "bernoulli", challenge_p: float = 0.0,
                 metric_interval_s: float = 3600.0) -> None:
        super().__init__(name, market, capital, metric_interval_s)
        scaled_policy(policy, "provider", 1.0)
        if not machines:
            raise ValueError(f"provider {name} needs at least one machine")
        bad = sorted({m.region for m in machines} - set(market.regions))
        if bad:
            raise ValueError(f"unknown region(s) {bad}; known: {list(market.regions)}")
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        if cheat_policy not in CHEAT_POLICIES:
            raise ValueError(f"cheat_policy must be one of {CHEAT_POLICIES}, got {cheat_policy!r}")
        if not 0.0 <= challenge_p <= 1.0:
            raise ValueError(f"challenge_p must be in [0, 1], got {challenge_p!r}")
        self.cheat_policy, self.challenge_p = cheat_policy, float(challenge_p)
        self.machines, self.policy_name, self.q = list(machines), policy, float(q)
        self.fake_delay_s = float(fake_delay_s)
        self.rates = (usd_per_core_hour, usd_per_gpu_hour)
        self.topics: dict[str, _Topic] = {}
        self.running: dict[str, _Running] = {}  # escrow uid -> job
        self.committed = {m.machine_id: [0.0, 0.0, 0.0] for m in machines}
        self.reserved = {m.machine_id: [0.0, 0.0, 0.0] for m in machines}
        self._last = 0.0

    def initialise(self, sim: Simulation) -> None:
        super().initialise(sim)
        sim.compute.subscribe(self.name, "requests")
        for m in self.machines:
            for r, cap in zip(RESOURCES, (m.cpu, m.gpu, m.ram_gib), strict=True):
                self.market.book.capacity[r] += cap
            self.market.book.capacity_cpu[m.region] += m.cpu

    # -- capacity ---------------------------------------------------------------------------
    def _fit(self, job: Job, used: dict[str, list[float]]) -> Machine | None:
        """The machine whose free capacity in ``used`` takes ``job``, cheapest energy
        first (ties: listing order)."""
        e = self.market.snapshot.electricity
        for m in sorted(self.machines, key=lambda m: e[m.region]):
            u = used[m.machine_id]
            if m.fits(job) and all(c - x >= n for c, x, n in zip(
                    (m.cpu, m.gpu, m.ram_gib), u, _need(job), strict=True)):
                return m
        return None

    @staticmethod
    def _add(used: dict[str, list[float]], m: Machine, job: Job, sign: int) -> None:
        u = used[m.machine_id]
        for i, n in enumerate(_need(job)):
            u[i] += sign * n

    # -- the step ---------------------------------------------------------------------------
    def step(self, sim: Simulation) -> None:
        now = sim.now
        self._pay_energy(now - self._last)
        self._last = now
        self._poll(sim)
        for env in sim.compute.inbox(self.name):
            self._on_message(sim, env)
        self._deliver(sim)
        self._read_rejections(sim)
        self._sample(sim)

    def _pay_energy(self, dt: float) -> None:
        if dt <= 0:
            return
        e, book = self.market.snapshot.electricity, self.market.book
        for run in self.running.values():
            if run.reserved:
                usd = run.machine.power_w(run.job) * dt * e[run.machine.region] / 3.6e6
                run.energy_usd += usd
                self.cost_usd += usd
                book.energy_usd += usd

    # -- negotiation --------------------------------------------------------------------------
    def _on_message(self, sim: Simulation, env: Any) -> None:
        if env.topic == "requests":
            self._on_request(sim, env)
            return
        info = self.topics.get(env.topic)
        if info is None:
            return
        tp = sim.compute.topic(env.topic)
        if tp is None or tp.state == "CLOSED":  # closed while this message was in flight
            self.topics.pop(env.topic, None)
            return
        if env.type == "offer":
            self._answer(sim, env.topic, info, env.body["terms"], env)
        elif env.type == "accept":
            self._on_accept(sim, env.topic, info, env.body["escrow_uid"])
        elif env.type == "terminate":
            self.topics.pop(env.topic, None)

    def _on_request(self, sim: Simulation, env: Any) -> None:
        if env.type != "request":
            return
        job = env.body["job"]
        if isinstance(job, Mapping):
            job = Job(**job)
        topic = f"{env.body['request_id']}/{self.name}"
        m = self._fit(job, self.committed)
        if m is None:
            if self._publish(sim, topic, "terminate", {"reason": "capacity"}):
                self.market.book.topics += 1
            return
        z = self.market.snapshot
        usdc = z.prices[z.payment_symbol]
        floor = provider_cost_floor(
            job, m, electricity_usd_per_kwh=z.electricity[m.region],
            gas_units=sum(self.market.gas[a] for a in PROVIDER_GAS),
            base_fee_wei=z.l2_base_fee, eth_usd=z.prices["ETH"], token_usd=usdc,
            usd_per_core_hour=self.rates[0], usd_per_gpu_hour=self.rates[1])
        policy = scaled_policy(self.policy_name, "provider", max(floor, 1e-6) / 50)
        info = _Topic(job, policy, PolicyMemory(), Bounds(x_min=floor), env.time, floor * usdc)
        self.topics[topic] = info
        self.market.book.quotes[topic] = (info.floor_usd, m.region)
        if self._answer(sim, topic, info, env.body["terms"], env):
            self.market.book.topics += 1
        elif sim.compute.topic(topic) is None:
            self.topics.pop(topic, None)

    def _answer(self, sim: Simulation, topic: str, info: _Topic, terms: Terms, env: Any) -> bool:
        ctx = PolicyContext("provider", sim.now - info.t0, info.memory, self.rng, info.job,
                            terms.price, bounds=info.bounds)
        d = info.policy.respond(env, ctx)
        if isinstance(d, Accept) and terms.price < info.bounds.x_min * 1e6:
            return self._publish(sim, topic, "terminate", {"reason": "rejected"})  # below cost
        if isinstance(d, Accept | Counter):
            amount = terms.price if isinstance(d, Accept) else max(1, d.amount)  # echo: same
            ok = self._publish(sim, topic, "offer", {"terms": terms.with_price(amount)})
            if ok:
                self.market.book.paths.setdefault(topic, []).append(
                    (env.seq + 1 if env.topic == topic else 1, "provider",
                     self.market.usd(amount)))
            return ok
        if isinstance(d, Terminate):
            return self._publish(sim, topic, "terminate", {"reason": d.reason})
        return False

    def _on_accept(self, sim: Simulation, topic: str, info: _Topic, uid: str) -> None:
        cx = sim.compute
        last = self._last_terms(sim, topic)
        v = cx.deal(uid) if uid in cx.deal_ids() else None
        missing = []
        if v is None or last is None or v.terms.hash != last.hash:
            missing.append("demand_mismatch")
        elif v.escrow < last.price + last.client_deposit:
            missing.append("amount_short")
        if v is not None and v.provider not in ("", self.name):
            missing.append("wrong_recipient")
        if v is not None and not cx.valid(uid):
            missing.append("revoked")
        if missing:
            self._publish(sim, topic, "collateral_missing", {"escrow_uid": uid, "missing": missing})
            return
        m = self._fit(info.job, self.committed)
        if m is None:
            self._publish(sim, topic, "terminate", {"reason": "capacity"})
            return
        cheat = self._decide_cheat(info.job, m, v.terms)
        if not cheat:  # held while the commence transaction waits for its block
            self._add(self.committed, m, info.job, +1)

        self._submit(sim, "commence", cx.commence(self.name, uid, m.machine_id),
                     partial(self._commence_done, topic, uid, info.job, m, cheat), key=uid)

    def _commence_done(self, topic: str, uid: str, job: Job, m: Machine, cheat: bool,
                       sim: Simulation, r: Any, gas_usd: float) -> None:
        """The commence's receipt is in: start the job, or free the capacity held."""
        if not r.accepted:
            if not cheat:
                self._add(self.committed, m, job, -1)
            self._publish(sim, topic, "terminate", {"reason": "error"})
            return
        self._commenced(sim, topic, uid, job, m, cheat, r.value, gas_usd)

    def _commenced(self, sim: Simulation, topic: str, uid: str, job: Job, m: Machine,
                   cheat: bool, collateral_uid: str, gas_usd: float) -> None:
        """The deal ``uid`` is commenced on chain: announce it and start the job."""
        self.market.book.commenced += 1
        self._publish(sim, topic, "attestation", {"kind": "commence", "uid": collateral_uid})
        if cheat:
            self.market.book.cheat_attempts += 1
            due = sim.now + self.fake_delay_s
        else:
            due = sim.now + ctypes.run_time_s(job, m)
            self._add(self.reserved, m, job, +1)
            self.market.book.reserve(m.region, _need(job), +1, sim.now)
        self.running[uid] = _Running(job, m, due, cheat, not cheat, gas_usd=gas_usd)
        self.topics.pop(topic, None)

    def _last_terms(self, sim: Simulation, topic: str) -> Terms | None:
        """The terms of ``topic``'s last price message (a hook for :mod:`.coophive`)."""
        return sim.compute.last_offer_terms(topic)

    def _decide_cheat(self, job: Job, machine: Machine, terms: Terms) -> bool:
        """Cheat on this deal? ``bernoulli``: a draw with probability q; ``rational``:
        q > 0 and spec 4.4's rule at the region's current electricity price."""
        if self.cheat_policy == "bernoulli":
            return bool(self.rng.random() < self.q)
        if self.q <= 0:
            return False
        z = self.market.snapshot
        saving = cheat_saving(job, machine, electricity_usd_per_kwh=z.electricity[machine.region],
                              token_usd=z.prices[z.payment_symbol],
                              usd_per_core_hour=self.rates[0], usd_per_gpu_hour=self.rates[1])
        return cheating_pays(saving, terms, detection_probability(terms, self.challenge_p))

    def _publish(self, sim: Simulation, topic: str, type: str, body: dict) -> bool:
        return not isinstance(sim.compute.publish(self.name, topic, type, body), Event)

    # -- execution and payment ------------------------------------------------------------------
    def _release(self, run: _Running, now: float) -> None:
        if run.reserved:
            self._add(self.committed, run.machine, run.job, -1)
            self._add(self.reserved, run.machine, run.job, -1)
            self.market.book.reserve(run.machine.region, _need(run.job), -1, now)
            run.reserved = False

    def _deliver(self, sim: Simulation) -> None:
        cx, now = sim.compute, sim.now
        for uid in list(self.running):
            run = self.running[uid]
            if not run.posted and now >= run.due:
                run.posted = True
                cid = ctypes.result_cid(run.job.cid) if not run.cheat else \
                    ctypes.fake_result_cid(run.job.cid, self.name)
                self._release(run, now)
                self._submit(sim, "post_result", cx.post_result(self.name, uid, cid),
                             partial(self._posted, uid, run), key=uid)
                continue
            if self._busy(uid):  # its last transaction waits for its block
                continue
            v = cx.deal(uid)
            if v.state == "closed":
                self._release(run, now)
                del self.running[uid]
            elif (run.posted and v.state == "delivered" and now > v.challenge_deadline
                  and v.mediation != "pending"):
                self._submit(sim, "collect", cx.collect(self.name, uid),
                             partial(self._collected, uid, run, v.terms), key=uid)

    def _posted(self, uid: str, run: _Running, sim: Simulation, r: Any, gas_usd: float) -> None:
        run.gas_usd += gas_usd
        if r.accepted:
            topic = sim.compute.topic_of_escrow(uid)
            if topic is not None:
                self._publish(sim, topic, "attestation", {"kind": "result", "uid": r.value})

    def _collected(self, uid: str, run: _Running, terms: Terms, sim: Simulation, r: Any,
                   gas_usd: float) -> None:
        """The collect's receipt is in: book the deal's provider surplus (spec 7.2; a
        faked job ran nothing, so it wore no machine: no amortisation)."""
        if not r.accepted:
            return
        run.gas_usd += gas_usd
        amort = 0.0 if run.cheat else (run.job.cpu * self.rates[0] + run.job.gpu * self.rates[1]) \
            * ctypes.run_time_s(run.job, run.machine) / 3600
        price = self.market.usd(terms.price)
        self.market.book.provider_surplus.append(price - run.energy_usd - amort - run.gas_usd)
        self.market.book.sum_price_usd += price
        self.running.pop(uid, None)

    def locked(self, sim: Simulation) -> int:
        return sum(sim.compute.deal(uid).collateral for uid in self.running)
