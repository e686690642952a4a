"""The README's example policy (section "Compute marketplace") works as written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from defisim.agents.compute import make_policy, negotiate
from defisim.agents.compute.policy import Accept, Policy


@dataclass(frozen=True, kw_only=True)
class SplitTheDifference(Policy):
    """A client: open at `start`, then counter halfway to the offer; accept within 1 %."""
    name = "split"
    start: float = 200.0

    def _open(self, job, ctx):
        ctx.memory.x_prev = self.start
        return self.start

    def _respond(self, ctx):
        if ctx.y <= 1.01 * ctx.memory.x_prev:
            return Accept()
        ctx.memory.x_prev = (ctx.memory.x_prev + ctx.y) / 2
        return ctx.counter(ctx.memory.x_prev)


def test_the_readme_policy_agrees_with_a_kalman_provider():
    out = negotiate(SplitTheDifference(role="client"), make_policy("kalman", "provider"),
                    client_rng=np.random.default_rng(0), provider_rng=np.random.default_rng(1))
    prices = [m.amount / 1e6 for m in out.messages]
    # 200; Kalman provider 466.666667; the client halves the gap: 333.333333; ...
    assert prices[:3] == [200.0, 466.666667, 333.333333]
    assert out.status == "agreed"
    # the client accepted an offer within 1 % of its last counter
    assert out.amount / 1e6 <= 1.01 * prices[-2]
