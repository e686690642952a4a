"""Uniswap V2 pairs in the AMM plug-in (spec ``amm.md`` section 1): the V2 events, the
set-up calls and the router transactions. Mixed into :class:`~.protocol.AmmProtocol`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defisim.chain.events import Event
from defisim.chain.ledger import general
from defisim.chain.transactions import EXECUTED, Receipt

from .errors import PoolError
from .plugin_base import (
    LP_DECIMALS,
    LP_HOLDER,
    AmmPluginBase,
    AmmPoolCreated,
    PoolEntry,
    Reason,
    locked,
    lp_asset_id,
    reserve,
)
from .v2_pair import MINIMUM_LIQUIDITY, ZERO_ADDRESS, Burn, Mint, Swap, Sync, V2Factory, V2Pair
from .v2_router import (
    add_liquidity,
    get_amounts_in,
    get_amounts_out,
    remove_liquidity,
    swap_exact_tokens_for_tokens,
    swap_tokens_for_exact_tokens,
)

V2_GAS = {"add_liquidity": 150_000, "remove_liquidity": 130_000, "swap_exact_in": 110_000,
          "swap_exact_out": 115_000, "sync": 50_000, "skim": 50_000}
"""Gas of each V2 transaction in mempool mode (a multi-hop swap costs the same)."""


def v2_pool_id(asset_a: str, asset_b: str) -> str:
    """The id of the V2 pool of two assets (either order)."""
    t0, t1 = sorted((asset_a, asset_b))
    return f"V2:{t0}/{t1}"


# ---------------------------------------------------------------------- events (spec 5)
@dataclass(frozen=True, slots=True)
class V2Mint(Event):
    """The pair's ``Mint(sender, amount0, amount1)``; ``party`` got ``liquidity`` LP."""

    market: str
    party: str
    amount0: int
    amount1: int
    liquidity: int


@dataclass(frozen=True, slots=True)
class V2Burn(Event):
    """The pair's ``Burn(sender, amount0, amount1, to)``; ``party`` burned ``liquidity``."""

    market: str
    party: str
    amount0: int
    amount1: int
    to: str
    liquidity: int


@dataclass(frozen=True, slots=True)
class V2Swap(Event):
    """The pair's ``Swap(sender, amount0In, amount1In, amount0Out, amount1Out, to)``;
    ``to`` is the party or, mid-path, the next pool's id."""

    market: str
    party: str
    amount0_in: int
    amount1_in: int
    amount0_out: int
    amount1_out: int
    to: str


@dataclass(frozen=True, slots=True)
class V2Sync(Event):
    """The pair's ``Sync(reserve0, reserve1)`` (every ``_update``)."""

    market: str
    party: str
    reserve0: int
    reserve1: int


class V2Transactions(AmmPluginBase):
    """The V2 part of :class:`~.protocol.AmmProtocol`: set-up (:meth:`create_pair`,
    :meth:`set_fee_to`) and the router transactions (see the protocol's docstring)."""

    v2_factory: V2Factory
    fee_to_party: str | None

    # -- set-up -------------------------------------------------------------------
    def create_pair(self, asset_a: str, asset_b: str) -> str:
        """Create the empty V2 pair of two ledger assets and its LP asset
        (``<pool_id>-LP``, 18 decimals); returns the pool id ``"V2:<token0>/<token1>"``.

        Raises:
            ValueError: an asset id that is not a string or not on the ledger, equal
                assets, an existing pair, or the LP asset id already taken.
        """
        led = self.chain.ledger
        for a in (asset_a, asset_b):
            if not isinstance(a, str) or a not in led.assets:
                raise ValueError(f"unknown asset {a!r}; known: {sorted(led.assets)}")
        pool_id = v2_pool_id(asset_a, asset_b)
        lp = lp_asset_id(pool_id)
        if lp in led.assets and self.v2_factory.get_pair(asset_a, asset_b) is None:
            # before the factory: a core on an EVM would keep a pair made in vain
            raise ValueError(f"cannot create pair {asset_a}/{asset_b}: its LP asset id {lp!r} "
                             "is already a ledger asset")
        try:
            pair = self.v2_factory.new_pair(asset_a, asset_b)
        except PoolError as e:
            raise ValueError(f"cannot create pair {asset_a}/{asset_b}: {e}") from None
        pair.address = pool_id
        led.create_asset(lp, LP_DECIMALS)
        self.v2_factory.register(pair)
        self.pools[pool_id] = PoolEntry(pool_id, "V2", (pair.token0, pair.token1), lp, pair)
        self.chain.emit(AmmPoolCreated(*self.chain.stamp(), pool_id, "V2", (pair.token0, pair.token1),
                                       lp, 0.003))
        return pool_id

    def set_fee_to(self, party: str | None) -> None:
        """Switch the V2 protocol fee (spec 1.6) on, paid in LP to ``party``, or off (None).

        Raises:
            ValueError: unknown party.
        """
        if party is not None and party not in self.chain.ledger.parties:
            raise ValueError(f"unknown party {party!r}")
        self.fee_to_party = party
        self.v2_factory.fee_to = LP_HOLDER if party is not None else None

    # -- helpers ------------------------------------------------------------------
    def _pair(self, tx: str, sender: str, asset_a: str, asset_b: str):
        """``(pair core, pool entry)`` of the V2 pair of two assets, or the rejection
        receipt (``[V2_NO_PAIR]``) when there is none."""
        pair = self.v2_factory.get_pair(asset_a, asset_b)
        if pair is None:
            return self._reject(tx, sender, "", Reason.NO_PAIR, f"no pool for {asset_a}/{asset_b}")
        return pair, self.pools[pair.address]

    def _path(self, tx: str, sender: Any, path: Any) -> tuple[str, ...] | Receipt:
        if not isinstance(path, tuple | list) or not all(isinstance(a, str) for a in path):
            return self._reject(tx, sender, "", Reason.INVALID_ARGUMENT,
                                f"path must be a tuple of asset ids, got {path!r}")
        return tuple(path)

    def _emit_v2(self, pool_id: str, party: str, ev: Any, liquidity: int = 0, to_map: Any = None) -> None:
        stamp = self.chain.stamp()
        if type(ev) is Sync:
            self.chain.emit(V2Sync(*stamp, pool_id, party, ev.reserve0, ev.reserve1))
        elif type(ev) is Mint:
            self.chain.emit(V2Mint(*stamp, pool_id, party, ev.amount0, ev.amount1, liquidity))
        elif type(ev) is Burn:
            self.chain.emit(V2Burn(*stamp, pool_id, party, ev.amount0, ev.amount1, party, liquidity))
        elif type(ev) is Swap:
            to = to_map.get(ev.to, ev.to) if to_map else ev.to
            self.chain.emit(V2Swap(*stamp, pool_id, party, ev.amount0In, ev.amount1In,
                                   ev.amount0Out, ev.amount1Out, to))
        # the core's LP Transfer events are the ledger's Issued / Burned events here

    def _pay_fee_lp(self, entry: PoolEntry, fee_liq: int) -> None:
        if fee_liq:
            self.chain.ledger.issue(general(self.fee_to_party, entry.lp_asset), fee_liq, "amm_protocol_fee")

    # -- transactions -------------------------------------------------------------
    def tx_add_liquidity(self, sender: str, asset_a: str, asset_b: str, amount_a_desired: int,
                         amount_b_desired: int, amount_a_min: int, amount_b_min: int,
                         deadline_s: int) -> Receipt:
        """``UniswapV2Router02.addLiquidity`` to an existing pair (spec 1.7): pays the
        optimal amounts (<= desired) from the sender and issues LP to it. ``value``:
        ``(amount_a, amount_b, liquidity)``, base units."""
        tx = "add_liquidity"
        bad = self._check_common(tx, sender, (asset_a, asset_b), {
            "amount_a_desired": amount_a_desired, "amount_b_desired": amount_b_desired,
            "amount_a_min": amount_a_min, "amount_b_min": amount_b_min, "deadline_s": deadline_s})
        if bad is not None:
            return bad
        found = self._pair(tx, sender, asset_a, asset_b)
        if isinstance(found, Receipt):
            return found
        pair, entry = found
        pid = entry.pool_id
        snap = pair._snapshot()
        first = pair.total_supply == 0
        supply0 = pair.total_supply
        try:
            amount_a, amount_b, liq, _, events = add_liquidity(
                self.v2_factory, asset_a, asset_b, amount_a_desired, amount_b_desired,
                amount_a_min, amount_b_min, LP_HOLDER, deadline_s, self.now_s())
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        led = self.chain.ledger
        for asset, amount in ((asset_a, amount_a), (asset_b, amount_b)):
            have = led.balance(general(sender, asset))
            if have < amount:
                pair._restore(snap)
                return self._reject(tx, sender, pid, Reason.TRANSFER_FROM_FAILED,
                                    f"{sender} holds {have} {asset}, needs {amount}")
        led.transfer(general(sender, asset_a), reserve(pid, asset_a), amount_a, "amm_deposit")
        led.transfer(general(sender, asset_b), reserve(pid, asset_b), amount_b, "amm_deposit")
        lock = MINIMUM_LIQUIDITY if first else 0
        self._pay_fee_lp(entry, pair.total_supply - supply0 - liq - lock)
        if lock:
            led.issue(locked(pid, entry.lp_asset), lock, "amm_locked_liquidity")
        led.issue(general(sender, entry.lp_asset), liq, "amm_liquidity")
        for ev in events:
            self._emit_v2(pid, sender, ev, liq)
        return Receipt(EXECUTED, block=self.chain.block, value=(amount_a, amount_b, liq))

    def tx_remove_liquidity(self, sender: str, asset_a: str, asset_b: str, liquidity: int,
                            amount_a_min: int, amount_b_min: int, deadline_s: int) -> Receipt:
        """``UniswapV2Router02.removeLiquidity`` (spec 1.4, 1.7): burns ``liquidity`` LP of
        the sender and pays it the pool's assets. ``value``: ``(amount_a, amount_b)``."""
        tx = "remove_liquidity"
        bad = self._check_common(tx, sender, (asset_a, asset_b), {
            "liquidity": liquidity, "amount_a_min": amount_a_min, "amount_b_min": amount_b_min,
            "deadline_s": deadline_s})
        if bad is not None:
            return bad
        found = self._pair(tx, sender, asset_a, asset_b)
        if isinstance(found, Receipt):
            return found
        pair, entry = found
        pid = entry.pool_id
        led = self.chain.ledger
        have = led.balance(general(sender, entry.lp_asset))
        if have < liquidity:
            return self._reject(tx, sender, pid, Reason.LP_UNDERFLOW,
                                f"{sender} holds {have} {entry.lp_asset}, burns {liquidity}")
        supply0 = pair.total_supply
        try:
            amount_a, amount_b, events = remove_liquidity(
                self.v2_factory, asset_a, asset_b, liquidity, amount_a_min, amount_b_min,
                LP_HOLDER, sender, deadline_s, self.now_s())
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        self._pay_fee_lp(entry, pair.total_supply - supply0 + liquidity)
        led.burn(general(sender, entry.lp_asset), liquidity)
        led.transfer(reserve(pid, asset_a), general(sender, asset_a), amount_a, "amm_withdrawal")
        led.transfer(reserve(pid, asset_b), general(sender, asset_b), amount_b, "amm_withdrawal")
        for ev in events:
            self._emit_v2(pid, sender, ev, liquidity)
        return Receipt(EXECUTED, block=self.chain.block, value=(amount_a, amount_b))

    def _swap(self, tx: str, sender: Any, path: Any, amount: Any, limit: Any, deadline_s: Any,
              exact_in: bool) -> Receipt:
        names = ("amount_in", "amount_out_min") if exact_in else ("amount_out", "amount_in_max")
        p = self._path(tx, sender, path)
        if isinstance(p, Receipt):
            return p
        bad = self._check_common(tx, sender, p, {names[0]: amount, names[1]: limit,
                                                 "deadline_s": deadline_s})
        if bad is not None:
            return bad
        f = self.v2_factory
        pairs = [f.get_pair(p[i], p[i + 1]) for i in range(len(p) - 1)]
        market = pairs[0].address if pairs and pairs[0] is not None else ""
        # the sender's funds are known before the swap: check them first (all-or-nothing)
        try:
            amounts = (get_amounts_out(f, amount, p) if exact_in else get_amounts_in(f, amount, p))
        except PoolError:
            amounts = None  # the router call below raises the same error after its checks
        if amounts is not None:
            have = self.chain.ledger.balance(general(sender, p[0]))
            if have < amounts[0]:
                return self._reject(tx, sender, market, Reason.TRANSFER_FROM_FAILED,
                                    f"{sender} holds {have} {p[0]}, needs {amounts[0]}")
        try:
            if exact_in:
                amounts, events = swap_exact_tokens_for_tokens(f, amount, limit, p, sender, deadline_s,
                                                               self.now_s())
            else:
                amounts, events = swap_tokens_for_exact_tokens(f, amount, limit, p, sender, deadline_s,
                                                               self.now_s())
        except PoolError as e:
            return self._reject(tx, sender, market, e.reason, e.detail)
        led = self.chain.ledger
        led.transfer(general(sender, p[0]), reserve(pairs[0].address, p[0]), amounts[0], "amm_swap_in")
        for i, pair in enumerate(pairs):
            src = reserve(pair.address, p[i + 1])
            dst = (reserve(pairs[i + 1].address, p[i + 1]) if i + 1 < len(pairs)
                   else general(sender, p[i + 1]))
            if src != dst:
                led.transfer(src, dst, amounts[i + 1], "amm_swap_out" if i + 1 == len(pairs) else "amm_hop")
        for i, pair in enumerate(pairs):  # the core's events: (Sync, Swap) per hop
            for ev in events[2 * i:2 * i + 2]:
                self._emit_v2(pair.address, sender, ev)
        return Receipt(EXECUTED, block=self.chain.block, value=tuple(amounts))

    def tx_swap_exact_in(self, sender: str, path: tuple[str, ...], amount_in: int,
                         amount_out_min: int, deadline_s: int) -> Receipt:
        """``swapExactTokensForTokens`` along ``path`` (asset ids; spec 1.7): pays exactly
        ``amount_in`` of ``path[0]`` for at least ``amount_out_min`` of ``path[-1]``.
        ``value``: the amounts along the path, base units."""
        return self._swap("swap_exact_in", sender, path, amount_in, amount_out_min, deadline_s, True)

    def tx_swap_exact_out(self, sender: str, path: tuple[str, ...], amount_out: int,
                          amount_in_max: int, deadline_s: int) -> Receipt:
        """``swapTokensForExactTokens`` along ``path`` (spec 1.7): receives exactly
        ``amount_out`` of ``path[-1]`` for at most ``amount_in_max`` of ``path[0]``.
        ``value``: the amounts along the path."""
        return self._swap("swap_exact_out", sender, path, amount_out, amount_in_max, deadline_s, False)

    def tx_sync(self, sender: str, pool_id: str) -> Receipt:
        """The pair's ``sync()``: reserves := balances (spec 1.5)."""
        entry = self._pool("sync", sender, pool_id, ("V2",))
        if isinstance(entry, Receipt):
            return entry
        try:
            ev = entry.core.sync(self.now_s())
        except PoolError as e:
            return self._reject("sync", sender, pool_id, e.reason, e.detail)
        self._emit_v2(pool_id, sender if isinstance(sender, str) else "", ev)
        return Receipt(EXECUTED, block=self.chain.block, value=(ev.reserve0, ev.reserve1))

    # -- checks -------------------------------------------------------------------
    def _v2_invariant_errors(self, pid: str, e: PoolEntry) -> list[str]:
        """Pool ``pid``: the ledger's pool balances equal the core's token balances, the
        LP asset's ledger supply equals the core's ``totalSupply``, the locked account
        holds the zero address's LP, and the core's own spec section 5 invariants."""
        led = self.chain.ledger
        errors = []
        pair: V2Pair = e.core
        for asset, core_bal in ((pair.token0, pair.balance0), (pair.token1, pair.balance1)):
            held = led.balance(reserve(pid, asset))
            if held != core_bal:
                errors.append(f"amm pool {pid}: ledger holds {held} {asset}, core balance {core_bal}")
        supply = led.supply.get(e.lp_asset, 0)
        if supply != pair.total_supply:
            errors.append(f"amm pool {pid}: {e.lp_asset} ledger supply {supply} != "
                          f"core totalSupply {pair.total_supply}")
        lk = led.balance(locked(pid, e.lp_asset))
        if lk != pair.balance_of.get(ZERO_ADDRESS, 0):
            errors.append(f"amm pool {pid}: locked LP {lk} != core zero-address LP "
                          f"{pair.balance_of.get(ZERO_ADDRESS, 0)}")
        errors.extend(f"amm pool {pid}: {m}" for m in pair.invariant_errors())
        return errors


__all__ = ["V2_GAS", "V2Burn", "V2Mint", "V2Swap", "V2Sync", "V2Transactions", "v2_pool_id"]
