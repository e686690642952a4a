"""The observation of a compute-marketplace learner (spec 8, "Observation").

A float32 vector of :data:`OBSERVATION_NAMES`, prices in units of the job class's
reference cost c_ref (USD, spec 3), in four blocks:

- the message: type one-hot (``none``: no decision pending, then the message and job
  blocks are zeros), y, own last price, the counterparty's last 3 prices (newest
  first, 0 where missing), round index / 10 (price messages so far / 2), t / t_max
  (seconds since the request over the job's time to its deadline, clipped to [0, 2]);
- the job: cpu / 64, gpu / 8, ram / 512 GiB, duration / 1 h, log10(N) / 20,
  deadline slack / duration (clipped to [0, 10]), verification (index / 3);
- local state: free capacity fractions (cpu, gpu, ram; 1 for a client), running
  jobs, USDC balance and locked escrow / collateral over starting capital, own
  electricity price (USD/kWh; a client the regions' mean), own cost estimate / c_ref
  (a provider: its cost floor, a client: V), open topics and pending decisions;
- global state: L2 and L1 base fee (gwei), ETH / 1000 and L2-token prices (USD),
  all regions' electricity (USD/kWh), the class's median settled price / c_ref, the
  market's acceptance rate (deals / topics).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from defisim.protocols.compute.types import VERIFICATIONS

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .compute_learners import LearnerMixin, PendingDecision

__all__ = ["OBSERVATION_NAMES", "observe"]

MESSAGE_TYPES = ("none", "request", "offer")
REGIONS = ("us-east", "eu-central", "asia-east")
OBSERVATION_NAMES: tuple[str, ...] = (
    *(f"msg.{t}" for t in MESSAGE_TYPES), "msg.y", "msg.own_last",
    "msg.cp_last1", "msg.cp_last2", "msg.cp_last3", "msg.round", "msg.t_frac",
    "job.cpu", "job.gpu", "job.ram", "job.duration", "job.log_n", "job.slack",
    "job.verification",
    "local.free_cpu", "local.free_gpu", "local.free_ram", "local.running", "local.usdc",
    "local.locked", "local.electricity", "local.cost", "local.open_topics", "local.pending",
    "global.l2_base_fee", "global.l1_base_fee", "global.eth", "global.l2_token",
    *(f"global.electricity.{r}" for r in REGIONS), "global.median_price",
    "global.acceptance_rate",
)


def _message_and_job(sim: Simulation, p: PendingDecision, own_last: float | None) -> list[float]:
    c = max(p.c_ref, 1e-9)
    tp = sim.compute.topic(p.topic)
    me = p.env.body["terms"]
    hist = tp.history if tp is not None else [p.env]
    cp = [e.body["terms"].price / 1e6 for e in hist
          if e.type in ("request", "offer") and e.sender == p.env.sender][::-1][:3]
    cp += [0.0] * (3 - len(cp))
    n_price = sum(e.type in ("request", "offer") for e in hist)
    job = p.env.body.get("job") if p.env.type == "request" else None
    job = job if job is not None else _job_of(sim, p)
    t = sim.now - p.t0
    horizon = max(job.deadline - p.t0, 1.0) if job is not None else 1.0
    out = [0.0, float(p.env.type == "request"), float(p.env.type == "offer"),
           p.y / c, (own_last or 0.0) / c, *(x / c for x in cp), math.ceil(n_price / 2) / 10,
           min(max(t / horizon, 0.0), 2.0)]
    if job is None:
        return out + [0.0] * 7
    ver = VERIFICATIONS.index(me.verification) / 3 if me.verification in VERIFICATIONS else 0.0
    return out + [job.cpu / 64, job.gpu / 8, job.ram_gib / 512, job.duration_s / 3600,
                  math.log10(max(job.instruction_count, 1)) / 20,
                  min(max((job.deadline - sim.now) / max(job.duration_s, 1.0), 0.0), 10.0),
                  ver]


def _job_of(sim: Simulation, p: PendingDecision):
    tp = sim.compute.topic(p.topic)
    if tp is None or not tp.history:
        return None
    job = tp.history[0].body.get("job")
    if isinstance(job, dict):
        from defisim.protocols.compute.types import Job

        job = Job(**job)
    return job


def observe(sim: Simulation, agent: LearnerMixin, pending: PendingDecision | None) -> np.ndarray:
    """The observation vector (module docstring) of ``agent`` for ``pending``.

    Returns:
        float32 array of shape ``(len(OBSERVATION_NAMES),)``, all finite.
    """
    if pending is None:
        head = [1.0] + [0.0] * 9 + [0.0] * 7
    else:
        head = _message_and_job(sim, pending, agent.own_last.get(pending.topic))
    z = agent.market.snapshot
    usdc = z.prices[z.payment_symbol]
    cap0 = max(agent.capital, 1.0)
    if agent.role == "provider":
        totals = [sum(getattr(m, r) for m in agent.machines) for r in ("cpu", "gpu", "ram_gib")]
        used = [sum(u[i] for u in agent.committed.values()) for i in range(3)]
        free = [1.0 - u / t if t else 0.0 for u, t in zip(used, totals, strict=True)]
        running = len(agent.running)
        elec = float(np.mean([z.electricity[m.region] for m in agent.machines]))
        open_topics = len(agent.topics)
    else:
        free, running = [1.0, 1.0, 1.0], len(agent.deals)
        elec = float(np.mean(list(z.electricity.values())))
        open_topics = sum(len(r.topics) for r in agent.requests.values() if not r.filled)
    cost = 0.0
    if pending is not None:
        c = max(pending.c_ref, 1e-9)
        cost = (pending.x_min if agent.role == "provider" else pending.x_max) * usdc / c
    local = [*free, running / 10, sim.balance(agent.name, "USDC") / cap0,
             agent.locked(sim) / 1e6 / cap0, elec, cost, open_topics / 10,
             len(agent.pending) / 10]
    med = 0.0
    if pending is not None:
        cls = _job_class(sim, pending)
        if cls in z.market.median_price:
            med = z.market.median_price[cls] / 1e6 * usdc / max(pending.c_ref, 1e-9)
    book = agent.market.book
    acc = len(book.agreed) / book.topics if book.topics else 0.0
    l2_token = next((v for k, v in z.prices.items() if k not in ("ETH", z.payment_symbol)), 0.0)
    glob = [z.l2_base_fee / 1e9, z.l1_base_fee / 1e9, z.prices["ETH"] / 1000, l2_token,
            *(z.electricity.get(r, 0.0) for r in REGIONS), med, acc]
    out = np.asarray(head + local + glob, dtype=np.float32)
    return np.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6)


def _job_class(sim: Simulation, p: PendingDecision) -> str | None:
    if p.env.type == "request":
        job = p.env.body["job"]
        return job["job_class"] if isinstance(job, dict) else job.job_class
    job = _job_of(sim, p)
    return job.job_class if job is not None else None
