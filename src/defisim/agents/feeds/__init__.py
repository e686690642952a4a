"""Feeds and helpers around the market that take no view.

- :mod:`.reference`: :class:`ReferencePriceFeed`, the off-chain reference price (phase 0);
- :mod:`.live`: :class:`LiveReferencePriceFeed`, the reference read from a price feed
  (a paced replay, a live exchange) at each step;
- :mod:`.oracle`: :class:`OracleAgent`, publishes the reference on the chain (phase 0);
- :mod:`.auction`: :class:`OpeningAuctionTrader`, makes the opening auction uncross at
  the reference price;
- :mod:`.recorder`: :class:`RecorderAgent`, a custom per-step measurement.
"""

from .auction import OpeningAuctionTrader
from .live import LiveReferencePriceFeed
from .oracle import OracleAgent
from .recorder import RecorderAgent
from .reference import ReferencePriceFeed

__all__ = ["LiveReferencePriceFeed", "OpeningAuctionTrader", "OracleAgent", "RecorderAgent", "ReferencePriceFeed"]
