"""The V3 oracle against upstream ``Oracle.spec.ts`` (spec amm.md 2.11) and through the pool."""

from __future__ import annotations

import pytest

from defisim.protocols.amm import PoolError
from defisim.protocols.amm.v3 import Oracle, V3Pool

MAX_U128 = 2**128 - 1


class Harness:
    """The upstream ``OracleTest`` contract: time, tick and liquidity around an Oracle."""

    def __init__(self, time: int, tick: int, liquidity: int) -> None:
        self.o = Oracle()
        self.time, self.tick, self.liquidity = time, tick, liquidity
        self.o.initialize(time)

    def advance(self, by: int) -> None:
        self.time = (self.time + by) % 2**32

    def update(self, by: int, tick: int, liquidity: int) -> None:
        self.advance(by)
        self.o.write(self.time, self.tick, self.liquidity)
        self.tick, self.liquidity = tick, liquidity

    def observe(self, agos):
        return self.o.observe(self.time, agos, self.tick, self.liquidity)

    def single(self, ago: int) -> tuple[int, int]:
        tcs, spls = self.observe([ago])
        return tcs[0], spls[0]


def test_initialize_and_grow():
    h = Harness(1, 1, 1)
    assert (h.o.index, h.o.cardinality, h.o.cardinality_next) == (0, 1, 1)
    assert h.o.observations[0] == (1, 0, 0, True)
    h = Harness(0, 0, 0)
    h.o.grow(5)
    assert (h.o.index, h.o.cardinality, h.o.cardinality_next) == (0, 1, 5)
    assert h.o.observations[0] == (0, 0, 0, True)
    assert h.o.observations[1:] == [(1, 0, 0, False)] * 4
    h.o.grow(3)
    assert h.o.cardinality_next == 5
    with pytest.raises(PoolError) as e:
        Oracle().grow(3)
    assert e.value.reason == "I"


def test_write_single_element_overwritten():
    h = Harness(0, 0, 0)
    h.update(1, 2, 5)
    assert h.o.index == 0
    assert h.o.observations[0] == (1, 0, 340282366920938463463374607431768211456, True)
    h.update(5, -1, 8)
    assert h.o.observations[0] == (6, 10, 680564733841876926926749214863536422912, True)
    h.update(3, 2, 3)
    assert h.o.observations[0] == (9, 7, 808170621437228850725514692650449502208, True)


def test_write_index_cardinality_and_wrap():
    h = Harness(0, 0, 0)
    h.o.grow(2)
    h.update(1, 3, 2)
    assert h.o.index == 1
    h.update(0, -5, 9)
    assert h.o.index == 1  # same time: nothing written

    h = Harness(0, 0, 0)
    h.o.grow(3)
    h.update(6, 3, 2)
    h.update(4, -5, 9)
    assert h.o.index == 2
    assert h.o.observations[1] == (6, 0, 2041694201525630780780247644590609268736, True)

    h = Harness(0, 0, 0)
    h.o.grow(2)
    h.o.grow(4)
    assert h.o.cardinality == 1
    h.update(3, 5, 6)
    assert h.o.cardinality == 4
    h.update(4, 6, 4)
    assert (h.o.cardinality, h.o.index) == (4, 2)
    assert h.o.observations[2] == (7, 20, 1247702012043441032699040227249816775338, True)

    h = Harness(0, 0, 0)
    h.o.grow(3)
    h.update(3, 1, 2)
    h.update(4, 2, 3)
    h.update(5, 3, 4)
    assert h.o.index == 0
    assert h.o.observations[0] == (12, 14, 2268549112806256423089164049545121409706, True)

    h = Harness(0, 0, 0)
    h.o.grow(4)
    h.update(3, 3, 2)
    h.update(4, -7, 6)
    h.update(5, -2, 4)
    assert h.o.index == 3
    assert h.o.observations[1] == (3, 0, 1020847100762815390390123822295304634368, True)
    assert h.o.observations[2] == (7, 12, 1701411834604692317316873037158841057280, True)
    assert h.o.observations[3] == (12, -23, 1984980473705474370203018543351981233493, True)


def test_observe_edges():
    with pytest.raises(PoolError) as e:
        Oracle().observe(0, [0], 0, 0)
    assert e.value.reason == "I"
    h = Harness(5, 2, 4)
    with pytest.raises(PoolError) as e:
        h.single(1)
    assert e.value.reason == "OLD"
    h = Harness(2**32 - 1, 2, 4)
    h.advance(2)
    assert h.single(1) == (2, 85070591730234615865843651857942052864)
    for start_l, then_l, expect in (
        (MAX_U128, 0, (13, 7, 1, 0)),
        (0, MAX_U128, tuple(x << 128 for x in (13, 7, 1, 0))),
        (1, MAX_U128, tuple(x << 128 for x in (13, 7, 1, 0))),
    ):
        h = Harness(0, 0, start_l)
        h.o.grow(2)
        h.update(13, 0, then_l)
        assert tuple(h.single(a)[1] for a in (0, 6, 12, 13)) == expect
    h = Harness(0, 0, 0)
    h.o.grow(2)
    h.update(2**32 - 6, 0, 0)
    assert h.single(0)[1] == (2**32 - 6) << 128
    h.update(13, 0, 0)
    assert h.single(0)[1] == 7 << 128
    assert h.single(3)[1] == 4 << 128
    assert h.single(8)[1] == (2**32 - 1) << 128


def test_observe_one_and_two_observations():
    h = Harness(5, 2, 4)
    assert h.single(0) == (0, 0)
    h.advance(3)
    with pytest.raises(PoolError):
        h.single(4)
    assert h.single(3) == (0, 0)
    assert h.single(1) == (4, 170141183460469231731687303715884105728)
    assert h.single(0) == (6, 255211775190703847597530955573826158592)

    h = Harness(5, -5, 5)
    h.o.grow(2)
    h.update(4, 1, 2)
    assert h.single(0) == (-20, 272225893536750770770699685945414569164)
    h.advance(7)
    assert h.single(0) == (-13, 1463214177760035392892510811956603309260)
    assert h.single(11) == (0, 0)
    assert h.single(9) == (-10, 136112946768375385385349842972707284582)

    h = Harness(5, -5, 5)
    h.o.grow(2)
    h.update(4, 1, 2)
    h.update(3, -5, 4)
    assert h.single(0) == (-17, 782649443918158465965761597093066886348)
    h.advance(7)
    assert h.single(0) == (-52, 1378143586029800777026667160098661256396)
    assert h.single(10) == (-20, 272225893536750770770699685945414569164)
    assert h.single(9) == (-19, 442367076997220002502386989661298674892)


def test_observe_many():
    h = Harness(5, 2, 2**15)
    h.o.grow(4)
    h.update(13, 6, 2**12)
    h.advance(5)
    tcs, spls = h.observe([0, 3, 8, 13, 15, 18])
    assert tcs == [56, 38, 20, 10, 6, 0]
    assert spls == [
        550383467004691728624232610897330176,
        301153217795020002454768787094765568,
        103845937170696552570609926584401920,
        51922968585348276285304963292200960,
        31153781151208965771182977975320576,
        0,
    ]


@pytest.mark.parametrize("start", [5, 2**32 - 5])
def test_five_observations(start):
    h = Harness(start, -5, 5)
    h.o.grow(5)
    for by, tick, liq in ((3, 1, 2), (2, -6, 4), (4, -2, 4), (1, -2, 9), (3, 4, 2), (6, 6, 7)):
        h.update(by, tick, liq)
    assert (h.o.index, h.o.cardinality, h.o.cardinality_next) == (1, 5, 5)
    latest = (-21, 2104079302127802832415199655953100107502)
    between = (-33, 1593655751746395137220137744805447790318)
    oldest = (-13, 544451787073501541541399371890829138329)
    assert h.single(0) == latest
    assert h.single(3) == between
    assert h.single(14) == oldest
    with pytest.raises(PoolError) as e:
        h.single(15)
    assert e.value.reason == "OLD"
    h.advance(5)
    assert h.single(5) == latest
    assert h.single(0) == (9, 2347138135642758877746181518404363115684)
    assert h.single(8) == between
    with pytest.raises(PoolError):
        h.single(20)
    h.advance(1)
    assert h.single(20) == oldest


def test_pool_writes_observations_and_twap():
    pool = V3Pool(3000)
    pool.initialize(1 << 96, time=1000)
    ev = pool.increase_observation_cardinality_next(10)
    assert (ev.observationCardinalityNextOld, ev.observationCardinalityNextNew) == (1, 10)
    assert pool.increase_observation_cardinality_next(5) is None
    pool.mint("lp", "lp", -600, 600, 10**18, time=1010)  # in range: writes (tick 0, L 0)
    assert (pool.oracle.index, pool.oracle.cardinality) == (1, 10)
    assert pool.oracle.observations[1] == (1010, 0, 10 << 128, True)
    pool.swap("t", "t", True, 10**16, time=1100)  # tick 0 -> -199: writes tick 0 for 90 s
    assert pool.oracle.observations[2][:2] == (1100, 0)
    quoted = pool.quote(True, 10**15)
    assert pool.oracle.index == 2  # quote writes nothing
    assert quoted[3] <= pool.tick
    tcs, _ = pool.observe(1200, [100, 0])
    assert (tcs[1] - tcs[0]) // 100 == -199  # TWAP tick over the last 100 s
    pool.swap("t", "t", True, 10**12, time=1200)  # tick unchanged: no observation
    assert pool.oracle.index == 2
    with pytest.raises(PoolError) as e:
        pool.observe(1200, [201])
    assert e.value.reason == "OLD"
    fresh = V3Pool(500)
    with pytest.raises(PoolError) as e:
        fresh.increase_observation_cardinality_next(3)
    assert e.value.reason == "LOK"
