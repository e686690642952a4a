"""The futures protocol: every futures market on a chain, and their block hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import EXECUTED, REJECTED, Receipt

from .accounts import NETWORK_PARTY
from .events import MarketCreated
from .market import FuturesMarket
from .params import MarketConfig
from .recording import TABLES, FuturesRecording
from .state import LIQUIDITY_PENDING, LiquidityResult, OrderResult
from .types import OrderStatus, Reason

if TYPE_CHECKING:
    from defisim.chain import Chain, Transaction


class FuturesProtocol(ChainProtocol):
    """Every futures market on a chain; order ids are unique across markets.

    Transactions (``Transaction(protocol="futures", call=...)``, raw integers; an
    unknown market is rejected with ``MARKET_NOT_FOUND``): ``submit_order``,
    ``amend_order``, ``cancel_order``, ``cancel_all``, ``submit_liquidity``,
    ``amend_liquidity``, ``cancel_liquidity``, ``oracle_price``. Creating, terminating
    and settling a market are set-up calls of the scenario, not transactions.
    """

    name = "futures"
    recording_tables = TABLES
    gas = {"submit_order": 120_000, "amend_order": 80_000, "cancel_order": 40_000,
           "cancel_all": 60_000, "submit_liquidity": 150_000, "amend_liquidity": 100_000,
           "cancel_liquidity": 60_000, "oracle_price": 50_000}

    def __init__(self, chain: Chain | None = None) -> None:
        self.markets: dict[str, FuturesMarket] = {}
        self._order_seq = 0
        if chain is not None:
            chain.register(self)

    def attach(self, chain: Chain) -> None:
        self.chain = chain
        chain.ledger.reserve_party(NETWORK_PARTY)

    # ------------------------------------------------------------ transactions
    def _no_market(self, tx: str, party: str, market: str, order_id: int = 0) -> OrderResult:
        detail = f"unknown market {market!r}; known: {sorted(self.markets)}"
        self.chain.reject(tx, party, market, Reason.MARKET_NOT_FOUND, detail, order_id)
        return OrderResult(order_id, OrderStatus.REJECTED, Reason.MARKET_NOT_FOUND, detail)

    def tx_submit_order(self, sender: str, market: str, side: int, size: int, order_type: str,
                        time_in_force: str, price: int, expires_at_ns: int, post_only: bool,
                        reduce_only: bool, peg_reference: str, peg_offset: int) -> OrderResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market("submit_order", sender, market)
        return m.submit(sender, side, size, order_type, time_in_force, price, expires_at_ns,
                        post_only, reduce_only, peg_reference, peg_offset)

    def tx_amend_order(self, sender: str, market: str, order_id: int, price: int | None,
                       size: int | None, expires_at_ns: int | None, time_in_force: str | None,
                       peg_offset: int | None, peg_reference: str | None) -> OrderResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market("amend_order", sender, market, order_id)
        return m.amend(sender, order_id, price, size, expires_at_ns, time_in_force, peg_offset,
                       peg_reference)

    def tx_cancel_order(self, sender: str, market: str, order_id: int) -> OrderResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market("cancel_order", sender, market, order_id)
        return m.cancel(sender, order_id)

    def tx_cancel_all(self, sender: str, market: str | None) -> int:
        """Cancel the sender's orders in ``market`` (``None``: every market); returns
        how many."""
        if market is not None:
            m = self.markets.get(market)
            if m is None:
                self._no_market("cancel_all", sender, market)
                return 0
            return m.cancel_all(sender)
        return sum(m.cancel_all(sender) for m in self.markets.values())

    def _no_market_liquidity(self, tx: str, party: str, market: str) -> LiquidityResult:
        r = self._no_market(tx, party, market)
        return LiquidityResult.rejected(r.reason, r.detail)

    def tx_submit_liquidity(self, sender: str, market: str, commitment: int,
                            fee: float) -> LiquidityResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market_liquidity("submit_liquidity", sender, market)
        return m.submit_liquidity(sender, commitment, fee)

    def tx_amend_liquidity(self, sender: str, market: str, commitment: int | None,
                           fee: float | None) -> LiquidityResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market_liquidity("amend_liquidity", sender, market)
        return m.amend_liquidity(sender, commitment, fee)

    def tx_cancel_liquidity(self, sender: str, market: str) -> LiquidityResult:
        m = self.markets.get(market)
        if m is None:
            return self._no_market_liquidity("cancel_liquidity", sender, market)
        return m.cancel_liquidity(sender)

    def tx_oracle_price(self, sender: str, market: str, price: int) -> Receipt:
        m = self.markets.get(market)
        if m is None:
            r = self._no_market("oracle_price", "", market)
            return Receipt(REJECTED, r.reason, r.detail, block=self.chain.block)
        try:
            m.submit_oracle_price(price)
        except ValueError as exc:
            self.chain.reject("oracle_price", "", market, Reason.INVALID_PRICE, str(exc))
            return Receipt(REJECTED, Reason.INVALID_PRICE, str(exc), block=self.chain.block)
        return Receipt(EXECUTED, block=self.chain.block)

    def next_deadline_ns(self) -> int | None:
        """The earliest of the markets' deadlines (:meth:`FuturesMarket.next_deadline_ns`)."""
        best = None
        for m in self.markets.values():
            d = m.next_deadline_ns()
            if d is not None and (best is None or d < best):
                best = d
        return best

    def pending_result(self, tx: Transaction) -> Any:
        if tx.call in ("submit_order", "amend_order", "cancel_order"):
            return OrderResult(0, OrderStatus.PENDING, tx_id=tx.tx_id)
        if tx.call in ("submit_liquidity", "amend_liquidity", "cancel_liquidity"):
            return LiquidityResult(LIQUIDITY_PENDING, tx_id=tx.tx_id)
        return super().pending_result(tx)

    def recording(self, depth_levels: int = 10, **options: Any) -> FuturesRecording:
        """The futures tables and built-in KPIs (:mod:`.recording`)."""
        return FuturesRecording(self, depth_levels)

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
