"""`Simulation`: the one API over the chain and its protocols, for users and agents.

Human units in and out (floats: prices in quote currency, sizes in contracts,
money in asset units, time in seconds since the run's start); every call has a
``*_raw`` twin or a ``raw=True`` switch for exact integers. Transactions never
raise for bad input: they emit a :class:`~defisim.chain.TransactionRejected`
event with a reason code and return a result whose ``status`` is ``REJECTED``.
Setup calls (assets, parties, markets) raise ``ValueError`` on bad input, since
they are the scenario author's mistakes rather than an agent's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.chain import NS_PER_SECOND, Chain
from defisim.chain import ledger as acct
from defisim.chain.ledger import NETWORK_PARTY
from defisim.protocols.futures import (
    FuturesMarket,
    FuturesProtocol,
    MarketConfig,
    MarketState,
    OrderResult,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    TimeInForce,
)
from defisim.protocols.governance import Governance


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
class AccountView:
    """One account's balance in asset units."""

    account_type: str
    owner: str
    asset: str
    market: str
    balance: float
    balance_raw: int


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


class Simulation:
    """A deterministic simulation: a :class:`~defisim.chain.Chain` with the futures protocol.

    A block is always open: transactions go into it, and :meth:`forward_time`
    closes it (running mark-to-market, auctions, closeouts and, if enabled, the
    invariant checks) and opens the next one later in time.

    Args:
        seed: the run's root seed (every random stream derives from it).
        check_invariants: check invariants at every block end (raises
            :class:`~defisim.chain.InvariantViolation`).
        keep_events: keep events until drained (``drain_events``); turn off when
            nothing records them.
    """

    def __init__(self, seed: int = 0, check_invariants: bool = True, keep_events: bool = True):
        self.chain = Chain(seed=seed, check_invariants=check_invariants, keep_events=keep_events)
        # governance first: proposals enact before any other begin-block hook
        self.governance = Governance(self.chain)
        self.futures = FuturesProtocol(self.chain)
        self.governance.add_target(self.futures)
        self.chain.begin_block(0)

    # ------------------------------------------------------------------ time
    @property
    def now(self) -> float:
        """Simulated time in seconds since the start."""
        return self.chain.now / NS_PER_SECOND

    @property
    def now_ns(self) -> int:
        return self.chain.now

    @property
    def block(self) -> int:
        return self.chain.block

    def forward_time(self, seconds: float) -> None:
        """Close the open block and open the next one ``seconds`` later (>= 0).

        Raises:
            ValueError: negative or non-finite ``seconds``.
            InvariantViolation: an invariant failed at the block end (checks on).
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"cannot forward time by {seconds!r} seconds")
        self.forward_time_ns(round(seconds * NS_PER_SECOND))

    def forward_time_ns(self, ns: int) -> None:
        """As :meth:`forward_time`, in integer nanoseconds."""
        self.chain.end_block()
        self.chain.begin_block(self.chain.now + int(ns))

    def end_block(self) -> None:
        """Close the open block (the runner calls this, then :meth:`begin_block`)."""
        self.chain.end_block()

    def begin_block(self, time_ns: int) -> None:
        self.chain.begin_block(time_ns)

    def rng(self, name: str) -> np.random.Generator:
        """A random generator for stream ``name``, derived from the run's seed."""
        return self.chain.rng.generator(name)

    def drain_events(self) -> list:
        """Return and forget the events emitted since the last drain."""
        return self.chain.drain_events()

    def snapshot(self) -> Simulation:
        """A deep copy of the whole simulation (fork a run)."""
        import copy

        return copy.deepcopy(self)

    # ------------------------------------------------------------- set-up
    def create_asset(self, asset_id: str, decimals: int, quantum: int | None = None) -> None:
        """Create an asset with ``decimals`` decimal places."""
        self.chain.ledger.create_asset(asset_id, decimals, quantum)

    def create_party(self, party: str) -> None:
        """Create a party (ids are unique; ``"network"`` is reserved)."""
        self.chain.ledger.create_party(party)

    def mint(self, party: str, asset: str, amount: float) -> int:
        """Faucet: credit ``amount`` asset units to ``party``'s general account; returns base units.

        Raises:
            ValueError: unknown party or asset, negative or non-finite amount.
        """
        a = self.chain.ledger.asset(asset) if asset in self.chain.ledger.assets else None
        if a is None:
            raise ValueError(f"unknown asset {asset!r}; known: {sorted(self.chain.ledger.assets)}")
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(f"mint amount must be finite and >= 0, got {amount!r}")
        raw = round(amount * 10**a.decimals)
        self.mint_raw(party, asset, raw)
        return raw

    def mint_raw(self, party: str, asset: str, amount: int) -> None:
        """Faucet in base units."""
        if party not in self.chain.ledger.parties:
            raise ValueError(f"unknown party {party!r}")
        self.chain.ledger.mint(acct.general(party, asset), int(amount))

    def transfer(self, source: str, destination: str, asset: str, amount: float) -> bool:
        """Move ``amount`` asset units from ``source``'s general account to ``destination``'s.

        Returns False (and emits a rejection event) for an unknown party or asset,
        a negative amount or insufficient funds.
        """
        led = self.chain.ledger
        a = led.assets.get(asset)
        reason, detail = "", ""
        if a is None:
            reason, detail = "ASSET_NOT_FOUND", f"unknown asset {asset!r}"
        elif source not in led.parties or destination not in led.parties:
            reason, detail = "PARTY_NOT_FOUND", f"unknown party in {source!r} -> {destination!r}"
        elif not math.isfinite(amount) or amount < 0:
            reason, detail = "INVALID_AMOUNT", f"amount must be finite and >= 0, got {amount!r}"
        else:
            raw = round(amount * 10**a.decimals)
            have = led.balance(acct.general(source, asset))
            if have < raw:
                reason, detail = "INSUFFICIENT_FUNDS", f"{source} holds {have}, cannot send {raw}"
            else:
                led.transfer(acct.general(source, asset), acct.general(destination, asset), raw, "transfer")
                return True
        self.chain.reject("transfer", source, "", reason, detail)
        return False

    def burn(self, party: str, asset: str, amount: float) -> bool:
        """Destroy ``amount`` asset units from ``party``'s general account (spending out of
        the system). Returns False with a rejection event when it cannot."""
        led = self.chain.ledger
        a = led.assets.get(asset)
        if a is None or party not in led.parties or not math.isfinite(amount) or amount < 0:
            self.chain.reject("burn", party, "", "INVALID_BURN", f"cannot burn {amount!r} {asset!r} of {party!r}")
            return False
        raw = round(amount * 10**a.decimals)
        key = acct.general(party, asset)
        if led.balance(key) < raw:
            self.chain.reject("burn", party, "", "INSUFFICIENT_FUNDS", f"{party} holds {led.balance(key)} < {raw}")
            return False
        led.burn(key, raw)
        return True

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
        self.futures.create_market(config)
        return config.market_id

    def market(self, market_id: str) -> FuturesMarket:
        """The market object (read-only use; act through this class).

        Raises:
            KeyError: unknown market (the message lists the known ones).
        """
        try:
            return self.futures.markets[market_id]
        except KeyError:
            raise KeyError(f"unknown market {market_id!r}; known: {sorted(self.futures.markets)}") from None

    @property
    def markets(self) -> list[str]:
        return list(self.futures.markets)

    @property
    def parties(self) -> list[str]:
        return sorted(p for p in self.chain.ledger.parties if p != NETWORK_PARTY)

    # ---------------------------------------------------------- conversions
    def price_to_raw(self, market: str, price: float) -> int:
        """A human price to raw ticks (nearest integer; may be off the tick grid)."""
        return round(price * 10 ** self.market(market).config.decimal_places)

    def raw_to_price(self, market: str, raw: int) -> float:
        return raw / 10 ** self.market(market).config.decimal_places

    def size_to_raw(self, market: str, size: float) -> int:
        return round(size * self.market(market).position_factor)

    def raw_to_size(self, market: str, raw: int) -> float:
        return raw / self.market(market).position_factor

    def round_price(self, market: str, price: float, side: Any = None) -> float:
        """``price`` moved onto the tick grid: down for buys, up for sells, nearest otherwise."""
        m = self.market(market)
        tick = m.tick
        x = price * 10**m.config.decimal_places / tick
        s = _side(side) if side is not None else 0
        n = math.floor(x + 1e-9) if s > 0 else math.ceil(x - 1e-9) if s < 0 else round(x)
        return max(n, 1) * tick / 10**m.config.decimal_places

    def round_size(self, market: str, size: float) -> float:
        """``size`` rounded down to the market's position decimals."""
        d = self.market(market).position_factor
        return math.floor(size * d + 1e-9) / d

    def tick_size(self, market: str) -> float:
        """The tick in human price units."""
        m = self.market(market)
        return m.tick / 10**m.config.decimal_places

    def money(self, asset: str, raw: int) -> float:
        """Base units of ``asset`` to asset units."""
        return raw / 10 ** self.chain.ledger.asset(asset).decimals

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
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("submit_order", party, market)
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
        return m.submit(party, _side(side), raw_size, ot, tif, raw_price, exp, post_only, reduce_only,
                        peg_reference or "", raw_offset)

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
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("submit_order", party, market)
        return m.submit(party, _side(side), size, order_type, time_in_force, price, expires_at_ns,
                        post_only, reduce_only, peg_reference, peg_offset)

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
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("amend_order", party, market, order_id)
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
        return m.amend(party, order_id, rp, rs, exp, time_in_force, ro, peg_reference)

    def cancel_order(self, party: str, market: str, order_id: int) -> OrderResult:
        """Cancel one resting order."""
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("cancel_order", party, market, order_id)
        return m.cancel(party, order_id)

    def cancel_all(self, party: str, market: str | None = None) -> int:
        """Cancel all of ``party``'s orders (in one market, or everywhere); returns how many."""
        if market is not None:
            m = self.futures.markets.get(market)
            if m is None:
                self._no_market("cancel_all", party, market)
                return 0
            return m.cancel_all(party)
        return sum(m.cancel_all(party) for m in self.futures.markets.values())

    def _no_market(self, tx: str, party: str, market: str, order_id: int = 0) -> OrderResult:
        detail = f"unknown market {market!r}; known: {sorted(self.futures.markets)}"
        self.chain.reject(tx, party, market, Reason.MARKET_NOT_FOUND, detail, order_id)
        return OrderResult(order_id, OrderStatus.REJECTED, Reason.MARKET_NOT_FOUND, detail)

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
        return self.governance.propose("futures", {"action": "update_market", "market": market,
                                                   "changes": changes},
                                       round(enact_at * NS_PER_SECOND), party)

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
        m = self.futures.markets.get(market)
        if not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
            self.chain.reject("proposal", party, market, Reason.INVALID_PRICE,
                              f"settlement price must be a finite positive number, got {price!r}")
            return 0
        raw = round(price * 10**m.config.decimal_places) if m is not None else 0
        return self.governance.propose("futures", {"action": "close_market", "market": market,
                                                   "price": raw},
                                       round(enact_at * NS_PER_SECOND), party)

    # ---------------------------------------------------- liquidity provision
    def submit_liquidity(self, party: str, market: str, commitment: float, fee: float) -> str:
        """Commit ``commitment`` asset units as a liquidity bond, bidding ``fee`` (a fraction,
        e.g. 0.001) for the market's liquidity fee factor (spec section 8).

        Returns "" when accepted, else the reason code (also a rejection event)."""
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("submit_liquidity", party, market).reason
        raw = self._money_raw(m.asset, commitment)
        if raw is None:
            self.chain.reject("submit_liquidity", party, market, "INVALID_COMMITMENT",
                              f"commitment must be a finite amount >= 0, got {commitment!r}")
            return "INVALID_COMMITMENT"
        return m.submit_liquidity(party, raw, fee)

    def amend_liquidity(self, party: str, market: str, commitment: float | None = None,
                        fee: float | None = None) -> str:
        """Change a commitment or its fee bid; a reduction below the target stake pays the
        early-exit penalty at the epoch end. Returns "" or the reason code."""
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("amend_liquidity", party, market).reason
        raw = None
        if commitment is not None:
            raw = self._money_raw(m.asset, commitment)
            if raw is None:
                self.chain.reject("amend_liquidity", party, market, "INVALID_COMMITMENT",
                                  f"commitment must be a finite amount >= 0, got {commitment!r}")
                return "INVALID_COMMITMENT"
        return m.amend_liquidity(party, raw, fee)

    def cancel_liquidity(self, party: str, market: str) -> str:
        """Cancel a commitment (the bond returns at the epoch end). Returns "" or the reason."""
        m = self.futures.markets.get(market)
        if m is None:
            return self._no_market("cancel_liquidity", party, market).reason
        return m.cancel_liquidity(party)

    def liquidity_provisions(self, market: str) -> dict[str, dict[str, float]]:
        """Each LP's commitment (asset units), fee bid, equity-like share and bond balance."""
        m = self.market(market)
        eng = m.liquidity
        els = eng.equity_like_shares()
        out = {}
        for p in eng.parties():
            prov = eng.provision(p)
            out[p] = {"commitment": self.money(m.asset, prov.commitment), "fee": prov.fee / 10**18,
                      "active": prov.active, "equity_like_share": els.get(p, 0) / 10**18,
                      "bond": self.balance(p, m.asset, "bond", market)}
        return out

    def liquidity_fee_factor(self, market: str) -> float:
        """The market's current liquidity fee factor (a fraction of trade value)."""
        return self.market(market).fees.liquidity / 10**18

    def target_stake(self, market: str) -> float:
        """Target stake (asset units): mark x max open interest in the window x scaling x max RF."""
        m = self.market(market)
        return self.money(m.asset, m._lp_target_stake()) if m.mark_price else 0.0

    def supplied_stake(self, market: str) -> float:
        m = self.market(market)
        return self.money(m.asset, m.liquidity.supplied_stake())

    def _money_raw(self, asset: str, amount: float) -> int | None:
        if not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0:
            return None
        return round(amount * 10 ** self.chain.ledger.asset(asset).decimals)

    def submit_oracle_price(self, market: str, price: float) -> bool:
        """Publish an external (oracle) price for ``market`` (a perpetual's funding uses it).

        Returns False with a rejection event for an unknown market or a bad price."""
        m = self.futures.markets.get(market)
        if m is None:
            self._no_market("oracle_price", "", market)
            return False
        try:
            raw = self._exact(price * 10**m.config.decimal_places, "price")
            m.submit_oracle_price(raw)
        except (ValueError, TypeError, OverflowError) as exc:
            self.chain.reject("oracle_price", "", market, Reason.INVALID_PRICE, str(exc))
            return False
        return True

    # --------------------------------------------------------- lifecycle
    def terminate_market(self, market: str) -> None:
        """Terminate trading (orders cancelled; positions wait for settlement)."""
        self.market(market).terminate()

    def settle_market(self, market: str, price: float) -> None:
        """Terminate (if needed) and settle ``market`` at the oracle ``price``.

        Raises:
            ValueError: non-positive price or a market that cannot settle.
        """
        m = self.market(market)
        if not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
            raise ValueError(f"settlement price must be a finite positive number, got {price!r}")
        if m.state in (MarketState.ACTIVE, MarketState.SUSPENDED):
            m.terminate()
        on_tick = self.round_price(market, price)
        m.settle(round(on_tick * 10**m.config.decimal_places))

    # ------------------------------------------------------------ queries
    def market_state(self, market: str) -> str:
        """Lifecycle state: PENDING, ACTIVE, SUSPENDED, TRADING_TERMINATED, SETTLED, ..."""
        return str(self.market(market).state)

    def in_auction(self, market: str) -> bool:
        return self.market(market).in_auction

    def best_prices(self, market: str, raw: bool = False) -> tuple[Any, Any]:
        """``(best bid, best ask)``; ``None`` for an empty side."""
        m = self.market(market)
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
        m = self.market(market)
        bids, asks = m.book.depth(levels)
        if raw:
            return {"bids": bids, "asks": asks}
        f, d = 10**m.config.decimal_places, m.position_factor
        return {"bids": [(p / f, v / d) for p, v in bids], "asks": [(p / f, v / d) for p, v in asks]}

    def mark_price(self, market: str, raw: bool = False) -> float | int | None:
        """The mark price (``None`` before the opening auction uncrosses)."""
        m = self.market(market)
        if not m.mark_price:
            return None
        return m.mark_price if raw else m.mark_price / 10**m.config.decimal_places

    def indicative_price(self, market: str) -> tuple[float | None, float]:
        """Indicative uncrossing ``(price, volume)`` during an auction."""
        m = self.market(market)
        if not m.in_auction:
            return None, 0.0
        p, v = m.indicative()
        return (p / 10**m.config.decimal_places if v else None, v / m.position_factor)

    def position(self, party: str, market: str, raw: bool = False) -> float | int:
        """Signed open position of ``party`` (contracts)."""
        m = self.market(market)
        ps = m.parties.get(party)
        v = ps.position if ps else 0
        return v if raw else v / m.position_factor

    def positions(self, market: str, raw: bool = False) -> dict[str, float]:
        """Every non-zero position in ``market``, the network party included."""
        m = self.market(market)
        if raw:
            return {p: ps.position for p, ps in m.parties.items() if ps.position}
        d = m.position_factor
        return {p: ps.position / d for p, ps in m.parties.items() if ps.position}

    def position_details(self, party: str, market: str) -> dict[str, float]:
        """``position`` (contracts), ``average_entry_price``, ``realised_pnl`` and
        ``unrealised_pnl`` (at the mark price; asset units) of ``party`` (the network
        party included)."""
        m = self.market(market)
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
        markets = [self.market(market)] if market else list(self.futures.markets.values())
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

    def accounts(self, party: str | None = None) -> list[AccountView]:
        """Accounts with their balances (all of ``party``'s, or every account)."""
        led = self.chain.ledger
        out = []
        for key, bal in sorted(led.accounts()):
            if party is not None and key[1] != party:
                continue
            dec = led.assets[key[2]].decimals
            out.append(AccountView(key[0], key[1], key[2], key[3], bal / 10**dec, bal))
        return out

    def balance(self, party: str, asset: str, account: str = "general", market: str = "",
                raw: bool = False) -> float | int:
        """Balance of one of ``party``'s accounts (``general``, ``margin``, ``bond``)."""
        bal = self.chain.ledger.balance((account, party, asset, market))
        return bal if raw else self.money(asset, bal)

    def equity(self, party: str, asset: str, raw: bool = False) -> float | int:
        """General plus every margin and bond account of ``party`` in ``asset``."""
        total = sum(b for k, b in self.chain.ledger.accounts()
                    if k[1] == party and k[2] == asset and k[0] in ("general", "margin", "bond"))
        return total if raw else self.money(asset, total)

    def pnl(self, party: str, asset: str, raw: bool = False) -> float | int:
        """Equity minus everything minted to ``party`` in ``asset`` (realised + settled)."""
        v = self.equity(party, asset, raw=True) - self.chain.ledger.minted_to.get((party, asset), 0)
        return v if raw else self.money(asset, v)

    def margin_levels(self, party: str, market: str, raw: bool = False) -> dict[str, float]:
        """Maintenance, search, initial, release levels and the margin balance."""
        m = self.market(market)
        lv = m.margin_levels(party)
        bal = self.chain.ledger.balance(acct.margin(party, market, m.asset))
        vals = {"maintenance": lv.maintenance, "search": lv.search, "initial": lv.initial,
                "release": lv.release, "balance": bal}
        if raw:
            return vals
        return {k: self.money(m.asset, v) for k, v in vals.items()}

    def insurance_pool(self, market: str, raw: bool = False) -> float | int:
        m = self.market(market)
        v = self.chain.ledger.balance(acct.insurance(market, m.asset))
        return v if raw else self.money(m.asset, v)

    def trades(self, market: str, last: int | None = None) -> list:
        """The market's recent :class:`TradeExecuted` events (up to its buffer), oldest first."""
        t = list(self.market(market).recent_trades)
        return t if last is None else t[-last:]

    def last_traded_price(self, market: str) -> float | None:
        m = self.market(market)
        return m.last_trade_price / 10**m.config.decimal_places if m.last_trade_price else None


__all__ = ["AccountView", "OrderView", "Side", "Simulation", "TimeInForce", "OrderType"]
