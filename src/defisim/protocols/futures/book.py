"""The central limit order book: price levels, price-time priority, matching plans.

Pure data structure over integers, with no money and no events, so that the
market (margin, fees, ledger) and the LOBSTER replay share one matching core.

Layout: each side keeps ``levels`` (price -> :class:`PriceLevel`) and ``keys``,
a sorted list with the *best* price at the end (``key = price`` for bids,
``-price`` for asks) so that best-price access and removal are O(1). A level
holds its orders in arrival order in a deque; removed orders are dropped
lazily (``order.resting`` is false) and the deque is compacted when dead
entries dominate, so cancel is O(1) amortised and priority is never disturbed.
An order that rests again (a repriced peg) first has its dead entry removed
from the queue that still holds it (``order.queued``), so it is never live twice.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator

from .types import Order


class PriceLevel:
    """All resting orders at one price, oldest first; ``volume`` is their remaining total."""

    __slots__ = ("price", "volume", "live", "queue")

    def __init__(self, price: int) -> None:
        self.price = price
        self.volume = 0
        self.live = 0
        self.queue: deque[Order] = deque()

    def orders(self) -> Iterator[Order]:
        """Resting orders in time priority."""
        for o in self.queue:
            if o.resting:
                yield o

    def compact(self) -> None:
        live = deque()
        for o in self.queue:
            if o.resting:
                live.append(o)
            else:
                o.queued = None
        self.queue = live


class BookSide:
    """One side of the book. ``sign`` is +1 for bids, -1 for asks."""

    __slots__ = ("sign", "levels", "keys")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.levels: dict[int, PriceLevel] = {}
        self.keys: list[int] = []  # sign * price, ascending: best at the end

    def best_price(self) -> int | None:
        keys = self.keys
        return keys[-1] * self.sign if keys else None

    def best_level(self) -> PriceLevel | None:
        keys = self.keys
        return self.levels[keys[-1] * self.sign] if keys else None

    def prices(self) -> list[int]:
        """Prices from best to worst."""
        s = self.sign
        return [k * s for k in reversed(self.keys)]

    def iter_levels(self) -> Iterator[PriceLevel]:
        """Levels from best to worst."""
        levels, s = self.levels, self.sign
        for k in reversed(self.keys):
            yield levels[k * s]

    def volume(self) -> int:
        return sum(lv.volume for lv in self.levels.values())


class OrderBook:
    """A two-sided price-time priority book of integer prices and sizes."""

    __slots__ = ("bids", "asks")

    def __init__(self) -> None:
        self.bids = BookSide(1)
        self.asks = BookSide(-1)

    # -- queries ----------------------------------------------------------------
    def side(self, side: int) -> BookSide:
        """The side that holds orders of ``side`` (+1 bids, -1 asks)."""
        return self.bids if side > 0 else self.asks

    def best_bid(self) -> int | None:
        keys = self.bids.keys
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        keys = self.asks.keys
        return -keys[-1] if keys else None

    def best_bid_volume(self) -> int:
        keys = self.bids.keys
        return self.bids.levels[keys[-1]].volume if keys else 0

    def best_ask_volume(self) -> int:
        keys = self.asks.keys
        return self.asks.levels[-keys[-1]].volume if keys else 0

    def static_best(self, side: int) -> int | None:
        """Best price of ``side`` among non-pegged orders (the pegs' references)."""
        bs = self.bids if side > 0 else self.asks
        levels, s = bs.levels, bs.sign
        for k in reversed(bs.keys):
            for o in levels[k * s].queue:
                if o.resting and not o.peg_reference:
                    return k * s
        return None

    def is_crossed(self) -> bool:
        b, a = self.bids.keys, self.asks.keys
        return bool(b and a and b[-1] >= -a[-1])

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels: ``(bids, asks)``, each a list of ``(price, volume)`` best first."""
        out = []
        for side in (self.bids, self.asks):
            levels, s = side.levels, side.sign
            rows = []
            for k in reversed(side.keys[-n:] if n > 0 else []):
                p = k * s
                rows.append((p, levels[p].volume))
            out.append(rows)
        return out[0], out[1]

    def volume_within(self, side: int, low: int, high: int) -> int:
        """Resting volume of ``side`` at prices in ``[low, high]``."""
        bs = self.side(side)
        return sum(lv.volume for p, lv in bs.levels.items() if low <= p <= high)

    # -- mutation ---------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its price level."""
        bs = self.bids if order.side > 0 else self.asks
        price = order.price
        level = bs.levels.get(price)
        if level is None:
            level = PriceLevel(price)
            bs.levels[price] = level
            insort(bs.keys, price * bs.sign)
        old = order.queued
        if old is not None:
            # the order rested before and left a dead entry behind (a repriced peg, an
            # amended order): drop it so that it cannot come back to life in that queue
            old.queue.remove(order)
        level.queue.append(order)
        order.queued = level
        level.volume += order.remaining
        level.live += 1
        order.resting = True

    def remove(self, order: Order) -> None:
        """Take a resting ``order`` off the book (its ``remaining`` is left as is)."""
        bs = self.bids if order.side > 0 else self.asks
        level = bs.levels[order.price]
        order.resting = False
        level.volume -= order.remaining
        level.live -= 1
        if level.live == 0:
            del bs.levels[order.price]
            keys = bs.keys
            k = order.price * bs.sign
            if keys[-1] == k:
                keys.pop()
            else:
                del keys[bisect_left(keys, k)]
        elif len(level.queue) > 2 * level.live + 16:
            level.compact()

    def reduce(self, order: Order, new_remaining: int) -> None:
        """Lower a resting order's remaining size in place, keeping its priority."""
        bs = self.bids if order.side > 0 else self.asks
        bs.levels[order.price].volume -= order.remaining - new_remaining
        order.remaining = new_remaining

    def fill(self, order: Order, size: int) -> None:
        """Trade ``size`` of a resting order; removes it when nothing remains."""
        if size >= order.remaining:
            self.remove(order)
            order.remaining -= size
        else:
            bs = self.bids if order.side > 0 else self.asks
            bs.levels[order.price].volume -= size
            order.remaining -= size

    # -- matching ---------------------------------------------------------------
    def plan(
        self, side: int, limit: int | None, size: int, party: str | None = None
    ) -> tuple[list[tuple[Order, int]], bool]:
        """Fills an aggressive order would get, without changing the book.

        Args:
            side: +1 for an aggressive buy (takes asks), -1 for a sell (takes bids).
            limit: worst acceptable price, or ``None`` for a market order.
            size: size to fill.
            party: the aggressor; matching stops before the first passive order of
                the same party (self-trade prevention). ``None`` disables it.

        Returns:
            ``(fills, self_trade)``: ``fills`` is a list of ``(passive order, size)``
            in priority order (each trade is at the passive order's price);
            ``self_trade`` is true when matching stopped at the aggressor's own order.
        """
        opp = self.asks if side > 0 else self.bids
        keys, levels, sign = opp.keys, opp.levels, opp.sign
        fills: list[tuple[Order, int]] = []
        i = len(keys) - 1
        while size > 0 and i >= 0:
            price = keys[i] * sign
            if limit is not None and (price > limit if side > 0 else price < limit):
                break
            for o in levels[price].queue:
                if not o.resting:
                    continue
                if o.party == party:
                    return fills, True
                f = o.remaining if o.remaining < size else size
                fills.append((o, f))
                size -= f
                if size == 0:
                    break
            i -= 1
        return fills, False

    def uncrossing(self) -> tuple[int, int]:
        """Indicative uncrossing ``(price, volume)`` of a crossed book (spec section 2).

        For every candidate price p in [best ask, best bid], CB(p) is the buy
        volume at or above p, CA(p) the sell volume at or below p and
        T(p) = min(CB, CA). V* = max T; the price is the floor of the midpoint of
        the lowest and highest prices that reach V*. Returns ``(0, 0)`` when the
        book is not crossed. The caller snaps the price down to its tick.
        """
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None or ba is None or bb < ba:
            return 0, 0
        bid_levels = [(lv.price, lv.volume) for lv in self.bids.iter_levels() if lv.price >= ba]
        ask_levels = [(lv.price, lv.volume) for lv in self.asks.iter_levels() if lv.price <= bb]
        candidates = sorted({p for p, _ in bid_levels} | {p for p, _ in ask_levels})
        # CB(p): bids sorted descending; CA(p): asks sorted ascending.
        best_v, lo, hi = 0, 0, 0
        bid_asc = sorted(bid_levels)  # ascending price
        total_bid = sum(v for _, v in bid_levels)
        cum_ask = 0
        ai = 0
        asks_sorted = sorted(ask_levels)
        bi = 0
        below_bid = 0  # bid volume strictly below p
        for p in candidates:
            while ai < len(asks_sorted) and asks_sorted[ai][0] <= p:
                cum_ask += asks_sorted[ai][1]
                ai += 1
            while bi < len(bid_asc) and bid_asc[bi][0] < p:
                below_bid += bid_asc[bi][1]
                bi += 1
            t = min(total_bid - below_bid, cum_ask)
            if t > best_v:
                best_v, lo, hi = t, p, p
            elif t == best_v and t > 0:
                hi = p
        if best_v == 0:
            return 0, 0
        return (lo + hi) // 2, best_v

    def uncross_plan(self, price: int, volume: int) -> list[tuple[Order, Order, int]]:
        """Pairs ``(buy, sell, size)`` that trade ``volume`` at ``price`` in price-time priority.

        Buys at or above ``price`` are taken best first against sells at or below
        it, best first. The book is not changed. Self-trades are allowed here.
        """
        buys = (o for lv in self.bids.iter_levels() if lv.price >= price for o in lv.orders())
        sells = (o for lv in self.asks.iter_levels() if lv.price <= price for o in lv.orders())
        pairs: list[tuple[Order, Order, int]] = []
        b = next(buys, None)
        s = next(sells, None)
        b_left = b.remaining if b else 0
        s_left = s.remaining if s else 0
        while volume > 0 and b is not None and s is not None:
            f = min(b_left, s_left, volume)
            pairs.append((b, s, f))
            volume -= f
            b_left -= f
            s_left -= f
            if b_left == 0:
                b = next(buys, None)
                b_left = b.remaining if b else 0
            if s_left == 0:
                s = next(sells, None)
                s_left = s.remaining if s else 0
        return pairs

    def resting_orders(self) -> Iterator[Order]:
        """Every resting order, bids best first then asks best first."""
        for bs in (self.bids, self.asks):
            for lv in bs.iter_levels():
                yield from lv.orders()

    def check(self) -> list[str]:
        """Internal consistency errors (level volumes, empty levels, key order)."""
        errors = []
        for name, bs in (("bid", self.bids), ("ask", self.asks)):
            if sorted(bs.keys) != bs.keys or len(bs.keys) != len(bs.levels):
                errors.append(f"{name} keys out of order or out of sync with levels")
            for p, lv in bs.levels.items():
                live = [o for o in lv.queue if o.resting]
                if not live:
                    errors.append(f"empty {name} level at {p}")
                vol = sum(o.remaining for o in live)
                if vol != lv.volume or len(live) != lv.live:
                    errors.append(f"{name} level {p}: volume {lv.volume} but orders sum to {vol}")
                if any(o.remaining <= 0 or o.price != p for o in live):
                    errors.append(f"{name} level {p} holds an empty or misplaced order")
        return errors
