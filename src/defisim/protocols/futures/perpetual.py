"""Perpetual futures funding (Vega 0053-PERP) in exact integer arithmetic.

A perpetual never expires. Instead, every funding period the parties exchange a
funding payment that tethers the market to the underlying: the difference between
the time-weighted average of the market's own mark price (the *internal* series)
and of an oracle's spot price (the *external* series), with an optional interest
term inside a clamp, an optional scaling factor and optional funding-rate bounds.

Sources: ``vegaprotocol/specs`` ``protocol/0053-PERP-product_builtin_perpetual_future.md``
(sections 4.2-4.3, 5, 6; the "additional perps parameters" and "modify funding
payment calculation" revisions) and Vega core ``core/products/perpetual.go`` with
its tests ``core/products/perpetual_test.go`` and ``perpetual_auctions_test.go``,
and the acceptance feature for 0053-PERP-040. Where the two differ we follow
core; the differences are listed in :class:`FundingCalculator`.

Units: times are integer nanoseconds of the simulated clock; prices are integer
ticks of the market's decimal places ("raw price"); positions are integer
10^-PDP contracts; money is integer base units of the settlement asset; factors
are read from their decimal ``repr`` (``0.1`` is exactly one tenth, see
:mod:`.fixed`) and rates are reported as fixed-point integers over ``ONE = 10**18``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from math import trunc

from pydantic import BaseModel, ConfigDict, Field, model_validator

from defisim.numeric.fixed import ONE, ceil_div, to_fixed

#: Vega core's year for the interest term: ``24 * 365 * time.Hour`` (365 days, in ns).
YEAR_NS = 365 * 24 * 3600 * 10**9
_NS_PER_S = 10**9


class PerpetualParams(BaseModel):
    """Parameters of a perpetual's funding (0053-PERP section 1, core governance checks).

    Attributes:
        funding_period_s: length of a funding period in seconds (> 0). Vega drives
            the period ends from a time-trigger oracle ("every 8h from ..."); here a
            fixed period from the end of the opening auction.
        interest_rate: ``r``, a yearly rate in [-1, 1]; the interest term is applied
            only when ``r != 0`` (core).
        clamp_lower_bound, clamp_upper_bound: the clamp around the interest term, as
            fractions of the external TWAP, each in [-1, 1], lower <= upper.
        funding_rate_scaling_factor: optional, > 0, multiplies the funding payment.
        funding_rate_lower_bound, funding_rate_upper_bound: optional bounds on the
            funding rate (payment / external TWAP), lower <= upper when both are set.
        margin_funding_factor: in [0, 1], the share of the expected funding payment
            added to maintenance margin (section 5).

    Raises:
        pydantic.ValidationError: a value is out of range or the bounds are disordered.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    funding_period_s: float = Field(8 * 3600.0, gt=0, allow_inf_nan=False)
    interest_rate: float = Field(0.0, ge=-1, le=1)
    clamp_lower_bound: float = Field(0.0, ge=-1, le=1)
    clamp_upper_bound: float = Field(0.0, ge=-1, le=1)
    funding_rate_scaling_factor: float | None = Field(None, gt=0, allow_inf_nan=False)
    funding_rate_lower_bound: float | None = Field(None, allow_inf_nan=False)
    funding_rate_upper_bound: float | None = Field(None, allow_inf_nan=False)
    margin_funding_factor: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> PerpetualParams:
        if self.clamp_upper_bound < self.clamp_lower_bound:
            raise ValueError(
                f"clamp_upper_bound {self.clamp_upper_bound} < clamp_lower_bound "
                f"{self.clamp_lower_bound}"
            )
        lo, hi = self.funding_rate_lower_bound, self.funding_rate_upper_bound
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"funding_rate_lower_bound {lo} > funding_rate_upper_bound {hi}")
        if to_fixed(self.funding_period_s) // _NS_PER_S <= 0:
            raise ValueError(f"funding_period_s {self.funding_period_s} is under 1 ns")
        return self


@dataclass(frozen=True, slots=True)
class FundingPeriodResult:
    """A funding period's outcome (or, from :meth:`FundingCalculator.estimate`, the
    outcome if the period ended now).

    Attributes:
        seq: the period's sequence number (0 for the first period).
        start_ns, end_ns: the period (end = the time the calculation was made for).
        internal_twap, external_twap: mark-price and oracle TWAPs in raw ticks,
            floored (core's integer division); ``None`` when that series has no
            sample at or before ``end_ns`` or its window was entirely in auction.
        funding_payment: the payment per whole contract (10^PDP position units) in
            raw price units, signed: positive means longs pay shorts. An integer,
            truncated toward zero as core does. 0 when ``skipped``.
        funding_rate: ``payment / external_twap`` as a fixed-point integer over
            10^18, truncated toward zero (core keeps 16 decimals). 0 when ``skipped``.
        skipped: no payment is exchanged for this period.
        reason: why it was skipped (``"no internal data"``, ``"no external data"``,
            ``"in auction"``, ``"zero-length period"``), else ``None``.
    """

    seq: int
    start_ns: int
    end_ns: int
    internal_twap: int | None
    external_twap: int | None
    funding_payment: int
    funding_rate: int
    skipped: bool
    reason: str | None = None


_ALL_AUCTION = -1  # sentinel from _twap: the series' window was entirely in auction


class FundingCalculator:
    """Funding periods, TWAPs, funding payments and the margin funding term of one
    perpetual market (0053-PERP sections 4-6, Vega core ``core/products/perpetual.go``).

    Create it when the market leaves its opening auction (nothing is stored before,
    0053-PERP-018); ``start_ns`` is the uncrossing time and starts the first period.

    TWAP (same for both series): a sample applies from its time until the next
    sample. The window runs from the period start to ``t``; a series with no sample
    at or before the period start has its window start at its first sample.
    Time in auction is left out of both the weights and the divisor. ``TWAP =
    floor(sum(price_i * live_time_i) / live_time)``. A zero-length window (``t`` equal
    to the window start) gives the price of the latest sample (core test "funding
    payment on start boundary"). Samples after ``t`` are ignored.

    Funding payment per contract (raw price units), with ``f``, ``s`` the internal
    and external TWAPs and ``dt = (t - period start) / YEAR_NS``::

        g = f - s
        if r != 0:  g += trunc(min(ub * s, max(lb * s, (1 + r dt) s - f)))
        if scaling: g = g * scaling
        rate = g / s
        if rate > rate_upper: rate = rate_upper; g = rate_upper * s
        if rate < rate_lower: rate = rate_lower; g = rate_lower * s
        payment = trunc(g)

    A period pays nothing when either series has no sample at or before its end,
    when either window was entirely in auction (0053-PERP, "market has been in
    auction throughout the entire funding period"), or when it has zero length.

    Spec vs core (we follow core):

    - The clamp and interest term are applied only when ``interest_rate != 0``; the
      spec's formula always applies the clamp (0053-PERP-040's feature, with r = 0
      and clamp [0.1, 0.9], pays the unclamped difference).
    - ``dt`` runs from the period start; the spec writes
      ``end - max(start, first internal sample)``. A year is 365 days.
    - The funding rate is the final payment (interest, scaling and bounds included)
      over ``s``; the spec writes ``(f - s) / s``.
    - The sample in force at the period start (carried over from the last period)
      counts as data; the spec asks for a sample inside ``[start, end)``.
    - A sample at a time that already has one, or older than the latest sample at
      or before the period start, is rejected (core ``ErrDataPointAlreadyExistsAtTime``
      and ``ErrDataPointIsTooOld``); the add methods return ``False``.

    Rounding: core computes in the asset's decimals; we compute in the market's
    ticks, so the TWAP floors and the truncation of the interest term and payment
    happen at tick granularity. With ``price_factor == 1`` (market decimals equal to
    the asset's) the numbers are core's exactly; otherwise they differ by less than
    one tick per contract per period.
    """

    state_exclude = ("_cache",)
    """Caches, left out of the chain's state hash (:mod:`defisim.chain.state_hash`)."""

    __slots__ = (
        "params",
        "seq",
        "start_ns",
        "_period_ns",
        "_r",
        "_clo",
        "_chi",
        "_sf",
        "_rlo",
        "_rhi",
        "_mff",
        "_it",
        "_ip",
        "_et",
        "_ep",
        "_auctions",
        "_version",
        "_cache",
        "_acc",
    )

    def __init__(self, params: PerpetualParams, start_ns: int) -> None:
        """Start the first funding period at ``start_ns`` (ns, the end of the opening auction)."""
        self.seq = 0
        self.start_ns = int(start_ns)
        self.update_params(params)
        self._it: list[int] = []  # internal sample times, sorted
        self._ip: list[int] = []  # internal sample prices
        self._et: list[int] = []
        self._ep: list[int] = []
        self._auctions: list[list[int | None]] = []  # [start, end or None (ongoing)]
        self._version = 0
        self._cache: tuple[int, int, FundingPeriodResult] | None = None
        self._init_rest()

    def update_params(self, params: PerpetualParams) -> None:
        """New funding parameters (governance); they apply to the period in progress."""
        self.params = params
        self._cache = None
        self._period_ns = to_fixed(params.funding_period_s) // _NS_PER_S
        self._r = Fraction(to_fixed(params.interest_rate), ONE)
        self._clo = Fraction(to_fixed(params.clamp_lower_bound), ONE)
        self._chi = Fraction(to_fixed(params.clamp_upper_bound), ONE)
        p = params
        self._sf = _frac(p.funding_rate_scaling_factor)
        self._rlo = _frac(p.funding_rate_lower_bound)
        self._rhi = _frac(p.funding_rate_upper_bound)
        self._mff = Fraction(to_fixed(params.margin_funding_factor), ONE)

    def _init_rest(self) -> None:
        # per series (0 internal, 1 external): [k, m, num, den], the live-time-weighted
        # sum and live time of the complete segments from the window start (at sample
        # k) to sample m
        self._acc: list[list[int] | None] = [None, None]

    # ---------------------------------------------------------------- samples
    def add_internal(self, time_ns: int, price: int) -> bool:
        """Store a mark price sample (0053-PERP 4.2: at every mark-to-market).

        Args:
            time_ns: sample time (ns).
            price: the mark price (raw ticks, > 0).

        Returns:
            ``True`` if stored; ``False`` if rejected (a sample already exists at that
            time, or it is older than the latest sample at or before the period start).

        Raises:
            ValueError: ``price`` is not a positive integer.
        """
        return self._add(0, time_ns, price)

    def add_external(self, time_ns: int, price: int) -> bool:
        """Store an oracle (spot) sample (0053-PERP 4.1); same contract as :meth:`add_internal`.

        The time is the oracle's own timestamp, which may lie in the past: out-of-order
        samples are inserted where they belong.
        """
        return self._add(1, time_ns, price)

    def _add(self, which: int, t: int, price: int) -> bool:
        if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            raise ValueError(f"price must be a positive integer (raw ticks), got {price!r}")
        times, prices = (self._it, self._ip) if which == 0 else (self._et, self._ep)
        t = int(t)
        i = bisect_right(times, t)
        if i and times[i - 1] == t:
            return False
        k = bisect_right(times, self.start_ns)
        if k and t < times[k - 1]:
            return False  # older than the sample already in force at the period start
        if i == len(times):
            times.append(t)
            prices.append(price)
        else:
            times.insert(i, t)
            prices.insert(i, price)
        acc = self._acc[which]
        if acc is not None and i <= acc[1]:
            self._acc[which] = None
        self._version += 1
        return True

    def _auction_changed(self, x: int) -> None:
        """Drop cached TWAP sums covering time after ``x`` (an auction started or ended there)."""
        for which, times in ((0, self._it), (1, self._et)):
            acc = self._acc[which]
            if acc is not None and times[acc[1]] > x:
                self._acc[which] = None

    # ---------------------------------------------------------------- auctions
    @property
    def in_auction(self) -> bool:
        """Whether an auction is open (its time is being left out of the TWAPs)."""
        return bool(self._auctions) and self._auctions[-1][1] is None

    def enter_auction(self, time_ns: int) -> None:
        """The market went into a (price or liquidity monitoring) auction at ``time_ns``.

        Funding still settles during such auctions (0053-PERP 4.3.1, -008, -009); only
        the auction's time is excluded from the TWAPs. No-op if already in one.

        Raises:
            ValueError: ``time_ns`` is before the end of the previous auction.
        """
        if not self.in_auction:
            if self._auctions and time_ns < self._auctions[-1][1]:
                raise ValueError(
                    f"auction cannot start at {time_ns}, before the previous one ended "
                    f"at {self._auctions[-1][1]}"
                )
            self._auctions.append([int(time_ns), None])
            self._auction_changed(time_ns)
            self._version += 1

    def leave_auction(self, time_ns: int) -> None:
        """The auction ended at ``time_ns`` (no-op if none is open).

        Raises:
            ValueError: ``time_ns`` is before the auction's start.
        """
        if self.in_auction:
            a = self._auctions[-1]
            if time_ns < a[0]:
                raise ValueError(f"auction cannot end at {time_ns}, before its start {a[0]}")
            a[1] = int(time_ns)
            self._auction_changed(time_ns)
            self._version += 1

    def _auction_overlap(self, a: int, b: int) -> int:
        """Nanoseconds of ``[a, b)`` spent in auction."""
        total = 0
        for s, e in self._auctions:
            lo = s if s > a else a
            hi = b if e is None or e > b else e
            if hi > lo:
                total += hi - lo
        return total

    # ---------------------------------------------------------------- periods
    @property
    def next_due_ns(self) -> int:
        """Scheduled end of the current period: ``start_ns + funding_period_s`` (ns)."""
        return self.start_ns + self._period_ns

    def period_due(self, now_ns: int) -> bool:
        """Whether the current funding period has reached its scheduled end."""
        return now_ns >= self.start_ns + self._period_ns

    def estimate(self, now_ns: int) -> FundingPeriodResult:
        """The current period's result as if it ended at ``now_ns`` (0053-PERP API
        estimate, core ``GetData``); the period is not closed.

        Unlike :meth:`end_period`, a zero-length period is not skipped: the TWAPs are
        then the latest prices (core).

        Raises:
            ValueError: ``now_ns`` is before the period start.
        """
        c = self._cache
        if c is not None and c[0] == self._version and c[1] == now_ns:
            return c[2]
        res = self._compute(int(now_ns))
        self._cache = (self._version, now_ns, res)
        return res

    def end_period(self, now_ns: int) -> FundingPeriodResult:
        """Close the current period at ``now_ns`` and start the next one there.

        Samples after ``now_ns`` and the latest one at or before it carry over to the
        next period (core ``startNewFundingPeriod``); an open auction stays open.
        Pass ``now_ns`` (the block time), or :attr:`next_due_ns` to keep periods on a
        fixed grid as Vega's time-trigger schedule does.

        Returns:
            The period's result; settle it with :meth:`payment` unless ``skipped``.

        Raises:
            ValueError: ``now_ns`` is before the period start.
        """
        now_ns = int(now_ns)
        res = self.estimate(now_ns)
        if now_ns == self.start_ns and not res.skipped:
            res = _skip(res, "zero-length period")
        self.seq += 1
        self.start_ns = now_ns
        for times, prices in ((self._it, self._ip), (self._et, self._ep)):
            k = bisect_right(times, now_ns) - 1
            if k > 0:
                del times[:k]
                del prices[:k]
        self._auctions = [a for a in self._auctions if a[1] is None or a[1] > now_ns]
        self._acc = [None, None]
        self._version += 1
        return res

    def _twap(self, which: int, t: int) -> int | None:
        """Floored TWAP of one series (0 internal, 1 external) over the current period up
        to ``t`` (raw ticks); ``None`` without a sample at or before ``t``;
        ``_ALL_AUCTION`` if the window was all auction.

        The sums over complete segments are cached, so samples appended in time order
        and calls at increasing ``t`` cost O(new samples) each.
        """
        times, prices = (self._it, self._ip) if which == 0 else (self._et, self._ep)
        hi = bisect_right(times, t)
        if hi == 0:
            return None
        k = bisect_right(times, self.start_ns) - 1
        if k < 0:
            k, w = 0, times[0]  # no sample at the period start: start at the first one
        else:
            w = self.start_ns
        if t == w:
            return prices[hi - 1]
        last = hi - 1
        acc = self._acc[which]
        if acc is None or acc[0] != k or acc[1] > last:
            m, num, den = k, 0, 0
        else:
            m, num, den = acc[1:]
        auctions = bool(self._auctions)
        for i in range(m, last):  # complete segments [times[i], times[i + 1])
            a = times[i] if times[i] > w else w
            live = times[i + 1] - a
            if auctions:
                live -= self._auction_overlap(a, times[i + 1])
            num += prices[i] * live
            den += live
        self._acc[which] = [k, last, num, den]
        a = times[last] if times[last] > w else w
        live = t - a
        if auctions:
            live -= self._auction_overlap(a, t)
        num += prices[last] * live
        den += live
        if den == 0:
            return _ALL_AUCTION
        return num // den

    def _compute(self, t: int) -> FundingPeriodResult:
        if t < self.start_ns:
            raise ValueError(f"time {t} is before the funding period start {self.start_ns}")
        f = self._twap(0, t)
        s = self._twap(1, t)
        reason = None
        if f is None:
            reason = "no internal data"
        elif s is None:
            reason = "no external data"
        elif f == _ALL_AUCTION or s == _ALL_AUCTION:
            reason = "in auction"
        if reason is not None:
            f = None if f == _ALL_AUCTION else f
            s = None if s == _ALL_AUCTION else s
            return FundingPeriodResult(self.seq, self.start_ns, t, f, s, 0, 0, True, reason)
        g = Fraction(f - s)
        if self._r:
            dt = Fraction(t - self.start_ns, YEAR_NS)
            interest = (1 + self._r * dt) * s - f
            g += trunc(min(self._chi * s, max(self._clo * s, interest)))
        if self._sf is not None:
            g *= self._sf
        rate = g / s
        if self._rhi is not None and rate > self._rhi:
            rate = self._rhi
            g = rate * s
        if self._rlo is not None and rate < self._rlo:
            rate = self._rlo
            g = rate * s
        return FundingPeriodResult(
            self.seq, self.start_ns, t, f, s, trunc(g), trunc(rate * ONE), False
        )

    # ---------------------------------------------------------------- money
    @staticmethod
    def payment(
        result: FundingPeriodResult, position: int, price_factor: int, position_factor: int
    ) -> int:
        """Funding owed BY a party for a period, in base units of the settlement asset.

        ``amount = position * funding_payment * price_factor / position_factor``: a long
        pays when the payment is positive, a short receives (0053-PERP 4.3, cash flow
        ``-open volume * funding payment``). Amounts owed round up, amounts received
        round down, so the collected sum covers the distributed one.

        Args:
            result: from :meth:`end_period`.
            position: the party's signed open position (raw, 10^-PDP contracts).
            price_factor: base units per raw price unit per contract
                (``10**(asset decimals - market decimals)``).
            position_factor: ``10**PDP``.

        Returns:
            Positive: the party pays this much; negative: it receives ``-amount``.
        """
        raw = position * result.funding_payment * price_factor
        if raw >= 0:
            return ceil_div(raw, position_factor)
        return -((-raw) // position_factor)

    def margin_funding_term(
        self, position: int, price_factor: int, position_factor: int, now_ns: int
    ) -> int:
        """Extra maintenance margin for the expected funding payment (0053-PERP section 5).

        ``ceil(margin_funding_factor * max(0, position * G_t) * price_factor /
        position_factor)`` with ``G_t`` the funding payment per contract if the period
        ended at ``now_ns`` (:meth:`estimate`; core ``GetMarginIncrease``). Only the
        side that would pay is charged (0053-PERP-015, -016); 0 without data, in a
        period spent all in auction, or with a zero factor. Add it to the
        maintenance margin before the search, initial and release levels are derived.

        Args:
            position: the party's signed open position (raw); resting orders do not count.
            price_factor, position_factor: as in :meth:`payment`.
            now_ns: the current time (ns), at or after the period start.

        Returns:
            Base units of the settlement asset, >= 0.
        """
        if not self._mff or position == 0:
            return 0
        est = self.estimate(now_ns)
        owed = position * est.funding_payment
        if est.skipped or owed <= 0:
            return 0
        return ceil_div(
            owed * price_factor * self._mff.numerator, position_factor * self._mff.denominator
        )


def _frac(x: float | None) -> Fraction | None:
    return None if x is None else Fraction(to_fixed(x), ONE)


def _skip(res: FundingPeriodResult, reason: str) -> FundingPeriodResult:
    return FundingPeriodResult(
        res.seq,
        res.start_ns,
        res.end_ns,
        res.internal_twap,
        res.external_twap,
        0,
        0,
        True,
        reason,
    )
