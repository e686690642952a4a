"""Replaying recorded market data through defisim's protocol cores.

:func:`replay_lobster` replays a LOBSTER (NASDAQ TotalView-ITCH) message file through the
futures order book and checks the book against the orderbook file after every message.
"""

from .lobster import (
    ASK_PAD,
    BID_PAD,
    LobsterFormatError,
    LobsterMessages,
    ReplayResult,
    format_result,
    read_messages,
    read_orderbook,
    replay_lobster,
)

__all__ = [
    "ASK_PAD",
    "BID_PAD",
    "LobsterFormatError",
    "LobsterMessages",
    "ReplayResult",
    "format_result",
    "read_messages",
    "read_orderbook",
    "replay_lobster",
]
