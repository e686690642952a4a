"""Staking pools: stake a token, earn rewards distributed pro rata to stake.

The standard reward-per-share accumulator (Batog, Boca and Johnson, "Scalable Reward
Distribution on the Ethereum Blockchain", 2018; SushiSwap ``MasterChef``'s
``accSushiPerShare`` and ``rewardDebt``), in exact integers:

- ``distribute(amount)`` (a funder pays ``amount`` of the reward asset into the pool)
  adds ``amount * ACC // total_staked`` to ``acc_per_share`` (round down; refused
  when nothing is staked);
- a staker's reward so far is ``stake * acc_per_share // ACC - debt``; on every stake,
  unstake and claim it is moved to ``owed`` and ``debt`` is reset to
  ``stake * acc_per_share // ACC``;
- ``claim`` pays ``owed``.

Rounding is down everywhere, so the stakers are never owed more than was
distributed; the rounding dust stays in the pool's rewards account (``dust``,
at most a few base units per distribution). Stakes are held in each staker's own
stake account (counted in the staker's equity); rewards in the pool's rewards
account. The reward asset may be the staked asset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACC = 10**36
"""Fixed point of ``acc_per_share``."""


@dataclass(slots=True)
class StakingPool:
    """One staking pool's books (base units)."""

    pool_id: str
    asset: str
    reward_asset: str
    total_staked: int = 0
    acc_per_share: int = 0
    distributed: int = 0
    claimed: int = 0
    stakes: dict[str, int] = field(default_factory=dict)
    debts: dict[str, int] = field(default_factory=dict)
    owed: dict[str, int] = field(default_factory=dict)

    @property
    def reward_balance(self) -> int:
        """What the rewards account holds: distributed minus claimed."""
        return self.distributed - self.claimed

    def pending(self, party: str) -> int:
        """``party``'s claimable reward now."""
        s = self.stakes.get(party, 0)
        return self.owed.get(party, 0) + s * self.acc_per_share // ACC - self.debts.get(party, 0)

    def _settle(self, party: str) -> None:
        self.owed[party] = self.pending(party)

    def _reset_debt(self, party: str) -> None:
        self.debts[party] = self.stakes.get(party, 0) * self.acc_per_share // ACC

    def record_stake(self, party: str, amount: int) -> None:
        self._settle(party)
        self.stakes[party] = self.stakes.get(party, 0) + amount
        self.total_staked += amount
        self._reset_debt(party)

    def record_unstake(self, party: str, amount: int) -> None:
        self._settle(party)
        self.stakes[party] = self.stakes.get(party, 0) - amount
        self.total_staked -= amount
        self._reset_debt(party)

    def record_distribution(self, amount: int) -> None:
        self.acc_per_share += amount * ACC // self.total_staked
        self.distributed += amount

    def record_claim(self, party: str) -> int:
        """Settle and zero ``party``'s owed reward; returns the amount to pay."""
        self._settle(party)
        amount = self.owed[party]
        self.owed[party] = 0
        self._reset_debt(party)
        self.claimed += amount
        return amount

    @property
    def dust(self) -> int:
        """Rewards no staker can claim (rounding): balance minus everything claimable."""
        return self.reward_balance - sum(self.pending(p) for p in self.stakes.keys() | self.owed.keys())
