"""Run-wide fuzz counters read from the events of each block (:class:`FuzzCounters`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class FuzzCounters:
    """Run-wide counters read from the events of each block (closeouts, auctions, slashes)."""

    closeouts: int = 0
    auctions: int = 0
    auction_extensions: int = 0
    lp_slashes: int = 0
    lp_early_exit_penalties: int = 0
    loss_socialisations: int = 0
    funding_periods: int = 0
    proposals_enacted: int = 0
    proposals_failed: int = 0
    markets_closed: int = 0
    trades: int = 0

    def update(self, events: Sequence[Any]) -> None:
        """Count the interesting ones among ``events`` (the block's, before they are drained)."""
        for ev in events:
            name = type(ev).__name__
            if name == "Transfer":
                kind = ev.kind
                if kind == "lp_sla_bond_slash":
                    self.lp_slashes += 1
                elif kind == "lp_early_exit_penalty":
                    self.lp_early_exit_penalties += 1
            elif name == "TradeExecuted":
                self.trades += 1
            elif name == "PositionClosedOut":
                self.closeouts += 1
            elif name == "AuctionStarted":
                self.auctions += 1
            elif name == "AuctionExtended":
                self.auction_extensions += 1
            elif name == "LossSocialised":
                self.loss_socialisations += 1
            elif name == "FundingPeriodEnded":
                self.funding_periods += 1
            elif name == "ProposalEnacted":
                self.proposals_enacted += 1
            elif name == "ProposalFailed":
                self.proposals_failed += 1
            elif name == "MarketStateChanged" and str(ev.state) == "CLOSED":
                self.markets_closed += 1

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)
