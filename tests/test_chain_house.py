"""The house around the protocols: the protocol registry and facades, issuance apart
from the faucet, the event log's cursors, unit converters and market views."""

from __future__ import annotations

import math

import pytest

from defisim import Simulation
from defisim.chain import Chain, ChainProtocol, Issued, Minted
from defisim.chain.ledger import general
from defisim.numeric import UnitConverter

from helpers import make_market


# ------------------------------------------------------------------ registry
def test_simulation_composes_protocols_and_reaches_them_by_name():
    sim = Simulation(seed=1)
    assert sim.protocols == ["governance", "futures"]
    assert sim.futures.protocol is sim.chain.protocol("futures")
    lean = Simulation(seed=1, protocols=["futures"])
    assert lean.protocols == ["futures"]
    with pytest.raises(AttributeError, match=r"no attribute 'governance' \(protocols on this chain: \['futures'\]\)"):
        lean.governance  # noqa: B018
    with pytest.raises(KeyError, match="unknown protocol 'no_such_protocol'"):
        Simulation(seed=1, protocols=["no_such_protocol"])
    assert Simulation(seed=1, protocols=["amm"]).protocols == ["amm"]


def test_a_protocol_name_is_registered_once_and_an_instance_without_facade_is_its_own():
    class Counter(ChainProtocol):
        name = "counter"

        def __init__(self):
            self.blocks = 0

        def end_block(self):
            self.blocks += 1

        def tx_bump(self, sender, by):
            self.blocks += by
            return by

    sim = Simulation(seed=1, protocols=["futures"])
    c = sim.add_protocol(Counter())
    assert sim.counter is c
    sim.forward_time(1)
    assert c.blocks == 1
    from defisim.chain import Transaction

    assert sim.send(Transaction("p", "counter", "bump", (5,))) == 5 and c.blocks == 6
    with pytest.raises(ValueError, match="already registered"):
        sim.add_protocol(Counter())
    with pytest.raises(KeyError, match="no transaction 'nope'"):
        sim.send(Transaction("p", "counter", "nope", ()))


def test_the_network_party_is_reserved_by_the_futures_protocol_not_the_chain():
    assert Chain(seed=1).ledger.parties == set()
    sim = Simulation(seed=1)
    assert "network" in sim.chain.ledger.reserved and "network" not in sim.parties
    with pytest.raises(ValueError, match="'network' already exists"):
        sim.create_party("network")


# ------------------------------------------------------------------ issuance
def test_issued_tokens_are_not_a_deposit_so_pnl_counts_them_as_gains():
    sim = Simulation(seed=1)
    sim.create_asset("TOK", 2)
    sim.create_party("a")
    sim.mint("a", "TOK", 10)  # the faucet: a deposit, PnL stays 0
    assert sim.pnl("a", "TOK") == 0.0
    sim.chain.ledger.issue(general("a", "TOK"), 250, "reward")  # a protocol's issuance
    assert sim.balance("a", "TOK") == 12.5 and sim.pnl("a", "TOK") == 2.5
    kinds = [(type(e).__name__, e.amount) for e in sim.drain_events() if isinstance(e, Issued | Minted)]
    assert kinds == [("Minted", 1000), ("Issued", 250)]
    assert sim.chain.ledger.supply["TOK"] == 1250 and not sim.chain.invariant_errors()


# ------------------------------------------------------------------ event cursors
def test_each_cursor_reads_every_event_once_and_the_log_forgets_what_all_have_read():
    sim = make_market(parties=("a", "b"), open_price=100)
    sim.drain_events()
    c1 = sim.event_cursor()
    sim.futures.submit_order("a", "M", "buy", 1, 99)
    first = c1.read()
    c2 = sim.event_cursor()
    sim.futures.submit_order("b", "M", "sell", 1, 101)
    assert [type(e).__name__ for e in first] == ["Transfer", "OrderUpdated"]  # margin, order
    assert len(c1.read()) == 2 and c1.read() == []
    assert len(c2.read()) == 2
    # the recorder's drain still sees both orders: they are kept until it reads
    assert [e.price for e in sim.drain_events() if type(e).__name__ == "OrderUpdated"] == [99, 101]
    assert sim.chain.events == []
    c1.close()
    with pytest.raises(RuntimeError, match="closed"):
        c1.read()


def test_a_lagging_cursor_keeps_the_events_it_has_not_read():
    sim = make_market(parties=("a",), open_price=100)
    slow = sim.event_cursor(from_oldest=True)
    n_before = len(sim.chain.events)
    sim.drain_events()
    assert len(sim.chain.events) == n_before  # kept for the slow reader
    assert len(slow.read()) == n_before and sim.chain.events == []
    assert sim.recent_events(1)[-1] is not None


# ------------------------------------------------------------------ units and views
def test_unit_converter_rounds_onto_the_grids():
    u = UnitConverter(price_decimals=1, size_decimals=3, asset_decimals=6, tick=5)
    assert u.tick_size == 0.5 and u.lot == 0.001
    assert u.round_price(30_000.26, 1) == 30_000.0 and u.round_price(30_000.26, -1) == 30_000.5
    assert u.round_price(0.01) == 0.5  # at least one tick
    assert u.round_size(0.0129) == 0.012 and u.size_raw(0.5) == 500 and u.money(1_500_000) == 1.5
    with pytest.raises(ValueError, match="tick must be a positive integer"):
        UnitConverter(1, 3, 6, tick=0)


def test_market_view_is_a_plain_snapshot_of_the_market():
    sim = make_market(parties=("a", "b"), open_price=100)
    sim.futures.submit_order("a", "M", "buy", 2, 99)
    sim.futures.submit_order("b", "M", "sell", 3, 101)
    v = sim.futures.market_view("M")
    assert (v.state, v.in_auction, v.best_bid, v.best_ask, v.mid) == ("ACTIVE", False, 99.0, 101.0, 100.0)
    assert (v.mark_price, v.open_interest, v.trades, v.open_orders) == (100.0, 1.0, 1, 2)
    assert (v.maker_fee, v.total_fee, v.risk_factor_long) == (0.0, 0.0, 0.1)
    with pytest.raises(AttributeError):
        v.state = "CLOSED"  # frozen
    cfg = sim.futures.market_config("M")
    with pytest.raises(ValueError, match="frozen"):
        cfg.linear_slippage_factor = 0.5  # parameters change only through governance
    assert math.isclose(sim.futures.units("M").tick_size, 1.0)
