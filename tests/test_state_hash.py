"""The chain's state hash (:mod:`defisim.chain.state_hash`) and the transaction-argument
codec (:mod:`defisim.chain.tx_codec`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defisim.chain.ledger import Asset
from defisim.chain.state_hash import canonical_bytes, digest
from defisim.chain.tx_codec import decode_args, encode_args
from defisim.evm.backend import EvmBackend
from defisim.protocols.futures.types import Side
from defisim.runner.run import Run
from defisim.scenarios import get_scenario
from defisim.service import Simulation


def _small_sim() -> Simulation:
    sim = Simulation(seed=7)
    sim.create_asset("USDT", 6)
    for p in ("alice", "bob"):
        sim.create_party(p)
        sim.mint(p, "USDT", 1_000)
    sim.chain.start_tx_log()
    sim.transfer("alice", "bob", "USDT", 1.5)
    return sim


def test_hash_is_hex_sha256_and_stable_across_dict_and_set_order():
    h = _small_sim().chain.state_hash()
    assert len(h) == 64 and int(h, 16) >= 0
    assert _small_sim().chain.state_hash() == h
    assert digest({"a": 1, "b": {2, 3}}) == digest({"b": {3, 2}, "a": 1})
    # types and exact values are part of the encoding
    assert len({canonical_bytes(x) for x in (1, 1.0, True, "1", (1,), [1])}) == 6
    assert canonical_bytes(0.1) != canonical_bytes(math.nextafter(0.1, 1))
    assert canonical_bytes(2**200) != canonical_bytes(2**200 + 1)


# one mutation of the small state each: (what, how)
MUTATIONS = {
    "balance": lambda c: c.ledger.balances.__setitem__(("general", "bob", "USDT", ""), 1),
    "supply": lambda c: c.ledger.supply.__setitem__("USDT", c.ledger.supply["USDT"] + 1),
    "minted_to": lambda c: c.ledger.minted_to.__setitem__(("bob", "USDT"), 3),
    "new_party": lambda c: c.ledger.parties.add("carol"),
    "nonce": lambda c: c.nonces.__setitem__("alice", 5),
    "clock": lambda c: setattr(c, "now", c.now + 1),
    "block": lambda c: setattr(c, "block", c.block + 1),
    "base_fee": lambda c: setattr(c, "base_fee", 1),
    "tx_seq": lambda c: setattr(c, "tx_seq", c.tx_seq + 1),
    "governance": lambda c: setattr(c.protocol("governance"), "_probe", 1),
    "futures": lambda c: setattr(c.protocol("futures"), "_probe", 0),
}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(MUTATIONS)))
def test_changing_any_field_changes_the_hash(which):
    sim = _small_sim()
    before = sim.chain.state_hash()
    MUTATIONS[which](sim.chain)
    assert sim.chain.state_hash() != before, which


def test_a_protocol_market_field_changes_the_hash():
    cls = get_scenario("comprehensive_market")
    run = Run(cls(cls.Params(steps=3)), seed=1)
    run.run()
    chain = run.sim.chain
    m = chain.protocol("futures").markets["BTCUSDT-FUT"]
    h = chain.state_hash()
    m.mark_price += 1
    assert chain.state_hash() != h
    m.mark_price -= 1
    assert chain.state_hash() == h
    m._indicative = (1, 2)  # a cache: not state
    assert chain.state_hash() == h


def _block_hashes(seed: int, steps: int = 8) -> list[str]:
    cls = get_scenario("comprehensive_market")
    run = Run(cls(cls.Params(steps=steps)), seed=seed)
    run.sim.chain.start_tx_log()
    out: list[str] = []
    run.hooks.append(lambda r, k, kpis: out.append(r.sim.chain.state_hash()))
    run.run()
    return out


def test_same_seed_same_hashes_other_seed_other_hashes():
    a, b, c = _block_hashes(4), _block_hashes(4), _block_hashes(5)
    assert len(a) == 9 and a == b
    assert len(set(a)) == len(a)  # every block changes the state (time at least)
    assert all(x != y for x, y in zip(a, c, strict=True))


def test_evm_backend_without_state_says_so():
    with pytest.raises(NotImplementedError, match="EvmBackend"):
        EvmBackend().canonical_state()


def test_an_object_the_encoding_does_not_cover_is_named():
    with pytest.raises(TypeError, match=r"state\[0\]"):
        canonical_bytes([memoryview(b"x")])


# ----------------------------------------------------------------- transaction codec
@dataclass(frozen=True)
class _Terms:
    price: int
    note: str


_leaf = (st.integers() | st.text() | st.booleans() | st.none()
         | st.floats(allow_nan=False) | st.binary(max_size=8) | st.sampled_from(list(Side)))
_values = st.recursive(_leaf, lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3),
                       max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(st.lists(_values, max_size=5))
def test_args_round_trip_exactly(args):
    back = decode_args(encode_args(tuple(args)))
    assert back == tuple(args)
    assert canonical_bytes(back) == canonical_bytes(tuple(args))  # types too (1 vs 1.0 vs True)


def test_defisim_dataclasses_and_enums_round_trip():
    args = (Asset("USDT", 6, 10**6), Side.SELL, {("a", 1): [Asset("X", 0, 1)]})
    back = decode_args(encode_args(args))
    assert back == args and type(back[1]) is Side


def test_nan_and_dataclasses_outside_defisim():
    (x,) = decode_args(encode_args((math.nan,)))
    assert math.isnan(x)
    with pytest.raises(ValueError, match="not a defisim class"):
        decode_args(encode_args((_Terms(1, "a"),)))  # this test module is not defisim's
    with pytest.raises(ValueError, match="not a defisim class"):
        decode_args('[{"e": "os:system", "v": 1}]')
