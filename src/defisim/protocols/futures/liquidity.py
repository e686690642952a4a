"""Liquidity provision: commitments, SLA time on book, fee factor, fee split and penalties.

Rules: ``../shared/specs/futures-market.md`` section 8, detailed by Vega's specs 0044-LIME
(LP mechanics), 0042-LIQF (fee factor, fee split, SLA penalties) and 0041-TSTK (target
stake), and by Vega core (``core/liquidity/v2``, ``core/liquidity/target``,
``core/execution/common/liquidity_provision*.go``, ``equity_shares.go``,
``fee_splitter.go``). Where spec and core differ we follow core; see "Differences" below.

The engine moves no money. It keeps the commitments, measures the SLA, and returns
amounts; the market performs every ledger transfer, so conservation stays in one place.
Units: commitments, bonds, fees and stakes are integers in base units of the settlement
asset; prices are integer ticks of the market (one tick is worth ``price_factor`` base
units per contract); sizes are integers in ``1 / position_factor`` contracts; factors
(fee bids, penalties, fractions) are fixed-point integers over ``ONE = 10**18``.

Lifecycle (what the market calls, and when):

- ``submit`` / ``amend`` / ``cancel``: LP transactions. They return a
  :class:`LiquidityAction` with ``to_bond`` (general -> bond) and ``to_general``
  (bond -> general) to transfer at once. In the opening auction every change is
  applied at once, without penalty (0044-LIME-050/051/053). Afterwards a new
  commitment or a change of commitment is *pending* until the next epoch boundary
  (increases move the bond at once; decreases are settled at the boundary, with the
  early-exit penalty); a fee-only amendment applies at once (core ``AmendLiquidityProvision``).
- ``start(now)``: the opening auction ended; the SLA epoch and the market-value
  window start (core ``OnEpochStart`` / ``feeSplitter.TimeWindowStart`` at auction end).
- ``record_trade(size, price)``: every trade, including the opening uncrossing
  (trade value feeds the equity-like-share growth, 0042-LIQF).
- ``record_open_interest(now, oi)``: whenever open interest may have changed (0041-TSTK).
- ``observe(now, party_orders, ...)``: at every block end, after mark-to-market; it
  accumulates each LP's time meeting its obligation and its liquidity score.
- ``epoch_due(now)`` then ``end_epoch(now, fee_balance, bonds, target_stake)``: at the
  block end where an epoch ends; the returned :class:`EpochResult` lists the transfers.
  Then ``fee_factor(target_stake)`` gives the market's new liquidity fee factor.
- ``close(now, fee_balance, bonds)``: at settlement or closure: a final distribution and
  the release of all bonds (0042-LIQF-014).

Differences from the spec text, following core:

- Marginal cost picks the first LP at which the cumulative commitment is ``>=`` the
  target stake (spec text: ``>``); identical on the 0042-LIQF-001 vectors.
- The SLA notional of an order is ``mark price x remaining`` (core ``doesLPMeetsCommitment``),
  not ``order price x remaining``.
- The SLA bond slash is ``f x commitment at the start of the epoch`` (core
  ``processBondPenalties``), not ``f x bond balance``; capped at the bond balance here.
- Fee-penalty hysteresis averages the raw penalties of the last
  ``performance_hysteresis_epochs`` epochs (core ring buffer; the spec says ``n - 1``).
- Commitment reductions of the same epoch share the penalty-free amount pro rata
  (core ``applyPendingProvisions`` and the current spec text; the older acceptance
  criterion 0044-LIME-025 reads them sequentially). ``total_stake`` is the sum of the
  active commitments, without pending increases (core ``CalculateSuppliedStakeWithoutPending``).
- After the pending changes are applied, each commitment is set to its bond balance
  when they differ (core ``syncPartyCommitmentWithBondAccount``); an LP with an empty
  bond is removed.
- Virtual stake (equity-like share) grows with the market's average trade value only
  when the growth ``r`` is non-zero (core ``EquityShares.UpdateVStake``); the spec's
  reset to physical stake when ``r`` is undefined is not done.

Simplifications (documented choices, not in Vega):

- Fees collected during an epoch are split once, at the epoch end (core does it every
  ``providersFeeCalculationTimeStep``, whose maximum valid value is the epoch length),
  by equity-like share x the liquidity score averaged over the epoch.
- The liquidity score is core's structure (per side, the volume-weighted mean of each
  order's probability of trading; the smaller side) with a pluggable probability of
  trading; the default :func:`linear_probability_of_trading` is a proxy (1 at or
  better than the touch, falling linearly to 0 at the edge of the price range), not
  the risk-model probability of 0034-PROB. Scores are only updated in continuous
  trading with both best prices.
- Rounding: penalty factors round up, amounts paid to LPs round down; the fee split's
  remainder stays in the liquidity fee account for the next epoch (0042-LIQF-032); the
  bonus remainder goes to the LP with the largest bonus weight (core: a pseudo-random LP);
  an early-exit penalty is ``ceil(penalty x penalty-incurring amount)`` so the bond
  ends exactly at the new commitment (core leaves the rounding dust in the bond).
- An epoch of zero observed length applies no SLA penalty (core would apply a full one).
- Price-monitoring bounds (probability 0 outside them), the bond penalty for margin
  shortfalls (``bondPenaltyParameter``), the minimum probability of trading and the
  average entry valuation are not modelled here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from defisim.numeric.fixed import ONE, ceil_div, to_fixed

NS = 1_000_000_000


# --------------------------------------------------------------------- parameters
class LiquidityParams(BaseModel):
    """Liquidity provision parameters of one market (0044-LIME, 0042-LIQF, 0041-TSTK).

    Fractions and factors are decimals read exactly (``0.1`` is one tenth); times are
    seconds; ``min_commitment`` is in base units of the settlement asset.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stake_to_volume: float = Field(
        1.0, ge=0, le=100, description="obligation notional per unit of commitment"
    )
    price_range: float = Field(
        0.05, gt=0, le=100, description="obligation range around mid, fraction"
    )
    minimum_time_fraction: float = Field(
        0.95, ge=0, le=1, description="s: commitmentMinTimeFraction"
    )
    competition_factor: float = Field(0.9, ge=0, le=1, description="c: slaCompetitionFactor")
    performance_hysteresis_epochs: int = Field(
        1, ge=0, le=366, description="previous epochs averaged (core)"
    )
    slash_slope: float = Field(2.0, ge=0, le=1000, description="nonPerformanceBondPenaltySlope")
    max_slash: float = Field(0.5, ge=0, le=1, description="nonPerformanceBondPenaltyMax")
    early_exit_penalty: float = Field(0.1, ge=0, le=1000)
    fee_method: Literal["marginal_cost", "stake_weighted", "constant"] = "marginal_cost"
    constant_fee: float = Field(0.0, ge=0, le=1)
    maximum_fee: float = Field(1.0, ge=0, le=1, description="maximumLiquidityFeeFactorLevel")
    min_commitment: int = Field(
        1, ge=1, description="base units (minLpStakeQuantumMultiple x quantum)"
    )
    equity_like_share_fee_fraction: float = Field(
        1.0, ge=0, le=1, description="share of fees split by ELS x score"
    )
    epoch_s: float = Field(86400.0, gt=0)
    market_value_window_s: float = Field(7 * 86400.0, gt=0, description="market.value.windowLength")
    target_stake_window_s: float = Field(3600.0, gt=0)
    target_stake_scaling: float = Field(10.0, ge=0)
    bond_penalty_factor: float = Field(
        0.1, ge=0, le=1000, description="bondPenaltyParameter: penalty on bond used for margin"
    )


class LiquidityReason(StrEnum):
    """Reason codes of rejected liquidity transactions."""

    INVALID_COMMITMENT = "INVALID_COMMITMENT"
    COMMITMENT_TOO_LOW = "COMMITMENT_TOO_LOW"
    INVALID_FEE = "INVALID_FEE"
    ALREADY_LIQUIDITY_PROVIDER = "ALREADY_LIQUIDITY_PROVIDER"
    NOT_LIQUIDITY_PROVIDER = "NOT_LIQUIDITY_PROVIDER"
    NOTHING_TO_AMEND = "NOTHING_TO_AMEND"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    MARKET_CLOSED = "MARKET_CLOSED"


# ------------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class LiquidityAction:
    """Outcome of ``submit`` / ``amend`` / ``cancel``.

    ``reason`` is "" when accepted (else a :class:`LiquidityReason`, nothing to transfer);
    the market then moves ``to_bond`` from the party's general account to its bond
    account and ``to_general`` from its bond account back to general (base units).
    """

    reason: str = ""
    detail: str = ""
    to_bond: int = 0
    to_general: int = 0

    @property
    def accepted(self) -> bool:
        return not self.reason


@dataclass(frozen=True, slots=True)
class LiquidityTransfer:
    """One transfer the market must make after an epoch.

    ``source`` is ``"bond"`` (the party's bond account) or ``"fee"`` (the market's
    liquidity fee account); ``destination`` is ``"general"`` (the party's general
    account) or ``"insurance"`` (the market's insurance pool). ``party`` is "" for a
    fee -> insurance transfer.
    """

    party: str
    source: Literal["bond", "fee"]
    destination: Literal["general", "insurance"]
    amount: int
    kind: str


@dataclass(frozen=True, slots=True)
class LpEpochOutcome:
    """One LP's epoch: SLA measures (fixed-point) and money (base units)."""

    party: str
    commitment: int  # at the start of the epoch (the obligation's basis)
    time_on_book: int  # fraction of the epoch meeting the obligation, fixed-point
    fee_penalty: int  # p after hysteresis, fixed-point
    bond_slash_fraction: int  # f, fixed-point
    equity_like_share: int  # fixed-point
    liquidity_score: int  # epoch average of the normalised score, fixed-point
    fees_accrued: int  # this LP's part of the fee balance (ELS x score)
    fees_net: int  # (1 - p) x accrued, paid
    fees_bonus: int  # share of the penalised fees, paid
    bond_slash: int  # bond -> insurance


@dataclass(frozen=True, slots=True)
class EpochResult:
    """What an epoch end (or a market closure) decided; see :meth:`transfers`."""

    epoch_start: int
    epoch_end: int
    outcomes: tuple[LpEpochOutcome, ...] = ()
    fees_to_insurance: int = 0  # every LP had a full fee penalty (0042-LIQF)
    fees_carried: int = 0  # rounding remainder left in the liquidity fee account
    early_exit_penalties: dict[str, int] = field(default_factory=dict)  # bond -> insurance
    bond_releases: dict[str, int] = field(default_factory=dict)  # bond -> general
    removed: tuple[str, ...] = ()  # LPs whose provision ended

    def transfers(self) -> list[LiquidityTransfer]:
        """Every transfer, in the order to make them (slashes, fees, exits, releases)."""
        out = [
            LiquidityTransfer(o.party, "bond", "insurance", o.bond_slash, "lp_sla_bond_slash")
            for o in self.outcomes
            if o.bond_slash
        ]
        for o in self.outcomes:
            if o.fees_net:
                out.append(LiquidityTransfer(o.party, "fee", "general", o.fees_net, "lp_fee_net"))
            if o.fees_bonus:
                out.append(
                    LiquidityTransfer(o.party, "fee", "general", o.fees_bonus, "lp_fee_bonus")
                )
        if self.fees_to_insurance:
            out.append(
                LiquidityTransfer("", "fee", "insurance", self.fees_to_insurance, "lp_fee_penalty")
            )
        for p, a in sorted(self.early_exit_penalties.items()):
            if a:
                out.append(LiquidityTransfer(p, "bond", "insurance", a, "lp_early_exit_penalty"))
        for p, a in sorted(self.bond_releases.items()):
            if a:
                out.append(LiquidityTransfer(p, "bond", "general", a, "lp_bond_release"))
        return out

    @property
    def fees_paid(self) -> int:
        """Fees paid to LPs (net + bonus)."""
        return sum(o.fees_net + o.fees_bonus for o in self.outcomes)


@dataclass(frozen=True, slots=True)
class LiquidityProvision:
    """A read-only view of one provision. ``pending_commitment`` is None when no change
    waits for the epoch boundary (0 = a pending cancellation)."""

    party: str
    commitment: int
    fee: int
    active: bool
    pending_commitment: int | None
    pending_fee: int | None


class OrderLike(Protocol):
    """What the engine reads of a resting order (the market's ``Order`` fits)."""

    side: int
    price: int
    remaining: int


# ------------------------------------------------------------------- pure helpers
def _check_fraction(name: str, v: int) -> None:
    if not 0 <= v <= ONE:
        raise ValueError(f"{name} must be a fixed-point fraction in [0, {ONE}], got {v}")


def fee_penalty(t: int, s: int, c: int) -> int:
    """SLA fee penalty ``p`` of one epoch (0042-LIQF, "SLA performance penalty").

    ``p = 1`` if ``t < s``; ``0`` if ``s = 1`` (so ``t = 1``); otherwise
    ``p = c (1 - (t - s)/(1 - s)) = c (1 - t)/(1 - s)``. All fixed-point over ``ONE``:
    ``t`` the fraction of time on book, ``s`` the minimum time fraction, ``c`` the
    competition factor; the result is rounded up. Vector 0042-LIQF-037/041/042:
    s 0.5, t 0.75 gives 0.5 (c 1), 0 (c 0), 0.25 (c 0.5).

    Raises:
        ValueError: an argument outside ``[0, ONE]``.
    """
    for name, v in (("t", t), ("s", s), ("c", c)):
        _check_fraction(name, v)
    if t < s:
        return ONE
    if s == ONE:
        return 0
    return ceil_div(c * (ONE - t), ONE - s)


def bond_slash_fraction(t: int, s: int, slope: int, max_slash: int) -> int:
    """Fraction of the bond slashed for missing the SLA (0044-LIME, "Penalty for not
    meeting the SLA"): ``f = max(0, min(m, slope (1 - t/s)))`` when ``t < s``, else 0.

    Fixed-point over ``ONE``; rounded up. Vector 0044-LIME-014/015: s 0.6, slope 0.7,
    max 0.6 gives 0.35 at t 0.3 and 0.6 at t 0.

    Raises:
        ValueError: ``t``, ``s`` or ``max_slash`` outside ``[0, ONE]``, or ``slope < 0``.
    """
    for name, v in (("t", t), ("s", s), ("max_slash", max_slash)):
        _check_fraction(name, v)
    if slope < 0:
        raise ValueError(f"slope must be >= 0, got {slope}")
    if t >= s:
        return 0
    return min(max_slash, ceil_div(slope * (s - t), s))


def hysteresis_fee_penalty(current: int, previous: Sequence[int]) -> int:
    """``max(p, mean of the previous epochs' raw penalties)`` (0042-LIQF hysteresis;
    core ``calculateHysteresisFeePenalty``). Fixed-point; the mean is rounded up."""
    if not previous:
        return current
    return max(current, ceil_div(sum(previous), len(previous)))


def marginal_cost_fee(bids: Iterable[tuple[int, int]], target_stake: int) -> int:
    """Liquidity fee factor by marginal cost (0042-LIQF; core ``feeForTarget``).

    ``bids`` are ``(commitment, fee factor)`` pairs (base units, fixed-point). Sorted by
    fee (stable), the fee of the first LP at which the cumulative commitment reaches
    ``target_stake`` (``>=``, as core) is chosen; the highest fee if none does; 0 with no
    bids. Vector 0042-LIQF-001: (120, 0.5 %), (20, 0.75 %), (60, 3.75 %) give 0.5 % for
    target 119, 0.75 % for 123 and 3.75 % for 240.
    """
    ordered = sorted(bids, key=lambda b: b[1])
    if not ordered:
        return 0
    cumulative = 0
    for commitment, fee in ordered:
        cumulative += commitment
        if cumulative >= target_stake:
            return fee
    return ordered[-1][1]


def stake_weighted_fee(bids: Iterable[tuple[int, int]]) -> int:
    """Commitment-weighted mean of the fee bids, rounded down (0042-LIQF
    "Stake-weighted-average method"; vector 0042-LIQF-057 gives 1.5 %). 0 with no stake."""
    total = num = 0
    for commitment, fee in bids:
        total += commitment
        num += commitment * fee
    return num // total if total else 0


def early_exit_split(reduction: int, penalty_free: int, penalty: int, bond: int) -> tuple[int, int]:
    """Split a commitment reduction into ``(to general, to insurance)`` (0044-LIME
    "Decreasing commitment").

    Args:
        reduction: the commitment variation, already ``min(requested, bond)`` (base units).
        penalty_free: this LP's penalty-free part (its pro-rata share of
            ``max(0, total stake - target stake)``), base units.
        penalty: ``market.liquidity.earlyExitPenalty``, fixed-point (may exceed ``ONE``).
        bond: the bond balance before the reduction.

    The penalty-incurring part ``x = reduction - free`` costs ``ceil(penalty x)``, at most
    what the bond still holds after the free part (so a penalty above 1 can take more
    than ``x``); the rest of ``x`` and the free part go back to general. Vectors
    0044-LIME-023 (penalty 0.25, nothing free, reduce 100): 75 and 25; 0044-LIME-024
    (40 free): 85 and 15.

    Raises:
        ValueError: negative amounts, or ``reduction > bond``.
    """
    if min(reduction, penalty_free, penalty, bond) < 0 or reduction > bond:
        raise ValueError(
            f"bad early exit: reduction {reduction}, free {penalty_free}, "
            f"penalty {penalty}, bond {bond}"
        )
    free = min(penalty_free, reduction)
    incurring = reduction - free
    charged = min(ceil_div(penalty * incurring, ONE), bond - free)
    return free + max(0, incurring - charged), charged


def linear_probability_of_trading(
    side: int, price: int, best_bid: int, best_ask: int, low: Fraction, high: Fraction
) -> Fraction:
    """Default probability-of-trading proxy for the liquidity score (not 0034-PROB).

    1 for a buy at or above the best bid (a sell at or below the best ask), falling
    linearly to 0 at the edge of the price range ``[low, high]``.
    """
    if side > 0:
        if price >= best_bid or best_bid <= low:
            return Fraction(1)
        return max(Fraction(0), (price - low) / (best_bid - low))
    if price <= best_ask or best_ask >= high:
        return Fraction(1)
    return max(Fraction(0), (high - price) / (high - best_ask))


# ------------------------------------------------------------- equity-like share
class EquityLikeShares:
    """Virtual stakes and equity-like shares (0042-LIQF; core ``EquityShares``).

    Stakes are base units; virtual stakes are fixed-point base units (x ``ONE``), rounded
    down. An increase by ``delta`` adds ``delta`` to the virtual stake; a decrease scales
    it by ``new / old``; at the end of each market-value window the virtual stakes grow
    with the market: ``v <- max(stake, v (1 + r))``, ``r = A(n)/A(n-1) - 1`` the growth of
    the running average trade value (only when ``r != 0``, as core). The share of an LP
    is ``v_i / sum v``.
    """

    __slots__ = ("stakes", "virtual", "_mvp")

    def __init__(self) -> None:
        self.stakes: dict[str, int] = {}
        self.virtual: dict[str, int] = {}
        self._mvp = 0  # previous average trade value, fixed-point

    def set_stake(self, party: str, stake: int) -> None:
        """Set ``party``'s physical stake (0 removes it)."""
        old = self.stakes.get(party, 0)
        if stake <= 0:
            self.stakes.pop(party, None)
            self.virtual.pop(party, None)
            return
        if stake == old:
            return
        if stake > old:
            self.virtual[party] = self.virtual.get(party, 0) + (stake - old) * ONE
        else:
            self.virtual[party] = self.virtual[party] * stake // old
        self.stakes[party] = stake

    def grow(self, average_trade_value: int) -> None:
        """Apply the growth of the market to the virtual stakes (``average_trade_value``
        is ``A(n)``, fixed-point base units)."""
        if average_trade_value == 0:
            return
        mvp = self._mvp
        if mvp and average_trade_value != mvp:
            for p in sorted(self.stakes):
                self.virtual[p] = max(
                    self.stakes[p] * ONE, self.virtual[p] * average_trade_value // mvp
                )
        self._mvp = average_trade_value

    def shares(self) -> dict[str, Fraction]:
        """Exact equity-like shares, summing to 1 (empty with no stake)."""
        total = sum(self.virtual.values())
        if not total:
            return {}
        return {p: Fraction(v, total) for p, v in sorted(self.virtual.items())}


# --------------------------------------------------------------------- the engine
class _Provision:
    __slots__ = ("commitment", "fee", "active", "pending")

    def __init__(
        self, commitment: int, fee: int, active: bool, pending: tuple[int, int] | None = None
    ) -> None:
        self.commitment = commitment  # the active commitment (0 while only pending)
        self.fee = fee
        self.active = active
        self.pending = pending  # (commitment, fee) applied at the next epoch boundary


class _Performance:
    __slots__ = ("start", "on_book", "meeting", "score_sum", "previous")

    def __init__(self, hysteresis: int) -> None:
        self.start: int | None = None  # when the LP began meeting its obligation
        self.on_book = 0  # ns meeting the obligation this epoch (closed intervals)
        self.meeting = False  # at the last observation
        self.score_sum = 0  # sum of normalised scores (fixed-point) this epoch
        self.previous: deque[int] = deque(maxlen=hysteresis)  # raw fee penalties


PotFunction = Callable[[int, int, int, int, Fraction, Fraction], Fraction]


class LiquidityEngine:
    """Liquidity commitments and their SLA for one market (see the module docstring).

    Args:
        params: the market's :class:`LiquidityParams`.
        price_factor: base units per contract per price tick (``10**(asset dp - market dp)``).
        position_factor: ``10**position_decimal_places``.
        now_ns: creation time; epochs end every ``epoch_s`` from it.
        probability_of_trading: ``f(side, price, best_bid, best_ask, low, high) -> Fraction``
            for the liquidity score (default :func:`linear_probability_of_trading`).
    """

    def __init__(
        self,
        params: LiquidityParams,
        price_factor: int,
        position_factor: int,
        now_ns: int = 0,
        probability_of_trading: PotFunction | None = None,
    ) -> None:
        if price_factor < 1 or position_factor < 1:
            raise ValueError(
                f"price_factor and position_factor must be >= 1, got "
                f"{price_factor}, {position_factor}"
            )
        self._pf = price_factor
        self._posf = position_factor
        self._set_params(params)
        self._pot = probability_of_trading or linear_probability_of_trading
        self._provisions: dict[str, _Provision] = {}
        self._perf: dict[str, _Performance] = {}
        self._els = EquityLikeShares()
        self._started = False
        self._closed = False
        self._epoch0 = now_ns
        self._next_epoch = now_ns + self._epoch_ns
        self._epoch_start = now_ns  # start of the SLA epoch
        self._n_obs = 0  # score observations this epoch
        # market value proxy (core FeeSplitter): trade value of the window, x position_factor
        self._tv = 0
        self._avg = 0  # running average trade value A(n), fixed-point base units
        self._window = 1
        self._window_start = now_ns
        self._init_rest(now_ns)

    def update_params(self, params: LiquidityParams) -> None:
        """New parameters (governance). The current epoch keeps its scheduled end; the new
        epoch length applies from the next one."""
        self._set_params(params)

    def _set_params(self, params: LiquidityParams) -> None:
        self.params = params
        self._stv = to_fixed(params.stake_to_volume)
        self._range = to_fixed(params.price_range)
        self._s = to_fixed(params.minimum_time_fraction)
        self._c = to_fixed(params.competition_factor)
        self._slope = to_fixed(params.slash_slope)
        self._max_slash = to_fixed(params.max_slash)
        self._exit = to_fixed(params.early_exit_penalty)
        self._max_fee = to_fixed(params.maximum_fee)
        self._constant_fee = to_fixed(params.constant_fee)
        self._els_fraction = to_fixed(params.equity_like_share_fee_fraction)
        self._ts_scaling = to_fixed(params.target_stake_scaling)
        self._epoch_ns = int(params.epoch_s * NS)
        self._mvw_ns = int(params.market_value_window_s * NS)
        self._ts_window_ns = int(params.target_stake_window_s * NS)

    def _init_rest(self, now_ns: int) -> None:
        self._oi: deque[tuple[int, int]] = deque()  # (time, oi), oi decreasing

    # ----------------------------------------------------------------- views
    def parties(self) -> list[str]:
        """Parties with an active or pending provision, sorted (give their orders and
        bonds to :meth:`observe` / :meth:`end_epoch`)."""
        return sorted(self._provisions)

    def active_parties(self) -> list[str]:
        """Parties whose commitment is active this epoch, sorted."""
        return sorted(self._perf)

    def provision(self, party: str) -> LiquidityProvision | None:
        """The provision of ``party``, or None."""
        p = self._provisions.get(party)
        if p is None:
            return None
        pc, pf = p.pending if p.pending is not None else (None, None)
        return LiquidityProvision(party, p.commitment, p.fee, p.active, pc, pf)

    def is_liquidity_provider(self, party: str) -> bool:
        return party in self._provisions

    def supplied_stake(self) -> int:
        """Sum of commitments, counting pending increases but not pending decreases
        (core ``CalculateSuppliedStake``), base units."""
        total = 0
        for p in self._provisions.values():
            c = p.commitment if p.active else 0
            total += max(c, p.pending[0]) if p.pending is not None else c
        return total

    def equity_like_shares(self) -> dict[str, int]:
        """Equity-like share of each active LP, fixed-point (rounded down)."""
        return {p: s.numerator * ONE // s.denominator for p, s in self._els.shares().items()}

    def liquidity_scores(self) -> dict[str, int]:
        """Epoch-average normalised liquidity score of each active LP, fixed-point."""
        n = self._n_obs
        return {p: (perf.score_sum // n if n else 0) for p, perf in sorted(self._perf.items())}

    def meets_obligation(self, party: str) -> bool:
        """Whether ``party`` met its obligation at the last :meth:`observe`."""
        perf = self._perf.get(party)
        return perf is not None and perf.meeting

    def time_on_book(self, party: str, now_ns: int) -> int:
        """Fraction of the current epoch ``party`` has met its obligation, fixed-point,
        rounded down, at most ``ONE``; ``ONE`` for an epoch of zero length; 0 for a party
        without an active commitment."""
        perf = self._perf.get(party)
        if perf is None:
            return 0
        length = now_ns - self._epoch_start
        if length <= 0:
            return ONE
        s = perf.on_book + (now_ns - perf.start if perf.start is not None else 0)
        return min(ONE, s * ONE // length)

    # ------------------------------------------------------------ transactions
    def _check(self, commitment: int, fee: int) -> tuple[str, str] | None:
        if not isinstance(commitment, int) or isinstance(commitment, bool) or commitment <= 0:
            return (
                LiquidityReason.INVALID_COMMITMENT,
                f"commitment must be a positive integer (use cancel to exit), got {commitment!r}",
            )
        if commitment < self.params.min_commitment:
            return (
                LiquidityReason.COMMITMENT_TOO_LOW,
                f"commitment {commitment} is below the minimum {self.params.min_commitment}",
            )
        if not isinstance(fee, int) or isinstance(fee, bool) or not 0 <= fee <= self._max_fee:
            return (
                LiquidityReason.INVALID_FEE,
                f"fee must be a fixed-point integer in [0, {self._max_fee}], got {fee!r}",
            )
        return None

    def submit(
        self, party: str, commitment: int, fee: int, now_ns: int, general_balance: int
    ) -> LiquidityAction:
        """A new commitment of ``commitment`` base units with fee bid ``fee`` (fixed-point).

        Rejected if ``party`` already has a provision (amend it), the commitment is not
        a positive integer at least ``min_commitment``, the fee is outside
        ``[0, maximum_fee]``, or ``general_balance`` cannot cover the bond. Accepted:
        ``to_bond = commitment``. Active at once in the opening auction, else from the
        next epoch boundary (0044-LIME "Processing the commitment").
        """
        if self._closed:
            return LiquidityAction(LiquidityReason.MARKET_CLOSED, "the market is closed")
        if party in self._provisions:
            return LiquidityAction(
                LiquidityReason.ALREADY_LIQUIDITY_PROVIDER,
                f"{party!r} already has a commitment; amend it",
            )
        bad = self._check(commitment, fee)
        if bad:
            return LiquidityAction(*bad)
        if commitment > general_balance:
            return LiquidityAction(
                LiquidityReason.INSUFFICIENT_FUNDS,
                f"general balance {general_balance} < commitment {commitment}",
            )
        if self._started:
            self._provisions[party] = _Provision(0, fee, False, (commitment, fee))
        else:
            self._provisions[party] = _Provision(commitment, fee, True)
            self._perf[party] = _Performance(self.params.performance_hysteresis_epochs)
            self._els.set_stake(party, commitment)
        return LiquidityAction(to_bond=commitment)

    def amend(
        self,
        party: str,
        now_ns: int,
        general_balance: int,
        bond_balance: int,
        commitment: int | None = None,
        fee: int | None = None,
    ) -> LiquidityAction:
        """Change the commitment and/or the fee bid (None keeps the latest requested one).

        With ``C`` the active commitment (0 while pending), ``N`` the new one and ``B``
        the bond balance: if ``N > C`` the bond is topped up to ``N`` at once
        (``to_bond = N - B``, or ``to_general = B - N`` when a pending increase is
        lowered); if ``N <= C`` nothing is due now except releasing a pending increase
        (``to_general = B - C``), and the reduction is settled at the epoch boundary with
        the early-exit penalty. In the opening auction the change is immediate and the
        bond moves to ``N`` without penalty. Rejected (nothing changes) when the new
        values are invalid or ``general_balance < to_bond`` (0044-LIME "Increasing
        commitment"). A change of commitment keeps the new fee pending with it; a
        fee-only change applies at once (core ``AmendLiquidityProvision``).
        """
        if self._closed:
            return LiquidityAction(LiquidityReason.MARKET_CLOSED, "the market is closed")
        prov = self._provisions.get(party)
        if prov is None:
            return LiquidityAction(
                LiquidityReason.NOT_LIQUIDITY_PROVIDER, f"{party!r} has no commitment; submit one"
            )
        if commitment is None and fee is None:
            return LiquidityAction(
                LiquidityReason.NOTHING_TO_AMEND, "no commitment and no fee given"
            )
        cur_c, cur_f = prov.pending if prov.pending is not None else (prov.commitment, prov.fee)
        n = cur_c if commitment is None else commitment
        f = cur_f if fee is None else fee
        bad = self._check(n, f)
        if bad:
            return LiquidityAction(*bad)
        b = bond_balance
        if not self._started:
            to_bond, to_general = max(0, n - b), max(0, b - n)
        else:
            c = prov.commitment if prov.active else 0
            if n > c:
                to_bond, to_general = max(0, n - b), max(0, b - n)
            else:
                to_bond, to_general = 0, max(0, b - c)
        if to_bond > general_balance:
            return LiquidityAction(
                LiquidityReason.INSUFFICIENT_FUNDS,
                f"general balance {general_balance} < bond top-up {to_bond}",
            )
        if not self._started:
            prov.commitment, prov.fee = n, f
            self._els.set_stake(party, n)
        elif prov.active and n == prov.commitment:
            prov.fee, prov.pending = f, None
        else:
            prov.pending = (n, f)
        return LiquidityAction(to_bond=to_bond, to_general=to_general)

    def cancel(self, party: str, now_ns: int, bond_balance: int) -> LiquidityAction:
        """Exit. In the opening auction, or for a commitment not active yet, the provision
        ends at once and the whole bond goes back (``to_general = bond_balance``).
        Otherwise the LP stays bound (and measured) until the epoch boundary, where the
        reduction to 0 pays the early-exit penalty; only a pending increase is released
        now (``to_general = bond_balance - commitment`` if positive)."""
        if self._closed:
            return LiquidityAction(LiquidityReason.MARKET_CLOSED, "the market is closed")
        prov = self._provisions.get(party)
        if prov is None:
            return LiquidityAction(
                LiquidityReason.NOT_LIQUIDITY_PROVIDER, f"{party!r} has no commitment"
            )
        if not self._started or not prov.active:
            self._remove(party)
            return LiquidityAction(to_general=max(0, bond_balance))
        prov.pending = (0, prov.fee)
        return LiquidityAction(to_general=max(0, bond_balance - prov.commitment))

    def stop(self, party: str) -> None:
        """End ``party``'s provision at once, without fees or penalties (an LP closed out:
        0044-LIME "no longer a liquidity provider"). The bond is left to the market's
        closeout rules."""
        self._remove(party)

    def _remove(self, party: str) -> None:
        self._provisions.pop(party, None)
        self._perf.pop(party, None)
        self._els.set_stake(party, 0)

    # --------------------------------------------------------------- lifecycle
    def start(self, now_ns: int) -> None:
        """The opening auction ended at ``now_ns``: start the SLA epoch (the LPs start
        counting at the next :meth:`observe`) and the market-value window."""
        if self._started:
            return
        self._started = True
        self._epoch_start = now_ns
        self._n_obs = 0
        for perf in self._perf.values():
            perf.start, perf.on_book, perf.meeting, perf.score_sum = None, 0, False, 0
        # core FeeSplitter.TimeWindowStart: opening-auction trade value seeds A(0)
        if self._tv:
            self._avg = self._tv * ONE // self._posf
        self._tv = 0
        self._window_start = now_ns

    def record_trade(self, size: int, price: int) -> None:
        """Add a trade's value ``|size| x price`` (x ``price_factor / position_factor``)
        to the market-value window (0042-LIQF ``T(n)``)."""
        self._tv += abs(size) * price * self._pf

    def _roll_value_window(self, now_ns: int) -> None:
        """End the market-value window when it has lasted more than its length (core
        ``updateMarketValueProxy``): ``A(n)`` is updated and the virtual stakes grow."""
        if now_ns - self._window_start <= self._mvw_ns:
            return
        tv = self._tv * ONE // self._posf
        if self._window == 1:
            self._avg += tv
        else:
            n = self._window
            self._avg = (self._avg * (n - 1) + tv) // n
        self._els.grow(self._avg)
        if self._avg:
            self._window += 1
        self._tv = 0
        self._window_start = now_ns

    def record_open_interest(self, now_ns: int, open_interest: int) -> None:
        """Record the open interest at ``now_ns`` (non-decreasing times). Keeps a
        monotonic queue, so the window maximum is O(1) amortised (0041-TSTK)."""
        dq = self._oi
        while dq and dq[-1][1] <= open_interest:
            dq.pop()
        dq.append((now_ns, open_interest))

    def max_open_interest(self, now_ns: int) -> int:
        """Max open interest over ``[now - window, now]``; the latest record always
        counts, however old (core ``target.Engine``). Raw position units."""
        dq = self._oi
        start = now_ns - self._ts_window_ns
        while len(dq) > 1 and dq[0][0] < start:
            dq.popleft()
        return dq[0][1] if dq else 0

    def target_stake(self, now_ns: int, reference_price: int, rf_long: int, rf_short: int) -> int:
        """Target stake in base units (0041-TSTK), rounded down:
        ``reference price x max OI over the window x scaling x max(RF_long, RF_short)``.

        ``reference_price`` in ticks (the mark price; in an auction the indicative price
        if any), risk factors fixed-point. Core truncates the factors to 1e-5 first; we
        do not. Vector 0041-TSTK example 3: scaling 10, rf 0.004, max OI 120 gives 4.8.
        """
        rf = max(rf_long, rf_short)
        max_oi = self.max_open_interest(now_ns)
        return (
            reference_price * self._pf * max_oi * self._ts_scaling * rf // (self._posf * ONE * ONE)
        )

    def fee_factor(self, target_stake: int) -> int:
        """The market's liquidity fee factor (fixed-point) from the active commitments
        and fee bids, by ``fee_method`` (0042-LIQF). Call it after :meth:`start` and
        after each :meth:`end_epoch` and set ``FeeCalculator.liquidity`` to it."""
        method = self.params.fee_method
        if method == "constant":
            return self._constant_fee
        bids = [(p.commitment, p.fee) for _, p in sorted(self._provisions.items()) if p.active]
        if method == "stake_weighted":
            return stake_weighted_fee(bids)
        return marginal_cost_fee(bids, target_stake)

    def epoch_due(self, now_ns: int) -> bool:
        """True when an epoch boundary (every ``epoch_s`` from creation) has been reached."""
        return now_ns >= self._next_epoch

    # ------------------------------------------------------------- observation
    def _sla_range(
        self, best_bid, best_ask, in_auction, last_trade_price, indicative_price
    ) -> tuple[Fraction, Fraction] | None:
        one_minus, one_plus = ONE - self._range, ONE + self._range
        if in_auction:
            refs = [p for p in (last_trade_price, indicative_price) if p and p > 0]
            if not refs:
                return None
            return Fraction(one_minus * min(refs), ONE), Fraction(one_plus * max(refs), ONE)
        if best_bid is None or best_ask is None:
            return None
        mid2 = best_bid + best_ask
        return Fraction(one_minus * mid2, 2 * ONE), Fraction(one_plus * mid2, 2 * ONE)

    def observe(
        self,
        now_ns: int,
        party_orders: Mapping[str, Iterable[OrderLike]],
        *,
        best_bid: int | None,
        best_ask: int | None,
        mark_price: int,
        in_auction: bool = False,
        last_trade_price: int = 0,
        indicative_price: int = 0,
    ) -> None:
        """Measure the LPs at a block end (0042-LIQF "Measuring time spent meeting their
        commitment"; core ``EndBlock``).

        Args:
            now_ns: the block time.
            party_orders: each LP's resting orders (``side``, ``price`` in ticks,
                ``remaining``); orders with ``resting`` false (parked pegs) are skipped.
            best_bid, best_ask: static best prices (pegs excluded), None when a side is empty.
            mark_price: ticks; the notional of an order is ``mark x remaining`` (core).
            in_auction, last_trade_price, indicative_price: in an auction the range is
                ``[(1 - r) min(last, indicative), (1 + r) max(last, indicative)]``
                (prices missing or 0 are ignored); in continuous trading it is
                ``(1 -/+ r) x mid`` and there is no obligation met without a mid.

        An LP meets its obligation when, on each side, the notional of its orders within
        the range is at least ``commitment x stake_to_volume``. Time is counted from the
        block where it starts meeting to the block where it stops. Nothing is measured
        before :meth:`start`.
        """
        if not self._started or self._closed:
            return
        self._roll_value_window(now_ns)
        if not self._perf:
            return
        bounds = self._sla_range(best_bid, best_ask, in_auction, last_trade_price, indicative_price)
        in_range: dict[str, list[OrderLike]] = {}
        unit = mark_price * self._pf * ONE
        for party in sorted(self._perf):
            perf = self._perf[party]
            meets = False
            if bounds is not None:
                lo, hi = math.ceil(bounds[0]), math.floor(bounds[1])
                orders = [
                    o
                    for o in party_orders.get(party, ())
                    if getattr(o, "resting", True) and o.remaining > 0 and lo <= o.price <= hi
                ]
                in_range[party] = orders
                buy = sum(o.remaining for o in orders if o.side > 0)
                sell = sum(o.remaining for o in orders if o.side < 0)
                need = self._provisions[party].commitment * self._stv * self._posf
                meets = buy * unit >= need and sell * unit >= need
            perf.meeting = meets
            if meets:
                if perf.start is None:
                    perf.start = now_ns
            elif perf.start is not None:
                perf.on_book += now_ns - perf.start
                perf.start = None
        if not in_auction and bounds is not None:
            self._update_scores(in_range, best_bid, best_ask, bounds)

    def _update_scores(self, in_range, best_bid, best_ask, bounds) -> None:
        """Core ``UpdateAverageLiquidityScores``: each LP's score is the smaller of its
        two sides' volume-weighted probability of trading; scores are normalised to sum
        to 1 (``1/n`` each when all are 0) and summed over the epoch's observations."""
        lo, hi = bounds
        scores: dict[str, Fraction] = {}
        for party in sorted(self._perf):
            sides = {1: [Fraction(0), 0], -1: [Fraction(0), 0]}
            for o in in_range.get(party, ()):
                acc = sides[1 if o.side > 0 else -1]
                acc[0] += self._pot(o.side, o.price, best_bid, best_ask, lo, hi) * o.remaining
                acc[1] += o.remaining
            b, s = (acc[0] / acc[1] if acc[1] else Fraction(0) for acc in (sides[1], sides[-1]))
            scores[party] = min(b, s)
        total = sum(scores.values())
        n = len(scores)
        for party, sc in scores.items():
            frac = sc * ONE / total if total else Fraction(ONE, n)
            self._perf[party].score_sum += math.floor(frac)
        self._n_obs += 1

    # -------------------------------------------------------------- epoch end
    def _check_bonds(self, bonds: Mapping[str, int]) -> None:
        missing = [p for p in sorted(self._provisions) if p not in bonds]
        if missing:
            raise ValueError(f"bond balances missing for liquidity providers {missing}")

    def _distribute(self, now_ns: int, fee_balance: int, bonds: Mapping[str, int]):
        """SLA penalties, bond slashes and the fee split of the ending epoch
        (core ``calculateAndDistribute``). Returns ``(outcomes, to_insurance, carried)``."""
        parties = sorted(self._perf)
        if not parties:
            return [], 0, fee_balance
        n_obs = self._n_obs
        els = self._els.shares()
        p_eff: dict[str, int] = {}
        t_of: dict[str, int] = {}
        f_of: dict[str, int] = {}
        slash: dict[str, int] = {}
        for party in parties:
            perf = self._perf[party]
            t = self.time_on_book(party, now_ns)
            raw = fee_penalty(t, self._s, self._c)
            p_eff[party] = hysteresis_fee_penalty(raw, list(perf.previous))
            perf.previous.append(raw)  # a no-op when the hysteresis is 0 epochs
            f = bond_slash_fraction(t, self._s, self._slope, self._max_slash)
            t_of[party], f_of[party] = t, f
            commitment = self._provisions[party].commitment
            slash[party] = min(f * commitment // ONE, max(0, bonds[party]))
        # fee split: ELS x average score, mixed with the score alone (core AllocateFees)
        weights: dict[str, Fraction]
        avg = {p: Fraction(self._perf[p].score_sum, n_obs) for p in parties} if n_obs else {}
        if avg:
            prod = {p: els.get(p, Fraction(0)) * avg[p] for p in parties}
            tot_prod, tot_avg = sum(prod.values()), sum(avg.values())
            phi = Fraction(self._els_fraction, ONE)
            weights = {}
            for p in parties:
                share = prod[p] / tot_prod if tot_prod else els.get(p, Fraction(0))
                score = avg[p] / tot_avg if tot_avg else Fraction(0)
                weights[p] = phi * share + (1 - phi) * score
        else:
            weights = {p: els.get(p, Fraction(0)) for p in parties}
        accrued = {p: math.floor(fee_balance * weights[p]) for p in parties}
        carried = fee_balance - sum(accrued.values())
        net = dict.fromkeys(parties, 0)
        bonus = dict.fromkeys(parties, 0)
        to_insurance = 0
        if all(p_eff[p] == ONE for p in parties):
            to_insurance = sum(accrued.values())
        else:
            for p in parties:
                net[p] = accrued[p] * (ONE - p_eff[p]) // ONE
            pool = sum(accrued[p] - net[p] for p in parties)
            bw = {p: (ONE - p_eff[p]) * accrued[p] for p in parties}
            if not sum(bw.values()):
                bw = {p: ONE - p_eff[p] for p in parties}
            total_bw = sum(bw.values())
            for p in parties:
                bonus[p] = pool * bw[p] // total_bw
            rest = pool - sum(bonus.values())
            if rest:  # to the largest bonus weight, the first party id on a tie
                top = max(bw.values())
                bonus[next(p for p in parties if bw[p] == top)] += rest
        outcomes = [
            LpEpochOutcome(
                party=p,
                commitment=self._provisions[p].commitment,
                time_on_book=t_of[p],
                fee_penalty=p_eff[p],
                bond_slash_fraction=f_of[p],
                equity_like_share=math.floor(els.get(p, Fraction(0)) * ONE),
                liquidity_score=self._perf[p].score_sum // n_obs if n_obs else 0,
                fees_accrued=accrued[p],
                fees_net=net[p],
                fees_bonus=bonus[p],
                bond_slash=slash[p],
            )
            for p in parties
        ]
        return outcomes, to_insurance, carried

    def end_epoch(
        self, now_ns: int, fee_balance: int, bonds: Mapping[str, int], target_stake: int
    ) -> EpochResult:
        """Close the epoch at ``now_ns`` and open the next (core ``OnEpochEnd`` then
        ``OnEpochStart``). Call it at the block end, after :meth:`observe`.

        Args:
            fee_balance: the market's liquidity fee account balance (base units).
            bonds: bond account balance of every party in :meth:`parties`.
            target_stake: :meth:`target_stake` now (for the early-exit penalty).

        Steps: (1) per active LP, time on book ``t``, fee penalty ``p`` (with
        hysteresis) and bond slash ``floor(f x commitment)``; the fee balance is split by
        equity-like share x average liquidity score (rounded down, the remainder stays);
        each LP gets ``floor((1 - p) x accrued)``; the penalised rest is shared as a bonus
        in proportion to ``(1 - p_i) x accrued_i`` (0042-LIQF "Applying LP SLA performance
        penalties"); if every LP has ``p = 1`` all accrued fees go to the insurance pool.
        (2) Pending reductions pay the early-exit penalty on the part beyond their pro-rata
        share of ``max(0, total stake - target stake)``; pending changes apply; each
        commitment is set to its bond balance if they differ (an empty bond ends the
        provision); departing LPs get their bond's remainder back. (3) The next SLA epoch
        starts; LPs meeting their obligation at the last observation count from now.

        Raises:
            ValueError: a bond balance is missing.
        """
        if self._closed:
            raise ValueError("the liquidity engine is closed")
        self._check_bonds(bonds)
        start = self._epoch_start
        k = (now_ns - self._epoch0) // self._epoch_ns + 1
        self._next_epoch = self._epoch0 + k * self._epoch_ns
        if not self._started:  # opening auction: no SLA, changes were applied at once
            self._epoch_start = now_ns
            return EpochResult(start, now_ns, fees_carried=fee_balance)
        outcomes, to_insurance, carried = self._distribute(now_ns, fee_balance, bonds)
        bond = {p: bonds[p] for p in self._provisions}
        for o in outcomes:
            bond[o.party] -= o.bond_slash
        # (2) early exits (core applyPendingProvisions)
        total_stake = sum(p.commitment for p in self._provisions.values() if p.active)
        max_free = max(0, total_stake - target_stake)
        variation: dict[str, int] = {}
        for party, prov in sorted(self._provisions.items()):
            if prov.active and prov.pending is not None and prov.pending[0] < prov.commitment:
                v = min(prov.commitment - prov.pending[0], max(0, bond[party]))
                if v > 0:
                    variation[party] = v
        total_var = sum(variation.values())
        exits: dict[str, int] = {}
        releases: dict[str, int] = {}
        for party, v in variation.items():
            free = min(v, v * max_free // total_var)
            to_gen, penalty = early_exit_split(v, free, self._exit, bond[party])
            bond[party] -= to_gen + penalty
            releases[party] = to_gen
            exits[party] = penalty
        # apply pending changes, then sync commitments with bonds
        continuing = set(self._perf)
        removed: list[str] = []
        for party in sorted(self._provisions):
            prov = self._provisions[party]
            if prov.pending is not None:
                n, f = prov.pending
                prov.pending = None
                if n == 0:
                    removed.append(party)
                    continue
                prov.commitment, prov.fee, prov.active = n, f, True
            if bond[party] <= 0:
                removed.append(party)
            elif bond[party] != prov.commitment:
                prov.commitment = bond[party]
        for party in removed:
            left = max(0, bond[party])
            if left:
                releases[party] = releases.get(party, 0) + left
            self._remove(party)
        # (3) the next SLA epoch
        hyst = self.params.performance_hysteresis_epochs
        for party, prov in sorted(self._provisions.items()):
            self._els.set_stake(party, prov.commitment)
            perf = self._perf.get(party)
            if perf is None:
                self._perf[party] = _Performance(hyst)
                continue
            perf.start = now_ns if (party in continuing and perf.meeting) else None
            perf.on_book = 0
            perf.score_sum = 0
        self._n_obs = 0
        self._epoch_start = now_ns
        return EpochResult(
            start, now_ns, tuple(outcomes), to_insurance, carried, exits, releases, tuple(removed)
        )

    def close(self, now_ns: int, fee_balance: int, bonds: Mapping[str, int]) -> EpochResult:
        """Final distribution at settlement or closure (0042-LIQF-014; core
        ``OnMarketClosed``): SLA penalties, slashes and the fee split as at an epoch end,
        the fee remainder to the insurance pool (the fee account ends empty), every
        remaining bond back to general; no early-exit penalty. The engine is then closed.

        Raises:
            ValueError: a bond balance is missing, or the engine is already closed.
        """
        if self._closed:
            raise ValueError("the liquidity engine is closed")
        self._check_bonds(bonds)
        start = self._epoch_start
        if self._started:
            outcomes, to_insurance, carried = self._distribute(now_ns, fee_balance, bonds)
        else:
            outcomes, to_insurance, carried = [], 0, fee_balance
        slashed = {o.party: o.bond_slash for o in outcomes}
        releases = {
            p: bonds[p] - slashed.get(p, 0)
            for p in sorted(self._provisions)
            if bonds[p] - slashed.get(p, 0) > 0
        }
        removed = tuple(sorted(self._provisions))
        for party in removed:
            self._remove(party)
        self._closed = True
        return EpochResult(
            start, now_ns, tuple(outcomes), to_insurance + carried, 0, {}, releases, removed
        )
