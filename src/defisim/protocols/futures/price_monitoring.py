"""Price monitoring: bounds on traded prices that start price-monitoring auctions.

Source: ``../shared/specs/futures-market.md`` section 2 (Vega ``0032-PRIM``), read
against Vega core ``core/monitor/price/pricemonitoring.go`` (and ``statevar.go``,
``core/risk/models/lognormal.go``, quant ``pricedistribution.PriceRange``). Where
the Vega spec and core differ we follow core; the differences are listed here.

Model
-----
A market has up to 100 triggers ``(horizon_s, probability, extension_s)``. Each has
a pair of multiplicative bound factors ``(down, up)`` (from the log-normal risk
model, :func:`lognormal_bound_factors`, or given model-free). At time ``now`` the
trigger's valid range is ``[ceil(ref * down), floor(ref * up)]`` in raw price ticks,
``ref`` its reference price. A would-be trade price outside the range of a trigger
that is switched on breaches it.

Price history
-------------
Traded prices are grouped by timestamp (integer ns). The *average traded price* of
a timestamp is the **volume-weighted average** of the trades recorded at it,
``sum(price_i size_i) / sum(size_i)``, rounded half up to 16 decimal places (core
``recordTimeChange``: ``Uint`` sums divided with shopspring ``Decimal.Div``, whose
default precision is 16 places). It is exact and deterministic: integers scaled by
``10**16``.

Reference price (core ``calculateRefPrice``), for a trigger of horizon ``h``:

- only timestamps strictly before ``now`` count ("past"); trades at ``now`` are the
  current instant (core ``pricesNow``) and never a reference, except:
- no past timestamp at all (right after a reset or the first trade): the reference
  is the price of the **first** trade recorded at ``now`` (core uses
  ``pricesNow[0].Price``, not the average), so bounds do not move within the
  instant;
- otherwise: the average price at the latest retained past timestamp ``<= now - h``;
  if there is none, the earliest retained past timestamp.

"Retained" is where core differs from the spec text. ``reference_rule="core"``
(default) reproduces core's ``clearStalePrices``: at each time change it keeps the
past timestamps ``>= now - H`` (``H`` the longest horizon) plus the latest past one,
and drops the rest, *including* the one at or before ``now - H`` that the spec would
use. So for the longest horizon (and for a shorter one with no timestamp in
``[now - H, now - h]``) core's reference is the first average price *inside* the
window, not the last one before it. ``reference_rule="spec"`` keeps the latest
timestamp ``<= now - H`` too and gives the spec's "latest timestamp at or before
now - horizon, or the earliest one if history is shorter". Either way the history
is pruned and bounded by the number of distinct timestamps within ``H``, and the
results equal those of an unpruned history under the same rule.

Auctions (core ``CheckPrice``)
------------------------------
- Continuous trading: a persistent order whose would-be trades breach one or more
  triggers starts an auction; core switches off **every** breached trigger and the
  auction lasts the **sum** of their extensions (at least the market's minimum
  auction duration, which is the market's business). A non-persistent order is
  rejected and nothing changes. Use :meth:`PriceMonitor.breaches` and
  :meth:`PriceMonitor.trigger_auction`.
- At the auction's scheduled end: triggers whose latest observation is older than
  ``now - horizon`` are stale and switched off (0032-PRIM-009, core
  ``getCurrentPriceRanges`` in a monitoring auction); then every trigger still on
  that the indicative price breaches is switched off and the auction extends by the
  **sum** of their extensions (core ``ExtendAuctionPrice``; the spec's text reads
  as one trigger at a time). See :meth:`PriceMonitor.check_auction_end`.
- On uncrossing: the history restarts at the uncrossing trades and every trigger is
  switched back on (:meth:`PriceMonitor.reset`).

Core computes the bound factors through floats and rounds them to 16 places; here
a float factor is read exactly through its shortest ``repr`` (``0.95`` is exactly
0.95), so model-free factors such as those of 0032-PRIM-043 give exact bounds.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_left, bisect_right
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NS_PER_S = 1_000_000_000
SECONDS_PER_YEAR = 365.25 * 24 * 60 * 60
REF_DECIMALS = 16
"""Decimal places of a reference (average traded) price, as in core."""
_REF_SCALE = 10**REF_DECIMALS

ReferenceRule = Literal["core", "spec"]

_STD_NORMAL = NormalDist()


class PriceMonitoringTrigger(BaseModel):
    """One price-monitoring trigger (0032-PRIM parameters).

    - ``horizon_s``: projection horizon in seconds, > 0 (0032-PRIM-015).
    - ``probability``: probability level in [0.9, 1) (0032-PRIM-016).
    - ``extension_s``: auction duration or extension in seconds, > 0 (0032-PRIM-017).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_s: int = Field(gt=0)
    probability: float = Field(ge=0.9, lt=1)
    extension_s: int = Field(gt=0)


class PriceMonitoringParams(BaseModel):
    """A market's price-monitoring triggers: at most 100; empty means no monitoring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    triggers: list[PriceMonitoringTrigger] = Field(default_factory=list, max_length=100)


def lognormal_bound_factors(
    mu: float, sigma: float, horizon_s: float, probability: float
) -> tuple[float, float]:
    """Multiplicative ``(down, up)`` bound factors of the log-normal model.

    With ``tau_y = horizon_s / (365.25 * 86400)``, ``m = (mu - sigma^2/2) tau_y`` and
    ``s = sigma sqrt(tau_y)``: ``down = exp(m + s Phi^-1((1-p)/2))`` and
    ``up = exp(m + s Phi^-1((1+p)/2))`` (the central ``p`` interval of the price at
    the horizon divided by the current price).

    Source: ``../shared/specs/futures-market.md`` section 2; Vega core
    ``LogNormal.PriceRange`` with quant ``PriceRange`` (quantiles ``x = (1-p)/2``
    and ``p + x``, computed the same way here).

    Raises:
        ValueError: ``horizon_s <= 0``, ``sigma < 0``, ``probability`` outside (0, 1),
            or a non-finite input.
    """
    for name, v in (("mu", mu), ("sigma", sigma), ("horizon_s", horizon_s), ("p", probability)):
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v!r}")
    if horizon_s <= 0:
        raise ValueError(f"horizon_s must be > 0, got {horizon_s}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    tau = horizon_s / SECONDS_PER_YEAR
    m = (mu - sigma * sigma / 2) * tau
    s = sigma * math.sqrt(tau)
    x = (1 - probability) / 2
    down = math.exp(m + s * _STD_NORMAL.inv_cdf(x))
    up = math.exp(m + s * _STD_NORMAL.inv_cdf(probability + x))
    return down, up


def _exact_ratio(x: float | int | str | Decimal | Fraction) -> tuple[int, int]:
    """``x`` as an exact ``(numerator, denominator)``; floats through their shortest repr."""
    if isinstance(x, bool):
        raise ValueError(f"not a number: {x!r}")
    if isinstance(x, Fraction | numbers.Integral):
        f = Fraction(int(x)) if isinstance(x, numbers.Integral) else x
    else:
        try:
            d = Decimal(repr(float(x))) if isinstance(x, float) else Decimal(str(x))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"not a number: {x!r}") from exc
        if not d.is_finite():
            raise ValueError(f"not a finite number: {x!r}")
        f = Fraction(d)
    return f.numerator, f.denominator


def _check_int(name: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {v!r}")
    return v


def _check_index(i: object, n: int) -> int:
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
        raise IndexError(f"no trigger {i!r} (there are {n})")
    return i


class PriceMonitor:
    """Price-monitoring engine of one market (see the module docstring for the rules).

    Args:
        params: the triggers; trigger ``i`` is ``params.triggers[i]``.
        mu, sigma: drift and volatility of the market's log-normal risk model (per
            year); used for the bound factors unless ``factors`` is given.
        factors: model-free ``(down, up)`` per trigger (simple risk model, tests);
            floats are read through their shortest repr, ``Decimal``/``Fraction``
            exactly. ``0 <= down <= up`` is required.
        reference_rule: ``"core"`` (default, Vega core's pruning) or ``"spec"``
            (0032-PRIM text); see the module docstring.

    All times are integer ns on the chain clock and may never go backwards; prices
    are raw ticks (> 0) and sizes raw position units (> 0).

    State is plain Python attributes: ``copy.deepcopy`` gives an independent copy
    (chain snapshots).

    When to call what (core ``checkPriceAndGetTrades`` and ``checkAuction``):

    - continuous trading, each would-be trade price of an order (and each mark price
      candidate): :meth:`breaches` (or :meth:`check`); if any and the order is
      persistent, :meth:`trigger_auction` on each and start an auction of
      ``max(sum of extensions, minimum auction duration)``; if non-persistent,
      reject; else commit the trades and :meth:`record_trade` each one.
      Closeout trades and settlement are never checked (0032-PRIM-018/019);
    - price-monitoring auction, first block strictly after its scheduled end:
      :meth:`check_auction_end` with the indicative uncrossing price (``None`` if
      the book does not cross); an int extends the auction, ``None`` lets it end;
    - uncrossing (price-monitoring or opening auction): :meth:`reset` with the
      uncrossing price and volume.

    Raises:
        ValueError: wrong number of factors, negative or non-finite factors,
            ``down > up``, unknown ``reference_rule``, invalid model parameters.
    """

    state_exclude = ("_cache",)
    """Caches, left out of the chain's state hash (:mod:`defisim.chain.state_hash`)."""

    def __init__(
        self,
        params: PriceMonitoringParams,
        mu: float,
        sigma: float,
        *,
        factors: list[tuple[float, float]] | None = None,
        reference_rule: ReferenceRule = "core",
    ) -> None:
        if reference_rule not in ("core", "spec"):
            raise ValueError(f"reference_rule must be 'core' or 'spec', got {reference_rule!r}")
        triggers = list(params.triggers)
        if factors is None:
            factors = [
                lognormal_bound_factors(mu, sigma, t.horizon_s, t.probability) for t in triggers
            ]
        elif len(factors) != len(triggers):
            raise ValueError(f"{len(factors)} factor pairs for {len(triggers)} triggers")
        ratios: list[tuple[int, int, int, int]] = []
        for down, up in factors:
            dn, dd = _exact_ratio(down)
            un, ud = _exact_ratio(up)
            if dn < 0 or Fraction(dn, dd) > Fraction(un, ud):
                raise ValueError(f"bound factors must satisfy 0 <= down <= up, got {(down, up)}")
            ratios.append((dn, dd, un, ud))

        self.params = params
        self.reference_rule: ReferenceRule = reference_rule
        self.factors: list[tuple[float, float]] = [(d, u) for d, u in factors]
        self.horizons_ns: list[int] = [t.horizon_s * NS_PER_S for t in triggers]
        self.extensions_ns: list[int] = [t.extension_s * NS_PER_S for t in triggers]
        self.max_horizon_ns: int = max(self.horizons_ns, default=0)
        self.active: list[bool] = [True] * len(triggers)
        self._ratios = ratios
        # distinct horizons, and for each trigger the index of its horizon
        self._horizons = sorted(set(self.horizons_ns))
        self._horizon_of = [self._horizons.index(h) for h in self.horizons_ns]
        # history: one entry per timestamp, oldest first
        self._times: list[int] = []
        self._pv: list[int] = []  # sum of price * size at the timestamp
        self._vol: list[int] = []  # sum of size at the timestamp
        self._first_price = 0  # price of the first trade at the latest timestamp
        self._now: int | None = None  # latest time seen
        # (low, high) per trigger at self._now; None = to recompute
        self._cache: list[tuple[int, int]] | None = None

    # ------------------------------------------------------------------ queries

    @property
    def n_triggers(self) -> int:
        return len(self.active)

    @property
    def history_len(self) -> int:
        """Number of timestamps held (bounded by those within the longest horizon, + 2)."""
        return len(self._times)

    def has_history(self) -> bool:
        """Whether any price was recorded since the start or the last reset."""
        return bool(self._times)

    def reference_price(self, trigger_index: int, now_ns: int) -> Decimal | None:
        """Reference price of a trigger at ``now_ns``, in ticks, exact to 16 places.

        ``None`` when no price has been recorded. The trigger's on/off state does not
        matter. See the module docstring for the rule.

        Raises:
            IndexError: unknown trigger; ValueError: time going backwards.
        """
        h = self.horizons_ns[_check_index(trigger_index, len(self.active))]
        self._advance(now_ns)
        r = self._ref_scaled(h)
        return None if r is None else Decimal(f"{r}E-{REF_DECIMALS}")

    def bounds(self, now_ns: int) -> list[tuple[int, int, int]]:
        """``(trigger index, low, high)`` of the triggers switched on, in ticks.

        ``low = ceil(ref * down)``, ``high = floor(ref * up)``, exact. Empty when no
        price has been recorded (nothing can breach).

        Raises:
            ValueError: time going backwards.
        """
        cur = self._current(now_ns)
        if cur is None:
            return []
        return [(i, lo, hi) for i, (lo, hi) in enumerate(cur) if self.active[i]]

    def valid_price_range(self, now_ns: int) -> tuple[int, int] | None:
        """Intersection ``(max low, min high)`` of the switched-on bounds (core
        ``GetValidPriceRange``); ``None`` without history or with every trigger off.
        The range may be empty (``low > high``) if the triggers disagree."""
        b = self.bounds(now_ns)
        if not b:
            return None
        return max(lo for _, lo, _ in b), min(hi for _, _, hi in b)

    def breaches(self, now_ns: int, price: int) -> list[int]:
        """Indices of every switched-on trigger whose bounds ``price`` breaches
        (``price < low`` or ``price > high``); empty without history."""
        _check_int("price", price)
        cur = self._current(now_ns)
        if cur is None:
            return []
        act = self.active
        return [i for i, (lo, hi) in enumerate(cur) if act[i] and (price < lo or price > hi)]

    def check(self, now_ns: int, price: int) -> int | None:
        """Index of the first switched-on trigger whose bounds ``price`` breaches, else
        ``None`` (also ``None`` without history). Changes nothing but the clock.

        Call for every would-be trade price and every mark price candidate.
        """
        _check_int("price", price)
        cur = self._current(now_ns)
        if cur is None:
            return None
        act = self.active
        for i, (lo, hi) in enumerate(cur):
            if act[i] and (price < lo or price > hi):
                return i
        return None

    # ------------------------------------------------------------------ updates

    def record_trade(self, time_ns: int, price: int, size: int) -> None:
        """Add a committed trade to the history (continuous trading only).

        Raises:
            TypeError: non-int arguments; ValueError: ``price <= 0``, ``size <= 0``
            or time going backwards.
        """
        _check_int("price", price)
        _check_int("size", size)
        if price <= 0 or size <= 0:
            raise ValueError(f"price and size must be > 0, got price={price}, size={size}")
        self._advance(time_ns)
        times = self._times
        if times and times[-1] == time_ns:
            self._pv[-1] += price * size
            self._vol[-1] += size
            return
        if not times:
            self._cache = None  # the first price becomes the reference
        times.append(time_ns)
        self._pv.append(price * size)
        self._vol.append(size)
        self._first_price = price

    def trigger_auction(self, index: int) -> int:
        """Switch trigger ``index`` off (it has been breached); its extension in ns.

        Raises:
            IndexError: unknown trigger; ValueError: the trigger is already off.
        """
        _check_index(index, len(self.active))
        if not self.active[index]:
            raise ValueError(f"trigger {index} is already switched off")
        self.active[index] = False
        return self.extensions_ns[index]

    def check_auction_end(self, now_ns: int, indicative_price: int | None) -> int | None:
        """At a price-monitoring auction's scheduled end: the extension in ns, or None.

        First switches off the stale triggers (latest recorded timestamp older than
        ``now - horizon``, 0032-PRIM-009). Then every trigger still on that
        ``indicative_price`` breaches is switched off and the sum of their
        extensions is returned (core). ``None`` (no breach, or no indicative price)
        means the auction may end: uncross, then call :meth:`reset`.
        """
        if indicative_price is not None:
            _check_int("indicative_price", indicative_price)
        self._advance(now_ns)
        if not self._times:
            return None
        latest = self._times[-1]
        for i, h in enumerate(self.horizons_ns):
            if self.active[i] and latest < now_ns - h:
                self.active[i] = False
        if indicative_price is None:
            return None
        hit = self.breaches(now_ns, indicative_price)
        if not hit:
            return None
        for i in hit:
            self.active[i] = False
        return sum(self.extensions_ns[i] for i in hit)

    def reset(self, time_ns: int, price: int | None = None, size: int = 1) -> None:
        """Restart after an auction's uncrossing: every trigger on, history reset.

        With ``price`` (the uncrossing price) and ``size`` (the uncrossing volume):
        the history becomes that one trade at ``time_ns`` (do not also
        :meth:`record_trade` the uncrossing trades). Without a price (no trades at
        the uncrossing): only the latest timestamp is kept (core
        ``resetPriceHistory`` with no trades). Use it at the end of the opening
        auction too.

        Raises:
            ValueError: ``price <= 0``, ``size <= 0`` or time going backwards.
        """
        if price is not None:
            _check_int("price", price)
            _check_int("size", size)
            if price <= 0 or size <= 0:
                raise ValueError(f"price and size must be > 0, got price={price}, size={size}")
        self._advance(time_ns)
        if price is None:
            keep = max(self._n_past() - 1, 0)
            del self._times[:keep], self._pv[:keep], self._vol[:keep]
        else:
            self._times = [time_ns]
            self._pv = [price * size]
            self._vol = [size]
            self._first_price = price
        self.active = [True] * len(self.active)
        self._cache = None

    # ------------------------------------------------------------------ internals

    def _advance(self, now_ns: int) -> None:
        """Move the clock to ``now_ns`` (prune the history when it moves)."""
        if now_ns == self._now and type(now_ns) is int:
            return
        _check_int("now_ns", now_ns)
        if self._now is not None and now_ns < self._now:
            raise ValueError(f"time went backwards: {now_ns} < {self._now}")
        self._now = now_ns
        self._cache = None
        self._prune()

    def _n_past(self) -> int:
        """Number of held timestamps strictly before the clock."""
        times = self._times
        return len(times) - 1 if times and times[-1] == self._now else len(times)

    def _prune(self) -> None:
        """Drop the timestamps that can no longer be a reference (module docstring)."""
        n_past = self._n_past()
        if n_past <= 1:
            return
        cutoff = self._now - self.max_horizon_ns
        if self.reference_rule == "core":
            # keep past timestamps >= cutoff, and always the latest past one
            drop = min(bisect_left(self._times, cutoff, 0, n_past), n_past - 1)
        else:
            # keep the latest timestamp <= cutoff and everything after it
            drop = max(bisect_right(self._times, cutoff, 0, n_past) - 1, 0)
        if drop:
            del self._times[:drop], self._pv[:drop], self._vol[:drop]

    def _ref_scaled(self, horizon_ns: int) -> int | None:
        """Reference price * 10**16 (integer) for a horizon at the clock; None if empty."""
        times = self._times
        if not times:
            return None
        n_past = self._n_past()
        if n_past == 0:
            return self._first_price * _REF_SCALE
        idx = bisect_right(times, self._now - horizon_ns, 0, n_past) - 1
        if idx < 0:
            idx = 0
        vol = self._vol[idx]
        # volume-weighted average, rounded half up to 16 places
        return (2 * self._pv[idx] * _REF_SCALE + vol) // (2 * vol)

    def _current(self, now_ns: int) -> list[tuple[int, int]] | None:
        """``(low, high)`` of every trigger (on or off) at ``now_ns``, cached per instant."""
        self._advance(now_ns)
        if self._cache is not None:
            return self._cache
        if not self._times:
            return None
        refs = [self._ref_scaled(h) for h in self._horizons]
        cur: list[tuple[int, int]] = []
        for i, (dn, dd, un, ud) in enumerate(self._ratios):
            r = refs[self._horizon_of[i]]
            low = -((-r * dn) // (_REF_SCALE * dd))  # ceil
            high = (r * un) // (_REF_SCALE * ud)  # floor
            cur.append((low, high))
        self._cache = cur
        return cur
