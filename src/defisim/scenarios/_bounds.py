"""Build-time checks that a scenario's reference path and parameters fit its market.

:func:`check_market_inputs` is called by the scenarios that scale a reference price
path into a futures market (``btc_futures`` and its kind, the mechanics scenarios,
``load_test``) right after they create the market, so that input beyond what the
chain represents (:mod:`defisim.numeric.bounds`) is refused when the run is set up,
with one line naming the parameter, instead of failing deep in a run:

- the path's largest price, in ticks at the market's price decimals, above
  :data:`~defisim.numeric.bounds.MAX_PRICE_TICKS` (the parameter named is
  ``prices_file`` for a file, else the path model's ``s0``/``mu``/``sigma``);
- a size parameter (contracts: ``*_size``, ``*_inventory``, ``*_position``,
  ``*_position_limit``) above :data:`~defisim.numeric.bounds.MAX_SIZE` lots, or whose
  value at the path's largest price is above
  :data:`~defisim.numeric.bounds.MAX_AMOUNT` base units;
- a money parameter (asset units: ``*_collateral``, ``*commitment``, ``*_mint``)
  above :data:`~defisim.numeric.bounds.MAX_AMOUNT` base units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from defisim.numeric.bounds import check_amount, check_price, check_size

if TYPE_CHECKING:
    from defisim.prices import PricePath
    from defisim.service import Simulation

_SIZE_SUFFIXES = ("_size", "_inventory", "_position", "_position_limit")
_MONEY_SUFFIXES = ("_collateral", "commitment", "_mint")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def path_source(params: Any) -> str:
    """How a bound error names the reference path: its ``prices_file``, or the
    parameters of the model that drew it."""
    f = getattr(params, "prices_file", None)
    if f is not None:
        return f"prices_file {f}"
    parts = [f"{k}={getattr(params, k)!r}" for k in ("s0", "mu", "sigma") if hasattr(params, k)]
    return "the reference path of " + ", ".join(parts) if parts else "the reference path"


def check_market_inputs(sim: Simulation, market: str, path: PricePath | None, params: Any) -> None:
    """Refuse a reference path or parameters that ``market`` cannot represent.

    Args:
        sim: the simulation holding ``market`` (for its units).
        market: the futures market the path is scaled into.
        path: the reference path (``None``: only the parameters are checked).
        params: the scenario's parameters (a pydantic model).

    Raises:
        ValueError: one line naming the parameter and the bound
            (:mod:`defisim.numeric.bounds`).
    """
    u = sim.futures.units(market)
    top = None
    if path is not None:
        top = float(path.prices.max())
        check_price(top, u.price_decimals, f"{path_source(params)}: its largest price")
    for name in type(params).model_fields:
        v = getattr(params, name)
        if not _number(v):
            continue
        if name.endswith(_MONEY_SUFFIXES):
            check_amount(v, u.asset_decimals, name)
        elif name.endswith(_SIZE_SUFFIXES):
            check_size(v, u.size_decimals, name)
            if top is not None:
                check_amount(v * top, u.asset_decimals,
                             f"{name} (contracts) at the path's largest price {top:.16g}, in "
                             "asset units")
