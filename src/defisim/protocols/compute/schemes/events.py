"""Events of the message schemes (spec 2.1): a refused message and a closed topic.

Both derive from :class:`defisim.chain.events.Event`, so a chain protocol that owns a
:class:`~.bus.MessageBus` can emit them into the run's event log; the first two
fields come from ``chain.stamp()`` (the bus is given that callable), or are
``(0, time_ns)`` when the bus runs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from defisim.chain.events import Event

__all__ = ["MessageRejected", "TopicClosed"]


@dataclass(frozen=True, slots=True)
class MessageRejected(Event):
    """A message the scheme refused (spec 2.1, "Invalid moves"): it was not delivered
    and the topic did not change.

    ``time_ns``: the publish time in ns of simulated time; ``topic``: the channel or
    topic it was published on; ``type``: its message type; ``reason``: the stable
    lower-case code of the scheme (``not_your_turn``, ``max_rounds``, ...);
    ``detail``: prose.
    """

    topic: str
    sender: str
    type: str
    reason: str
    detail: str = ""

    @property
    def time(self) -> float:
        """The publish time in seconds."""
        return self.time_ns / 1e9


@dataclass(frozen=True, slots=True)
class TopicClosed(Event):
    """Topic ``topic`` reached its terminal state with ``reason`` (``completed``,
    ``rejected``, ``timeout``, ``max_rounds``, a chain reason, ...)."""

    topic: str
    reason: str
