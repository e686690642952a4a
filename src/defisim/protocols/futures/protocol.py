"""The futures protocol: every futures market on a chain, and their block hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import MarketCreated
from .market import FuturesMarket
from .params import MarketConfig

if TYPE_CHECKING:
    from defisim.chain import Chain


class FuturesProtocol:
    """Registry of :class:`FuturesMarket` objects; order ids are unique across markets."""

    name = "futures"

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.markets: dict[str, FuturesMarket] = {}
        self._order_seq = 0
        chain.register(self)

    def next_order_id(self) -> int:
        self._order_seq += 1
        return self._order_seq

    def create_market(self, config: MarketConfig) -> FuturesMarket:
        """Create a market in its opening auction.

        Raises:
            ValueError: duplicate market id, unknown asset or inconsistent decimals.
        """
        if config.market_id in self.markets:
            raise ValueError(f"market {config.market_id!r} already exists")
        if config.asset not in self.chain.ledger.assets:
            raise ValueError(
                f"unknown settlement asset {config.asset!r}; known: {sorted(self.chain.ledger.assets)}"
            )
        m = FuturesMarket(self.chain, config, self.next_order_id)
        self.markets[config.market_id] = m
        c = self.chain
        c.emit(MarketCreated(c.block, c.now, config.market_id, config.asset, config.model_dump_json()))
        return m

    # ------------------------------------------------------------- governance
    def validate_proposal(self, payload: dict) -> str:
        """Proposals: ``{"action": "update_market", "market": id, "changes": {...}}`` or
        ``{"action": "close_market", "market": id, "price": raw ticks}``."""
        m = self.markets.get(payload.get("market", ""))
        if m is None:
            return f"unknown market {payload.get('market')!r}; known: {sorted(self.markets)}"
        action = payload.get("action")
        if action == "update_market":
            changes = payload.get("changes")
            if not isinstance(changes, dict) or not changes:
                return "update_market needs a non-empty dict of changes"
            return m.validate_update(changes)
        if action == "close_market":
            price = payload.get("price")
            if not isinstance(price, int) or price <= 0:
                return f"close_market needs a positive integer price, got {price!r}"
            return ""
        return f"unknown action {action!r}; known: update_market, close_market"

    def enact_proposal(self, payload: dict) -> str:
        err = self.validate_proposal(payload)
        if err:
            return err
        m = self.markets[payload["market"]]
        if payload["action"] == "update_market":
            return m.apply_update(payload["changes"])
        m.close(payload["price"])
        return ""

    def begin_block(self) -> None:
        for m in self.markets.values():
            m.begin_block()

    def end_block(self) -> None:
        for m in self.markets.values():
            m.end_block()

    def invariant_errors(self) -> list[str]:
        errors: list[str] = []
        for m in self.markets.values():
            errors.extend(m.invariant_errors())
        return errors
