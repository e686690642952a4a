"""Helpers shared by the futures tests."""

from __future__ import annotations

from defisim import Simulation


def make_market(
    parties=("a", "b", "c"),
    funds=10_000,
    open_price=None,
    asset_decimals=0,
    **market,
) -> Simulation:
    """A simulation with asset USD, funded parties and market "M" (simple risk model,
    no opening auction by default). If ``open_price`` is given, two extra parties
    ``o1``/``o2`` cross 1 unit at it and the block ends, so the market is ACTIVE
    with that mark price and o1 long 1, o2 short 1."""
    sim = Simulation(seed=7)
    sim.create_asset("USD", asset_decimals)
    for p in parties:
        sim.create_party(p)
        sim.mint(p, "USD", funds)
    cfg = dict(market_id="M", asset="USD", opening_auction_duration_s=0,
               risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
               fees={"maker": 0, "infrastructure": 0, "liquidity": 0}, mark_price_frequency_s=0)
    cfg.update(market)
    sim.futures.create_market(**cfg)
    if open_price is not None:
        for p in ("o1", "o2"):
            sim.create_party(p)
            sim.mint(p, "USD", 1_000_000)
        m = sim.futures.internal_market("M")
        unit = 10 ** m.config.position_decimal_places
        sim.futures.submit_order_raw("o1", "M", 1, unit, open_price)
        sim.futures.submit_order_raw("o2", "M", -1, unit, open_price)
        sim.forward_time(1)
        assert sim.futures.market_state("M") == "ACTIVE"
    return sim
