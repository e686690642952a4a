"""Which agents wake at a step, and in which order (DESIGN.md, "Agents").

Every agent wakes at the first step. Then ``next_wakeup`` returning ``None`` means
every step; a time ``w`` (seconds since the start) means the first step with
``t_k >= w`` (a time ``<= now`` means the next step); ``math.inf`` means never
again. Idle agents sit in a heap and cost nothing per step. Within a step agents
run by ``phase`` ascending and, within a phase, in a fresh permutation drawn from
the run's ``"runner:agent_order"`` stream.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Any

from defisim.chain import NS_PER_SECOND

if TYPE_CHECKING:
    from defisim.agents.base import Agent


class AgentScheduler:
    """Which agents wake at a step, in which order (see the module docstring).

    Args:
        agents: the run's agents; their index in this list is their tie-break
            (build order) before the per-phase permutation.
        rng: the generator of the per-phase permutations (one for the run).

    Every agent wakes at the first call of :meth:`due`. Cost per step: the
    every-step agents plus the scheduled agents that are due (a heap), not the
    number of agents.
    """

    def __init__(self, agents: list[Agent], rng: Any) -> None:
        self.agents = agents
        self.rng = rng
        self.phases = [int(getattr(a, "phase", 1)) for a in agents]
        # phase -> sorted indices of every-step agents
        self._every: dict[int, list[int]] = {}
        self._heap: list[tuple[int, int]] = []
        for i, p in enumerate(self.phases):
            self._every.setdefault(p, []).append(i)
        self._is_every = [True] * len(agents)

    def add(self, agent: Agent) -> None:
        """Append ``agent`` (to ``agents`` too): it wakes at the next :meth:`due`, last in
        the tie-break order."""
        i = len(self.agents)
        self.agents.append(agent)
        p = int(getattr(agent, "phase", 1))
        self.phases.append(p)
        self._is_every.append(True)
        self._every.setdefault(p, []).append(i)

    def due(self, now_ns: int) -> list[int]:
        """Indices of the agents to step at ``now_ns``, in stepping order."""
        heap = self._heap
        scheduled: dict[int, list[int]] = {}
        while heap and heap[0][0] <= now_ns:
            _, i = heapq.heappop(heap)
            scheduled.setdefault(self.phases[i], []).append(i)
        every = self._every
        if scheduled:
            phases = sorted(set(every) | set(scheduled))
        else:
            phases = sorted(every)
        order: list[int] = []
        perm = self.rng.permutation
        for p in phases:
            members = every.get(p, [])
            extra = scheduled.get(p)
            if extra:
                members = sorted(members + extra)
            n = len(members)
            if n == 1:
                order.append(members[0])
            elif n:
                order.extend([members[j] for j in perm(n).tolist()])
        return order

    @property
    def has_every_step_agents(self) -> bool:
        """True while some agent wakes at every step."""
        return bool(self._every)

    def next_wake_ns(self) -> int | None:
        """The earliest scheduled wake-up time (ns), or ``None`` when none is scheduled."""
        return self._heap[0][0] if self._heap else None

    def after_step(self, i: int, wake_s: float | None, now_ns: int) -> None:
        """Record agent ``i``'s answer to ``next_wakeup`` (seconds, ``None`` or ``inf``).

        Raises:
            ValueError: a NaN or non-number wake-up time.
        """
        if wake_s is None:
            if not self._is_every[i]:
                self._is_every[i] = True
                lst = self._every.setdefault(self.phases[i], [])
                lst.append(i)
                lst.sort()
            return
        try:
            w = float(wake_s)
        except (TypeError, ValueError):
            raise ValueError(
                f"agent {self.agents[i].name!r}: next_wakeup returned "
                f"{wake_s!r}, expected seconds, None or math.inf"
            ) from None
        if math.isnan(w):
            raise ValueError(f"agent {self.agents[i].name!r}: next_wakeup returned NaN")
        if self._is_every[i]:
            self._is_every[i] = False
            p = self.phases[i]
            lst = self._every[p]
            lst.remove(i)
            if not lst:
                del self._every[p]
        if w == math.inf:
            return
        wake_ns = now_ns + 1 if w == -math.inf else max(round(w * NS_PER_SECOND), now_ns + 1)
        heapq.heappush(self._heap, (wake_ns, i))


def wake_agents(sim: Any, agents: list[Agent], scheduler: AgentScheduler,
                now_ns: int) -> None:
    """Step every agent due at ``now_ns`` in the scheduler's order and record its next
    wake-up (before the block closes). ``sim`` is what the agents act on: the
    simulation, or another implementation of its interface."""
    now_s = now_ns / NS_PER_SECOND
    after = scheduler.after_step
    for i in scheduler.due(now_ns):
        agent = agents[i]
        agent.step(sim)
        after(i, agent.next_wakeup(now_s), now_ns)
