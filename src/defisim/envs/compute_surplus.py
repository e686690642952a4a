"""The ``surplus`` reward of the compute environments (spec 8: "the deal's surplus,
credited at settlement to the decision that made the deal").

A deal *settles* when its escrow closes (``collected``, ``slashed``, ``refunded``,
``cancelled``). Its surplus for a learner that is its party, in USD (token amounts at
the payment token's price):

- **provider**: ``P`` when collected (the price, as the scenario's book: the protocol
  tax is not deducted), ``-C`` when slashed, ``-T`` when refunded after a timeout
  (what it forfeits), less the deal's electricity, its amortisation (``(cpu r_cpu +
  gpu r_gpu) run_time / 3600``, the provider's rates) and the learner's gas on the deal;
- **client**: ``V - P`` when collected with a correct result (a fake one is worth 0),
  less the mediation fees paid out of D; ``+T`` when refunded after a timeout;
  ``floor(slash_to_client (C - fees))`` when slashed (fees: ``f`` per panel member,
  what C pays first; the cheat-report reward is not counted); 0 when cancelled; less
  the learner's gas on the deal.

**Attribution.** A Gymnasium/PettingZoo reward cannot be paid into a past step, so the
surplus is paid at the step the deal settles; the decision that made the deal is named
in ``info["settled"]`` as ``(topic, escrow_uid, surplus_usd)`` (the topic is the one in
``info["topic"]`` of the step whose accept made the deal), so a learner can move the
credit back to that decision itself. Between settlements the reward is 0 (gas and
electricity are charged to their deal, not to the step they were spent in); refused
messages still cost ``c_invalid``.

The learner's deals are those whose escrow uid its ``_tx`` booked gas on
(:class:`~.compute_learners.LearnerMixin`: a client's escrow, a provider's commence),
polled every step (the environments keep no event log).

**What is read where.** Through service views: whether a deal settled, its close
reason, terms, fees paid and panel (``sim.compute.deal``), the result's correctness
(``result_is_correct``), ``slash_to_client`` (``params``), the topic
(``topic_of_escrow``). From the learner itself, because nothing on chain or on the bus
carries it: its gas per deal (``deal_gas``, its own booking), a client's private value
V of the job (its ``deals`` record), a provider's electricity bill for the run and the
machine the job ran on (its ``running`` record, with ``rates`` for the amortisation).
Those records leave the agent when the deal closes, so :meth:`SurplusTracker.remember`
copies them before every tick.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from defisim.protocols.compute import types as ctypes

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .compute_learners import LearnerMixin

__all__ = ["SurplusTracker"]


class SurplusTracker:
    """Polls the learners' deals and prices each one that settled (module docstring).

    Args:
        learners: name -> live learner agent.
    """

    def __init__(self, learners: dict[str, LearnerMixin]) -> None:
        self._learners = learners
        self._runs: dict[str, Any] = {}  # provider escrow uid -> its running record
        self._jobs: dict[str, Any] = {}  # client escrow uid -> its Job
        self.remember()

    def remember(self) -> None:
        """Keep the learners' running deals (energy, job, machine; a provider drops
        them at collect) and escrowed jobs (a client drops them at close): call before
        every tick."""
        for ln in self._learners.values():
            self._runs.update(getattr(ln, "running", {}))
            self._jobs.update({uid: v[0] for uid, v in getattr(ln, "deals", {}).items()})

    def settle(self, sim: Simulation) -> dict[str, list[tuple[str, str, float]]]:
        """The learners' deals closed since the last call: learner -> ``[(topic,
        escrow_uid, surplus_usd)]`` in the order the deals were first booked."""
        self.remember()
        out: dict[str, list[tuple[str, str, float]]] = {}
        for name, ln in self._learners.items():
            out[name] = []
            for uid in [u for u in ln.deal_gas if sim.compute.deal(u).state == "closed"]:
                gas, d = ln.deal_gas.pop(uid), sim.compute.deal(uid)
                if name == d.provider:
                    s = self._provider(ln, d)
                elif name == d.client:
                    s = self._client(sim, ln, d)
                else:
                    continue  # a refused commence on another's deal: not a deal it made
                out[name].append((sim.compute.topic_of_escrow(uid) or "", uid, s - gas))
        return out

    def _provider(self, ln: Any, d: Any) -> float:
        t = d.terms
        tokens = {"collected": t.price, "slashed": -t.cheating_collateral,
                  "refunded": -t.timeout_deposit}.get(d.close_reason, 0)
        s = ln.market.usd(tokens)
        run = self._runs.pop(d.escrow_uid, None)
        if run is not None:
            hours = ctypes.run_time_s(run.job, run.machine) / 3600
            amort = 0.0 if run.cheat else (run.job.cpu * ln.rates[0] + run.job.gpu * ln.rates[1])
            s -= run.energy_usd + amort * hours  # a faked job wore no machine
        return s

    def _client(self, sim: Simulation, ln: Any, d: Any) -> float:
        job, t = self._jobs.pop(d.escrow_uid, None), d.terms
        if d.close_reason == "collected":
            worth = job.value if job is not None and sim.compute.result_is_correct(
                d.escrow_uid) else 0.0
            return worth - ln.market.usd(t.price + d.fees_paid)
        if d.close_reason == "refunded":
            return ln.market.usd(t.timeout_deposit)
        if d.close_reason == "slashed":
            fees = t.mediation_fee * len(d.panel)
            share = math.floor(Fraction(repr(float(sim.compute.params.slash_to_client)))
                               * max(t.cheating_collateral - fees, 0))
            return ln.market.usd(share - max(fees - t.cheating_collateral, 0))
        return 0.0
