"""The Balancer V1 part of ``sim.amm`` (:class:`BalancerCalls`, mixed into
:class:`~.amm.AmmFacade`): quotes, spot prices, pool creation, joins and exits in
asset units (spec ``amm.md`` section 3)."""

from __future__ import annotations

from typing import Any

from defisim.chain.transactions import Receipt
from defisim.numeric import amount_to_raw
from defisim.protocols.amm.balancer.bmath import calcInGivenOut, calcOutGivenIn
from defisim.protocols.amm.balancer.bnum import BONE, MAX_IN_RATIO, MAX_OUT_RATIO, bmul
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.protocol import MAX_UINT256, Reason


class BalancerCalls:
    """``sim.amm``'s Balancer calls; relies on :class:`~.amm.AmmFacade`'s helpers."""

    protocol: Any
    chain: Any

    @staticmethod
    def _bal_quote(core: Any, asset_in: str, asset_out: str, raw: int, exact_in: bool) -> int:
        """``calcOutGivenIn`` / ``calcInGivenOut`` (spec 3.3) with the swap's ratio caps."""
        if asset_out not in core.records or asset_in == asset_out:
            raise PoolError("ERR_NOT_BOUND", f"{asset_out}")
        ri, ro = core.records[asset_in], core.records[asset_out]
        if exact_in:
            if raw > bmul(ri.balance, MAX_IN_RATIO):
                raise PoolError("ERR_MAX_IN_RATIO", f"{raw}")
            return calcOutGivenIn(ri.balance, ri.denorm, ro.balance, ro.denorm, raw, core.swap_fee)
        if raw > bmul(ro.balance, MAX_OUT_RATIO):
            raise PoolError("ERR_MAX_OUT_RATIO", f"{raw}")
        return calcInGivenOut(ri.balance, ri.denorm, ro.balance, ro.denorm, raw, core.swap_fee)

    def spot_price(self, pool_id: str, asset: str, quote_asset: str, fee: bool = True,
                   raw: bool = False) -> float | int:
        """A Balancer pool's spot price of ``asset`` in ``quote_asset`` (asset units of
        ``quote_asset`` per unit of ``asset``): ``getSpotPrice(quote_asset, asset)``
        (spec 3.3 ``calcSpotPrice``), with the swap fee unless ``fee=False``; with
        ``raw=True`` the contract's BONE-scaled integer of base units (what
        ``getSpotPrice`` returns). Raises ``KeyError`` (unknown pool), ``ValueError``
        (not a Balancer pool, unbound asset)."""
        e = self._entry(pool_id)
        if e.kind != "BAL":
            raise ValueError(f"{pool_id} is a {e.kind} pool, not BAL")
        if asset not in e.assets or quote_asset not in e.assets:
            raise ValueError(f"{pool_id} holds {e.assets}, not {asset!r}/{quote_asset!r}")
        core = e.core
        spot = (core.get_spot_price(quote_asset, asset) if fee
                else core.get_spot_price_sans_fee(quote_asset, asset))
        if raw:
            return spot
        return spot / BONE * 10 ** self._dec(asset) / 10 ** self._dec(quote_asset)

    def calc_in_given_out(self, pool_id: str, asset_in: str, asset_out: str,
                          amount_out_raw: int) -> int:
        """The pool's public view ``calcInGivenOut`` on its current recorded balances,
        denormalised weights and swap fee: base units of ``asset_in`` that buy
        ``amount_out_raw`` base units of ``asset_out`` (spec 3.3), *without* the swap's
        ``MAX_OUT_RATIO`` check (TokenSPICE's data consumer prices a purchase this way,
        token-netlists spec 2.2). Raises ``KeyError`` (unknown pool), ``ValueError`` (not
        a Balancer pool, unbound asset, or the math's revert such as ``ERR_DIV_ZERO``)."""
        e = self._entry(pool_id)
        if e.kind != "BAL":
            raise ValueError(f"{pool_id} is a {e.kind} pool, not BAL")
        core = e.core
        if asset_in not in core.records or asset_out not in core.records:
            raise ValueError(f"{pool_id} holds {e.assets}, not {asset_in!r}/{asset_out!r}")
        ri, ro = core.records[asset_in], core.records[asset_out]
        try:
            return calcInGivenOut(ri.balance, ri.denorm, ro.balance, ro.denorm,
                                  int(amount_out_raw), core.swap_fee)
        except PoolError as err:
            raise ValueError(f"calcInGivenOut in {pool_id}: {err}") from None

    # -- Balancer -----------------------------------------------------------------
    def create_balancer_pool(self, controller: str, tokens: dict[str, tuple[float, float]],
                             swap_fee: float = 0.003, variant: str = "balancer") -> str:
        """Create, fund and finalise a Balancer V1 weighted pool (spec 3.4).

        Args:
            controller: the party paying the balances and receiving the first 100 LP
                (``<pool_id>-LP``, 18 decimals).
            tokens: ``{asset: (amount, weight)}`` in binding order: asset units pulled
                from the controller, and the denormalised weight (1 to 50; total at
                most 50; a weight of 1 is ``1e18`` in the contract).
            swap_fee: a fraction (0.003 = 0.3 %), in [1e-6, 0.1].
            variant: ``"balancer"`` or ``"ocean_v3"``.

        Returns the pool id ``"BAL:<asset1>/<asset2>/..."``. Raises ``ValueError`` on
        bad input or the core's revert (``ERR_MIN_WEIGHT``, ``ERR_MIN_BALANCE``, ...).
        """
        if not isinstance(tokens, dict):
            raise ValueError(f"tokens must be a dict asset -> (amount, weight), got {tokens!r}")
        raw: dict[str, tuple[int, int]] = {}
        for a, aw in tokens.items():
            if not (isinstance(aw, tuple | list) and len(aw) == 2):
                raise ValueError(f"{a}: give (amount, weight), got {aw!r}")
            amount = self._raw(a, aw[0])
            weight = amount_to_raw(aw[1], 18)
            if weight is None:
                raise ValueError(f"{a}: weight must be a finite number >= 0, got {aw[1]!r}")
            raw[a] = (amount, weight)
        fee = amount_to_raw(swap_fee, 18)
        if fee is None:
            raise ValueError(f"swap_fee must be a finite number >= 0, got {swap_fee!r}")
        return self.protocol.create_balancer_pool(controller, raw, fee, variant)

    def _bal_tx_pool(self, tx: str, party: Any, pool_id: Any) -> Any:
        e = self.protocol.pools.get(pool_id) if isinstance(pool_id, str) else None
        if e is None or e.kind != "BAL":
            what = "unknown pool" if e is None else f"not a Balancer pool ({e.kind})"
            return self._rejected(tx, party, "", Reason.UNKNOWN_POOL if e is None else
                                  Reason.INVALID_ARGUMENT, f"{what}: {pool_id!r}")
        return e

    def _lp_raw(self, tx: str, party: Any, amount: Any) -> int | Receipt:
        raw = amount_to_raw(amount, 18)
        if raw is None:
            return self._rejected(tx, party, "", Reason.INVALID_ARGUMENT,
                                  f"LP amount must be a finite number >= 0, got {amount!r}")
        return raw

    def _bal_conv(self, e: Any) -> Any:
        decs = [10 ** self._dec(a) for a in e.assets]
        return lambda v: (v[0] / 10**18, tuple(x / d for x, d in zip(v[1], decs, strict=True)))

    def join_pool(self, party: str, pool_id: str, lp_amount: float,
                  max_amounts: dict[str, float] | None = None) -> Receipt:
        """``joinPool``: get ``lp_amount`` LP units for the proportional amount of every
        token, each at most ``max_amounts[asset]`` (asset units; default unlimited).
        ``value``: ``(lp_amount, amounts_in)``, amounts in the pool's token order."""
        tx = "bal_join_pool"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(lp, Receipt):
            return lp
        maxes = [MAX_UINT256] * len(e.assets)
        if max_amounts:
            raws = self._raws(tx, party, tuple(max_amounts.items()))
            if isinstance(raws, Receipt):
                return raws
            for a, r in zip(max_amounts, raws, strict=True):
                if a in e.assets:
                    maxes[e.assets.index(a)] = r
        return self._send(party, tx, (pool_id, lp, tuple(maxes)), self._bal_conv(e))

    def exit_pool(self, party: str, pool_id: str, lp_amount: float,
                  min_amounts: dict[str, float] | None = None) -> Receipt:
        """``exitPool``: give ``lp_amount`` LP units for the proportional amount of every
        token, each at least ``min_amounts[asset]`` (asset units; default 0).
        ``value``: ``(lp_amount, amounts_out)``, amounts in the pool's token order."""
        tx = "bal_exit_pool"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(lp, Receipt):
            return lp
        mins = [0] * len(e.assets)
        if min_amounts:
            raws = self._raws(tx, party, tuple(min_amounts.items()))
            if isinstance(raws, Receipt):
                return raws
            for a, r in zip(min_amounts, raws, strict=True):
                if a in e.assets:
                    mins[e.assets.index(a)] = r
        return self._send(party, tx, (pool_id, lp, tuple(mins)), self._bal_conv(e))

    def _single(self, tx: str, party: str, pool_id: str, asset: str, asset_amount: float,
                lp_amount: float, lp_first: bool) -> Receipt:
        """A single-asset join or exit: ``asset_amount`` of ``asset`` and ``lp_amount`` LP
        units converted to base units, sent as ``(pool_id, asset, *amounts)`` in the
        transaction's order (``lp_first``: LP then asset); ``value`` converted back."""
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        raws = self._raws(tx, party, ((asset, asset_amount),))
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(raws, Receipt) or isinstance(lp, Receipt):
            return raws if isinstance(raws, Receipt) else lp
        d = 10 ** self._dec(asset)
        if lp_first:
            return self._send(party, tx, (pool_id, asset, lp, raws[0]),
                              lambda v: (v[0] / 10**18, v[1] / d))
        return self._send(party, tx, (pool_id, asset, raws[0], lp),
                          lambda v: (v[0] / d, v[1] / 10**18))

    def join_single(self, party: str, pool_id: str, asset: str, amount: float,
                    min_lp: float = 0) -> Receipt:
        """``joinswapExternAmountIn``: pay exactly ``amount`` of one token for at least
        ``min_lp`` LP units. ``value``: ``(amount_in, lp_out)`` (asset / LP units)."""
        return self._single("bal_joinswap_extern_amount_in", party, pool_id, asset, amount,
                            min_lp, lp_first=False)

    def exit_single(self, party: str, pool_id: str, asset: str, lp_amount: float,
                    min_out: float = 0) -> Receipt:
        """``exitswapPoolAmountIn``: give exactly ``lp_amount`` LP units for at least
        ``min_out`` of one token. ``value``: ``(lp_in, amount_out)`` (LP / asset units)."""
        return self._single("bal_exitswap_pool_amount_in", party, pool_id, asset, min_out,
                            lp_amount, lp_first=True)

__all__ = ["BalancerCalls"]
