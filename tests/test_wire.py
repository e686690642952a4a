"""The service's wire codec (``defisim.service.wire``): values taken from a running
simulation survive ``decode(encode(x))`` with their types, bit for bit; strict JSON;
and decoding builds only allow-listed types."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from defisim import Simulation
from defisim.chain import InvariantViolation, Receipt, Transaction
from defisim.chain.events import Event, TransactionRejected, Transfer, TransferBatch
from defisim.numeric import UnitConverter
from defisim.protocols.futures import (
    LiquidityResult,
    MarketConfig,
    MarketState,
    OrderResult,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    TimeInForce,
    TradeExecuted,
    TradeType,
)
from defisim.protocols.futures.margin import MarginLevels
from defisim.service import AccountView, MarketView, OrderView, wire
from defisim.service.wire import decode, encode, same

from helpers import make_market


# --------------------------------------------------------------------- the oracle
def identical(a, b) -> bool:
    """An oracle independent of the codec: the same types at every level and the same
    values (floats bit for bit: NaN equals NaN, -0.0 differs from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, set | frozenset):
        return a == b
    if isinstance(a, dict):
        return (list(a) == list(b)
                and all(identical(k1, k2) for k1, k2 in zip(a, b, strict=True))
                and all(identical(a[k], b[k]) for k in a))
    if isinstance(a, BaseModel):
        return a == b and identical(a.model_dump(), b.model_dump())
    if dataclasses.is_dataclass(a):
        return all(identical(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    slots = getattr(type(a), "__slots__", None)
    if slots and not isinstance(a, str | int):
        return all(identical(getattr(a, s), getattr(b, s)) for s in slots)
    return a == b


def roundtrip(x):
    """``decode(encode(x))``, checked: strict JSON, identical to ``x``, a new object."""
    text = encode(x)
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    y = decode(text)
    assert identical(x, y), f"{x!r} came back as {y!r}"
    assert same(x, y)
    assert encode(y) == text
    return y


# ------------------------------------------------------------------ a live market
@pytest.fixture(scope="module")
def live():
    """A market with resting orders, trades (an aggressive order that filled against
    two makers), fees, a liquidity commitment and every event kept."""
    sim = make_market(parties=("a", "b", "c", "lp"), funds=1_000_000, open_price=100,
                      asset_decimals=2, decimal_places=1, position_decimal_places=2,
                      fees={"maker": 0.001, "infrastructure": 0.0005, "liquidity": 0.0})
    f = sim.futures
    rests = [f.submit_order("a", "M", "sell", 1.5, 101.0), f.submit_order("b", "M", "sell", 2.0, 102.5),
             f.submit_order("a", "M", "buy", 1.0, 98.5)]
    taker = f.submit_order("c", "M", Side.BUY, 2.25, 103.0)
    rejected = f.submit_order("c", "M", "buy", 1.0, 100.05)  # off the tick grid
    lp = f.submit_liquidity("lp", "M", 500.0, 0.001)
    sim.forward_time(1)
    return sim, {"rests": rests, "taker": taker, "rejected": rejected, "lp": lp}


def test_order_results_with_trades_round_trip(live):
    sim, r = live
    taker = r["taker"]
    assert taker.trades and all(isinstance(t, TradeExecuted) for t in taker.trades)
    for res in (*r["rests"], taker, r["rejected"]):
        back = roundtrip(res)
        assert type(back) is OrderResult and type(back.status) is OrderStatus
        assert back.accepted == res.accepted and back.filled_size == res.filled_size
        assert [type(t) for t in back.trades] == [type(t) for t in res.trades]
    assert type(roundtrip(r["rejected"]).reason) is Reason
    # OrderResult has no value equality (it compares by identity): fields, not ==
    assert roundtrip(taker) != taker and same(roundtrip(taker), taker)


def test_views_round_trip(live):
    sim, _ = live
    f = sim.futures
    mv = roundtrip(f.market_view("M"))
    assert type(mv) is MarketView and mv == f.market_view("M")
    assert type(mv.units) is UnitConverter and mv.units.price_factor == 10
    assert mv.mid == f.market_view("M").mid
    orders = roundtrip(f.open_orders())
    assert orders and all(type(o) is OrderView for o in orders) and orders == f.open_orders()
    assert roundtrip(f.open_orders("a", "M")) == f.open_orders("a", "M")
    accounts = roundtrip(sim.accounts())
    assert accounts and all(type(a) is AccountView for a in accounts) and accounts == sim.accounts()
    assert roundtrip(f.units("M")) == f.units("M")
    cfg = roundtrip(f.market_config("M"))
    assert type(cfg) is MarketConfig and cfg == f.market_config("M")


def test_query_results_round_trip(live):
    sim, _ = live
    f = sim.futures
    values = [
        f.margin_levels("c", "M"), f.margin_levels("c", "M", raw=True),
        f.positions("M"), f.positions("M", raw=True), f.position_details("c", "M"),
        f.market_depth("M"), f.market_depth("M", raw=True), f.best_prices("M"),
        f.best_prices("M", raw=True), f.indicative_price("M"), f.mark_price("M"),
        f.liquidity_provisions("M"), f.trades("M"), f.funding_estimate("M"), f.markets,
        f.insurance_pool("M"), f.market_state("M"), f.in_auction("M"), f.trade_count("M"),
        sim.now, sim.now_ns, sim.block, sim.parties, sim.protocols, sim.balance("c", "USD"),
        sim.balance("c", "USD", raw=True), sim.equity("c", "USD"), sim.pnl("c", "USD"),
        sim.recent_events(50),
    ]
    for v in values:
        roundtrip(v)
    assert type(roundtrip(f.best_prices("M"))) is tuple
    assert all(type(t) is tuple for t in roundtrip(f.market_depth("M"))["bids"])


def test_every_event_of_the_run_round_trips(live):
    sim, _ = live
    events = sim.drain_events()
    kinds = {type(e) for e in events}
    assert {TradeExecuted, Transfer, TransferBatch, TransactionRejected} <= kinds
    back = roundtrip(events)
    assert back == events  # events are frozen dataclasses: value equality holds
    assert [repr(e) for e in back] == [repr(e) for e in events]
    moves = next(e for e in events if type(e) is TransferBatch).moves
    assert type(roundtrip(moves)[0][0]) is tuple  # account keys stay tuples


def test_receipts_and_transactions_round_trip(live):
    _, r = live
    lp = r["lp"]
    assert type(lp) is LiquidityResult and lp and lp.status == "EXECUTED"
    assert roundtrip(lp) == lp and type(roundtrip(lp)) is LiquidityResult
    refused = LiquidityResult.rejected("COMMITMENT_TOO_LOW", "below the minimum")
    assert roundtrip(refused) == refused and not roundtrip(refused)
    sim = Simulation(seed=3, execution="mempool", ordering="priority")
    sim.create_asset("USD", 2)
    for p in ("a", "b"):
        sim.create_party(p)
        sim.mint(p, "USD", 10_000)
    sim.futures.create_market(market_id="M", asset="USD", opening_auction_duration_s=0,
                              risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1})
    pending = sim.futures.submit_order("a", "M", "buy", 1, 100)
    assert roundtrip(pending).status == OrderStatus.PENDING
    txs = sim.pending_transactions()
    assert txs and roundtrip(txs) == txs and type(roundtrip(txs)[0].args) is tuple
    bundle = sim.send_bundle([Transaction("b", "futures", "submit_order",
                                          ("M", -1, 1, "LIMIT", "GTC", 100, 0, False, False, "", 0))])
    assert roundtrip(bundle) == bundle
    sim.forward_time(1)
    receipt = sim.receipt(txs[0].tx_id)
    assert receipt is not None and type(receipt.value) is OrderResult
    back = roundtrip(receipt)  # its value, an OrderResult, has no == (identity): compare fields
    assert type(back.value) is OrderResult and same(back, receipt)
    assert roundtrip(sim.base_fee()) == sim.base_fee()


# ------------------------------------------------------------------ plain values
@pytest.mark.parametrize("x", [
    float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, 1.7976931348623157e308,
    0.1 + 0.2, 10**40, -(10**40), 2**53, 2**53 + 1, -(2**53) - 1, 10**5000, True, False, 0,
    None, "", "$tuple", "\u00e9\U0001f600", b"\x00\xff", Decimal("1.10"), (), (1,), [()],
    {"$tuple": 1}, {1: "a", (2, "b"): [3], None: None, 1.5: 2}, {"a": {"b": (1, 2.0)}},
    {1, 2, 3}, frozenset({"x", "y"}), [float("nan"), {"k": float("-inf")}],
], ids=lambda v: type(v).__name__)
def test_plain_values_round_trip(x):
    roundtrip(x)


def test_strings_with_lone_surrogates_are_refused():
    with pytest.raises(ValueError, match="lone surrogates"):
        encode(["ok", "\ud83d\ude00"])  # JSON would pair the two into one character


def test_big_ints_and_non_finite_floats_are_tagged():
    assert encode(2**53) == str(2**53)
    assert json.loads(encode(2**53 + 1)) == {"$int": hex(2**53 + 1)}
    assert json.loads(encode(float("nan"))) == {"$float": "nan"}
    assert json.loads(encode((1, 2))) == {"$tuple": [1, 2]}


@pytest.mark.parametrize("enum", [OrderStatus, Reason, Side, OrderType, TimeInForce, MarketState,
                                  TradeType])
def test_every_enum_member_round_trips_to_its_enum(enum):
    for m in enum:
        back = roundtrip(m)
        assert back is m


def test_numpy_scalars_travel_as_python_numbers():
    assert identical(decode(encode(np.float64(1.25))), 1.25)
    assert identical(decode(encode(np.int64(-7))), -7)
    assert identical(decode(encode(np.bool_(True))), True)
    assert identical(decode(encode([np.float32(0.5), np.uint8(3)])), [0.5, 3])


def test_exceptions_travel_as_type_and_args():
    for exc in (KeyError("unknown market 'X'"), ValueError("bad", 3), TypeError()):
        back = decode(encode(exc))
        assert type(back) is type(exc) and back.args == exc.args and str(back) == str(exc)
    iv = InvariantViolation(4, 5_000, ["asset USD: accounts hold 1, minted - burned = 0"],
                            [TransactionRejected(4, 5_000, "submit_order", "a", "M", "X", "y")])
    back = decode(encode(iv))
    assert type(back) is InvariantViolation and str(back) == str(iv)
    assert back.recent_events == iv.recent_events
    try:
        MarketConfig(market_id="x")
    except ValueError as exc:  # pydantic's ValidationError: its nearest allowed base
        back = decode(encode(exc))
        assert type(back) is ValueError and str(back) == str(exc)


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text() | st.decimals(allow_nan=False))
keys = st.text() | st.integers() | st.tuples(st.integers(), st.text())


@settings(max_examples=300, deadline=None)
@given(st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                    | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4),
                    max_leaves=20))
def test_property_nested_plain_values_round_trip(x):
    roundtrip(x)


# ------------------------------------------------------------------- allow-list
@pytest.mark.parametrize("payload, name", [
    ('{"$obj": "subprocess.Popen", "f": {}}', "subprocess.Popen"),
    ('{"$obj": "defisim_wire_canary.Thing", "f": {}}', "defisim_wire_canary.Thing"),
    ('{"$enum": "os.system", "v": "ls"}', "os.system"),
    ('{"$model": "Simulation", "v": {}}', "Simulation"),
    ('{"$error": "SystemExit", "args": [1]}', "SystemExit"),
    ('{"$obj": "FuturesMarket", "f": {}}', "FuturesMarket"),
])
def test_decode_refuses_types_off_the_allow_list(payload, name):
    with pytest.raises(TypeError, match=f"type '{name}' is not on the allow-list"):
        decode(payload)
    assert "defisim_wire_canary" not in sys.modules  # nothing was imported


def test_decode_refuses_a_known_name_of_the_wrong_kind_and_bad_shapes():
    with pytest.raises(TypeError, match="'OrderStatus' is not a dataclass"):
        decode('{"$obj": "OrderStatus", "f": {}}')
    with pytest.raises(ValueError, match="MarketView expects the fields"):
        decode('{"$obj": "MarketView", "f": {"market_id": "M"}}')
    with pytest.raises(ValueError, match="unknown tag '\\$eval'"):
        decode('{"$eval": "1+1"}')
    with pytest.raises(ValueError, match="non-standard JSON constant NaN"):
        decode("NaN")
    with pytest.raises(ValueError, match="not JSON"):
        decode("{")


class Opaque:
    pass


@pytest.mark.parametrize("value, name", [
    (Opaque(), "test_wire.Opaque"),
    (object(), "builtins.object"),
    (np.zeros(3), "numpy.ndarray"),
    (lambda: 0, "builtins.function"),
    ([1, {"k": (Opaque(),)}], "test_wire.Opaque"),
])
def test_encode_refuses_unknown_types_naming_them(value, name):
    with pytest.raises(TypeError, match=f"cannot encode a value of type .*{name.split('.')[-1]}"):
        encode(value)


def test_live_objects_of_the_service_are_refused(live):
    sim, _ = live
    for live_obj in (sim, sim.futures, sim.futures.internal_market("M"), sim.chain,
                     sim.event_cursor(), sim.rng("x")):
        with pytest.raises(TypeError, match="not on the allow-list"):
            encode(live_obj)


def test_register_adds_types_and_checks_them():
    @dataclass(frozen=True, slots=True)
    class PoolView:
        pool: str
        reserves: tuple
        fee: float

    wire.register(PoolView, "test_wire.PoolView")
    v = PoolView("ETH/USD", (10**30, 5), float("nan"))
    back = decode(encode(v))
    assert type(back) is PoolView and identical(back, v)
    wire.register(PoolView, "test_wire.PoolView")  # twice: a no-op

    @dataclass(frozen=True)
    class MarketView2:
        x: int

    with pytest.raises(ValueError, match="name 'MarketView' is already used"):
        wire.register(MarketView2, "MarketView")
    with pytest.raises(ValueError, match="already registered as 'test_wire.PoolView'"):
        wire.register(PoolView, "PoolView")

    class BadSlots:
        __slots__ = ("a", "b")

        def __init__(self, a):
            self.a, self.b = a, 0

    with pytest.raises(TypeError, match="does not take the slots \\['b'\\]"):
        wire.register(BadSlots)
    with pytest.raises(TypeError, match="cannot register"):
        wire.register(Opaque)


def test_event_subclasses_are_allowed_without_registration():
    @dataclass(frozen=True, slots=True)
    class WireTestPing(Event):
        note: str
        values: tuple

    e = WireTestPing(3, 4, "hi", (1, 2.5))
    assert roundtrip(e) == e
    assert "WireTestPing" in wire.allowed_types()


def test_allow_list_names_the_service_types():
    names = wire.allowed_types()
    for cls in (MarketView, OrderView, AccountView, UnitConverter, Receipt, Transaction,
                OrderResult, LiquidityResult, MarginLevels, MarketConfig, OrderStatus, Reason, Side, TradeExecuted,
                TransactionRejected):
        assert names[cls.__name__] is cls
    ml = MarginLevels(10, 12, 15, 20)
    assert roundtrip(ml) == ml
