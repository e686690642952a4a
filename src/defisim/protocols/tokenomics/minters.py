"""Minter contracts: mint a token to a receiver on a schedule.

Sources: TokenSPICE ``agents/MinterAgents.py`` (``OCEANLinearMinterAgent``,
``OCEANFuncMinterAgent``; spec ``token-netlists.md`` 2.1). A permissionless
``mint_due`` transaction mints what is due to the receiver (a party, or a router or
vesting wallet of this protocol); a call that finds nothing due executes and mints
nothing. The minter contract is a minter of its token (added when created) and its
mints count against the token's cap.

**Linear** (:class:`~.schedules.LinearSchedule`, ``n`` mints): as a grant schedule,
the first mint at the first call at or after ``start``, then at the first call with
``now - previous >= interval``; ``total // n`` each, the last the remainder.

**Function** (:class:`~.schedules.ExpFunc`, :class:`~.schedules.RampedExpFunc`), with
``T`` the total as a double and ``left = total - minted`` (base units):

- *when*: never once ``left == 0``; never at ``start`` itself (TokenSPICE: never at
  tick 0); at the first call after ``start``; then when ``now - previous >= interval``;
- *amount*: with ``t = (now - start)`` and ``t_prev = (previous - start)`` in years
  (``seconds / 31_536_000`` in doubles; ``t_prev = 0.0`` for the first mint),
  ``x = (G(t) - G(t_prev)) * T`` asset units, converted as TokenSPICE's ``toBase18``:
  ``int(x * 10.0**decimals)`` (float product, truncation); if not
  ``G.keep_minting(t)`` (more than 34 half-lives) the amount is ``left``; then
  ``min(amount, left)`` (and never below 0). A due mint of 0 (``G`` still flat before
  ``T0``) still counts as the previous mint, as in TokenSPICE.

``total`` in base units is converted exactly from its decimal text
(``719.1e6`` OCEAN is exactly ``719_100_000 * 10**18``); only ``T`` in the formula is
the double. Beside the exact books the minter keeps TokenSPICE's float books:
``minted_float`` (the running double sum of the float mints, TokenSPICE's
``state._total_OCEAN_minted`` for one minter), ``left_float`` (``T`` minus the float
mints, decremented as the source) and ``last_mint_float``, so a netlist can log
TokenSPICE's values bit for bit (a mint's base units divided by ``10**18`` may differ
from the float mint in the last digit).
"""

from __future__ import annotations

from dataclasses import dataclass

from .schedules import LinearSchedule, Schedule, seconds_to_years, to_base


@dataclass(slots=True)
class Minter:
    """One minter contract's books (base units, chain nanoseconds)."""

    minter_id: str
    asset: str
    decimals: int
    receiver: str
    total: int
    total_float: float
    schedule: Schedule
    interval_ns: int
    start_ns: int
    minted: int = 0
    mints: int = 0
    previous_ns: int | None = None
    minted_float: float = 0.0
    left_float: float | None = None
    last_mint_float: float = 0.0

    def __post_init__(self) -> None:
        if self.left_float is None:
            self.left_float = self.total_float

    @property
    def left(self) -> int:
        return self.total - self.minted

    def due(self, now_ns: int) -> tuple[bool, int, float]:
        """``(is_due, amount, float_amount)`` at ``now_ns`` (the rules in the module
        docstring; ``float_amount``: TokenSPICE's float mint)."""
        s = self.schedule
        if isinstance(s, LinearSchedule):
            if self.mints >= s.n_mints or now_ns < self.start_ns:
                return False, 0, 0.0
            if self.previous_ns is not None and now_ns - self.previous_ns < self.interval_ns:
                return False, 0, 0.0
            x = self.total_float / float(s.n_mints)
            if self.mints == s.n_mints - 1:
                return True, self.left, x
            return True, self.total // s.n_mints, x
        left = self.left
        if left == 0 or now_ns <= self.start_ns:
            return False, 0, 0.0
        if self.previous_ns is not None and now_ns - self.previous_ns < self.interval_ns:
            return False, 0, 0.0
        t = seconds_to_years(now_ns - self.start_ns)
        t_prev = 0.0 if self.previous_ns is None else seconds_to_years(self.previous_ns - self.start_ns)
        x = (s(t) - s(t_prev)) * self.total_float
        if not s.keep_minting(t):
            x = self.left_float
            amount = left
        else:
            amount = to_base(x, self.decimals)
        x = min(x, self.left_float)
        return True, max(0, min(amount, left)), x

    def record_mint(self, amount: int, now_ns: int, x: float = 0.0) -> None:
        self.minted += amount
        self.mints += 1
        self.previous_ns = now_ns
        self.minted_float += x
        self.left_float -= x
        self.last_mint_float = x
