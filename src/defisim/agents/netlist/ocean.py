"""TokenSPICE's Ocean V3 agents on defisim's Balancer V1 pools
(``../shared/specs/token-netlists.md`` 1.6, 2.2 and 3).

The agents of the ``simplepool`` and ``oceanv3`` netlists: :class:`PublisherAgent` (with
:class:`PublisherStrategy`; the malicious variant rug-pulls its newest pool),
:class:`PoolAgent` (passive bookkeeping, not stepped), :class:`DataconsumerAgent`,
:class:`SpeculatorAgent` and :class:`StakerspeculatorAgent`. They share one
:class:`OceanState` (the pools in creation order, the rugged pools) and one seeded
``random.Random`` (the netlist's), drawn in TokenSPICE's call order.

How TokenSPICE's EVM maps onto defisim:

- OCEAN and each datatoken ``DT{i}`` are ledger assets with 18 decimals; a pool is an
  ``ocean_v3`` Balancer V1 pool of the AMM plug-in (``BAL:DT{i}/OCEAN``, DT bound first,
  swap fee ``MIN_FEE`` = 1e12 wei) whose pool shares (BPT) are the LP asset
  ``BAL:DT{i}/OCEAN-LP``. A datatoken is created with its pool and its whole cap
  (``DT_init``) is minted to the publisher, as ``DTFactory.createToken`` + ``mint``.
- Balances are read as floats ``wei/1e18`` and every amount is ``int(x·1e18)`` of the
  float TokenSPICE computes (:func:`~.wallets.to_base18`); the pool calls are raw
  transactions of the ``amm`` protocol with exactly TokenSPICE's arguments (spec 3):
  ``swapExactAmountOut(OCEAN, maxAmountIn, DT, amountOut, maxPrice=2^255)``,
  ``swapExactAmountIn(DT, amountIn, OCEAN, minAmountOut=0, maxPrice=2^255)``,
  ``joinswapExternAmountIn(OCEAN, amountIn, 0)``, ``exitswapPoolAmountIn(OCEAN, BPT, 0)``.
  Token approvals have no ledger counterpart and are skipped.
- Money "from above" (a wallet's initial OCEAN, the consumer's 1.2x return) is minted.
- **Rejections.** In TokenSPICE a failing ``require`` (``ERR_MAX_IN_RATIO``, a sale of
  ``int(DT/1e18·1e18)`` wei above the balance, ...) raises and aborts the run. Here the
  protocol rejects the transaction (a ``TransactionRejected`` event with the contract's
  revert string), nothing moves, and the agent counts it in ``rejected`` and carries
  on; its counters were reset as in TokenSPICE (they are reset before the action). A
  refused DT transfer (:class:`~.wallets.WalletError`) is counted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import Transaction

from ..base import Agent
from .wallets import WalletError, evm_transfer, from_base18, to_base18

if TYPE_CHECKING:
    import random

    from defisim.service import Simulation

S_HOUR = 3600
S_DAY = 86_400
OCEAN = "OCEAN"
"""The OCEAN asset's id."""
DECIMALS = 18
MAX_PRICE = 2**255
"""``maxPrice`` of every TokenSPICE swap (``2**255``: no price limit)."""
NO_DEADLINE = (1 << 256) - 1
MIN_FEE_WEI = 10**12
"""``BFactory``'s swap fee, ``MIN_FEE`` = 1e12 wei (1e-6)."""
PERCENT_UNSTAKE = 0.10
"""Fraction of its BPT a publisher unstakes (``PublisherAgent.PERCENT_UNSTAKE``)."""
PERC_SELL = 0.01
"""Fraction of a DT balance a publisher sells (``_sellDTsomewhere``'s ``perc_sell``)."""
MIN_OCEAN_TO_CREATE = 200.0
"""OCEAN a publisher needs to create a pool (TokenSPICE's magic number)."""


def _dec(wei: int) -> Decimal:
    return Decimal(wei).scaleb(-DECIMALS)


# ------------------------------------------------------------------ shared state
@dataclass
class PoolAgent:
    """A pool of the netlist (TokenSPICE ``PoolAgent``, passive): its name ``pool{i}``,
    the AMM pool id, its datatoken (the non-OCEAN token) and its controller (the
    publisher that created it). Bookkeeping only: TokenSPICE steps it as a no-op."""

    name: str
    pool_id: str
    datatoken: str
    controller: str

    @property
    def lp_asset(self) -> str:
        """The pool-share (BPT) asset, ``<pool_id>-LP``."""
        return f"{self.pool_id}-LP"


@dataclass
class OceanState:
    """What TokenSPICE keeps on its ``SimState`` for these agents: the pool agents in
    creation order (``state.agents.filterToPool()``), the names of rug-pulled pools
    (``state.rugged_pools``), and the tick now (for the agents' action logs)."""

    pools: list[PoolAgent] = field(default_factory=list)
    rugged_pools: list[str] = field(default_factory=list)
    step_seconds: float = float(S_HOUR)

    def pool(self, name: str) -> PoolAgent:
        """The pool agent called ``name``. Raises ``KeyError``."""
        for p in self.pools:
            if p.name == name:
                return p
        raise KeyError(name)

    def tick(self, sim: Simulation) -> int:
        """The tick now (``t`` with ``t·Δ`` = chain time)."""
        return round(sim.now / self.step_seconds)


# ------------------------------------------------------------------ wallet (spec 1.6, 3)
def ocean(sim: Simulation, party: str) -> float:
    """``party``'s OCEAN as TokenSPICE reads it: ``wei/1e18``."""
    return from_base18(int(sim.balance(party, OCEAN, raw=True)))


def dt_balance(sim: Simulation, party: str, dt: str) -> float:
    """``party``'s balance of datatoken ``dt``, ``wei/1e18``."""
    return from_base18(int(sim.balance(party, dt, raw=True)))


def bpt_balance(sim: Simulation, party: str, pool: PoolAgent) -> float:
    """``party``'s pool shares of ``pool``, ``wei/1e18``."""
    return from_base18(int(sim.balance(party, pool.lp_asset, raw=True)))


def _amm(sim: Simulation, party: str, call: str, *args: Any) -> Any:
    return sim.send(Transaction(party, "amm", call, args))


def buy_dt(sim: Simulation, party: str, pool: PoolAgent, amount: float, max_ocean: float) -> Any:
    """``buyDT``: ``swapExactAmountOut(OCEAN, toBase18(max_ocean), DT, toBase18(amount),
    2^255)``; the receipt (``value`` = (OCEAN in, DT out), wei)."""
    return _amm(sim, party, "swap", pool.pool_id, OCEAN, pool.datatoken, to_base18(amount),
                to_base18(max_ocean), False, NO_DEADLINE, MAX_PRICE)


def sell_dt(sim: Simulation, party: str, pool: PoolAgent, amount: float) -> Any:
    """``sellDT``: ``swapExactAmountIn(DT, toBase18(amount), OCEAN, 0, 2^255)``."""
    return _amm(sim, party, "swap", pool.pool_id, pool.datatoken, OCEAN, to_base18(amount), 0,
                True, NO_DEADLINE, MAX_PRICE)


def stake_ocean(sim: Simulation, party: str, pool: PoolAgent, amount: float,
                min_pool_out: float = 0.0) -> Any:
    """``stakeOCEAN``: ``joinswapExternAmountIn(OCEAN, toBase18(amount),
    toBase18(min_pool_out))`` (V3: 0; V4 ``joinPoolAddOCEAN``: 0.1 BPT)."""
    return _amm(sim, party, "bal_joinswap_extern_amount_in", pool.pool_id, OCEAN,
                to_base18(amount), to_base18(min_pool_out))


def unstake_ocean(sim: Simulation, party: str, pool: PoolAgent, bpt: float) -> Any:
    """``unstakeOCEAN``: ``exitswapPoolAmountIn(OCEAN, toBase18(bpt), 0)``."""
    return _amm(sim, party, "bal_exitswap_pool_amount_in", pool.pool_id, OCEAN,
                to_base18(bpt), 0)


def receive_ocean(sim: Simulation, party: str, amount: float) -> int:
    """``receiveOCEAN``: ``toBase18(amount)`` wei funded from outside (minted); returns it."""
    wei = to_base18(amount)
    if wei:
        sim.mint_raw(party, OCEAN, wei)
    return wei


# ------------------------------------------------------------------ valuation (spec 3)
def dt_price(sim: Simulation, pool: PoolAgent) -> float:
    """``getSpotPrice(OCEAN, DT)/1e18``: OCEAN per DT, swap fee included."""
    return from_base18(int(sim.amm.spot_price(pool.pool_id, pool.datatoken, OCEAN, raw=True)))


def ocean_in_dts(sim: Simulation, state: OceanState, party: str) -> float:
    """``get_OCEAN_in_DTs``: Σ over every pool (rugged ones too) of DT held × spot price,
    in OCEAN; ``0.0`` without pools."""
    value = 0.0
    for pool in state.pools:
        price = dt_price(sim, pool)
        value += dt_balance(sim, party, pool.datatoken) * price
    return value


def ocean_in_bpts(sim: Simulation, state: OceanState, party: str) -> float | int:
    """``get_OCEAN_in_BPTs``: Σ over every pool of (BPT / totalSupply) × (p·b_DT + b_OCEAN),
    in OCEAN; the **int** 0 while no pool exists (TokenSPICE starts the sum at ``0``)."""
    value: float | int = 0
    for pool in state.pools:
        view = sim.amm.pool_view(pool.pool_id)
        raw = dict(zip(view.assets, view.reserves_raw, strict=True))
        price = dt_price(sim, pool)
        pool_value = price * from_base18(raw[pool.datatoken]) + from_base18(raw[OCEAN])
        share = bpt_balance(sim, party, pool) / from_base18(view.lp_supply_raw)
        value += share * pool_value
    return value


# ------------------------------------------------------------------ agents
class _OceanAgent(Agent):
    """An EVM agent of the netlist: a party with OCEAN, the shared state and RNG, and
    ``actions`` (``(tick, what, details...)``) and ``rejected`` (count of transactions
    the protocol refused, module docstring)."""

    def __init__(self, name: str, state: OceanState, rng: random.Random,
                 step_seconds: float) -> None:
        super().__init__(name)
        self.state = state
        self.rng = rng
        self.step_seconds = float(step_seconds)
        self.actions: list[tuple[Any, ...]] = []
        self.rejected = 0
        self.rejections: list[tuple[int, str, str]] = []

    def _log(self, sim: Simulation, what: str, *details: Any) -> None:
        self.actions.append((self.state.tick(sim), what, *details))

    def _check(self, sim: Simulation, what: str, receipt: Any) -> bool:
        if receipt is not None and getattr(receipt, "accepted", False):
            return True
        self.rejected += 1
        self.rejections.append((self.state.tick(sim), what, str(getattr(receipt, "reason", ""))))
        return False

    def _pools_staked(self, sim: Simulation) -> list[PoolAgent]:
        """``state.agents.filterByNonzeroStake(self)``: pools where it holds BPT."""
        return [p for p in self.state.pools if bpt_balance(sim, self.name, p) > 0.0]

    def _unstake(self, sim: Simulation, pool: PoolAgent, fraction: float) -> None:
        bpt = bpt_balance(sim, self.name, pool)
        amount = fraction * bpt
        r = unstake_ocean(sim, self.name, pool, amount)
        if self._check(sim, "unstake", r):
            self._log(sim, "unstake", pool.name, to_base18(amount), r.value[1])


@dataclass(frozen=True)
class PublisherStrategy:
    """TokenSPICE ``PublisherStrategy`` (spec 2.2), defaults as TokenSPICE's:

    ``DT_init`` (DT minted = cap, per pool) 1000; ``DT_stake`` (DT bound) 20;
    ``pool_weight_DT``/``pool_weight_OCEAN`` 3/7 (denormalised weights);
    ``s_between_create`` 7 d, ``s_between_unstake`` 3 d, ``s_between_sellDT`` 15 d
    (seconds); ``is_malicious`` False; ``s_wait_to_rug`` int(7 d / 2) = 302 400 s and
    ``s_rug_time`` int(302 400 / 5) = 60 480 s (seconds after its last creation).
    """

    DT_init: float = 1000.0
    DT_stake: float = 20.0
    pool_weight_DT: float = 3.0
    pool_weight_OCEAN: float = 7.0
    s_between_create: float = 7 * S_DAY
    s_between_unstake: float = 3 * S_DAY
    s_between_sellDT: float = 15 * S_DAY
    is_malicious: bool = False
    s_wait_to_rug: float = int(7 * S_DAY / 2)
    s_rug_time: float = int(int(7 * S_DAY / 2) / 5)


class PublisherAgent(_OceanAgent):
    """TokenSPICE ``PublisherAgent`` (spec 2.2). Each step:

    1. its three counters grow by Δ;
    2. **create** a pool when it holds >= 200 OCEAN and ``s_since_create >=
       s_between_create``: datatoken ``DT{i}`` (``DT_init`` minted to itself) and pool
       ``pool{i}`` (i = pools so far, any publisher's) binding ``DT_stake`` DT (weight
       ``pool_weight_DT``) then ``max(0, OCEAN − 1)`` OCEAN (``pool_weight_OCEAN``), fee
       1e-6, 100 BPT to itself;
    3. **unstake** 10 % of its BPT in a pool chosen with ``rng.choice`` among those where
       it holds BPT, when ``s_since_unstake >= s_between_unstake`` (malicious: also
       ``s_wait_to_rug <= s_since_create <= s_wait_to_rug + s_rug_time``);
    4. **sell** 1 % of a DT, same window logic on ``s_since_sellDT``: malicious the DT of
       its newest pool there; honest ``rng.choice`` of a DT it holds, then
       ``rng.choice`` of the pools of that DT;
    5. malicious, with pools and ``s_since_create >= s_wait_to_rug``: its newest pool
       joins ``state.rugged_pools`` (once).
    """

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 strategy: PublisherStrategy | None = None,
                 swap_fee: Decimal = Decimal("0.000001")) -> None:
        super().__init__(name, state, rng, step_seconds)
        self.strategy = strategy if strategy is not None else PublisherStrategy()
        self.swap_fee = swap_fee
        self.s_since_create = 0.0
        self.s_since_unstake = 0.0
        self.s_since_sellDT = 0.0
        self.pools: list[str] = []

    def _in_window(self) -> bool:
        ss = self.strategy
        return ss.s_wait_to_rug <= self.s_since_create <= ss.s_wait_to_rug + ss.s_rug_time

    def step(self, sim: Simulation) -> None:
        ss = self.strategy
        self.s_since_create += self.step_seconds
        self.s_since_unstake += self.step_seconds
        self.s_since_sellDT += self.step_seconds
        if ocean(sim, self.name) >= MIN_OCEAN_TO_CREATE and self.s_since_create >= ss.s_between_create:
            self.s_since_create = 0.0
            self.create_pool(sim)
        if self._pools_staked(sim) and self.s_since_unstake >= ss.s_between_unstake and (
                not ss.is_malicious or self._in_window()):
            self.s_since_unstake = 0.0
            pool = self.rng.choice(self._pools_staked(sim))
            self._unstake(sim, pool, PERCENT_UNSTAKE)
        if self._dts_held(sim) and self.s_since_sellDT >= ss.s_between_sellDT and (
                not ss.is_malicious or self._in_window()):
            self.s_since_sellDT = 0.0
            self._sell_dt(sim)
        if ss.is_malicious and self.pools and self.s_since_create >= ss.s_wait_to_rug:
            newest = self.pools[-1]
            if newest not in self.state.rugged_pools:
                self.state.rugged_pools.append(newest)
                self._log(sim, "rug", newest)

    def create_pool(self, sim: Simulation) -> PoolAgent:
        """Create ``DT{i}`` and ``pool{i}`` (step 2); returns the new pool agent."""
        ss = self.strategy
        i = len(self.state.pools)
        dt = f"DT{i}"
        sim.create_asset(dt, DECIMALS)
        sim.mint_raw(self.name, dt, to_base18(ss.DT_init))
        ocean_bind = max(0, ocean(sim, self.name) - 1.0)
        tokens = {dt: (_dec(to_base18(ss.DT_stake)), _dec(to_base18(ss.pool_weight_DT))),
                  OCEAN: (_dec(to_base18(ocean_bind)), _dec(to_base18(ss.pool_weight_OCEAN)))}
        pool_id = sim.amm.create_balancer_pool(self.name, tokens, swap_fee=self.swap_fee,
                                               variant="ocean_v3")
        pool = PoolAgent(f"pool{i}", pool_id, dt, self.name)
        self.state.pools.append(pool)
        self.pools.append(pool.name)
        self._log(sim, "create", pool.name, to_base18(ss.DT_stake), to_base18(ocean_bind))
        return pool

    def _dts_held(self, sim: Simulation) -> list[str]:
        """``_DTsWithNonzeroBalance``: the pools' DTs (pool order) it holds > 0 of."""
        return [p.datatoken for p in self.state.pools if dt_balance(sim, self.name, p.datatoken) > 0.0]

    def _sell_dt(self, sim: Simulation) -> None:
        if self.strategy.is_malicious:
            pool = self.state.pool(self.pools[-1])
            dt = pool.datatoken
        else:
            dt = self.rng.choice(self._dts_held(sim))
            pool = self.rng.choice([p for p in self.state.pools if p.datatoken == dt])
        have = dt_balance(sim, self.name, dt)
        if not have > 0.0:  # TokenSPICE asserts (a malicious one empty of its newest DT)
            self.rejected += 1
            self.rejections.append((self.state.tick(sim), "sellDT", "no DT of the newest pool"))
            return
        amount = PERC_SELL * have
        r = sell_dt(sim, self.name, pool, amount)
        if self._check(sim, "sellDT", r):
            self._log(sim, "sellDT", pool.name, to_base18(amount), r.value[1])


class PublisherAgentV4(_OceanAgent):
    """An approximation of TokenSPICE's WIP ``PublisherAgentV4`` (spec 2.2, 4.6) on a
    Balancer V1 core; **no reference output exists** (TokenSPICE's oceanv4 fails at HEAD).

    Creates at most one pool, when it holds >= 200 OCEAN and ``s_since_create >=
    s_between_create``: datatoken ``DT{i}`` with its cap ``DT_cap`` minted to the
    side-staking party ``side_staking`` (V4's ``SideStaking`` contract, here a passive
    party); the publisher hands its ``OCEAN − 1`` to it, and it creates a **50/50**
    pool of that OCEAN against ``rate``·OCEAN DT (weights 5/5, fee ``swap_fee``), keeps
    half of the 100 BPT and sends the other half to the publisher. Vesting: from the
    tick the chain has ``vesting_blocks`` blocks (one block per tick, as TokenSPICE
    mines; no deployment blocks), every tick, it receives what has vested of
    ``vested_amount`` DT, linear over ``vesting_blocks`` ticks from the creation
    (integer floor). Unstaking and selling follow :class:`PublisherAgent`'s rules with
    V4's 10 % sale, but V4's timings (500 d, 100 d) never fire within 60 days.

    Not modelled (documented): V4's market and OPC fees (only the LP fee is a swap fee),
    the side-staking contract's automatic DT top-ups on single-sided joins and exits, the
    data NFT and the factory router.
    """

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 side_staking: str, DT_cap: float = 1000.0, vested_amount: float = 100.0,
                 vesting_blocks: int = 600, rate: float = 0.1,
                 s_between_create: float = S_DAY, s_between_unstake: float = 500 * S_DAY,
                 s_between_sellDT: float = 100 * S_DAY,
                 swap_fee: Decimal = Decimal("0.03")) -> None:
        super().__init__(name, state, rng, step_seconds)
        self.side_staking = side_staking
        self.DT_cap, self.vested_amount = float(DT_cap), float(vested_amount)
        self.vesting_blocks, self.rate = int(vesting_blocks), float(rate)
        self.s_between_create = float(s_between_create)
        self.s_between_unstake = float(s_between_unstake)
        self.s_between_sellDT = float(s_between_sellDT)
        self.swap_fee = swap_fee
        self.s_since_create = self.s_since_unstake = self.s_since_sellDT = 0.0
        self.pools: list[str] = []
        self.created_tick: int | None = None
        self.vested_paid = 0

    def step(self, sim: Simulation) -> None:
        dt = self.step_seconds
        self.s_since_create += dt
        self.s_since_unstake += dt
        self.s_since_sellDT += dt
        if (not self.pools and ocean(sim, self.name) >= MIN_OCEAN_TO_CREATE
                and self.s_since_create >= self.s_between_create):
            self.s_since_create = 0.0
            self.create_pool(sim)
        if self._pools_staked(sim) and self.s_since_unstake >= self.s_between_unstake:
            self.s_since_unstake = 0.0
            self._unstake(sim, self.rng.choice(self._pools_staked(sim)), PERCENT_UNSTAKE)
        held = [p for p in self.state.pools if dt_balance(sim, self.name, p.datatoken) > 0.0]
        if held and self.s_since_sellDT >= self.s_between_sellDT:
            self.s_since_sellDT = 0.0
            d = self.rng.choice([p.datatoken for p in held])
            pool = self.rng.choice([p for p in self.state.pools if p.datatoken == d])
            amount = 0.1 * dt_balance(sim, self.name, d)
            r = sell_dt(sim, self.name, pool, amount)
            if self._check(sim, "sellDT", r):
                self._log(sim, "sellDT", pool.name, to_base18(amount), r.value[1])
        self._vest(sim)

    def create_pool(self, sim: Simulation) -> PoolAgent:
        """Create ``DT{i}`` and its 50/50 pool through the side-staking party."""
        i = len(self.state.pools)
        dt, ss = f"DT{i}", self.side_staking
        sim.create_asset(dt, DECIMALS)
        sim.mint_raw(ss, dt, to_base18(self.DT_cap))
        ocean_init = ocean(sim, self.name) - 1
        ocean_wei = to_base18(ocean_init)
        sim.transfer(self.name, ss, OCEAN, _dec(ocean_wei))
        dt_wei = to_base18(self.rate * ocean_init)
        tokens = {dt: (_dec(dt_wei), Decimal(5)), OCEAN: (_dec(ocean_wei), Decimal(5))}
        pool_id = sim.amm.create_balancer_pool(ss, tokens, swap_fee=self.swap_fee,
                                               variant="ocean_v3")
        pool = PoolAgent(f"pool{i}", pool_id, dt, ss)
        half = int(sim.balance(ss, pool.lp_asset, raw=True)) // 2
        sim.transfer(ss, self.name, pool.lp_asset, _dec(half))
        self.state.pools.append(pool)
        self.pools.append(pool.name)
        self.created_tick = self.state.tick(sim)
        self._log(sim, "create", pool.name, dt_wei, ocean_wei)
        return pool

    def _vest(self, sim: Simulation) -> None:
        tick = self.state.tick(sim)
        if self.created_tick is None or tick + 1 < self.vesting_blocks:
            return
        total = to_base18(self.vested_amount)
        done = min(tick - self.created_tick, self.vesting_blocks)
        due = total * done // self.vesting_blocks - self.vested_paid
        pool = self.state.pool(self.pools[0])
        due = min(due, int(sim.balance(self.side_staking, pool.datatoken, raw=True)))
        if due > 0:
            sim.transfer(self.side_staking, self.name, pool.datatoken, _dec(due))
            self.vested_paid += due
            self._log(sim, "getVesting", pool.name, due)


class DataconsumerAgent(_OceanAgent):
    """TokenSPICE ``DataconsumerAgent`` (spec 2.2). Each step ``s_since_buy`` grows by Δ.
    Candidates: pools not rugged where ``calcInGivenOut(b_OCEAN, w_OCEAN, b_DT, w_DT,
    1e18, fee)`` is below its OCEAN in wei. With a candidate and ``s_since_buy >=
    s_between_buys`` (seconds): reset, pick one with ``rng.choice``, buy exactly 1.0 DT
    (max in: all its OCEAN), give the DT to the pool's controller, and receive
    ``(1 + profit_margin_on_consume)·spend`` OCEAN from outside (minted), spend being
    OCEAN before − OCEAN after (floats). ``buys``: ``(tick, pool, spend_wei,
    returned_wei)``.
    """

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 s_between_buys: float = 3 * S_DAY, profit_margin_on_consume: float = 0.2) -> None:
        super().__init__(name, state, rng, step_seconds)
        self.s_between_buys = float(s_between_buys)
        self.profit_margin_on_consume = float(profit_margin_on_consume)
        self.s_since_buy = 0.0
        self.buys: list[tuple[int, str, int, int]] = []

    def candidates(self, sim: Simulation) -> list[PoolAgent]:
        """``_candPoolAgents``: affordable, non-rugged pools, in pool order. A pool whose
        ``calcInGivenOut`` reverts is left out (TokenSPICE would abort)."""
        have = to_base18(ocean(sim, self.name))
        out = []
        for pool in self.state.pools:
            if pool.name in self.state.rugged_pools:
                continue
            try:
                need = sim.amm.calc_in_given_out(pool.pool_id, OCEAN, pool.datatoken, to_base18(1.0))
            except ValueError:
                continue
            if need >= have:
                continue
            out.append(pool)
        return out

    def step(self, sim: Simulation) -> None:
        self.s_since_buy += self.step_seconds
        if not self.candidates(sim) or self.s_since_buy < self.s_between_buys:
            return
        self.s_since_buy = 0.0
        pool = self.rng.choice(self.candidates(sim))
        before = ocean(sim, self.name)
        r = buy_dt(sim, self.name, pool, 1.0, before)
        if not self._check(sim, "buyDT", r):
            return
        spend = before - ocean(sim, self.name)
        try:
            evm_transfer(sim, self.name, pool.controller, pool.datatoken, 1.0)
        except WalletError as err:
            self.rejected += 1
            self.rejections.append((self.state.tick(sim), "transferDT", str(err)))
        returned = receive_ocean(sim, self.name, spend * (1.0 + self.profit_margin_on_consume))
        self.buys.append((self.state.tick(sim), pool.name, r.value[0], returned))
        self._log(sim, "buyDT", pool.name, r.value[0], returned)


class _SpeculatorBase(_OceanAgent):
    """TokenSPICE ``SpeculatorAgentBase``: ``s_since`` grows by Δ each step; with a
    non-rugged pool and ``s_since >= s_between_speculates`` (seconds): reset and
    speculate on a pool chosen with ``rng.choice`` among the non-rugged pools."""

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 s_between_speculates: float = S_DAY) -> None:
        super().__init__(name, state, rng, step_seconds)
        self.s_between_speculates = float(s_between_speculates)
        self.s_since_speculate = 0.0

    def _open_pools(self) -> list[PoolAgent]:
        return [p for p in self.state.pools if p.name not in self.state.rugged_pools]

    def step(self, sim: Simulation) -> None:
        self.s_since_speculate += self.step_seconds
        pools = self._open_pools()
        if not pools or self.s_since_speculate < self.s_between_speculates:
            return
        self.s_since_speculate = 0.0
        self.speculate(sim, self.rng.choice(pools))

    def speculate(self, sim: Simulation, pool: PoolAgent) -> None:
        raise NotImplementedError


class SpeculatorAgent(_SpeculatorBase):
    """TokenSPICE ``SpeculatorAgent``: if it holds DT of the pool **and**
    ``rng.random() < 0.5`` (drawn only when it holds DT), sell ``sell_fraction`` (1.0:
    all) of that DT; else buy ``buy_amount`` (1.0) DT with all its OCEAN as the maximum
    in. ``SpeculatorAgentV4``: 0.5 and 5.0."""

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 s_between_speculates: float = S_DAY, sell_fraction: float = 1.0,
                 buy_amount: float = 1.0) -> None:
        super().__init__(name, state, rng, step_seconds, s_between_speculates)
        self.sell_fraction = float(sell_fraction)
        self.buy_amount = float(buy_amount)

    def speculate(self, sim: Simulation, pool: PoolAgent) -> None:
        dt = dt_balance(sim, self.name, pool.datatoken)
        max_in = ocean(sim, self.name)
        if dt > 0.0 and self.rng.random() < 0.50:
            r = sell_dt(sim, self.name, pool, self.sell_fraction * dt)
            if self._check(sim, "sellDT", r):
                self._log(sim, "sellDT", pool.name, r.value[0], r.value[1])
        else:
            r = buy_dt(sim, self.name, pool, self.buy_amount, max_in)
            if self._check(sim, "buyDT", r):
                self._log(sim, "buyDT", pool.name, r.value[0], r.value[1])


class StakerspeculatorAgent(_SpeculatorBase):
    """TokenSPICE ``StakerspeculatorAgent``: if it holds BPT of the pool and
    ``rng.random() < 0.5``, unstake ``unstake_fraction`` (10 %) of its BPT; else stake
    ``stake_fraction`` (10 %) of its OCEAN for at least ``min_pool_out`` BPT (0).
    ``StakerspeculatorAgentV4``: 10 %, 5 % and 0.1 BPT (``joinPoolAddOCEAN``)."""

    def __init__(self, name: str, state: OceanState, rng: random.Random, step_seconds: float,
                 s_between_speculates: float = S_DAY, unstake_fraction: float = 0.10,
                 stake_fraction: float = 0.10, min_pool_out: float = 0.0) -> None:
        super().__init__(name, state, rng, step_seconds, s_between_speculates)
        self.unstake_fraction = float(unstake_fraction)
        self.stake_fraction = float(stake_fraction)
        self.min_pool_out = float(min_pool_out)

    def speculate(self, sim: Simulation, pool: PoolAgent) -> None:
        bpt = bpt_balance(sim, self.name, pool)
        if bpt > 0.0 and self.rng.random() < 0.50:
            self._unstake(sim, pool, self.unstake_fraction)
        else:
            amount = self.stake_fraction * ocean(sim, self.name)
            r = stake_ocean(sim, self.name, pool, amount, self.min_pool_out)
            if self._check(sim, "stake", r):
                self._log(sim, "stake", pool.name, r.value[0], r.value[1])


__all__ = [
    "MAX_PRICE",
    "MIN_FEE_WEI",
    "OCEAN",
    "DataconsumerAgent",
    "OceanState",
    "PoolAgent",
    "PublisherAgent",
    "PublisherAgentV4",
    "PublisherStrategy",
    "SpeculatorAgent",
    "StakerspeculatorAgent",
    "bpt_balance",
    "buy_dt",
    "dt_balance",
    "dt_price",
    "ocean",
    "ocean_in_bpts",
    "ocean_in_dts",
    "receive_ocean",
    "sell_dt",
    "stake_ocean",
    "unstake_ocean",
]
