"""Vesting wallets: OpenZeppelin 4.x ``VestingWallet`` (linear, no cliff).

Sources: OpenZeppelin Contracts 4.x ``finance/VestingWallet.sol``; TokenSPICE's port
``sol057/contracts/scheduler057/VestingWallet057.sol`` (spec ``token-netlists.md`` 2.2,
4.2). A wallet has a ``beneficiary``, a ``start`` and a ``duration`` (integer seconds
of chain time). It is funded by deposits of any asset, and for each asset:

- ``total = balance + released`` (everything ever deposited);
- ``vested(ts) = 0`` if ``ts < start``; ``total`` if ``ts > start + duration``; else
  ``total * (ts - start) // duration`` (integers, round down);
- ``release(asset)`` (anyone may call) pays ``vested(now) - released`` to the
  beneficiary; ``released`` grows by it. Releasing nothing is fine (it pays 0).

``ts`` is the block timestamp: chain time in whole seconds (``now_ns // 10**9``).
Example (spec 4.2): 5 tokens (18 decimals), start 1 year, duration 5 years; at
``ts = 15 * 30`` days ``vested = 232876712328767123`` base units (0.23287671232876712...).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class VestingWallet:
    """One vesting wallet's books per asset (base units; seconds)."""

    wallet_id: str
    beneficiary: str
    start_s: int
    duration_s: int
    held: dict[str, int] = field(default_factory=dict)
    released: dict[str, int] = field(default_factory=dict)

    def total(self, asset: str) -> int:
        return self.held.get(asset, 0) + self.released.get(asset, 0)

    def vested(self, asset: str, ts: int) -> int:
        """OpenZeppelin's ``vestedAmount(token, ts)`` (``_vestingSchedule``)."""
        total = self.total(asset)
        if ts < self.start_s:
            return 0
        if ts > self.start_s + self.duration_s:
            return total
        return total * (ts - self.start_s) // self.duration_s

    def releasable(self, asset: str, ts: int) -> int:
        return self.vested(asset, ts) - self.released.get(asset, 0)

    def record_deposit(self, asset: str, amount: int) -> None:
        self.held[asset] = self.held.get(asset, 0) + amount

    def record_release(self, asset: str, amount: int) -> None:
        self.held[asset] = self.held.get(asset, 0) - amount
        self.released[asset] = self.released.get(asset, 0) + amount
