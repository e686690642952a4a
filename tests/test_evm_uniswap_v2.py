"""The official Uniswap V2 bytecode against our Python ``V2Pair``, to the wei.

The contracts are the compiled artifacts of the npm packages ``@uniswap/v2-core``
(``UniswapV2Factory``, ``UniswapV2Pair``, and its test ``ERC20`` for the two tokens),
installed at set-up time (:mod:`defisim.evm.artifacts`), running on the embedded EVM
inside a :class:`~defisim.Simulation` through the ``evm`` protocol. Each random
operation (seeded) is done the way a contract user does it, on both sides:

- mint: two token transfers to the pair, then ``pair.mint(to)``;
- swap, exact in, either direction: a transfer in, then ``pair.swap(out0, out1, to,
  "")`` with ``out`` from ``UniswapV2Library.getAmountOut`` (one swap in 20 asks one
  wei too much: ``UniswapV2: K`` on both sides);
- burn: an LP transfer to the pair, then ``pair.burn(to)``;
- time moves between operations (0 s to an hour), and half-way the factory's
  ``feeTo`` is switched on (the protocol fee, ``_mintFee``).

After every operation: the outputs (liquidity minted, amounts burned, the ``Swap``
event), the reserves and ``blockTimestampLast``, both price accumulators, ``kLast``,
the LP supply and every LP balance, the pair's and every party's token balances are
equal; a revert on one side is the same revert, with the same reason, on the other.
Skipped without the ``evm`` extra or without npm / the npm registry.
"""

from __future__ import annotations

import random

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from defisim import Simulation  # noqa: E402
from defisim.chain.events import TransactionRejected  # noqa: E402
from defisim.evm import NpmUnavailable, load_artifact  # noqa: E402
from defisim.evm.abi import ZERO_ADDRESS, keccak  # noqa: E402
from defisim.evm.protocol import EvmLog, Reason  # noqa: E402
from defisim.protocols.amm.errors import PoolError  # noqa: E402
from defisim.protocols.amm.v2_pair import V2Factory  # noqa: E402

CORE = "@uniswap/v2-core"
PERIPHERY = "@uniswap/v2-periphery"
PARTIES = ("lp1", "lp2", "lp3", "trader1", "trader2")
SUPPLY = 10**36


@pytest.fixture(scope="module")
def artifacts():
    try:
        return {n: load_artifact(CORE, n) for n in ("ERC20", "UniswapV2Factory", "UniswapV2Pair")}
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountOut`` (periphery)."""
    a = amount_in * 997
    return a * reserve_out // (reserve_in * 1000 + a)


class Twin:
    """One bytecode pair in a simulation and one Python pair, driven together."""

    def __init__(self, artifacts: dict, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sim = sim = Simulation(seed=seed, protocols=["evm"])
        self.evm = evm = sim.evm
        erc20 = artifacts["ERC20"]
        self.tok_a = evm.deploy("tokenA", erc20, SUPPLY, sender="deployer")
        self.tok_b = evm.deploy("tokenB", erc20, SUPPLY, sender="deployer")
        self.setter = evm.address_of("setter")
        self.factory = evm.deploy("factory", artifacts["UniswapV2Factory"], self.setter,
                                  sender="deployer")
        rc = self.factory.transact("createPair", self.tok_a.address, self.tok_b.address,
                                   sender="deployer")
        assert rc.accepted, rc
        self.pair = evm.at("pair", rc.value, artifacts["UniswapV2Pair"])
        self.py_factory = V2Factory(fee_to_setter=self.setter)
        self.py = self.py_factory.create_pair(self.tok_a.address, self.tok_b.address,
                                              address=self.pair.address)
        assert self.pair.call("token0") == self.py.token0
        assert self.pair.call("token1") == self.py.token1
        self.token = {self.py.token0: evm.contract(self.py.token0),
                      self.py.token1: evm.contract(self.py.token1)}
        self.addr = {p: evm.address_of(p) for p in PARTIES}
        self.fee_to = evm.address_of("fee_collector")
        # Python-side token balances of the parties (the pair's are py.balance0/1)
        self.held: dict[tuple[str, str], int] = {}
        for t, c in self.token.items():
            for p in PARTIES:
                rc = c.transact("transfer", self.addr[p], SUPPLY // 10, sender="deployer")
                assert rc.accepted
                self.held[(t, p)] = SUPPLY // 10
        self.counts = {"mint": 0, "swap": 0, "burn": 0, "revert": 0}

    # -- helpers -----------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.evm.evm_timestamp()

    def send_token(self, party: str, token: str, amount: int) -> None:
        rc = self.token[token].transact("transfer", self.pair.address, amount, sender=party)
        assert rc.accepted, rc
        self.held[(token, party)] -= amount

    def expect(self, rc, py_call):
        """Run ``py_call``; the EVM receipt ``rc`` must agree: both succeed, or both
        revert with the same reason. Returns the Python result, or None on a revert."""
        try:
            out = py_call()
        except PoolError as exc:
            assert not rc.accepted, f"EVM accepted what Python rejects: {exc}"
            assert rc.reason == Reason.EVM_REVERT
            rejected = self.sim.recent_events(1)[0]
            assert isinstance(rejected, TransactionRejected)
            assert rejected.detail == exc.reason, (rejected.detail, exc.reason)
            self.counts["revert"] += 1
            return None
        assert rc.accepted, f"EVM rejects what Python accepts: {rc.detail}"
        return out

    # -- operations --------------------------------------------------------------------
    def mint(self, party: str) -> None:
        r0, r1 = self.py.reserve0, self.py.reserve1
        if r0 == 0 or self.rng.random() < 0.1:
            a0 = self.rng.randrange(1, 10**self.rng.randint(2, 24))
            a1 = self.rng.randrange(1, 10**self.rng.randint(2, 24))
        else:  # near the pool's ratio, as a router would
            a0 = self.rng.randrange(1, 10**self.rng.randint(3, 23))
            a1 = a0 * r1 // r0 + self.rng.randrange(0, 3)
        self.send_token(party, self.py.token0, a0)
        self.send_token(party, self.py.token1, a1)
        self.py.donate(a0, a1)
        rc = self.pair.transact("mint", self.addr[party], sender=party)
        out = self.expect(rc, lambda: self.py.mint(self.addr[party], 0, 0, self.now,
                                                   sender=self.addr[party]))
        if out is not None:
            assert rc.value == out[0]
            self.counts["mint"] += 1

    def swap(self, party: str) -> None:
        zero_for_one = self.rng.random() < 0.5
        r_in, r_out = ((self.py.reserve0, self.py.reserve1) if zero_for_one
                       else (self.py.reserve1, self.py.reserve0))
        if r_in == 0:
            return
        amount_in = self.rng.randrange(1, max(2, r_in // self.rng.choice((2, 10, 1000, 10**6))))
        out = get_amount_out(amount_in, r_in, r_out)
        if self.rng.random() < 0.05:
            out += 1  # one wei too much: UniswapV2: K
        t_in = self.py.token0 if zero_for_one else self.py.token1
        self.send_token(party, t_in, amount_in)
        self.py.donate(*((amount_in, 0) if zero_for_one else (0, amount_in)))
        o0, o1 = (0, out) if zero_for_one else (out, 0)
        to = self.addr[party]
        rc = self.pair.transact("swap", o0, o1, to, b"", sender=party)
        res = self.expect(rc, lambda: self.py.swap(o0, o1, to, 0, 0, self.now, sender=to))
        if res is None:
            return
        in0, in1, events = res
        swap = [e for e in self.sim.recent_events(5) if isinstance(e, EvmLog) and e.event == "Swap"]
        assert swap and swap[-1].args == (to, in0, in1, o0, o1, to)
        assert events[-1].amount0In == in0 and events[-1].amount1In == in1
        t_out = self.py.token1 if zero_for_one else self.py.token0
        self.held[(t_out, party)] += out
        self.counts["swap"] += 1

    def burn(self, party: str) -> None:
        have = self.py.lp_balance(self.addr[party])
        if have == 0:
            return
        liq = have if self.rng.random() < 0.2 else self.rng.randrange(1, have + 1)
        rc = self.pair.transact("transfer", self.pair.address, liq, sender=party)
        assert rc.accepted
        self.py.transfer(self.addr[party], self.pair.address, liq)
        to = self.addr[party]
        rc = self.pair.transact("burn", to, sender=party)
        res = self.expect(rc, lambda: self.py.burn(to, self.now, sender=to))
        if res is None:
            return
        a0, a1, _ = res
        assert rc.value == (a0, a1)
        self.held[(self.py.token0, party)] += a0
        self.held[(self.py.token1, party)] += a1
        self.counts["burn"] += 1

    def fee_on(self) -> None:
        rc = self.factory.transact("setFeeTo", self.fee_to, sender="setter")
        assert rc.accepted
        self.py_factory.set_fee_to(self.setter, self.fee_to)

    def step(self) -> None:
        if self.rng.random() < 0.6:
            self.sim.forward_time(self.rng.choice((1, 12, 13, 60, 3600)))
        party = self.rng.choice(PARTIES)
        op = self.rng.choices((self.mint, self.swap, self.burn), (3, 6, 2))[0]
        if self.py.total_supply == 0:
            op = self.mint
        op(party)

    # -- the comparison ---------------------------------------------------------------------
    def check(self) -> None:
        py, pair = self.py, self.pair
        assert pair.call("getReserves") == py.get_reserves()
        assert pair.call("price0CumulativeLast") == py.price0_cumulative_last
        assert pair.call("price1CumulativeLast") == py.price1_cumulative_last
        assert pair.call("kLast") == py.k_last
        assert pair.call("totalSupply") == py.total_supply
        holders = [*self.addr.values(), ZERO_ADDRESS, pair.address, self.fee_to]
        for a in holders:
            assert pair.call("balanceOf", a) == py.lp_balance(a), a
        t0, t1 = self.token[py.token0], self.token[py.token1]
        assert t0.call("balanceOf", pair.address) == py.balance0
        assert t1.call("balanceOf", pair.address) == py.balance1
        for (t, p), v in self.held.items():
            assert self.token[t].call("balanceOf", self.addr[p]) == v, (t, p)

    def run(self, n: int) -> None:
        for i in range(n):
            if i == n // 2:
                self.fee_on()
            self.step()
            self.check()
        assert not py_invariant_errors(self.py)


def py_invariant_errors(pair) -> list[str]:
    return pair.invariant_errors()


def test_the_periphery_expects_this_pair_bytecode(artifacts):
    """``UniswapV2Library.pairFor`` hard-codes the pair's init-code hash; the
    ``UniswapV2Pair`` artifact hashes to it, so the periphery would find our pairs."""
    lib = load_artifact(PERIPHERY, "UniswapV2Library")  # installs the periphery too
    source = (lib.path.rsplit("/build/", 1)[0] + "/contracts/libraries/UniswapV2Library.sol")
    text = open(source).read()
    init_hash = text.split("hex'")[2].split("'")[0]
    assert keccak(artifacts["UniswapV2Pair"].bytecode).hex() == init_hash
    assert init_hash == "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"


def test_a_few_hundred_random_operations_match_to_the_wei(artifacts):
    twin = Twin(artifacts, seed=7)
    twin.run(300)
    assert twin.counts["mint"] > 10 and twin.counts["swap"] > 100 and twin.counts["burn"] > 10
    assert twin.counts["revert"] > 0


@pytest.mark.slow
def test_ten_thousand_random_operations_match_to_the_wei(artifacts):
    twin = Twin(artifacts, seed=2024)
    twin.run(10_000)
    assert min(twin.counts.values()) > 100, twin.counts


def test_the_same_seed_gives_the_same_events(artifacts):
    """No wall clock leaks in: two runs of one seed emit equal event logs."""
    logs = []
    for _ in range(2):
        twin = Twin(artifacts, seed=11)
        twin.run(100)
        logs.append(list(twin.sim.chain.events))
    assert logs[0] == logs[1] and len(logs[0]) > 300
