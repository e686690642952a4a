"""DARC-SPICE's open-science ("opsci") agents, event-driven, on defisim's ledger
(``../shared/specs/token-netlists.md`` sections 1.6, 1.8, 5.0-5.4).

Four netlist families share these agents: ``naive`` (university DAO, baseline
researchers, a seller), ``profit_sharing`` (DAO treasury, passive staker, researchers,
one knowledge market), ``mult`` (K winners per funding round) and ``mult_time``
(rolling funding, research lasting ``time`` ticks). Each DARC-SPICE class is one
:class:`~defisim.agents.base.Agent` whose :meth:`take_step` is the source's
``takeStep`` at tick t, quirks included (spec 5.1-5.4). All OCEAN is an 18-decimal
ledger asset moved with the EVM wallet rules of :mod:`.wallets` (``int(x·10**18)`` wei,
1e-12 whole-balance tolerance, spec 1.6); balances read as ``float(wei/10**18)`` (DARC's
``fromBase18``: :func:`~defisim.agents.netlist.wallets.darc_from_base18`).

**Event-driven stepping.** DARC-SPICE steps every agent every hour (262 802 ticks in
30 years), but almost every tick changes nothing but counters. The agents of one
netlist share a :class:`DarcWorld` that

- schedules them together: every agent's ``next_wakeup`` is the world's next *event
  tick* (:meth:`DarcWorld.next_event`), a superset of the ticks at which any agent
  can do more than count (proposal cycles every ``TBP`` ticks and the tick after,
  funding ticks, the first 21 ticks, the tick after every funding/evaluation, the
  end of each research project in mult_time);
- applies the skipped ticks in closed form before anything reads the state
  (:meth:`DarcWorld.sync`, called by the row logger and by each agent): counters
  advance by the tick difference, the DAO's evaluation is reset as its step would
  have, mult's hourly asset registry credits ``n`` hours at once, and mult_time's
  waiting losers redraw their proposals once per skipped tick in the source's order
  (tick by tick, researchers in list order), so the random stream is consumed
  exactly as stepping every tick would.

Every closed-form skip checks that the skipped ticks really were idle and raises
:class:`MissedEventError` otherwise, so a schedule bug cannot silently change the
output. ``event_driven=False`` steps every agent every tick (the literal port; the
tests check both modes give the same ``data.csv`` bytes).

Randomness: one shared :class:`random.Random` (the netlist's), drawn in the source's
call order: ``randint`` for grant, assets (and mult_time's ``time``), then
``random``/``uniform`` for integration and novelty. :class:`DarcRng` reproduces
``randint`` and ``uniform`` bit for bit with cheaper calls.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from defisim.agents.base import Agent

from .wallets import darc_from_base18, evm_transfer

if TYPE_CHECKING:
    from defisim.service import Simulation

OCEAN = "OCEAN"
"""The asset every DARC agent holds (18 decimals)."""


class MissedEventError(RuntimeError):
    """An event-driven DARC netlist skipped a tick at which an agent would have acted
    (a scheduling bug; the run stops instead of writing a different CSV)."""


class DarcRng:
    """Draws from a :class:`random.Random` exactly as its ``randint``, ``random`` and
    ``uniform`` do (CPython's ``_randbelow_with_getrandbits`` rejection sampling), with
    fewer Python calls."""

    __slots__ = ("getrandbits", "random", "source")

    def __init__(self, source: random.Random) -> None:
        self.source = source
        self.getrandbits = source.getrandbits
        self.random = source.random

    def randint(self, a: int, b: int) -> int:
        """``source.randint(a, b)``: an int in [a, b]."""
        n = b - a + 1
        k = n.bit_length()
        g = self.getrandbits
        r = g(k)
        while r >= n:
            r = g(k)
        return a + r

    def uniform(self, a: float, b: float) -> float:
        """``source.uniform(a, b)`` = ``a + (b - a)·random()``."""
        return a + (b - a) * self.random()


class DarcWorld:
    """What the agents of one DARC netlist share: the parameters (``p``, the netlist's
    params), the random stream, the agents in stepping order, the current tick, and
    the event schedule (module docstring).

    Args:
        kind: ``naive``, ``profit_sharing``, ``mult`` or ``mult_time``.
        params: the netlist's parameters (TBP, fees, boundaries, draw ranges, ...).
        rng: the netlist's seeded :class:`random.Random`.
        step_ns: Δ in nanoseconds; t_last: the last stepped tick.
        event_driven: False steps every agent every tick.
    """

    def __init__(self, kind: str, params: Any, rng: random.Random, step_ns: int, t_last: int,
                 event_driven: bool = True) -> None:
        self.kind = kind
        self.p = params
        self.rng = DarcRng(rng)
        self.step_ns = step_ns
        self.step_s = step_ns / 1e9
        self.t_last = t_last
        self.event_driven = event_driven
        self.sim: Simulation | None = None
        self.agents: list[DarcAgent] = []
        self.by_name: dict[str, DarcAgent] = {}
        self.dao: Any = None
        self.market: Any = None
        self.researchers: list[Any] = []
        self.cur = -1
        """The last tick done (stepped, being stepped, or skipped in closed form)."""
        self._cache_tick = -1
        self._cache_wake: float = math.inf
        self.ticks_skipped = 0
        """Ticks applied in closed form (a measure of the schedule's work saving)."""
        self.redraws_batched = 0
        """mult_time: proposals redrawn for skipped ticks."""

    # -- setup -------------------------------------------------------------------------
    def add(self, agent: DarcAgent) -> DarcAgent:
        """Register ``agent`` (stepping order = the order of these calls)."""
        agent.world = self
        self.agents.append(agent)
        self.by_name[agent.name] = agent
        return agent

    # -- wallets ---------------------------------------------------------------------
    def ocean(self, name: str) -> float:
        """``name``'s OCEAN as DARC reads it: ``float(wei/10**18)`` (``fromBase18``)."""
        return darc_from_base18(self.sim.balance(name, OCEAN, raw=True))

    def send(self, src: str, dst: str, amount: float) -> int:
        """``src._transferOCEAN(dst, amount)`` with the EVM rules; returns the wei moved."""
        return evm_transfer(self.sim, src, dst, OCEAN, amount, darc=True)

    # -- ticks -----------------------------------------------------------------------
    def sync(self, sim: Simulation, stepping: bool = True) -> int:
        """The current tick t; first applies, in closed form, the ticks skipped since
        the last one done. ``stepping``: the agents step at t (the row logger, which
        reads before them, passes False)."""
        t = sim.now_ns // self.step_ns
        n = t - 1 - self.cur
        if n > 0:
            self._skip(self.cur + 1, n)
            self.cur = t - 1
        if stepping and t > self.cur:
            self.cur = t
        return t

    def _skip(self, first: int, n: int) -> None:
        self.ticks_skipped += n
        self.dao.skip(first, n)
        if self.kind == "mult_time":
            self._skip_mult_time_researchers(first, n)
        else:
            for r in self.researchers:
                r.skip(first, n)
        for a in self.agents:
            if a is not self.dao and not isinstance(a, _ResearcherBase):
                a.skip(first, n)

    def _skip_mult_time_researchers(self, first: int, n: int) -> None:
        ev = self.dao.proposal_evaluation
        full = bool(ev) and len(ev) == self.p.proposals_funded_at_a_time
        losers = []
        for r in self.researchers:
            r.check_idle(first, n)
            if full and not r.proposal_accepted:
                if any(e["winner"] == r.name for e in ev.values()):
                    raise MissedEventError(f"{r.name}: accepted at a skipped tick {first}..{first + n - 1}")
                losers.append(r)
        if losers:
            # each skipped tick, every waiting loser draws a new proposal (list order);
            # only the last tick's proposals are kept
            if all(r.last_integration is not None and r.last_novelty is not None for r in losers):
                self._discarded_draws((n - 1) * len(losers))
            else:
                for _ in range(n - 1):
                    for r in losers:
                        r.redraw(keep=False)
            for r in losers:
                r.redraw(keep=True)
            self.redraws_batched += n * len(losers)
        for r in self.researchers:
            r.advance(n)

    def _discarded_draws(self, m: int) -> None:
        """Consume ``m`` mult_time proposals' draws (three ``randint``, two
        ``random()``: integration and novelty past their first draw), values unused;
        exactly the calls of :meth:`DarcRng.randint` and :meth:`DarcRng.uniform`."""
        p = self.p
        g = self.rng.getrandbits
        rnd = self.rng.random
        n1 = p.grant_max - p.grant_min + 1
        n2 = p.assets_max - p.assets_min + 1
        n3 = p.time_max - p.time_min + 1
        k1, k2, k3 = n1.bit_length(), n2.bit_length(), n3.bit_length()
        for _ in range(m):
            r = g(k1)
            while r >= n1:
                r = g(k1)
            r = g(k2)
            while r >= n2:
                r = g(k2)
            r = g(k3)
            while r >= n3:
                r = g(k3)
            rnd()
            rnd()

    def wake_s(self, now: float) -> float | None:
        """The agents' ``next_wakeup``: the next event tick in seconds (``None``:
        every tick, when not event-driven). Computed once per tick."""
        if not self.event_driven:
            return None
        t = round(now / self.step_s)
        if t != self._cache_tick:
            self._cache_tick = t
            nxt = self.next_event(t)
            self._cache_wake = math.inf if nxt > self.t_last else nxt * self.step_s
        return self._cache_wake

    def next_event(self, t: int) -> int:
        """The first tick after ``t`` at which some agent may do more than count (a
        superset; :meth:`sync` checks the skipped ticks)."""
        if t < 21 or self.dao.acted_tick == t:
            return t + 1
        if self.kind == "mult_time":
            return self._next_event_mult_time(t)
        tbp = self.p.ticks_between_proposals
        cands = []
        d = (self.dao.tick_proposal_funded - t) % tbp
        cands.append(t + (d if d else tbp))
        for r in self.researchers:
            if r.ticks_since_proposal == 0 and r.drew_at != r.ts_tick:
                # oscillating (no proposal since): it acts only when the DAO funds
                if tbp == 1:
                    cands.append(t + 1)
                continue
            anchor = r.ts_tick - r.ticks_since_proposal
            if anchor + 1 > t:
                cands.append(anchor + 1)
            k = -(-(t - anchor) // tbp) if t > anchor else 0
            a = anchor + k * tbp
            cands.append(a if a > t else a + 1)
        if self.kind == "profit_sharing":
            cands.append((t // tbp + 1) * tbp)
        return max(min(cands), t + 1)

    def _next_event_mult_time(self, t: int) -> int:
        if self.p.random_buying:
            return t + 1
        best = math.inf
        for r in self.researchers:
            if not r.proposal or r.research_finished:
                return t + 1
            if r.proposal_accepted:
                f = r.accepted_tick + r.proposal["time"] - 1
                for c in (f, f + 1, f + 2):
                    if t < c < best:
                        best = c
        return best if best != math.inf else self.t_last + 1


class DarcAgent(Agent):
    """A DARC-SPICE agent: :meth:`take_step` is its ``takeStep`` at tick t; :meth:`skip`
    applies ``n`` idle ticks in closed form (default: nothing happens)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.world: DarcWorld | None = None

    def step(self, sim: Simulation) -> None:
        self.take_step(self.world.sync(sim))

    def take_step(self, t: int) -> None:
        """DARC-SPICE's ``takeStep`` at tick ``t``."""

    def skip(self, first: int, n: int) -> None:
        """Apply the idle ticks ``first .. first+n-1``."""

    def next_wakeup(self, now: float) -> float | None:
        return self.world.wake_s(now)


# ======================================================================================
# DAOs
# ======================================================================================
class OpscientiaDAOAgent(DarcAgent):
    """``OpscientiaDAOAgent`` (naive's ``university``, profit sharing's
    ``dao_treasury``; spec 5.1): funds the proposal with the lowest
    grant/no_researchers/assets/knowledge_access every ``TBP`` ticks (first at tick 1
    or 2) while its OCEAN exceeds ``funding_boundary``; the evaluation is reset to {}
    whenever it cannot fund."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.proposal_evaluation: dict = {}
        self.proposal_funded = False
        self.tick_proposal_funded = 0
        self.no_proposals_received = 0
        self.total_research_funds_disbursed = 0.0
        self.acted_tick = -1
        """The last tick at which it funded (the world wakes everyone the tick after)."""

    def can_fund(self) -> bool:
        w = self.world
        ready = all(r.proposal for r in w.researchers)
        return ready and w.ocean(self.name) > w.p.funding_boundary

    def evaluate(self) -> dict:
        """The winner: the first minimum of the scores, in researcher order."""
        best, best_score = None, math.inf
        for r in self.world.researchers:
            pr = r.proposal
            score = pr["grant_requested"] / pr["no_researchers"] / pr["assets_generated"] / pr["knowledge_access"]
            if score < best_score:
                best, best_score = r, score
        return {"winner": best.name, "amount": best.proposal["grant_requested"]}

    def _fund(self, t: int) -> None:
        w = self.world
        self.proposal_evaluation = ev = self.evaluate()
        amount = min(w.ocean(self.name), ev["amount"])
        w.send(self.name, ev["winner"], amount)
        self.tick_proposal_funded = t
        self.proposal_funded = True
        self.no_proposals_received += 1
        self.total_research_funds_disbursed += ev["amount"]
        self.acted_tick = t

    def _due(self, t: int, can_fund: bool) -> bool:
        if not can_fund:
            return False
        if (self.tick_proposal_funded - t) % self.world.p.ticks_between_proposals == 0:
            return True
        return t in (1, 2) and not self.proposal_funded

    def take_step(self, t: int) -> None:
        can_fund = self.can_fund()
        if not can_fund:
            self.proposal_evaluation = {}
        if self._due(t, can_fund):
            self._fund(t)

    def skip(self, first: int, n: int) -> None:
        can_fund = self.can_fund()
        if not can_fund:
            self.proposal_evaluation = {}
            return
        tbp = self.world.p.ticks_between_proposals
        d = (self.tick_proposal_funded - first) % tbp
        if d < n or (not self.proposal_funded and any(first <= s < first + n for s in (1, 2))):
            raise MissedEventError(f"{self.name}: a funding tick in {first}..{first + n - 1} was skipped")


class MultDAOTreasuryAgent(OpscientiaDAOAgent):
    """``MultDAOTreasuryAgent`` (spec 5.3): as :class:`OpscientiaDAOAgent` with K
    winners (minimum score, remove, repeat), each paid min(OCEAN, grant). Quirk:
    integration and novelty are the means over the *previous* evaluation; impact is
    the last winner's."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.integration = 0.0
        self.novelty = 0.0
        self.in_index = 0.0
        self.impact = 0.0

    def evaluate(self) -> dict:
        k = self.world.p.proposals_funded_at_a_time
        scores = {}
        for r in self.world.researchers:
            pr = r.proposal
            scores[r.name] = pr["grant_requested"] / pr["no_researchers"] / pr["assets_generated"] / pr["knowledge_access"]
        evaluation = {}
        by_name = self.world.by_name
        winner = ""
        for i in range(k):
            winner = min(scores, key=scores.__getitem__)
            pr = by_name[winner].proposal
            evaluation[i] = {"winner": winner, "amount": pr["grant_requested"],
                             "integration": pr["integration"], "novelty": pr["novelty"],
                             "impact": pr["impact"]}
            del scores[winner]
        self.integration = 0.0
        self.novelty = 0.0
        for e in self.proposal_evaluation.values():  # the previous evaluation (quirk)
            self.integration += e["integration"] / k
            self.novelty += e["novelty"] / k
        self.in_index = self.integration * self.novelty
        self.impact = by_name[winner].proposal["impact"]
        return evaluation

    def _fund(self, t: int) -> None:
        w = self.world
        self.proposal_evaluation = ev = self.evaluate()
        for e in ev.values():
            w.send(self.name, e["winner"], min(w.ocean(self.name), e["amount"]))
        self.tick_proposal_funded = t
        self.proposal_funded = True
        self.no_proposals_received += 1
        for e in ev.values():
            self.total_research_funds_disbursed += e["amount"]
        self.acted_tick = t


class MultTimeDAOTreasuryAgent(DarcAgent):
    """``MultTimeDAOTreasuryAgent`` (spec 5.4): rolling funding. Each tick: reset the
    evaluation when OCEAN < FB; drop finished projects; top the evaluation up to K
    (paying each winner at once) when it can fund. ``update`` counts this tick's new
    winners."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.integration = 0.0
        self.novelty = 0.0
        self.in_index = 0.0
        self.impact = 0.0
        self.proposal_evaluation: dict = {}
        self.update = 0
        self.proposal_evaluation_update: dict = {}
        self.total_research_funds_disbursed = 0.0
        self.acted_tick = -1

    def can_fund(self) -> bool:
        w = self.world
        return all(r.proposal for r in w.researchers) and w.ocean(self.name) > w.p.funding_boundary

    def evaluate(self, t: int) -> None:
        """Top up to K winners (spec 5.4 "Evaluate")."""
        w = self.world
        p = w.p
        k = p.proposals_funded_at_a_time
        ev = self.proposal_evaluation
        taken = {e["winner"] for e in ev.values()}
        scores = {}
        for r in w.researchers:
            if r.name in taken:
                continue
            pr = r.proposal
            scores[r.name] = (pr["grant_requested"] / pr["no_researchers"] / pr["assets_generated"]
                              / pr["time"] / pr["knowledge_access"]
                              / (pr["integration"] * pr["novelty"]) / pr["impact"])
        self.proposal_evaluation_update = {}
        start = (list(ev)[-1] + 1) if ev else 0
        winner = ""
        for i in range(start, start + k):
            winner = min(scores, key=scores.__getitem__)
            pr = w.by_name[winner].proposal
            ev[i] = {"winner": winner, "amount": pr["grant_requested"], "integration": pr["integration"],
                     "novelty": pr["novelty"], "impact": pr["impact"]}
            del scores[winner]
            w.send(self.name, winner, min(w.ocean(self.name), ev[i]["amount"]))
            self.total_research_funds_disbursed += ev[i]["amount"]
            self.proposal_evaluation_update[i] = {"winner": winner, "amount": pr["grant_requested"]}
            self.update += 1
            if w.ocean(self.name) < p.funding_boundary:
                break
            if len(ev) == k:
                break
        self.integration = 0.0
        self.novelty = 0.0
        for e in ev.values():
            self.integration += e["integration"] / k
            self.novelty += e["novelty"] / k
        self.in_index = self.integration * self.novelty
        self.impact = w.by_name[winner].proposal["impact"]
        self.acted_tick = t

    def _drop_finished(self) -> None:
        by_name = self.world.by_name
        for i, e in list(self.proposal_evaluation.items()):
            if by_name[e["winner"]].research_finished:
                del self.proposal_evaluation[i]

    def take_step(self, t: int) -> None:
        w = self.world
        can_fund = self.can_fund()
        self.update = 0
        if w.ocean(self.name) < w.p.funding_boundary:
            self.proposal_evaluation = {}
        if self.proposal_evaluation:
            self._drop_finished()
            if len(self.proposal_evaluation) < w.p.proposals_funded_at_a_time and can_fund:
                self.evaluate(t)
        if not self.proposal_evaluation and can_fund:
            self.evaluate(t)

    def skip(self, first: int, n: int) -> None:
        w = self.world
        can_fund = self.can_fund()
        self.update = 0
        if w.ocean(self.name) < w.p.funding_boundary:
            self.proposal_evaluation = {}
        ev = self.proposal_evaluation
        if any(w.by_name[e["winner"]].research_finished for e in ev.values()):
            raise MissedEventError(f"{self.name}: a project finished in a skipped tick {first}")
        if can_fund and len(ev) < w.p.proposals_funded_at_a_time:
            raise MissedEventError(f"{self.name}: an evaluation at a skipped tick {first}")


# ======================================================================================
# Researchers
# ======================================================================================
class _ResearcherBase(DarcAgent):
    """State and metrics every DARC researcher has (``my_OCEAN`` is a snapshot)."""

    def __init__(self, name: str, evaluator: str, receivers: dict[str, float]) -> None:
        super().__init__(name)
        self.evaluator = evaluator
        self.receivers = dict(receivers)
        self.proposal: dict = {}
        self.knowledge_access = 1.0
        self.ticks_since_proposal = 0
        self.ts_tick = 0
        """The tick at whose end ``ticks_since_proposal`` was recorded."""
        self.drew_at = -1
        """The tick of its last counted proposal."""
        self.proposal_accepted = False
        self.my_OCEAN = 0.0
        self.no_proposals_submitted = 0
        self.no_proposals_funded = 0
        self.total_research_funds_received = 0.0
        self.total_assets_in_mrkt = 0
        self.ratio_funds_to_publish = 0.0
        self.last_tick_spent = 0

    def create_proposal(self) -> dict:
        """Draw a proposal: ``randint(grant)``, then ``randint(assets)`` (spec 5.1)."""
        p = self.world.p
        rng = self.world.rng
        return {"grant_requested": rng.randint(p.grant_min, p.grant_max),
                "assets_generated": rng.randint(p.assets_min, p.assets_max),
                "no_researchers": p.proposal_no_researchers,
                "knowledge_access": self.knowledge_access}

    def _pay_receivers(self, amount: float) -> None:
        w = self.world
        for dst, share in self.receivers.items():
            w.send(self.name, dst, share * amount)

    def buy_and_publish(self) -> None:
        """``_BuyAndPublishAssets``: send the grant to the receivers; knowledge_access += 1."""
        if self.world.ocean(self.name) != 0 and self.proposal:
            self._pay_receivers(self.proposal["grant_requested"])
            self.knowledge_access += 1

    def buy_assets(self) -> None:
        """``_BuyAssets``: one asset at ``price_of_assets`` if it can pay."""
        price = self.world.p.price_of_assets
        ocean = self.world.ocean(self.name)
        if ocean != 0 and ocean >= price and self.proposal:
            self.knowledge_access += 1
            self._pay_receivers(price)

    def _is_winner(self, ev: dict) -> bool:
        return ev["winner"] == self.name

    def _lose(self, t: int) -> None:
        """A loser at the check after a proposal (profit sharing and mult)."""
        self.proposal_accepted = False
        self.ratio_funds_to_publish = 0.0
        self.last_tick_spent = t
        self.buy_assets()

    def take_step(self, t: int) -> None:
        """``BaselineResearcherAgent``/``ResearcherAgent``/``MultResearcherAgent.takeStep``."""
        w = self.world
        tbp = w.p.ticks_between_proposals
        if self.proposal:
            self.ticks_since_proposal += 1
        if not self.proposal:
            self.proposal = self.create_proposal()
            self.no_proposals_submitted += 1
            self.ticks_since_proposal = 0
            self.drew_at = t
        if self.ticks_since_proposal % tbp == 0:
            self.proposal = self.create_proposal()
            self.no_proposals_submitted += 1
            self.ticks_since_proposal = 0
            self.drew_at = t
        ev = w.dao.proposal_evaluation
        if self.ticks_since_proposal == 1 and ev:
            if self._is_winner(ev):
                self.proposal_accepted = True
                self.no_proposals_funded += 1
                self.total_assets_in_mrkt += self.proposal["assets_generated"]
                self.total_research_funds_received += self.proposal["grant_requested"]
                if w.ocean(self.name) >= self.proposal["grant_requested"]:
                    self.ratio_funds_to_publish = w.p.ratio_funds_to_publish
                    self.last_tick_spent = t
                    self.buy_and_publish()
            else:
                self._lose(t)
            self.my_OCEAN = w.ocean(self.name)
        elif self.ticks_since_proposal == 1 and not ev:
            self.ticks_since_proposal = 0  # misaligned: oscillates 1 -> 0 (quirk)
        self.ts_tick = t

    def skip(self, first: int, n: int) -> None:
        ts = self.ticks_since_proposal
        tbp = self.world.p.ticks_between_proposals
        if ts == 0:
            # the first skipped tick checks ts == 1 (then oscillates while the evaluation is empty)
            if self.world.dao.proposal_evaluation or tbp == 1:
                raise MissedEventError(f"{self.name}: a proposal check at skipped tick {first}")
        elif (ts + n) // tbp != ts // tbp:
            raise MissedEventError(f"{self.name}: a new proposal in skipped ticks {first}..{first + n - 1}")
        else:
            self.ticks_since_proposal = ts + n
        self.ts_tick = first + n - 1


class BaselineResearcherAgent(_ResearcherBase):
    """``BaselineResearcherAgent`` (naive, spec 5.1): a winner sends its whole grant to
    ``sellers``; a loser does nothing. Quirk: two proposals at tick 0."""

    def _lose(self, t: int) -> None:
        self.proposal_accepted = False


class ResearcherAgent(_ResearcherBase):
    """``ResearcherAgent`` (profit sharing, spec 5.2): a winner publishes its grant to
    the market (ratio ``ratio_funds_to_publish``); a loser buys one asset (ratio 0)."""


class MultResearcherAgent(_ResearcherBase):
    """``MultResearcherAgent`` (spec 5.3): proposals also draw integration and novelty
    (``random()`` first, then ``uniform(0, .5)`` or ``uniform(.5, 1)`` by the previous
    value) and impact = 10·max (ties to novelty); a winner is one of the K."""

    def __init__(self, name: str, evaluator: str, receivers: dict[str, float]) -> None:
        super().__init__(name, evaluator, receivers)
        self.last_integration: float | None = None
        self.last_novelty: float | None = None

    def _draw_in(self, last: float | None) -> float:
        rng = self.world.rng
        if last is None:
            return rng.random()
        if last < 0.5:
            return rng.uniform(0.0, 0.5)
        return rng.uniform(0.5, 1.0)

    def _integration_novelty_impact(self) -> tuple[float, float, float]:
        i = self.last_integration = self._draw_in(self.last_integration)
        nv = self.last_novelty = self._draw_in(self.last_novelty)
        return i, nv, (10 * i if nv < i else 10 * nv)

    def create_proposal(self) -> dict:
        p = self.world.p
        rng = self.world.rng
        grant = rng.randint(p.grant_min, p.grant_max)
        assets = rng.randint(p.assets_min, p.assets_max)
        i, nv, impact = self._integration_novelty_impact()
        return {"grant_requested": grant, "assets_generated": assets,
                "no_researchers": p.proposal_no_researchers, "knowledge_access": self.knowledge_access,
                "integration": i, "novelty": nv, "impact": impact}

    def _is_winner(self, ev: dict) -> bool:
        k = self.world.p.proposals_funded_at_a_time
        return any(ev[i]["winner"] == self.name for i in range(k))


class MultTimeResearcherAgent(MultResearcherAgent):
    """``MultTimeResearcherAgent`` (spec 5.4): while the evaluation holds K entries, a
    winner is accepted (ticks_since = 0) and publishes; a waiting loser redraws its
    proposal every tick (uncounted) and buys ``update`` assets; research ends
    ``time − 1`` ticks after acceptance."""

    def __init__(self, name: str, evaluator: str, receivers: dict[str, float]) -> None:
        super().__init__(name, evaluator, receivers)
        self.research_finished = False
        self.last_OCEAN_spent = 0.0
        self.accepted_tick = -1

    def create_proposal(self) -> dict:
        p = self.world.p
        rng = self.world.rng
        self.research_finished = False
        grant = rng.randint(p.grant_min, p.grant_max)
        assets = rng.randint(p.assets_min, p.assets_max)
        duration = rng.randint(p.time_min, p.time_max)
        i, nv, impact = self._integration_novelty_impact()
        return {"grant_requested": grant, "assets_generated": assets,
                "no_researchers": p.proposal_no_researchers, "time": duration,
                "knowledge_access": self.knowledge_access,
                "integration": i, "novelty": nv, "impact": impact}

    def redraw(self, keep: bool) -> None:
        """A waiting loser's redraw at a skipped tick (the draws of
        :meth:`create_proposal`; the dict is built only for the last one)."""
        if keep:
            self.proposal = self.create_proposal()
            return
        p = self.world.p
        rng = self.world.rng
        self.research_finished = False
        rng.randint(p.grant_min, p.grant_max)
        rng.randint(p.assets_min, p.assets_max)
        rng.randint(p.time_min, p.time_max)
        self._integration_novelty_impact()

    def buy_and_publish(self, t: int = 0) -> None:
        w = self.world
        ocean = w.ocean(self.name)
        self.last_tick_spent = t
        self.ratio_funds_to_publish = w.p.ratio_funds_to_publish
        if ocean != 0 and self.proposal:
            grant = self.proposal["grant_requested"]
            self.last_OCEAN_spent += grant
            self._pay_receivers(grant)
            self.knowledge_access += 1

    def buy_assets(self, t: int = 0) -> None:
        w = self.world
        price = w.p.price_of_assets
        ocean = w.ocean(self.name)
        self.last_tick_spent = t
        self.ratio_funds_to_publish = 0.0
        if ocean != 0 and ocean >= price and self.proposal:
            self.last_OCEAN_spent += price
            self.knowledge_access += 1
            self.proposal["knowledge_access"] = self.knowledge_access
            self._pay_receivers(price)

    def take_step(self, t: int) -> None:
        w = self.world
        dao = w.dao
        self.last_OCEAN_spent = 0.0
        ev = dao.proposal_evaluation
        if ev and not self.proposal_accepted and len(ev) == w.p.proposals_funded_at_a_time:
            if any(e["winner"] == self.name for e in ev.values()):
                self.proposal_accepted = True
                self.accepted_tick = t
                self.ticks_since_proposal = 0
                self.no_proposals_funded += 1
                self.total_assets_in_mrkt += self.proposal["assets_generated"]
                self.total_research_funds_received += self.proposal["grant_requested"]
                if w.ocean(self.name) >= self.proposal["grant_requested"]:
                    self.buy_and_publish(t)
            else:
                self.proposal_accepted = False
                self.proposal = self.create_proposal()
                for _ in range(dao.update):
                    self.buy_assets(t)
        if not self.proposal:
            self.proposal = self.create_proposal()
            self.no_proposals_submitted += 1
            self.ticks_since_proposal = 0
        if self.proposal:
            self.ticks_since_proposal += 1
            if self.proposal_accepted and self.ticks_since_proposal == self.proposal["time"]:
                self.research_finished = True
                self.proposal = {}
                self.proposal_accepted = False
        self.my_OCEAN = w.ocean(self.name)
        if w.p.random_buying and not self.proposal_accepted and w.rng.random() >= 0.6:
            self.buy_assets(t)
        self.ts_tick = t

    def check_idle(self, first: int, n: int) -> None:
        """Raise unless ticks ``first..first+n-1`` are idle for this researcher."""
        if not self.proposal or self.research_finished:
            raise MissedEventError(f"{self.name}: a proposal to create at skipped tick {first}")
        if self.proposal_accepted and self.ticks_since_proposal + n >= self.proposal["time"]:
            raise MissedEventError(f"{self.name}: research ends in skipped ticks {first}..{first + n - 1}")

    def advance(self, n: int) -> None:
        """Counters and the OCEAN snapshot after ``n`` idle ticks."""
        self.last_OCEAN_spent = 0.0
        self.ticks_since_proposal += n
        self.ts_tick += n
        self.my_OCEAN = self.world.ocean(self.name)


# ======================================================================================
# Passive agents and markets
# ======================================================================================
class SellerAgent(DarcAgent):
    """``SellerAgent`` (naive): only accumulates OCEAN; ``n_sellers`` += 1 a tick and
    its revenue per seller is 0."""

    def __init__(self, name: str, n_sellers: float) -> None:
        super().__init__(name)
        self.n_sellers = float(n_sellers)

    def take_step(self, t: int) -> None:
        self.n_sellers += 1

    def skip(self, first: int, n: int) -> None:
        self.n_sellers += n


class SimpleStakerspeculatorAgent(DarcAgent):
    """``SimpleStakerspeculatorAgent``: passive; it only receives fees."""


class KnowledgeMarketAgent(DarcAgent):
    """``KnowledgeMarketAgent`` (profit sharing, spec 5.2): takes a fee on what it
    received since the last tick (split to ``fee_receivers``), keeps the share given by
    the *first* researcher that spent this or last tick (quirk: one ratio for everyone's
    money), pays the rest pro rata to the asset registry, and registers assets at
    multiples of TBP and at tick 20 from the winner's *current* (fresh) proposal."""

    def __init__(self, name: str, fee: float, fee_receivers: dict[str, float]) -> None:
        super().__init__(name)
        self.transaction_fees_percentage = fee
        self.fee_receivers = dict(fee_receivers)
        self.OCEAN_last_tick = 0.0
        self.last_research_tick = 0
        self.knowledge_assets_per_researcher: dict[str, int] = {}
        self.total_knowledge_assets = 0
        self.total_fees = 0.0

    def _spender_ratio(self, t: int) -> float | None:
        for r in self.world.researchers:
            if r.last_tick_spent in (t, t - 1):
                return r.ratio_funds_to_publish
        return None

    def to_distribute(self, t: int) -> tuple[float, float, float]:
        """(fees, keep, disburse) of what arrived since the last tick."""
        received = self.world.ocean(self.name) - self.OCEAN_last_tick
        if received > 0 and self._can_receive(t):
            fees = received * self.transaction_fees_percentage
            ratio = self._spender_ratio(t)
            if ratio is None:
                return 0, 0, 0
            keep = (received - fees) * ratio
            return fees, keep, (received - fees) - keep
        return 0, 0, 0

    def _can_receive(self, t: int) -> bool:
        return True

    def disburse_fees(self, fee: float) -> None:
        self.total_fees += fee
        for dst, share in self.fee_receivers.items():
            self.world.send(self.name, dst, share * fee)

    def disburse_payout(self, disburse: float) -> None:
        """Pay ``disburse`` pro rata to the registered assets (nothing when empty)."""
        total = self.total_knowledge_assets
        ratios = {a: n / total for a, n in self.knowledge_assets_per_researcher.items()}
        if sum(ratios.values()) != 0:
            for name, ratio in ratios.items():
                self.world.send(self.name, name, disburse * ratio)

    def _credit(self, winner: str, assign: bool = False) -> None:
        assets = self.world.by_name[winner].proposal["assets_generated"]
        if assign or winner not in self.knowledge_assets_per_researcher:
            self.knowledge_assets_per_researcher[winner] = assets
        else:
            self.knowledge_assets_per_researcher[winner] += assets
        self.total_knowledge_assets += assets

    def registry(self, t: int) -> None:
        ev = self.world.dao.proposal_evaluation
        if t % self.world.p.ticks_between_proposals == 0 and ev:
            self._credit(ev["winner"])
            self.last_research_tick = t
        elif t == 20:
            if ev:  # DARC-SPICE raises KeyError here when the evaluation is empty
                self._credit(ev["winner"], assign=True)
            self.last_research_tick = t

    def take_step(self, t: int) -> None:
        fee, _keep, disburse = self.to_distribute(t)
        if fee > 0:
            self.disburse_fees(fee)
        if disburse > 0:
            self.disburse_payout(disburse)
        self.registry(t)
        self.OCEAN_last_tick = self.world.ocean(self.name)
        self.after_step()

    def after_step(self) -> None:
        self.last_research_tick += 1

    def skip(self, first: int, n: int) -> None:
        if self.world.ocean(self.name) != self.OCEAN_last_tick:
            raise MissedEventError(f"{self.name}: OCEAN arrived before skipped tick {first}")
        tbp = self.world.p.ticks_between_proposals
        last = first + n - 1
        if self.world.dao.proposal_evaluation and (last // tbp) * tbp >= first:
            raise MissedEventError(f"{self.name}: an asset registration in skipped ticks {first}..{last}")
        if first <= 20 <= last:
            raise MissedEventError(f"{self.name}: tick 20 skipped")
        self.last_research_tick += n


class MultKnowledgeMarketAgent(KnowledgeMarketAgent):
    """``MultKnowledgeMarketAgent`` (spec 5.3): acts only if it received OCEAN and
    t > 0; the ratio is the first researcher's with last_tick_spent == t. Quirk: from
    tick 21 the asset registry fires every tick while the DAO's evaluation is
    non-empty, crediting all K winners' current proposals each hour."""

    def _spender_ratio(self, t: int) -> float | None:
        for r in self.world.researchers:
            if r.last_tick_spent == t:  # the source's (t or t - 1) is t for t > 0
                return r.ratio_funds_to_publish
        return None

    def _can_receive(self, t: int) -> bool:
        return t > 0

    def registry(self, t: int) -> None:
        ev = self.world.dao.proposal_evaluation
        if (self.last_research_tick - t) % self.world.p.ticks_between_proposals == 0 and ev:
            for e in ev.values():
                self._credit(e["winner"])
            self.last_research_tick = t
        elif t == 20:
            for e in ev.values():
                self._credit(e["winner"], assign=True)
            self.last_research_tick = t

    def take_step(self, t: int) -> None:
        self.last_research_tick += 1
        fee, _keep, disburse = self.to_distribute(t)
        if fee > 0:
            self.disburse_fees(fee)
        if disburse > 0:
            self.disburse_payout(disburse)
        self.registry(t)
        self.OCEAN_last_tick = self.world.ocean(self.name)

    def skip(self, first: int, n: int) -> None:
        if self.world.ocean(self.name) != self.OCEAN_last_tick:
            raise MissedEventError(f"{self.name}: OCEAN arrived before skipped tick {first}")
        last = first + n - 1
        if first <= 20 <= last:
            raise MissedEventError(f"{self.name}: tick 20 skipped")
        tbp = self.world.p.ticks_between_proposals
        off = self.last_research_tick - (first - 1)  # lrt - t, unchanged while idle
        ev = self.world.dao.proposal_evaluation
        if ev and off % tbp == 0:
            # the registry fires at every skipped tick: n credits of each winner
            per_tick = 0
            for e in ev.values():
                a = self.world.by_name[e["winner"]].proposal["assets_generated"]
                self.knowledge_assets_per_researcher[e["winner"]] = (
                    self.knowledge_assets_per_researcher.get(e["winner"], 0) + n * a)
                per_tick += a
            self.total_knowledge_assets += n * per_tick
            self.last_research_tick = last
        else:
            self.last_research_tick += n  # lrt - t stays off: the registry never fires


class MultTimeKnowledgeMarketAgent(KnowledgeMarketAgent):
    """``MultTimeKnowledgeMarketAgent`` (spec 5.4): the fee and the kept share are
    computed per researcher from its ``last_OCEAN_spent`` and ratio; the registry
    credits the DAO's new winners whenever it evaluated this tick."""

    def to_distribute(self, t: int) -> tuple[float, float, float]:
        received = self.world.ocean(self.name) - self.OCEAN_last_tick
        if received <= 0:
            return 0, 0, 0
        fees = keep = disburse = 0.0
        pct = self.transaction_fees_percentage
        for r in self.world.researchers:
            x = r.last_OCEAN_spent
            ratio = r.ratio_funds_to_publish
            r_fee = x * pct
            fees += r_fee
            keep += (x - r_fee) * ratio
            disburse += (x - r_fee) - (x - r_fee) * ratio
        return fees, keep, disburse

    def take_step(self, t: int) -> None:
        w = self.world
        self.last_research_tick += 1
        fee, _keep, disburse = self.to_distribute(t)
        if self.OCEAN_last_tick == w.ocean(self.name):
            fee, disburse = 0, 0
        if fee > 0:
            self.disburse_fees(fee)
        if disburse > 0:
            self.disburse_payout(disburse)
        dao = w.dao
        if dao.proposal_evaluation_update and dao.update > 0:
            for e in dao.proposal_evaluation_update.values():
                self._credit(e["winner"])
            self.last_research_tick = t
        self.OCEAN_last_tick = w.ocean(self.name)

    def skip(self, first: int, n: int) -> None:
        if self.world.ocean(self.name) != self.OCEAN_last_tick:
            raise MissedEventError(f"{self.name}: OCEAN arrived before skipped tick {first}")
        self.last_research_tick += n


__all__ = [
    "OCEAN",
    "BaselineResearcherAgent",
    "DarcAgent",
    "DarcRng",
    "DarcWorld",
    "KnowledgeMarketAgent",
    "MissedEventError",
    "MultDAOTreasuryAgent",
    "MultKnowledgeMarketAgent",
    "MultResearcherAgent",
    "MultTimeDAOTreasuryAgent",
    "MultTimeKnowledgeMarketAgent",
    "MultTimeResearcherAgent",
    "OpscientiaDAOAgent",
    "ResearcherAgent",
    "SellerAgent",
    "SimpleStakerspeculatorAgent",
]
