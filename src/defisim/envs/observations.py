"""Observation features of the trading environments, chosen by name.

An observation is a flat ``float32`` vector: the features of
:attr:`TradingEnvConfig.observation` in order, each contributing a fixed number of
values (see :data:`FEATURES`). Prices are given relative to the current mid (bps
or log-returns in bps) so a policy sees the same scale on a 100-dollar and a
60,000-dollar market; money is in the market's settlement asset.

Features (``name`` or ``name:N``):

=========================  ====  ===============================================
name                       size  value
=========================  ====  ===============================================
``position``               1     signed open position (contracts)
``balance``                1     general account (asset units)
``margin``                 1     margin account in the market (asset units)
``equity``                 1     general + margin + bond (asset units)
``pnl``                    1     equity minus everything minted to the party
``in_auction``             1     1.0 while the market is in an auction, else 0.0
``fee_factors``            3     maker, infrastructure, liquidity fee factors
``mark_price``             1     mark price (quote units; 0 before the first)
``mid_price``              1     mid of the best bid and ask (0 if a side is empty)
``spread_bps``             1     (ask - bid) / mid in bps (0 if a side is empty)
``prices:N``               N     ``1e4 ln(mid_{t-j} / mid_t)``, j = 1..N env steps
``book:L``                 4L    per side and level (bids then asks): distance from
                                 the mid in bps and size (contracts); 0 if absent
``time_left``              1     fraction of the episode's env steps left, in [0, 1]
``reference_price``        1     the scenario's reference price now (no look-ahead)
``reference_lookahead:K``  1     ``1e4 ln(ref_{t+K} / ref_t)``: the reference's
                                 return K path points ahead. **Look-ahead**: only
                                 when asked for by this name (an informed signal)
=========================  ====  ===============================================

No feature reads the future except ``reference_lookahead``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .session import EpisodeState


class ObservationError(ValueError):
    """An unknown or malformed observation feature name."""


@dataclass
class LearnerView:
    """What the observation and reward functions read about one learning party.

    ``mids`` holds the mid (or mark) price at the end of each env step, newest last.
    """

    party: str
    market: str
    asset: str
    state: EpisodeState
    step: int = 0
    episode_steps: int = 1
    mids: deque | None = None

    def __post_init__(self) -> None:
        sim = self.state.sim
        self.sim = sim
        self.futures = sim.futures  # the facade: every reading goes through the service
        u = sim.futures.units(self.market)
        self.units = u
        self.price_scale = float(u.price_factor)
        self.size_scale = float(u.size_factor)
        self.money_scale = float(u.money_factor)
        self.minted = (sim.equity(self.party, self.asset, raw=True)
                       - sim.pnl(self.party, self.asset, raw=True))

    # -- readings (human units) ---------------------------------------------------
    def position(self) -> float:
        return self.futures.position(self.party, self.market, raw=True) / self.size_scale

    def balance(self, account: str = "general") -> float:
        """The party's ``general`` or ``margin`` account (asset units)."""
        market = "" if account == "general" else self.market
        return self.sim.balance(self.party, self.asset, account, market, raw=True) / self.money_scale

    def equity_raw(self) -> int:
        return self.sim.equity(self.party, self.asset, raw=True)

    def equity(self) -> float:
        return self.equity_raw() / self.money_scale

    def pnl(self) -> float:
        return (self.equity_raw() - self.minted) / self.money_scale

    def mid_raw(self) -> float:
        """Mid of the best prices, else the mark price, else 0 (raw price units)."""
        b, a = self.futures.best_prices(self.market, raw=True)
        if b is not None and a is not None:
            return (b + a) / 2
        return float(self.futures.mark_price(self.market, raw=True) or 0)

    def mid(self) -> float:
        """:meth:`mid_raw` in quote units."""
        return self.mid_raw() / self.price_scale

    def reference(self):
        feed = getattr(self.state.scenario, "feed", None)
        if feed is None:
            raise ObservationError(
                f"scenario {self.state.scenario.name} has no reference price feed "
                f"(a 'feed' attribute); drop the reference features")
        return feed


Feature = Callable[[LearnerView, np.ndarray, int], None]


def _scalar(fn: Callable[[LearnerView], float]) -> tuple[int, Feature]:
    def write(v: LearnerView, out: np.ndarray, i: int) -> None:
        out[i] = fn(v)
    return 1, write


def _fee_factors(v: LearnerView, out: np.ndarray, i: int) -> None:
    view = v.futures.market_view(v.market)
    out[i] = view.maker_fee
    out[i + 1] = view.infrastructure_fee
    out[i + 2] = view.liquidity_fee


def _mid_price(v: LearnerView) -> float:
    b, a = v.futures.best_prices(v.market, raw=True)
    return 0.0 if b is None or a is None else (b + a) / 2 / v.price_scale


def _spread_bps(v: LearnerView) -> float:
    b, a = v.futures.best_prices(v.market, raw=True)
    if b is None or a is None or b + a <= 0:
        return 0.0
    return 2e4 * (a - b) / (a + b)


def _prices(n: int) -> tuple[int, Feature]:
    def write(v: LearnerView, out: np.ndarray, i: int) -> None:
        mids = v.mids
        now = mids[-1] if mids else 0.0
        k = len(mids)
        for j in range(1, n + 1):
            past = mids[k - 1 - j] if k - 1 - j >= 0 else 0.0
            out[i + j - 1] = 1e4 * math.log(past / now) if past > 0 and now > 0 else 0.0
    return n, write


def _book(levels: int) -> tuple[int, Feature]:
    def write(v: LearnerView, out: np.ndarray, i: int) -> None:
        depth = v.futures.market_depth(v.market, levels, raw=True)
        bids, asks = depth["bids"], depth["asks"]
        mid = v.mid_raw()
        out[i: i + 4 * levels] = 0.0
        if mid <= 0:
            return
        for side, rows in ((0, bids), (2 * levels, asks)):
            for j, (p, size) in enumerate(rows):
                out[i + side + 2 * j] = 1e4 * abs(p - mid) / mid
                out[i + side + 2 * j + 1] = size / v.size_scale
    return 4 * levels, write


def _lookahead(k: int) -> tuple[int, Feature]:
    def write(v: LearnerView, out: np.ndarray, i: int) -> None:
        feed = v.reference()
        now, later = feed.price, feed.price_ahead(k)
        out[i] = 1e4 * math.log(later / now) if now > 0 and later > 0 else 0.0
    return 1, write


_SIMPLE: dict[str, tuple[int, Feature]] = {
    "position": _scalar(LearnerView.position),
    "balance": _scalar(lambda v: v.balance("general")),
    "margin": _scalar(lambda v: v.balance("margin")),
    "equity": _scalar(LearnerView.equity),
    "pnl": _scalar(LearnerView.pnl),
    "in_auction": _scalar(lambda v: float(v.futures.in_auction(v.market))),
    "fee_factors": (3, _fee_factors),
    "mark_price": _scalar(lambda v: (v.futures.mark_price(v.market, raw=True) or 0) / v.price_scale),
    "mid_price": _scalar(_mid_price),
    "spread_bps": _scalar(_spread_bps),
    "time_left": _scalar(lambda v: max(0.0, 1.0 - v.step / v.episode_steps)),
    "reference_price": _scalar(lambda v: v.reference().price),
}
_PARAMETRISED: dict[str, Callable[[int], tuple[int, Feature]]] = {
    "prices": _prices,
    "book": _book,
    "reference_lookahead": _lookahead,
}
FEATURES = tuple(_SIMPLE) + tuple(f"{k}:N" for k in _PARAMETRISED)
"""Every feature name (``:N`` ones take a positive integer)."""

DEFAULT_OBSERVATION = ("position", "balance", "margin", "in_auction", "fee_factors",
                       "spread_bps", "prices:10", "book:5", "time_left")
"""The default observation: no look-ahead, no absolute prices."""


class ObservationBuilder:
    """Compiles feature names into a writer of one ``float32`` vector.

    Args:
        names: feature names (module table), in order.

    Attributes:
        size: length of the observation vector.
        names: one name per element (``"book:5[3]"`` style for multi-valued ones).
        history: how many past mids the features need (for ``prices:N``).

    Raises:
        ObservationError: an unknown name, a duplicate, or a bad ``:N``.
    """

    def __init__(self, names: list[str] | tuple[str, ...]) -> None:
        if not names:
            raise ObservationError("the observation needs at least one feature")
        self.features: list[tuple[int, int, Feature]] = []
        self.names: list[str] = []
        self.history = 1
        seen = set()
        offset = 0
        for name in names:
            if name in seen:
                raise ObservationError(f"observation feature {name!r} listed twice")
            seen.add(name)
            if name in _SIMPLE:
                size, fn = _SIMPLE[name]
                labels = ["maker_fee", "infrastructure_fee", "liquidity_fee"] \
                    if name == "fee_factors" else [name]
            else:
                base, _, arg = name.partition(":")
                if base not in _PARAMETRISED:
                    raise ObservationError(
                        f"unknown observation feature {name!r}; known: {', '.join(FEATURES)}")
                try:
                    n = int(arg)
                except ValueError:
                    n = 0
                if n < 1:
                    raise ObservationError(f"observation feature {name!r} needs a positive "
                                           f"integer after ':', e.g. {base}:5")
                size, fn = _PARAMETRISED[base](n)
                if base == "prices":
                    self.history = max(self.history, n + 1)
                labels = [name] if size == 1 else [f"{name}[{j}]" for j in range(size)]
            self.features.append((offset, size, fn))
            self.names.extend(labels)
            offset += size
        self.size = offset
        self.lookahead = any(n.startswith("reference_lookahead") for n in names)

    def write(self, view: LearnerView, out: np.ndarray | None = None) -> np.ndarray:
        """The observation of ``view`` now, shape ``(size,)``, ``float32``; non-finite
        values (an empty book, a zero price) are written as 0."""
        if out is None:
            out = np.zeros(self.size, dtype=np.float32)
        for offset, _, fn in self.features:
            fn(view, out, offset)
        if not np.all(np.isfinite(out)):
            np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return out
