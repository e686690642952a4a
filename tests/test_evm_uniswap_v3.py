"""The official Uniswap V3 bytecode against our Python ``V3Pool``, to the wei.

The pool is the ``UniswapV3Pool`` of the npm package ``@uniswap/v3-core`` 1.0.1,
created by its ``UniswapV3Factory.createPool`` and initialised, on the embedded EVM
(:class:`~defisim.evm_amm.EvmMachine`, embedded backend). Liquidity and swaps go
through our callback payer (``src/defisim/evm_amm/contracts/V3Payer.sol``), which
pays by minting the two bridge ERC-20s to the pool; burns and collects are sent by
the position owners to the pool themselves. Each seeded random operation runs on both:

- mint: ranges on the spacing around the price, above it, below it, wide; a few with
  bad ticks (``TLU``, ``TLM``, ``TUM``, off the spacing), zero liquidity or an
  under-payment (``M0``/``M1``);
- swap: exact in and exact out, both directions, no limit (crossing many ticks) or a
  price limit (some on the wrong side: ``SPL``), a few zero (``AS``) or under-paid
  (``IIA``);
- burn (partial, full, a zero poke, too much: ``LS``, no position: ``NP``), collect
  (all or part), oracle growth, ``setFeeProtocol`` by the factory owner half-way (and
  refused to others), then ``collectProtocol``; the block clock moves between steps.

After every operation: the outputs, slot0 (all fields, oracle ones included),
liquidity, both fee growths, protocol fees, the ticks and positions the operation
touched (all of them every 100 operations), the bitmap words, the last observation,
``observe([0, s])`` and the pool's and parties' token balances. Revert reasons are
equal: Python codes starting ``V3_`` are the contract's reason-less ``require``s
(empty reason). Not compared: the per-tick oracle "outside" fields
(``tickCumulativeOutside``, ``secondsPerLiquidityOutsideX128``, ``secondsOutside``),
which the Python pool does not keep (spec ``amm.md`` 2.11; they serve only
``snapshotCumulativesInside``). Signed fields are read from function outputs, never
from events (the embedded backend's events are lossy for them).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from test_replay_uniswap_v3 import DATA as REAL_DAY  # noqa: E402
from test_replay_uniswap_v3 import UNMATCHED_ROWS, synthetic_day  # noqa: E402

from defisim.cli import app  # noqa: E402
from defisim.evm import (  # noqa: E402
    ContractAbi,
    EmbeddedBackend,
    EvmRevert,
    NpmUnavailable,
    load_artifact,
    party_address,
)
from defisim.evm_amm import EvmMachine, our_contract  # noqa: E402
from defisim.evm_amm.v3_storage import (  # noqa: E402
    LIQUIDITY_SLOT,
    SLOT0_SLOT,
    bitmap_slot,
    position_key,
    slot0_word,
    tick_words,
)
from defisim.protocols.amm.errors import PoolError  # noqa: E402
from defisim.protocols.amm.v3 import V3Pool  # noqa: E402
from defisim.protocols.amm.v3.tick_math import (  # noqa: E402
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
)
from defisim.replay import replay_uniswap_v3  # noqa: E402

CORE = "@uniswap/v3-core"
PAYER_SOL = Path(__file__).parents[1] / "src/defisim/evm_amm/contracts/V3Payer.sol"
OWNERS = ("lp1", "lp2", "lp3")
TRADERS = ("trader1", "trader2")
U128 = (1 << 128) - 1
T0 = 1_700_000_000
FEE, SPACING = 500, 10


@pytest.fixture(scope="module")
def artifacts():
    try:
        arts = {n: load_artifact(CORE, n) for n in ("UniswapV3Factory", "UniswapV3Pool")}
        arts["V3Payer"] = our_contract("V3Payer")
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")
    return arts


class Twin:
    """One bytecode pool on an embedded EVM and one Python ``V3Pool``, driven together."""

    def __init__(self, artifacts: dict, seed: int, backend=None) -> None:
        self.rng = random.Random(seed)
        self.machine = m = EvmMachine(backend or EmbeddedBackend(number=1, timestamp=T0), T0)
        self.evm = evm = m.backend
        self.abi = {n: ContractAbi(n, a.abi) for n, a in artifacts.items()}
        self.abi["BridgeToken"] = m.token_abi
        self.deployer = m.operator  # the factory's owner
        a, b = m.token("A"), m.token("B")
        self.token0, self.token1 = sorted((a, b))
        fac = artifacts["UniswapV3Factory"]
        self.factory = evm.deploy(self.deployer, self.abi["UniswapV3Factory"], fac.bytecode)
        self.pool = self.tx(self.deployer, self.factory, "UniswapV3Factory", "createPool",
                            a, b, FEE)[0]
        assert self.call("token0") == (self.token0,) and self.call("tickSpacing") == (SPACING,)
        self.payer = m.deploy(artifacts["V3Payer"])
        m.allow_minter(self.payer)
        self.tx(self.deployer, self.payer, "V3Payer", "setMintPayments", True)
        self.addr = {p: party_address(p) for p in (*OWNERS, *TRADERS, "protocol")}
        for p in self.addr.values():
            evm.fund(p, 10**24)
        self.py = V3Pool(FEE, SPACING, factory_owner=self.deployer)
        self.held = {(t, p): 0 for t in (0, 1) for p in self.addr}  # parties' token balances
        self.counts: dict[str, int] = {}
        self.reasons: set[str] = set()
        self.touched_ticks: set[int] = set()
        self.touched_positions: set[tuple[str, int, int]] = set()
        self.all_ticks: set[int] = set()
        self.all_positions: set[tuple[str, int, int]] = set()

    # -- plumbing ------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.evm.block[1]  # block.timestamp, seconds (the oracle's clock)

    def tx(self, sender: str, address: str, contract: str, fn: str, *args):
        return self.evm.transact(sender, address, self.abi[contract], fn, args).output

    def call(self, fn: str, *args, contract: str = "UniswapV3Pool", address: str | None = None):
        return self.evm.call(address or self.pool, self.abi[contract], fn, args)

    def both(self, kind: str, evm_fn, py_fn):
        """Run both sides: both succeed (returns both results) or both revert with the
        same reason (returns None). Python ``V3_*`` codes are reason-less requires."""
        try:
            py_out = py_fn()
        except PoolError as exc:
            with pytest.raises(EvmRevert) as err:
                evm_fn()
            want = "" if exc.reason.startswith("V3_") else exc.reason
            assert err.value.reason == want, (kind, err.value.reason, exc.reason, str(exc))
            self.count(f"revert {exc.reason}")
            self.reasons.add(exc.reason)
            return None
        try:
            evm_out = evm_fn()
        except EvmRevert as exc:
            raise AssertionError(f"{kind}: EVM reverts ({exc.reason}) what Python accepts") from None
        self.count(kind)
        return evm_out, py_out

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def spaced(self, tick: int) -> int:
        return tick // SPACING * SPACING

    # -- operations ----------------------------------------------------------------------
    def initialize(self) -> None:
        # before initialisation everything is locked
        self.both("swap", lambda: self.tx(self.deployer, self.payer, "V3Payer", "swap",
                                          self.pool, self.deployer, True, 10, MIN_SQRT_RATIO + 1,
                                          0),
                  lambda: self.py.swap(self.payer, self.deployer, True, 10, None))
        price = get_sqrt_ratio_at_tick(self.rng.randrange(-50_000, 50_000)) + 12345
        self.tx(self.deployer, self.pool, "UniswapV3Pool", "initialize", price)
        self.py.initialize(price, time=self.now)
        self.both("initialize", lambda: self.tx(self.deployer, self.pool, "UniswapV3Pool",
                                                "initialize", price),
                  lambda: self.py.initialize(price, time=self.now))

    def pick_range(self) -> tuple[int, int]:
        rng, t = self.rng, self.spaced(self.py.tick)
        r = rng.random()
        if r < 0.45:  # around the price
            return t - SPACING * rng.randint(0, 60), t + SPACING * rng.randint(1, 60)
        if r < 0.65:  # above the price
            lo = t + SPACING * rng.randint(1, 200)
            return lo, lo + SPACING * rng.randint(1, 50)
        if r < 0.85:  # below the price
            up = t - SPACING * rng.randint(0, 200)
            return up - SPACING * rng.randint(1, 50), up
        if r < 0.92:  # wide, up to the usable ends
            edge = self.spaced(MAX_TICK)
            return -edge + SPACING * rng.randint(0, 3), edge - SPACING * rng.randint(0, 3)
        bad = rng.randrange(4)
        if bad == 0:
            return t + SPACING, t + SPACING * rng.randint(-3, 1)  # TLU
        if bad == 1:
            return MIN_TICK - rng.randint(1, 5), t  # TLM
        if bad == 2:
            return t, MAX_TICK + rng.randint(1, 5)  # TUM
        return t + rng.randint(1, SPACING - 1), t + SPACING * 5  # off the spacing

    def paid(self, owed: int, short: int) -> int:
        return max(owed - short, 0)

    def mint(self) -> None:
        rng, py = self.rng, self.py
        owner = self.addr[rng.choice(OWNERS)]
        lo, up = self.pick_range()
        amount = rng.randrange(1, 10 ** rng.randint(3, 22))
        if rng.random() < 0.03:
            amount = 0
        s0 = s1 = 0
        if rng.random() < 0.04:
            s0, s1 = rng.choice(((1, 0), (0, 1), (10**30, 10**30)))
        try:
            owed = py.modify_preview(owner, lo, up, amount) if amount else (0, 0)
        except PoolError:
            owed = (0, 0)
        res = self.both(
            "mint",
            lambda: self.tx(self.deployer, self.payer, "V3Payer", "mint", self.pool, owner,
                            lo, up, amount, s0, s1),
            lambda: py.mint(self.payer, owner, lo, up, amount, self.paid(owed[0], s0),
                            self.paid(owed[1], s1), time=self.now),
        )
        self.touch_position(owner, lo, up)
        if res is not None:
            assert res[0] == (res[1].amount0, res[1].amount1)

    def swap(self) -> None:
        rng, py = self.rng, self.py
        trader = rng.choice(TRADERS)
        zfo = rng.random() < 0.5
        amount = rng.randrange(1, 10 ** rng.randint(1, 24))
        if rng.random() < 0.4:
            amount = -amount  # exact output
        if rng.random() < 0.02:
            amount = 0  # AS
        limit = None
        if rng.random() < 0.4:
            step = rng.randint(0, 3000)
            if rng.random() < 0.05:
                step = -step - 1  # the wrong side: SPL
            t = max(MIN_TICK, min(MAX_TICK, py.tick - step if zfo else py.tick + 1 + step))
            limit = get_sqrt_ratio_at_tick(t)
        short = 1 if rng.random() < 0.03 else 0
        paid = None
        if short:
            try:
                q = py.quote(zfo, amount, limit)
                paid = self.paid(q[0] if zfo else q[1], short)
            except PoolError:
                pass
        ev_limit = limit if limit is not None else (MIN_SQRT_RATIO + 1 if zfo
                                                    else MAX_SQRT_RATIO - 1)
        before = py.tick
        to = self.addr[trader]
        res = self.both(
            "swap",
            lambda: self.tx(self.deployer, self.payer, "V3Payer", "swap", self.pool, to, zfo,
                            amount, ev_limit, short),
            lambda: py.swap(self.payer, to, zfo, amount, limit, paid, time=self.now),
        )
        if res is None:
            return
        (a0, a1), ev = res
        assert (a0, a1) == (ev.amount0, ev.amount1)
        if a0 < 0:
            self.held[(0, trader)] -= a0
        if a1 < 0:
            self.held[(1, trader)] -= a1
        lo, hi = sorted((before, py.tick))
        crossed = [t for t in self.all_ticks if lo <= t <= hi + 1]
        self.touched_ticks.update(crossed)
        if len(crossed) > 5:
            self.count("swap crossing > 5 ticks")

    def owned(self, owner: str) -> list[tuple[str, int, int]]:
        return sorted(k for k in self.all_positions if k[0] == owner)  # no set order: seeded

    def burn(self) -> None:
        rng, py = self.rng, self.py
        name = rng.choice(OWNERS)
        owner = self.addr[name]
        keys = self.owned(owner)
        if not keys or rng.random() < 0.03:
            lo, up = self.pick_range()  # most likely no position: NP
        else:
            _, lo, up = rng.choice(keys)
        info = py.positions.get((owner, lo, up))
        have = info.liquidity if info is not None else 0
        r = rng.random()
        amount = (have if r < 0.3 else 0 if r < 0.4 or have == 0
                  else have + 1 if r < 0.45 else rng.randrange(1, have + 1))
        res = self.both(
            "burn",
            lambda: self.tx(owner, self.pool, "UniswapV3Pool", "burn", lo, up, amount),
            lambda: py.burn(owner, lo, up, amount, time=self.now),
        )
        self.touch_position(owner, lo, up)
        if res is not None:
            assert res[0] == (res[1].amount0, res[1].amount1)

    def collect(self) -> None:
        rng, py = self.rng, self.py
        name = rng.choice(OWNERS)
        owner = self.addr[name]
        keys = self.owned(owner)
        if not keys:
            return
        _, lo, up = rng.choice(keys)
        info = py.positions.get((owner, lo, up))
        r0, r1 = U128, U128
        if info is not None and rng.random() < 0.3:
            r0 = rng.randrange(0, info.tokens_owed0 + 2)
            r1 = rng.randrange(0, info.tokens_owed1 + 2)
        res = self.both(
            "collect",
            lambda: self.tx(owner, self.pool, "UniswapV3Pool", "collect", owner, lo, up, r0, r1),
            lambda: py.collect(owner, owner, lo, up, r0, r1),
        )
        self.touch_position(owner, lo, up)
        if res is not None:
            assert res[0] == (res[1].amount0, res[1].amount1)
            self.held[(0, name)] += res[0][0]
            self.held[(1, name)] += res[0][1]

    def set_fee_protocol(self, sender: str, f0: int, f1: int) -> None:
        self.both("setFeeProtocol",
                  lambda: self.tx(sender, self.pool, "UniswapV3Pool", "setFeeProtocol", f0, f1),
                  lambda: self.py.set_fee_protocol(sender, f0, f1))

    def fee_on(self) -> None:
        self.set_fee_protocol(self.addr["trader1"], 4, 4)  # not the factory owner
        self.set_fee_protocol(self.deployer, 3, 5)  # 3 is no allowed value
        self.set_fee_protocol(self.deployer, self.rng.randint(4, 10), self.rng.randint(4, 10))

    def collect_protocol(self) -> None:
        rng = self.rng
        sender = self.deployer if rng.random() < 0.9 else self.addr["trader2"]
        to = self.addr["protocol"]
        r0 = U128 if rng.random() < 0.5 else rng.randrange(0, self.py.protocol_fees0 + 2)
        r1 = U128 if rng.random() < 0.5 else rng.randrange(0, self.py.protocol_fees1 + 2)
        res = self.both(
            "collectProtocol",
            lambda: self.tx(sender, self.pool, "UniswapV3Pool", "collectProtocol", to, r0, r1),
            lambda: self.py.collect_protocol(sender, to, r0, r1),
        )
        if res is not None:
            assert res[0] == (res[1].amount0, res[1].amount1)
            self.held[(0, "protocol")] += res[0][0]
            self.held[(1, "protocol")] += res[0][1]

    def grow_oracle(self) -> None:
        n = self.py.oracle.cardinality_next + self.rng.randint(0, 3)
        self.both("increaseObservationCardinalityNext",
                  lambda: self.tx(self.deployer, self.pool, "UniswapV3Pool",
                                  "increaseObservationCardinalityNext", n),
                  lambda: self.py.increase_observation_cardinality_next(n))

    def touch_position(self, owner: str, lo: int, up: int) -> None:
        if MIN_TICK <= lo < up <= MAX_TICK:
            self.touched_positions.add((owner, lo, up))
            self.all_positions.add((owner, lo, up))
            self.touched_ticks.update((lo, up))
            self.all_ticks.update((lo, up))

    def step(self, i: int, n: int) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            dt = rng.choice((1, 12, 13, 60, 3600))
            self.machine.set_time(self.machine.time + dt)
        if i == n // 2:
            self.fee_on()
        ops = [self.mint, self.swap, self.burn, self.collect, self.grow_oracle]
        weights = [3, 6, 2, 1.5, 0.3]
        if i > n // 2:
            ops.append(self.collect_protocol)
            weights.append(0.3)
        op = rng.choices(ops, weights)[0]
        if self.py.liquidity == 0 and not self.py.ticks:
            op = self.mint
        op()

    # -- the comparison -----------------------------------------------------------------------
    def check(self, full: bool = False) -> None:
        py, call = self.py, self.call
        o = py.oracle
        assert call("slot0") == (py.sqrt_price_x96, py.tick, o.index, o.cardinality,
                                 o.cardinality_next, py.fee_protocol, py.unlocked)
        assert call("liquidity") == (py.liquidity,)
        assert call("feeGrowthGlobal0X128") == (py.fee_growth_global0_x128,)
        assert call("feeGrowthGlobal1X128") == (py.fee_growth_global1_x128,)
        assert call("protocolFees") == (py.protocol_fees0, py.protocol_fees1)
        ticks = self.all_ticks if full else self.touched_ticks
        for t in ticks:
            info = py.ticks.get(t)
            got = call("ticks", t)
            want = ((info.liquidity_gross, info.liquidity_net, info.fee_growth_outside0_x128,
                     info.fee_growth_outside1_x128, True) if info is not None
                    else (0, 0, 0, 0, False))
            assert got[:4] + got[7:] == want, t
        for w in {t // SPACING >> 8 for t in ticks} | (set(py.bitmap) if full else set()):
            assert call("tickBitmap", w) == (py.bitmap.get(w, 0),), w
        for k in self.all_positions if full else self.touched_positions:
            p = py.positions.get(k)
            want = p.astuple() if p is not None else (0, 0, 0, 0, 0)
            assert call("positions", position_key(*k)) == tuple(want), k
        self.touched_ticks.clear()
        self.touched_positions.clear()
        assert call("observations", o.index) == o.observations[o.index]
        # observe, through the payer's observeAt (see V3Payer.sol: no array outputs here)
        ago = self.rng.choice((0, 1, 13, 600, 10**6))
        observe = lambda: call("observeAt", self.pool, ago, contract="V3Payer",  # noqa: E731
                               address=self.payer)
        try:
            want_obs = py.observe(self.now, [ago])
        except PoolError as exc:
            with pytest.raises(EvmRevert) as err:
                observe()
            assert err.value.reason == exc.reason
        else:
            assert observe() == (want_obs[0][0], want_obs[1][0])
        for i, t in enumerate((self.token0, self.token1)):
            bal = self.evm.call(t, self.abi["BridgeToken"], "balanceOf", (self.pool,))[0]
            assert bal == (py.balance0, py.balance1)[i]
            if full:
                for p, a in self.addr.items():
                    got = self.evm.call(t, self.abi["BridgeToken"], "balanceOf", (a,))[0]
                    assert got == self.held[(i, p)], (p, i)

    def run(self, n: int) -> None:
        self.initialize()
        self.check(full=True)
        for i in range(n):
            self.step(i, n)
            self.check(full=i % 100 == 99)
        self.check(full=True)
        assert not self.py.invariant_errors()


REASONS = {"LOK", "AI", "TLU", "TLM", "TUM", "M0", "M1", "AS", "SPL", "IIA", "LS", "NP",
           "V3_TICK_SPACING", "V3_MINT_ZERO", "V3_NOT_OWNER", "V3_FEE_PROTOCOL"}


def test_a_few_hundred_random_operations_match_to_the_wei(artifacts):
    twin = Twin(artifacts, seed=7)
    twin.run(300)
    c = twin.counts
    assert c["mint"] > 40 and c["swap"] > 80 and c["burn"] > 10 and c["collect"] > 10, c
    assert c["setFeeProtocol"] == 1 and twin.py.fee_protocol != 0
    assert len(twin.reasons) >= 8, twin.reasons


@pytest.mark.slow
def test_ten_thousand_random_operations_match_to_the_wei(artifacts):
    twin = Twin(artifacts, seed=2024)
    twin.run(10_000)
    c = twin.counts
    assert min(c[k] for k in ("mint", "swap", "burn", "collect")) > 1000, c
    assert c["collectProtocol"] > 50 and c["revert LS"] > 10, c
    assert c["swap crossing > 5 ticks"] > 100, c
    assert twin.reasons >= REASONS - {"M1", "AI"}, REASONS - twin.reasons


# -- the storage layout and the replay on the bytecode ---------------------------------------
@pytest.fixture(params=["embedded", "external"])
def backend(request):
    """Each backend's ``set_storage`` (the external one: anvil's ``anvil_setStorageAt``)."""
    if request.param == "embedded":
        yield EmbeddedBackend(number=1, timestamp=T0)
        return
    from defisim.evm.external import EvmNodeError, ExternalBackend

    try:
        node = ExternalBackend(1, T0)
    except EvmNodeError as exc:
        pytest.skip(f"anvil unavailable: {exc}")
    yield node
    node.close()


def test_the_storage_layout_reads_back_through_the_pools_getters(artifacts, backend):
    """``defisim.evm_amm.v3_storage`` writes slot0, liquidity, a tick and a bitmap word
    where ``slot0()``, ``liquidity()``, ``ticks()`` and ``tickBitmap()`` read them."""
    twin = Twin(artifacts, seed=1, backend=backend)
    twin.initialize()
    price = get_sqrt_ratio_at_tick(-123_457) + 99
    words = {SLOT0_SLOT: slot0_word(price, -123_457, 3, 7, 9, 4 + (5 << 4), True),
             LIQUIDITY_SLOT: 10**20 + 3, bitmap_slot(-7): (1 << 255) | 5}
    words.update(tick_words(-123_450, 2 * 10**18, -(10**18) - 1, 11, 12))
    twin.evm.set_storage(twin.pool, words)
    assert twin.call("slot0") == (price, -123_457, 3, 7, 9, 4 + (5 << 4), True)
    assert twin.call("liquidity") == (10**20 + 3,)
    assert twin.call("ticks", -123_450) == (2 * 10**18, -(10**18) - 1, 11, 12, 0, 0, 0, True)
    assert twin.call("tickBitmap", -7) == ((1 << 255) | 5,)
    twin.evm.set_storage(twin.pool, tick_words(-123_450, 0, 0))
    assert twin.call("ticks", -123_450) == (0, 0, 0, 0, 0, 0, 0, False)
    with pytest.raises(ValueError, match="not a uint256"):
        twin.evm.set_storage(twin.pool, {0: -1})


def _same_replay(a, b) -> None:
    skip = {"seconds", "cpu_seconds", "parse_seconds", "backend"}
    da, db = a.to_json_dict(), b.to_json_dict()
    assert {k: v for k, v in da.items() if k not in skip and "per_" not in k} == {
        k: v for k, v in db.items() if k not in skip and "per_" not in k}


def test_the_synthetic_day_replays_alike_on_the_bytecode(artifacts, tmp_path):
    """A day written from a Python pool (every swap exact in, exact out or price-limited):
    the bytecode reproduces every swap as the Python replay does, and one wei off in a
    swap is the same miss, the same resync, on both."""
    path, _, _ = synthetic_day(tmp_path / "day.tick.csv")
    evm = replay_uniswap_v3(path, backend="evm")
    py = replay_uniswap_v3(path)
    _same_replay(evm, py)
    assert evm.backend == "evm" and evm.swaps == evm.swaps_matched > 200
    assert evm.exact_output >= 2 and evm.price_limit >= 1
    lines = path.read_text().split("\n")
    fields = lines[10].split(",")
    fields[9] = str(int(fields[9]) + 1)
    lines[10] = ",".join(fields)
    path.write_text("\n".join(lines))
    evm, py = replay_uniswap_v3(path, backend="evm"), replay_uniswap_v3(path)
    _same_replay(evm, py)
    assert evm.resyncs == 1 and evm.unmatched[0]["row"] == 9


@pytest.mark.skipif(not REAL_DAY.exists(), reason=f"{REAL_DAY} is absent")
def test_the_real_day_replays_alike_on_the_bytecode(artifacts):
    """2024-01-05 USDC/WETH 0.05 %: the bytecode matches the same 6,032 of 6,045 swaps
    (same modes: exact in / out / price limit), misses the same 13 rows, and the same
    mints, burns and pokes (about 4 s; the Python replay about 0.1 s)."""
    evm = replay_uniswap_v3(REAL_DAY, backend="evm")
    py = replay_uniswap_v3(REAL_DAY)
    _same_replay(evm, py)
    assert (evm.swaps, evm.swaps_matched) == (6045, 6032)
    assert (evm.exact_input, evm.exact_output, evm.price_limit) == (5227, 614, 191)
    assert tuple(u["row"] for u in evm.unmatched) == UNMATCHED_ROWS


def test_the_cli_replays_on_the_bytecode(artifacts, tmp_path):
    path, _, _ = synthetic_day(tmp_path / "day.tick.csv")
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(path), "--backend", "evm"])
    assert res.exit_code == 0, res.output
    assert "swaps/s replay on evm" in res.output and "(100.00 %)" in res.output
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(path), "--backend", "rust"])
    assert res.exit_code == 2 and "unknown replay backend 'rust'" in res.output
