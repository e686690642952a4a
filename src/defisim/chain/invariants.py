"""Block-end invariant checking."""

from __future__ import annotations

from collections.abc import Sequence

from .events import Event


class InvariantViolation(Exception):
    """A chain invariant failed at block end.

    Attributes:
        block: block height at which the check failed.
        time_ns: simulated time of that block.
        violations: one line per broken invariant.
        recent_events: the last events emitted before the check (oldest first).
    """

    def __init__(
        self, block: int, time_ns: int, violations: Sequence[str], recent_events: Sequence[Event]
    ) -> None:
        self.block = block
        self.time_ns = time_ns
        self.violations = list(violations)
        self.recent_events = list(recent_events)
        lines = [f"invariant violated at block {block} (t={time_ns} ns):"]
        lines += [f"  - {v}" for v in self.violations]
        if self.recent_events:
            lines.append(f"  last {min(10, len(self.recent_events))} events:")
            lines += [f"    {e!r}" for e in self.recent_events[-10:]]
        super().__init__("\n".join(lines))
