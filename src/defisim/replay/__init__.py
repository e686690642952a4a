"""Replaying recorded market data through defisim's protocol cores.

:func:`replay_lobster` replays a LOBSTER (NASDAQ TotalView-ITCH) message file through the
futures order book and checks the book against the orderbook file after every message.
:func:`replay_uniswap_v3` replays a day of Uniswap V3 pool events (demeter-fetch
``tick.csv``) through the V3 pool core and checks every swap, mint and burn to the wei.
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
from .uniswap_v3 import (
    UniswapV3Events,
    UniswapV3FormatError,
    UniswapV3ReplayResult,
    infer_tick_nets,
    read_tick_csv,
    replay_uniswap_v3,
)

__all__ = [
    "ASK_PAD",
    "BID_PAD",
    "LobsterFormatError",
    "LobsterMessages",
    "UniswapV3Events",
    "UniswapV3FormatError",
    "UniswapV3ReplayResult",
    "ReplayResult",
    "format_result",
    "infer_tick_nets",
    "read_messages",
    "read_orderbook",
    "read_tick_csv",
    "replay_lobster",
    "replay_uniswap_v3",
]
