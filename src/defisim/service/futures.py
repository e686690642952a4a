"""The futures facade: ``sim.futures``, the futures market in its own vocabulary.

Human units in and out (floats: prices in quote currency, sizes in contracts, money
in asset units, time in seconds since the run's start); every call has a ``*_raw``
twin or a ``raw=True`` switch for exact integers, and one
:class:`~defisim.numeric.UnitConverter` per market (:meth:`FuturesFacade.units`)
does every conversion. Transactions never raise for bad input: they emit a
:class:`~defisim.chain.TransactionRejected` event with a reason code and return a
result whose ``status`` is ``REJECTED``. Every state-changing call is a
:class:`~defisim.chain.Transaction` sent through the chain (immediate or mempool
mode). Set-up calls (create, terminate, settle a market) raise ``ValueError`` on bad
input, since they are the scenario author's mistakes rather than an agent's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain import NS_PER_SECOND, Transaction
from defisim.numeric import MAX_AMOUNT, ONE, UnitConverter
from defisim.protocols.futures import (
    FuturesMarket,
    FuturesProtocol,
    LiquidityResult,
    MarketConfig,
    MarketState,
    OrderResult,
    OrderStatus,
    Reason,
    TimeInForce,
)
from defisim.protocols.futures import accounts as acct

if TYPE_CHECKING:
    from .simulation import Simulation


@dataclass(frozen=True, slots=True)
class OrderView:
    """A resting order in human units (``side`` is ``"buy"`` or ``"sell"``)."""

    order_id: int
    market: str
    party: str
    side: str
    price: float
    size: float
    remaining: float
    order_type: str
    time_in_force: str
    status: str
    expires_at: float | None
    peg_reference: str = ""
    peg_offset: float = 0.0


@dataclass(frozen=True, slots=True)
class MarketView:
    """A read-only snapshot of one futures market (human units; ``None``: not set).

    ``volume``, ``trades`` and ``closeouts`` are cumulative since the market opened;
    ``open_interest`` is the sum of long positions (contracts); fee and risk factors
    are fractions. The market's parameters: :meth:`FuturesFacade.market_config`.
    """

    market_id: str
    asset: str
    state: str
    in_auction: bool
    units: UnitConverter
    best_bid: float | None
    best_ask: float | None
    mark_price: float | None
    last_traded_price: float | None
    oracle_price: float | None
    open_interest: float
    volume: float
    trades: int
    open_orders: int
    closeouts: int
    maker_fee: float
    infrastructure_fee: float
    liquidity_fee: float
    total_fee: float
    risk_factor_long: float
    risk_factor_short: float
    perpetual: bool

    @property
    def mid(self) -> float | None:
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else (b + a) / 2


def _side(side: Any) -> int:
    if isinstance(side, str):
        s = side.strip().lower()
        if s in ("buy", "b", "bid", "long"):
            return 1
        if s in ("sell", "s", "ask", "short"):
            return -1
        return 0
    try:
        v = int(side)
    except (TypeError, ValueError):
        return 0
    return v if v in (1, -1) else 0


class FuturesFacade:
    """``sim.futures``: create markets, trade, provide liquidity and read the markets.

    Args:
        sim: the :class:`~defisim.service.Simulation` it belongs to.
        protocol: the chain's :class:`~defisim.protocols.futures.FuturesProtocol`.
    """

    def __init__(self, sim: Simulation, protocol: FuturesProtocol) -> None:
        self.sim = sim
        self.chain = sim.chain
        self.protocol = protocol
        self._units: dict[str, UnitConverter] = {}
        self._direct = {n[3:]: getattr(protocol, n) for n in dir(protocol) if n.startswith("tx_")}

    def create_market(self, config: MarketConfig | None = None, **kwargs: Any) -> str:
        """Create a futures market from a :class:`MarketConfig` or its fields; returns its id.

        The market starts in its opening auction.

        Raises:
            ValueError / pydantic.ValidationError: bad parameters (named in the message).
        """
        if config is None:
            config = MarketConfig(**kwargs)
        elif kwargs:
            config = config.model_copy(update=kwargs)
        self.protocol.create_market(config)
        self._units.pop(config.market_id, None)
        return config.market_id

    def internal_market(self, market_id: str) -> FuturesMarket:
        """The live market engine, for protocol tests and the recorder; agents,
        observations and scenarios read :meth:`market_view` instead.

        Raises:
            KeyError: unknown market (the message lists the known ones).
        """
        try:
            return self.protocol.markets[market_id]
        except KeyError:
            raise KeyError(f"unknown market {market_id!r}; known: {sorted(self.protocol.markets)}") from None

    @property
    def markets(self) -> list[str]:
        return list(self.protocol.markets)

    # ---------------------------------------------------------- conversions
    def units(self, market: str) -> UnitConverter:
        """The market's :class:`~defisim.numeric.UnitConverter` (price ticks, position
        decimals, settlement asset decimals).

        Raises:
            KeyError: unknown market.
        """
        u = self._units.get(market)
        if u is None:
            m = self.internal_market(market)
            u = UnitConverter(m.config.decimal_places, m.config.position_decimal_places,
                              self.chain.ledger.asset(m.asset).decimals, m.tick)
            self._units[market] = u
        return u

    def price_to_raw(self, market: str, price: float) -> int:
        """A human price to raw ticks (nearest integer; may be off the tick grid)."""
        return self.units(market).price_raw(price)

    def raw_to_price(self, market: str, raw: int) -> float:
        return self.units(market).price(raw)

    def size_to_raw(self, market: str, size: float) -> int:
        return self.units(market).size_raw(size)

    def raw_to_size(self, market: str, raw: int) -> float:
        return self.units(market).size(raw)

    def round_price(self, market: str, price: float, side: Any = None) -> float:
        """``price`` moved onto the tick grid: down for buys, up for sells, nearest otherwise."""
        return self.units(market).round_price(price, _side(side) if side is not None else 0)

    def round_size(self, market: str, size: float) -> float:
        """``size`` rounded down to the market's position decimals."""
        return self.units(market).round_size(size)

    def tick_size(self, market: str) -> float:
        """The tick in human price units."""
        return self.units(market).tick_size

    # ---------------------------------------------------------------- views
    def market_view(self, market: str) -> MarketView:
        """A read-only snapshot of ``market`` in human units (:class:`MarketView`).

        Raises:
            KeyError: unknown market.
        """
        m = self.internal_market(market)
        u = self.units(market)
        f = u.price_factor
        b, a = m.book.best_bid(), m.book.best_ask()
        fees = m.fees
        rf = m.risk_factors
        return MarketView(
            market_id=m.market_id, asset=m.asset, state=str(m.state), in_auction=m.in_auction,
            units=u, best_bid=None if b is None else b / f, best_ask=None if a is None else a / f,
            mark_price=m.mark_price / f if m.mark_price else None,
            last_traded_price=m.last_trade_price / f if m.last_trade_price else None,
            oracle_price=m.oracle_price / f if m.oracle_price else None,
            open_interest=m.open_interest() / u.size_factor,
            volume=m.volume_traded / u.size_factor, trades=m.trade_seq, open_orders=len(m.orders),
            closeouts=m.closeouts,
            maker_fee=fees.maker / ONE, infrastructure_fee=fees.infrastructure / ONE,
            liquidity_fee=fees.liquidity / ONE,
            total_fee=(fees.maker + fees.infrastructure + fees.liquidity) / ONE,
            risk_factor_long=rf.long / ONE, risk_factor_short=rf.short / ONE,
            perpetual=m.perp is not None,
        )

    def market_config(self, market: str) -> MarketConfig:
        """A copy of the market's parameters (:class:`MarketConfig`).

        Raises:
            KeyError: unknown market.
        """
        return self.internal_market(market).config.model_copy(deep=True)

    def trade_count(self, market: str) -> int:
        """Trades in ``market`` since it opened (the last trade's sequence number)."""
        return self.internal_market(market).trade_seq

    def funding_estimate(self, market: str) -> float | None:
        """A perpetual's funding payment per contract if the period ended now (quote
        units); ``None`` for a future or when the period would be skipped."""
        m = self.internal_market(market)
        if m.perp is None:
            return None
        r = m.perp.estimate(self.chain.now)
        return None if r.skipped else r.funding_payment / 10**m.config.decimal_places

    # -------------------------------------------------------------- trading
    def submit_order(
        self,
        party: str,
        market: str,
        side: Any,
        size: float,
        price: float | None = None,
        order_type: str | None = None,
        time_in_force: str | None = None,
        expires_at: float | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        peg_reference: str | None = None,
        peg_offset: float = 0.0,
    ) -> OrderResult:
        """Submit an order in human units.

        Args:
            party: the sender.
            market: market id.
            side: ``"buy"``/``"sell"`` or ``Side.BUY``/``Side.SELL`` (+1/-1).
            size: contracts (must fit the market's position decimals).
            price: limit price (must be on the tick grid: see :meth:`round_price`);
                ``None`` for a market order.
            order_type: ``"LIMIT"`` or ``"MARKET"``; default LIMIT if a price is
                given, else MARKET.
            time_in_force: GTC, GTT, IOC, FOK, GFA or GFN; default GTC for limit
                orders and IOC for market orders.
            expires_at: expiry in seconds since the start (GTT; optional GFA/GFN).
            post_only, reduce_only: the order flags of spec section 1.
            peg_reference: ``"BEST_BID"``/``"MID"`` (buys) or ``"BEST_ASK"``/``"MID"``
                (sells) for a PEGGED order (the default type when given); its price is
                the reference minus (buys) or plus (sells) ``peg_offset`` (human price
                units, a multiple of the tick; > 0 for MID).

        Returns:
            An :class:`OrderResult` (``status``, ``reason``, ``trades``); rejected
            orders also emit a ``TransactionRejected`` event.
        """
        m = self.protocol.markets.get(market)
        if m is None:
            return self._send(party, "submit_order", market, _side(side), 0, "", "", 0, 0,
                              post_only, reduce_only, "", 0)
        ot = order_type or ("PEGGED" if peg_reference else "LIMIT" if price is not None else "MARKET")
        tif = time_in_force or ("IOC" if ot == "MARKET" else "GTC")
        try:
            raw_price = 0 if price is None else self._exact(price * 10**m.config.decimal_places, "price")
            raw_offset = self._exact(peg_offset * 10**m.config.decimal_places, "peg offset price")
            raw_size = self._exact(size * m.position_factor, "size")
            exp = 0 if expires_at is None else round(expires_at * NS_PER_SECOND)
        except (ValueError, TypeError, OverflowError) as exc:
            reason = Reason.INVALID_PRICE if "price" in str(exc) else Reason.INVALID_SIZE
            self.chain.reject("submit_order", party, market, reason, str(exc))
            return OrderResult(0, OrderStatus.REJECTED, reason, str(exc))
        if self.chain.direct:  # the hot path: what tx_submit_order does, one call less
            return m.submit(party, _side(side), raw_size, ot, tif, raw_price, exp, post_only,
                            reduce_only, peg_reference or "", raw_offset)
        return self._send(party, "submit_order", market, _side(side), raw_size, ot, tif, raw_price,
                          exp, post_only, reduce_only, peg_reference or "", raw_offset)

    def submit_order_raw(
        self,
        party: str,
        market: str,
        side: int,
        size: int,
        price: int = 0,
        order_type: str = "LIMIT",
        time_in_force: str = "GTC",
        expires_at_ns: int = 0,
        post_only: bool = False,
        reduce_only: bool = False,
        peg_reference: str = "",
        peg_offset: int = 0,
    ) -> OrderResult:
        """Submit an order in raw integers (ticks, 10^-PDP contracts, ns)."""
        return self._send(party, "submit_order", market, _side(side), size, order_type,
                          time_in_force, price, expires_at_ns, post_only, reduce_only,
                          peg_reference, peg_offset)

    def amend_order(
        self,
        party: str,
        market: str,
        order_id: int,
        price: float | None = None,
        size: float | None = None,
        expires_at: float | None = None,
        time_in_force: str | None = None,
        peg_offset: float | None = None,
        peg_reference: str | None = None,
    ) -> OrderResult:
        """Amend a resting order: new price, new remaining size (<= 0 cancels), expiry or
        GTC<->GTT; for a pegged order its offset or reference instead of its price.
        A price change or size increase loses priority (section 1)."""
        m = self.protocol.markets.get(market)
        if m is None:
            return self._send(party, "amend_order", market, order_id, None, None, None, None, None,
                              None)
        try:
            rp = None if price is None else self._exact(price * 10**m.config.decimal_places, "price")
            rs = None if size is None else self._exact(size * m.position_factor, "size")
            ro = None if peg_offset is None else self._exact(
                peg_offset * 10**m.config.decimal_places, "peg offset price")
        except (ValueError, TypeError, OverflowError) as exc:
            reason = Reason.INVALID_PRICE if "price" in str(exc) else Reason.INVALID_SIZE
            self.chain.reject("amend_order", party, market, reason, str(exc), order_id)
            return OrderResult(order_id, OrderStatus.REJECTED, reason, str(exc))
        if expires_at is not None and (not isinstance(expires_at, int | float)
                                       or not math.isfinite(expires_at * NS_PER_SECOND)):
            detail = f"expires_at must be a finite number of seconds, got {expires_at!r}"
            self.chain.reject("amend_order", party, market, Reason.INVALID_EXPIRY, detail, order_id)
            return OrderResult(order_id, OrderStatus.REJECTED, Reason.INVALID_EXPIRY, detail)
        if time_in_force is not None and time_in_force not in TimeInForce.__members__:
            detail = f"unknown time in force {time_in_force!r}; known: {list(TimeInForce.__members__)}"
            self.chain.reject("amend_order", party, market, Reason.INVALID_TIME_IN_FORCE, detail, order_id)
            return OrderResult(order_id, OrderStatus.REJECTED, Reason.INVALID_TIME_IN_FORCE, detail)
        exp = None if expires_at is None else round(expires_at * NS_PER_SECOND)
        return self._send(party, "amend_order", market, order_id, rp, rs, exp, time_in_force, ro,
                          peg_reference)

    def cancel_order(self, party: str, market: str, order_id: int) -> OrderResult:
        """Cancel one resting order."""
        if self.chain.direct:
            m = self.protocol.markets.get(market)
            if m is not None:
                return m.cancel(party, order_id)
        return self._send(party, "cancel_order", market, order_id)

    def cancel_all(self, party: str, market: str | None = None) -> int:
        """Cancel all of ``party``'s orders (in one market, or everywhere); returns how many
        (a pending receipt in mempool mode)."""
        return self._send(party, "cancel_all", market)

    def _send(self, party: str, call: str, *args: Any) -> Any:
        if self.chain.direct:  # immediate mode without a log: the handler, as submit would
            return self._direct[call](party, *args)
        return self.chain.submit(Transaction(party, "futures", call, args))

    @staticmethod
    def _exact(x: float, what: str) -> int:
        if not isinstance(x, int | float) or not math.isfinite(x):
            raise ValueError(f"{what} must be a finite number, got {x!r}")
        r = round(x)
        if abs(x - r) > 1e-6 * max(1.0, abs(x)):
            raise ValueError(f"{what} has more decimals than the market allows ({x} raw units)")
        return int(r)

    # ----------------------------------------------------------- governance
    def propose_market_update(self, market: str, changes: dict, enact_at: float,
                              party: str = "") -> int:
        """Propose new parameters for a running market, enacted at the first block at or
        after ``enact_at`` (seconds since the start). ``changes`` are MarketConfig fields;
        nested ones merge (``{"fees": {"maker": 0.001}}``). Returns the proposal id, or 0
        when rejected (an invalid change, an immutable field such as ``tick_size``, an
        unknown market) with a rejection event naming the problem."""
        if not self._finite_time("proposal", party, market, enact_at):
            return 0
        return self.chain.submit(Transaction(party, "governance", "propose", (
            "futures", {"action": "update_market", "market": market, "changes": changes},
            round(enact_at * NS_PER_SECOND))))

    def _finite_time(self, tx: str, party: str, market: str, t: Any) -> bool:
        if isinstance(t, int | float) and math.isfinite(t):
            return True
        self.chain.reject(tx, party, market, "INVALID_TIME", f"time must be a finite number of seconds, got {t!r}")
        return False

    def propose_market_close(self, market: str, price: float, enact_at: float,
                             party: str = "") -> int:
        """Propose closing ``market`` at settlement ``price`` at ``enact_at`` seconds:
        orders are cancelled, positions settle, the market is CLOSED."""
        if not self._finite_time("proposal", party, market, enact_at):
            return 0
        m = self.protocol.markets.get(market)
        if not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
            self.chain.reject("proposal", party, market, Reason.INVALID_PRICE,
                              f"settlement price must be a finite positive number, got {price!r}")
            return 0
        raw = round(price * 10**m.config.decimal_places) if m is not None else 0
        return self.chain.submit(Transaction(party, "governance", "propose", (
            "futures", {"action": "close_market", "market": market, "price": raw},
            round(enact_at * NS_PER_SECOND))))

    # ---------------------------------------------------- liquidity provision
    def submit_liquidity(self, party: str, market: str, commitment: float,
                         fee: float) -> LiquidityResult:
        """Commit ``commitment`` asset units as a liquidity bond, bidding ``fee`` (a fraction,
        e.g. 0.001) for the market's liquidity fee factor (spec section 8).

        Returns a :class:`~defisim.protocols.futures.LiquidityResult`: true only when
        the bond moved; when rejected it is false, with ``reason`` (also a rejection
        event). In mempool mode it is ``PENDING`` (false) until the block closes."""
        m = self.protocol.markets.get(market)
        if m is None:
            return self._send(party, "submit_liquidity", market, 0, fee)
        raw = self._commitment_raw("submit_liquidity", party, market, m.asset, commitment)
        if isinstance(raw, LiquidityResult):
            return raw
        return self._send(party, "submit_liquidity", market, raw, fee)

    def amend_liquidity(self, party: str, market: str, commitment: float | None = None,
                        fee: float | None = None) -> LiquidityResult:
        """Change a commitment or its fee bid; a reduction below the target stake pays the
        early-exit penalty at the epoch end. Returns a
        :class:`~defisim.protocols.futures.LiquidityResult` (true only on success)."""
        m = self.protocol.markets.get(market)
        if m is None:
            return self._send(party, "amend_liquidity", market, None, fee)
        raw = None
        if commitment is not None:
            raw = self._commitment_raw("amend_liquidity", party, market, m.asset, commitment)
            if isinstance(raw, LiquidityResult):
                return raw
        return self._send(party, "amend_liquidity", market, raw, fee)

    def cancel_liquidity(self, party: str, market: str) -> LiquidityResult:
        """Cancel a commitment (the bond returns at the epoch end); a
        :class:`~defisim.protocols.futures.LiquidityResult` (true only on success)."""
        return self._send(party, "cancel_liquidity", market)

    def _commitment_raw(self, tx: str, party: str, market: str, asset: str,
                        commitment: Any) -> int | LiquidityResult:
        """``commitment`` in base units, or the rejection of a commitment that is not a
        finite amount >= 0 (with its rejection event)."""
        raw = self._money_raw(asset, commitment)
        if raw is not None:
            return raw
        detail = (f"commitment must be a finite amount >= 0 and at most {MAX_AMOUNT:.0e} base "
                  f"units (defisim.numeric.bounds), got {commitment!r}")
        self.chain.reject(tx, party, market, "INVALID_COMMITMENT", detail)
        return LiquidityResult.rejected("INVALID_COMMITMENT", detail)

    def liquidity_provisions(self, market: str) -> dict[str, dict[str, float]]:
        """Each LP's commitment (asset units), fee bid, equity-like share and bond balance."""
        m = self.internal_market(market)
        eng = m.liquidity
        els = eng.equity_like_shares()
        out = {}
        for p in eng.parties():
            prov = eng.provision(p)
            out[p] = {"commitment": self.sim.money(m.asset, prov.commitment), "fee": prov.fee / 10**18,
                      "active": prov.active, "equity_like_share": els.get(p, 0) / 10**18,
                      "bond": self.sim.balance(p, m.asset, "bond", market)}
        return out

    def time_on_book(self, market: str, party: str) -> float:
        """Fraction of the current liquidity epoch ``party`` has met its obligation
        (0 without a commitment; spec section 8)."""
        return self.internal_market(market).liquidity.time_on_book(party, self.chain.now) / 10**18

    def liquidity_fee_factor(self, market: str) -> float:
        """The market's current liquidity fee factor (a fraction of trade value)."""
        return self.internal_market(market).fees.liquidity / 10**18

    def target_stake(self, market: str) -> float:
        """Target stake (asset units): mark x max open interest in the window x scaling x max RF."""
        m = self.internal_market(market)
        return self.sim.money(m.asset, m._lp_target_stake_query()) if m.mark_price else 0.0

    def supplied_stake(self, market: str) -> float:
        m = self.internal_market(market)
        return self.sim.money(m.asset, m.liquidity.supplied_stake())

    def _money_raw(self, asset: str, amount: float) -> int | None:
        if not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0:
            return None
        raw = round(amount * 10 ** self.chain.ledger.asset(asset).decimals)
        return raw if raw <= MAX_AMOUNT else None

    def submit_oracle_price(self, market: str, price: float, party: str = "") -> bool:
        """Publish an external (oracle) price for ``market`` (a perpetual's funding uses it).

        Returns False with a rejection event for an unknown market or a bad price (in
        mempool mode: True once queued)."""
        m = self.protocol.markets.get(market)
        if m is None:
            return self._send(party, "oracle_price", market, 0).accepted
        try:
            raw = self._exact(price * 10**m.config.decimal_places, "price")
        except (ValueError, TypeError, OverflowError) as exc:
            self.chain.reject("oracle_price", "", market, Reason.INVALID_PRICE, str(exc))
            return False
        return self._send(party, "oracle_price", market, raw).accepted

    # --------------------------------------------------------- lifecycle
    def terminate_market(self, market: str) -> None:
        """Terminate trading (orders cancelled; positions wait for settlement)."""
        self.chain.log_setup("futures.terminate_market", (market,))
        self.internal_market(market).terminate()

    def settle_market(self, market: str, price: float) -> None:
        """Terminate (if needed) and settle ``market`` at the oracle ``price``.

        Raises:
            ValueError: non-positive price or a market that cannot settle.
        """
        m = self.internal_market(market)
        if not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
            raise ValueError(f"settlement price must be a finite positive number, got {price!r}")
        self.chain.log_setup("futures.settle_market", (market, price))
        if m.state in (MarketState.ACTIVE, MarketState.SUSPENDED):
            m.terminate()
        on_tick = self.round_price(market, price)
        m.settle(round(on_tick * 10**m.config.decimal_places))

    # ------------------------------------------------------------ queries
    def market_state(self, market: str) -> str:
        """Lifecycle state: PENDING, ACTIVE, SUSPENDED, TRADING_TERMINATED, SETTLED, ..."""
        return str(self.internal_market(market).state)

    def in_auction(self, market: str) -> bool:
        return self.internal_market(market).in_auction

    def best_prices(self, market: str, raw: bool = False) -> tuple[Any, Any]:
        """``(best bid, best ask)``; ``None`` for an empty side."""
        m = self.internal_market(market)
        b, a = m.book.best_bid(), m.book.best_ask()
        if raw:
            return b, a
        f = 10**m.config.decimal_places
        return (None if b is None else b / f, None if a is None else a / f)

    def mid_price(self, market: str) -> float | None:
        b, a = self.best_prices(market)
        return None if b is None or a is None else (b + a) / 2

    def market_depth(self, market: str, levels: int = 5, raw: bool = False) -> dict[str, list]:
        """Top ``levels`` of each side: ``{"bids": [(price, size), ...], "asks": [...]}``."""
        m = self.internal_market(market)
        bids, asks = m.book.depth(levels)
        if raw:
            return {"bids": bids, "asks": asks}
        f, d = 10**m.config.decimal_places, m.position_factor
        return {"bids": [(p / f, v / d) for p, v in bids], "asks": [(p / f, v / d) for p, v in asks]}

    def mark_price(self, market: str, raw: bool = False) -> float | int | None:
        """The mark price (``None`` before the opening auction uncrosses)."""
        m = self.internal_market(market)
        if not m.mark_price:
            return None
        return m.mark_price if raw else m.mark_price / 10**m.config.decimal_places

    def indicative_price(self, market: str) -> tuple[float | None, float]:
        """Indicative uncrossing ``(price, volume)`` during an auction."""
        m = self.internal_market(market)
        if not m.in_auction:
            return None, 0.0
        p, v = m.indicative()
        return (p / 10**m.config.decimal_places if v else None, v / m.position_factor)

    def position(self, party: str, market: str, raw: bool = False) -> float | int:
        """Signed open position of ``party`` (contracts)."""
        m = self.internal_market(market)
        ps = m.parties.get(party)
        v = ps.position if ps else 0
        return v if raw else v / m.position_factor

    def positions(self, market: str, raw: bool = False) -> dict[str, float]:
        """Every non-zero position in ``market``, the network party included."""
        m = self.internal_market(market)
        if raw:
            return {p: ps.position for p, ps in m.parties.items() if ps.position}
        d = m.position_factor
        return {p: ps.position / d for p, ps in m.parties.items() if ps.position}

    def position_details(self, party: str, market: str) -> dict[str, float]:
        """``position`` (contracts), ``average_entry_price``, ``realised_pnl`` and
        ``unrealised_pnl`` (at the mark price; asset units) of ``party`` (the network
        party included)."""
        m = self.internal_market(market)
        ps = m.parties.get(party)
        if ps is None:
            return {"position": 0.0, "average_entry_price": 0.0, "realised_pnl": 0.0,
                    "unrealised_pnl": 0.0}
        f = 10**m.config.decimal_places
        money = m.price_factor / m.position_factor / 10 ** self.chain.ledger.asset(m.asset).decimals
        return {"position": ps.position / m.position_factor,
                "average_entry_price": ps.average_entry_price() / f,
                "realised_pnl": ps.realised_pnl() * money,
                "unrealised_pnl": ps.unrealised(m.mark_price) * money}

    def open_orders(self, party: str | None = None, market: str | None = None) -> list[OrderView]:
        """Resting orders, optionally of one party and/or one market, oldest first."""
        out = []
        markets = [self.internal_market(market)] if market else list(self.protocol.markets.values())
        for m in markets:
            f, d = 10**m.config.decimal_places, m.position_factor
            src = m.orders.values() if party is None else (
                m.parties[party].orders.values() if party in m.parties else ())
            for o in sorted(src, key=lambda o: o.order_id):
                out.append(OrderView(o.order_id, m.market_id, o.party, "buy" if o.side > 0 else "sell",
                                     o.price / f, o.size / d, o.remaining / d, str(o.order_type),
                                     str(o.tif), str(o.status),
                                     o.expires_at / NS_PER_SECOND if o.expires_at else None,
                                     o.peg_reference, o.peg_offset / f))
        return out

    def margin_levels(self, party: str, market: str, raw: bool = False) -> dict[str, float]:
        """Maintenance, search, initial, release levels and the margin balance."""
        m = self.internal_market(market)
        lv = m.margin_levels(party)
        bal = self.chain.ledger.balance(acct.margin(party, market, m.asset))
        vals = {"maintenance": lv.maintenance, "search": lv.search, "initial": lv.initial,
                "release": lv.release, "balance": bal}
        if raw:
            return vals
        return {k: self.sim.money(m.asset, v) for k, v in vals.items()}

    def insurance_pool(self, market: str, raw: bool = False) -> float | int:
        m = self.internal_market(market)
        v = self.chain.ledger.balance(acct.insurance(market, m.asset))
        return v if raw else self.sim.money(m.asset, v)

    def trades(self, market: str, last: int | None = None) -> list:
        """The market's recent :class:`TradeExecuted` events (up to its buffer), oldest first."""
        t = list(self.internal_market(market).recent_trades)
        return t if last is None else t[-last:]

    def last_traded_price(self, market: str) -> float | None:
        m = self.internal_market(market)
        return m.last_trade_price / 10**m.config.decimal_places if m.last_trade_price else None
