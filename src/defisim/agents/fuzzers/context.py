"""The world the fuzz agents act in: the markets (:class:`MarketInfo`), parties,
assets, funding and the shared transaction log (:class:`FuzzContext`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .log import TxLog


@dataclass(frozen=True)
class MarketInfo:
    """What a generator needs to know of a market (raw units)."""

    market: str
    asset: str
    decimal_places: int
    tick: int
    position_factor: int
    asset_decimals: int
    base_price: int
    perpetual: bool

    @property
    def price_factor(self) -> int:
        """Base units per (raw price x contract)."""
        return 10 ** (self.asset_decimals - self.decimal_places)

    @property
    def lot(self) -> int:
        """A tenth of a contract (at least one raw unit)."""
        return max(1, self.position_factor // 10)

    def human_price(self, raw: int) -> float:
        return raw / 10**self.decimal_places

    def human_size(self, raw: int) -> float:
        return raw / self.position_factor

    def on_tick(self, raw: int) -> int:
        """``raw`` moved down onto the tick grid, at least one tick."""
        return max(self.tick, raw - raw % self.tick)


@dataclass
class FuzzContext:
    """The world the fuzz agents act in, and the shared transaction log.

    Attributes:
        markets: market id -> :class:`MarketInfo`.
        parties: every fuzz party.
        assets: asset id -> decimals.
        funding: party -> asset -> raw amount minted at the start (top-ups mint it again).
        log: the :class:`TxLog` every transaction goes through.
        invalid_p: probability that a generated transaction is deliberately malformed.
        extreme_p: probability of an extreme price or size.
        wild_p: probability that an extreme price may rest on the crossing side of the
            book (see :meth:`TxGenerator.price`).
        governance: send parameter changes and market closures.
        closable: markets that valid ``close`` transactions may close ...
        close_after_s: ... once the simulated time is past this (seconds).
    """

    markets: dict[str, MarketInfo]
    parties: list[str]
    assets: dict[str, int]
    funding: dict[str, dict[str, int]]
    log: TxLog
    invalid_p: float = 0.1
    extreme_p: float = 0.05
    wild_p: float = 0.0
    governance: bool = True
    closable: tuple[str, ...] = ()
    close_after_s: float = math.inf
