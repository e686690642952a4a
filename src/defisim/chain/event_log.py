"""Cursors on the chain's event log.

Every event goes into one log (:attr:`Chain.events`). Each consumer (the run's
recorder, a scenario's KPI tally, an agent, a console) reads it through its own
:class:`EventCursor`, so no consumer races another's drain: events stay in the log
until every open cursor has read them, then the log forgets them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .chain import Chain
    from .events import Event


class EventCursor:
    """A reader's position in the event log (global index of its next event).

    A new cursor starts at the end of the log: it reads the events emitted after it
    was opened. With ``keep_events=False`` the chain keeps no events and every read
    is empty.
    """

    __slots__ = ("_chain", "position", "closed")

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self.position = chain.events_base + len(chain.events)
        self.closed = False

    def read(self) -> list[Event]:
        """The events emitted since the previous read, oldest first.

        Raises:
            RuntimeError: the cursor was closed.
        """
        if self.closed:
            raise RuntimeError("this event cursor is closed")
        chain = self._chain
        events = chain.events
        start = self.position - chain.events_base
        out = events[start:] if start else list(events)
        self.position = chain.events_base + len(events)
        chain.trim_events()
        return out

    def close(self) -> None:
        """Stop reading: the log no longer keeps events for this cursor."""
        if not self.closed:
            self.closed = True
            self._chain.cursors.remove(self)
            self._chain.trim_events()
