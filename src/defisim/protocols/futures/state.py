"""Per-party market state and the result of an order transaction."""

from __future__ import annotations

from dataclasses import dataclass

from defisim.numeric.fixed import ONE

from . import accounts as acct
from .events import TradeExecuted
from .types import Order, OrderStatus


class PartyState:
    """A party's position and order exposure in one market (raw integers)."""

    __slots__ = (
        "party",
        "position",
        "buy_volume",
        "sell_volume",
        "buy_notional",
        "sell_notional",
        "orders",
        "mtm_q",
        "mtm_qp",
        "margin_key",
        "general_key",
        "bond_key",
        "entry_cost",
        "realised",
        "mm_key",
        "mm_unit",
    )

    def __init__(self, party: str, market: str, asset: str) -> None:
        self.party = party
        self.position = 0
        self.buy_volume = 0
        self.sell_volume = 0
        self.buy_notional = 0
        self.sell_notional = 0
        self.orders: dict[int, Order] = {}
        # trades since the last mark-to-market: sum of signed sizes and of size * price
        self.mtm_q = 0
        self.mtm_qp = 0
        self.margin_key = acct.margin(party, market, asset)
        self.general_key = acct.general(party, asset)
        self.bond_key = acct.bond(party, market, asset)
        # position accounting in raw price x raw size units scaled by 10^18 (so that
        # splitting the cost on partial reductions loses nothing visible): cost of the
        # open position at entry, realised PnL of the closed parts
        self.entry_cost = 0
        self.realised = 0
        # cache of MarginCalculator.unit for (position, buy_volume, sell_volume)
        self.mm_key: tuple[int, int, int] | None = None
        self.mm_unit = 0

    def trade(self, q: int, price: int) -> None:
        """Apply a trade of signed size ``q`` at ``price`` to the position and its accounts."""
        v = self.position
        self.mtm_q += q
        self.mtm_qp += q * price
        if v == 0 or (v > 0) == (q > 0):  # opening or adding
            self.entry_cost += abs(q) * price * ONE
        else:  # reducing, maybe flipping
            closed = min(abs(q), abs(v))
            kept = abs(v) - closed
            removed = self.entry_cost - self.entry_cost * kept // abs(v)
            self.realised += (closed * price * ONE - removed) * (1 if v > 0 else -1)
            self.entry_cost -= removed
            if abs(q) > abs(v):
                self.entry_cost = (abs(q) - abs(v)) * price * ONE
        self.position = v + q

    def settle_at(self, price: int) -> None:
        """Final settlement closes the position at ``price``."""
        v = self.position
        if v:
            self.realised += (abs(v) * price * ONE - self.entry_cost) * (1 if v > 0 else -1)
        self.entry_cost = 0
        self.position = 0

    def average_entry_price(self) -> float:
        """Average entry price of the open position (raw ticks, a float; 0 when flat)."""
        return self.entry_cost / ONE / abs(self.position) if self.position else 0.0

    def realised_pnl(self) -> float:
        """Realised PnL (raw price x raw size, a float)."""
        return self.realised / ONE

    def unrealised(self, mark: int) -> float:
        """Unrealised PnL at ``mark`` (raw price x raw size, a float)."""
        v = self.position
        return (abs(v) * mark * ONE - self.entry_cost) * (1 if v > 0 else -1) / ONE if v else 0.0


class OrderResult:
    """What happened to a submitted or amended order.

    ``status`` is an :class:`OrderStatus`; ``reason`` a :class:`Reason` code (empty
    when accepted normally); ``trades`` the :class:`TradeExecuted` events it made.
    """

    __slots__ = ("order_id", "status", "reason", "detail", "trades", "tx_id")

    def __init__(self, order_id, status, reason="", detail="", trades=None, tx_id=0) -> None:
        self.order_id = order_id
        self.status = status
        self.reason = reason
        self.detail = detail
        self.trades: list[TradeExecuted] = trades if trades is not None else []
        self.tx_id = tx_id

    @property
    def accepted(self) -> bool:
        """True unless the transaction was rejected."""
        return self.status != OrderStatus.REJECTED

    @property
    def filled_size(self) -> int:
        return sum(t.size for t in self.trades)

    def __repr__(self) -> str:
        return (
            f"OrderResult(id={self.order_id}, {self.status}, reason={self.reason!r}, "
            f"trades={len(self.trades)})"
        )


#: :attr:`LiquidityResult.status` of a commitment change that took effect.
LIQUIDITY_EXECUTED = "EXECUTED"
#: :attr:`LiquidityResult.status` of a refused one (:attr:`LiquidityResult.reason` says why).
LIQUIDITY_REJECTED = "REJECTED"
#: :attr:`LiquidityResult.status` while the transaction waits in the mempool.
LIQUIDITY_PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class LiquidityResult:
    """What happened to a liquidity commitment transaction (submit, amend, cancel).

    The counterpart of :class:`OrderResult` for ``submit_liquidity``,
    ``amend_liquidity`` and ``cancel_liquidity``. ``bool(result)`` is true only when
    the change took effect (``status == "EXECUTED"``), so
    ``if sim.futures.submit_liquidity(...):`` reads as it should; a rejection is
    false and carries its reason code.

    Attributes:
        status: ``"EXECUTED"``, ``"REJECTED"`` (a ``TransactionRejected`` event says
            why) or ``"PENDING"`` (waiting in the mempool; the chain's receipt of
            ``tx_id`` tells the outcome once the block closes).
        reason: the reason code when rejected (``MARKET_NOT_FOUND``,
            ``MARKET_NOT_TRADING``, ``PARTY_NOT_FOUND``, ``INVALID_FEE``,
            ``INVALID_COMMITMENT``, ``NOT_LIQUIDITY_PROVIDER``, a
            :class:`~defisim.protocols.futures.liquidity.LiquidityReason`, ...), else ``""``.
        detail: prose about the rejection, else ``""``.
        tx_id: the transaction's id while pending (0 otherwise, as for orders).
    """

    status: str
    reason: str = ""
    detail: str = ""
    tx_id: int = 0

    @classmethod
    def executed(cls) -> LiquidityResult:
        """The result of a change that took effect."""
        return _LIQUIDITY_OK

    @classmethod
    def rejected(cls, reason: str, detail: str = "") -> LiquidityResult:
        """The result of a refused change with its reason code."""
        return cls(LIQUIDITY_REJECTED, str(reason), detail)

    @property
    def accepted(self) -> bool:
        """True unless the transaction was rejected (pending counts as accepted, as
        for :attr:`OrderResult.accepted`)."""
        return self.status != LIQUIDITY_REJECTED

    @property
    def ok(self) -> bool:
        """True only when the change took effect (the same as ``bool(result)``)."""
        return self.status == LIQUIDITY_EXECUTED

    def __bool__(self) -> bool:
        """True only when the change took effect; false when rejected or pending."""
        return self.status == LIQUIDITY_EXECUTED


_LIQUIDITY_OK = LiquidityResult(LIQUIDITY_EXECUTED)
