"""A scheme object for a plain table (spec 2): what a user writes to run a new scheme
on the :class:`~.bus.MessageBus` without code of their own.

Routing: a message on an unknown topic opens it in ``initial_state`` with the sender
as ``opener_role``; a sender not yet in a topic takes ``joiner_role`` and, if its move
is accepted, joins (is subscribed). Broadcast messages (on ``broadcast``) are judged
against the ``initial_state`` too but open no topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .bus import MessageBus, Route
from .engine import Reject, SchemeDefinition, TopicState

__all__ = ["TableScheme"]


class TableScheme:
    """Run ``definition`` as is.

    Args:
        definition: the scheme.
        opener_role: the role of a topic's first sender.
        joiner_role: the role of any later newcomer (None: newcomers are refused with
            ``wrong_role``).
        broadcast: the broadcast channel's name.
        close_message: ``(message type, reason field)`` the scheme sends when a timer
            or :meth:`MessageBus.close_topic` closes a topic, or None.

    Raises:
        ValueError: an unknown role.
    """

    def __init__(self, definition: SchemeDefinition, opener_role: str,
                 joiner_role: str | None = None, broadcast: str = "broadcast",
                 close_message: tuple[str, str] | None = None) -> None:
        for role in (opener_role, joiner_role):
            if role is not None and role not in definition.roles:
                raise ValueError(f"scheme {definition.name!r}: unknown role {role!r}")
        self.definition = definition
        self.opener_role, self.joiner_role = opener_role, joiner_role
        self.broadcast, self.close_message = broadcast, close_message
        self.bus: MessageBus | None = None

    def bind(self, bus: MessageBus) -> None:
        self.bus = bus

    def route(self, sender: str, channel: str, type: str, body: Mapping[str, Any],
              now: float) -> Route | Reject:
        """See the module docstring."""
        assert self.bus is not None, "bind the scheme to a bus first"
        if channel == self.broadcast:
            return Route(TopicState(channel, self.definition.initial_state, now),
                         self.opener_role, keep=False)
        topic = self.bus.topics.get(channel)
        if topic is None:
            return Route(TopicState(channel, self.definition.initial_state, float(now),
                                    {sender: self.opener_role}), self.opener_role, new=True)
        role = topic.participants.get(sender)
        if role is not None:
            return Route(topic, role)
        return Route(topic, self.joiner_role, join=self.joiner_role is not None)
