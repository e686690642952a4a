"""Message schemes of the compute marketplace (spec 2): a declarative engine
(:mod:`.engine`), the message bus (:mod:`.bus`, spec 2.1), and the two schemes,
``compute`` (:mod:`.compute`, spec 2.3, the default) and ``coophive``
(:mod:`.coophive`, spec 2.2). Refused messages are :class:`.events.MessageRejected`
events, never exceptions."""

from .bus import SCHEME_SENDER, MessageBus, Route
from .compute import REQUESTS, ComputeParams, ComputeScheme
from .coophive import INITIAL_OFFERS, CoophiveScheme
from .engine import (
                     Envelope,
                     Fail,
                     FieldSpec,
                     MessageType,
                     SchemeDefinition,
                     Timers,
                     TopicState,
                     Transition,
)
from .events import MessageRejected, TopicClosed
from .table import TableScheme

__all__ = [
    "INITIAL_OFFERS",
    "REQUESTS",
    "SCHEME_SENDER",
    "ComputeParams",
    "ComputeScheme",
    "CoophiveScheme",
    "Envelope",
    "Fail",
    "FieldSpec",
    "MessageBus",
    "MessageRejected",
    "MessageType",
    "Route",
    "SchemeDefinition",
    "Timers",
    "TableScheme",
    "TopicClosed",
    "TopicState",
    "Transition",
]
