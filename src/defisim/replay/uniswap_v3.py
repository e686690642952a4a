"""Replay a day of Uniswap V3 pool events (demeter-fetch ``tick.csv``) through :class:`V3Pool`.

The file (``shared/data/uniswap_v3/*.tick.csv``; spec ``amm.md`` 4.7, data README section 3)
has one row per pool event, sorted by (block, log index): SWAP, MINT, BURN and COLLECT. A SWAP
row holds the ``Swap`` event (signed amounts from the pool's side, sqrtPriceX96, tick and the
active liquidity *after* the swap). MINT / BURN rows hold the position's ``tick_lower``,
``tick_upper``, its liquidity change (``liquidity`` column) and the token amounts.

What the file cannot tell us, and what we do about it
------------------------------------------------------
* **The ticks.** Which ticks are initialised and their ``liquidityNet`` at the start of the
  day are not in the file. :func:`infer_tick_nets` (pass 1) reads them off the swaps that
  change the active liquidity: a zeroForOne swap from tick t0 to t1 crosses the spacing
  multiples T in (t1, t0], and the sum of their nets is L_before − L_after (oneForZero: T in
  (t0, t1], sum L_after − L_before). A MINT/BURN of ΔL moves the net of its lower tick by +ΔL
  and of its upper tick by −ΔL, so each tick's net is stored as ``base(T)`` = net − (the
  mint/burn deltas at T so far); an equation with one unknown base solves it, and the solving
  repeats until nothing new comes out. Ticks whose nets are only ever seen summed stay
  unknown (on 2024-01-05: the day's range edges).
* **Each swap's parameters.** The ``Swap`` event does not say whether the caller gave an
  exact input, an exact output, or a price limit. Each swap is tried, in this order, as an
  exact input of its positive amount, an exact output of its negative amount, and an exact
  input stopped by a ``sqrtPriceLimitX96`` equal to the observed final price.
* **Stale liquidity.** ``total_liquidity`` is exact on SWAP rows only; on some other rows it
  repeats an earlier value. The replay never reads it there: it applies in-range MINT/BURN
  liquidity changes itself.

The replay (pass 2) starts one :class:`V3Pool` from the first SWAP row's event (that swap is
the seed, not checked), initialises the inferred ticks with their nets, and then walks the
rows: a MINT/BURN moves its two ticks' nets (a tick that was not initialised is created) and,
when ``tick_lower <= tick < tick_upper``, the active liquidity; its ``amount0``/``amount1`` are
checked against the rounding rules of spec 2.9 from the replay's own price and tick. A SWAP is
run through the pool's swap loop (:meth:`V3Pool.quote`) from the replay's own state and must
reproduce amount0, amount1, sqrtPriceX96, tick and liquidity to the wei; the pool then takes
the resulting state. A swap that nothing reproduces is listed with a reason, and the pool is
*resynchronised* from its row (price, tick, liquidity): that is the only place the replay
takes state from the file, and ``resyncs`` counts it. COLLECT rows are counted, not checked
(fees owed to positions opened before the day are unknown). Fee growth, the oracle and the
token balances are not tracked: the file has nothing to check them against. A tick is
initialised exactly while its net is non-zero (a tick with gross > 0 but net 0 cannot be seen
in the file, and leaving such ticks uninitialised is what reproduces the swaps that pass them:
an initialised tick splits a swap step and changes its rounding); ticks carry ``|net|`` as a
placeholder ``liquidity_gross``: only the bitmap and ``liquidityNet`` take part in swaps.

Row numbers: ``row`` is the 0-based index of a data row (row 0 is the line after the header),
as in spec 4.7; ``line`` is the 1-based line of the file (the header is line 1).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

from defisim.prices.uniswap_v3_events import (
    BURN,
    MINT,
    REQUIRED_COLUMNS,
    SWAP,
    TX_TYPES,
    TickNets,
    UniswapV3Events,
    UniswapV3FormatError,
    crossed_ticks,
    infer_tick_nets,
    read_tick_csv,
)
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.v3 import V3Pool
from defisim.protocols.amm.v3.sqrt_price_math import (
    get_amount0_delta_signed,
    get_amount1_delta_signed,
)
from defisim.protocols.amm.v3.tick import TickInfo
from defisim.protocols.amm.v3.tick_bitmap import flip_tick
from defisim.protocols.amm.v3.tick_math import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    get_sqrt_ratio_at_tick,
)

__all__ = [
    "REQUIRED_COLUMNS",
    "TX_TYPES",
    "TickNets",
    "UniswapV3Events",
    "UniswapV3FormatError",
    "UniswapV3ReplayResult",
    "format_result",
    "infer_tick_nets",
    "read_tick_csv",
    "replay_uniswap_v3",
]

# -- result --------------------------------------------------------------------------------------


@dataclass
class UniswapV3ReplayResult:
    """Outcome of :func:`replay_uniswap_v3`. Counts are numbers of rows.

    ``events``: data rows in the file; ``events_checked``: rows with something to compare
    (every SWAP after the seed, MINT, BURN); ``events_matched``: those reproduced exactly.
    ``swaps``: SWAP rows checked (every one after the seed swap, i.e. each swap that follows
    another event); ``swaps_matched`` = ``exact_input`` + ``exact_output`` + ``price_limit``
    (how each reproduced, see the module docstring). ``mints``/``mints_matched`` and
    ``burns``/``burns_matched`` (non-zero BURN rows) compare amount0/amount1 to the wei;
    ``pokes`` are zero-liquidity BURN rows (fee pokes, amounts 0; ``pokes_matched``).
    ``collects``: COLLECT rows, counted only. ``unchecked``: the seed swap and any rows
    before it. ``inferred_ticks``: ticks whose net pass 1 solved, ``inferred_range``
    (lowest, highest) of them, ``unresolved_ticks``: ticks only seen summed with others.
    ``unmatched``: one dict per unmatched checked row: ``row`` (0-based data row), ``line``,
    ``block``, ``log_index``, ``type`` and ``reason``. ``resyncs``: times the pool state was
    reset from a SWAP row after an unmatched swap. ``seconds`` / ``cpu_seconds``: wall and
    CPU time of both passes (parsing excluded); ``parse_seconds``: reading the CSV.
    ``backend``: what ran the swaps, ``"python"`` (:class:`V3Pool`) or ``"evm"`` (the
    official bytecode).
    """

    events: int
    events_checked: int
    events_matched: int
    swaps: int
    swaps_matched: int
    exact_input: int
    exact_output: int
    price_limit: int
    mints: int
    mints_matched: int
    burns: int
    burns_matched: int
    pokes: int
    pokes_matched: int
    collects: int
    unchecked: int
    inferred_ticks: int
    inferred_range: tuple[int, int] | None
    unresolved_ticks: list[int]
    liquidity_changing_swaps: int
    single_candidate_swaps: int
    net_conflicts: int
    resyncs: int
    unmatched: list[dict[str, int | str]]
    seconds: float
    cpu_seconds: float
    parse_seconds: float = 0.0
    tick_csv: str = ""
    backend: str = "python"

    @property
    def swaps_per_second(self) -> float:
        """Checked swaps per wall second of the replay (both passes, parsing excluded)."""
        return self.swaps / self.seconds if self.seconds > 0 else float("inf")

    @property
    def swaps_per_cpu_second(self) -> float:
        """Checked swaps per CPU second of the replay (``time.process_time``)."""
        return self.swaps / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")

    def to_json_dict(self) -> dict[str, object]:
        """Every field plus ``swaps_per_second`` and ``swaps_per_cpu_second`` (JSON-ready:
        ints, floats, strings, lists, dicts, ``None``)."""
        d = asdict(self)
        d["inferred_range"] = list(self.inferred_range) if self.inferred_range else None
        d["swaps_per_second"] = self.swaps_per_second
        d["swaps_per_cpu_second"] = self.swaps_per_cpu_second
        return d


def format_result(result: UniswapV3ReplayResult) -> str:
    """A short human summary of a :class:`UniswapV3ReplayResult`, several lines, no trailing
    newline; lists at most 20 unmatched rows."""
    r = result
    pct = 100 * r.swaps_matched / r.swaps if r.swaps else 100.0
    rng = f" ({r.inferred_range[0]:,} to {r.inferred_range[1]:,})" if r.inferred_range else ""
    lines = [
        f"events          {r.events:,} ({r.events_checked:,} checked, {r.events_matched:,} "
        f"matched; {r.collects:,} collects and {r.unchecked:,} seed rows not checked)",
        f"swaps           {r.swaps_matched:,} of {r.swaps:,} reproduced to the wei ({pct:.2f} %): "
        f"{r.exact_input:,} exact in, {r.exact_output:,} exact out, {r.price_limit:,} "
        f"price limit",
        f"mints / burns   {r.mints_matched:,} of {r.mints:,} mints, {r.burns_matched:,} of "
        f"{r.burns:,} burns, {r.pokes_matched:,} of {r.pokes:,} pokes",
        f"ticks           {r.inferred_ticks:,} nets inferred{rng} from "
        f"{r.liquidity_changing_swaps:,} liquidity-changing swaps "
        f"({r.single_candidate_swaps:,} with one candidate tick); "
        f"{len(r.unresolved_ticks):,} only seen summed",
        f"speed           {r.swaps_per_second:,.0f} swaps/s replay on {r.backend} "
        f"({r.seconds:.3f} s wall, "
        f"{r.cpu_seconds:.3f} s CPU), parse {r.parse_seconds:.3f} s",
    ]
    if r.resyncs:
        lines.append(f"resyncs         {r.resyncs:,} (pool state reset from the row after a miss)")
    for u in r.unmatched[:20]:
        lines.append(
            f"unmatched       row {u['row']} (block {u['block']}, log {u['log_index']}, "
            f"{u['type']}): {u['reason']}"
        )
    if len(r.unmatched) > 20:
        lines.append(f"unmatched       ... and {len(r.unmatched) - 20} more")
    return "\n".join(lines)


# -- pass 2: replay ------------------------------------------------------------------------------


def _set_net(pool: V3Pool, tick: int, net: int) -> None:
    """Give ``tick`` the ``liquidityNet`` ``net``: initialised (bitmap bit and
    :class:`TickInfo`, placeholder gross) while ``net != 0``, uninitialised at 0."""
    info = pool.ticks.get(tick)
    if net == 0:
        if info is not None:
            del pool.ticks[tick]
            flip_tick(pool.bitmap, tick, pool.tick_spacing)
    elif info is None:
        flip_tick(pool.bitmap, tick, pool.tick_spacing)
        pool.ticks[tick] = TickInfo(abs(net), net)
    else:
        info.liquidity_net = net
        info.liquidity_gross = abs(net)


def replay_uniswap_v3(
    tick_csv: str | os.PathLike[str],
    fee: int = 500,
    tick_spacing: int | None = None,
    backend: str = "python",
) -> UniswapV3ReplayResult:
    """Replay a ``tick.csv`` day through one :class:`V3Pool` and check every event (spec 4.7).

    Args:
        tick_csv: path of the demeter-fetch ``tick.csv`` (see :func:`read_tick_csv`).
        fee: the pool's fee in hundredths of a bip (500 = 0.05 %).
        tick_spacing: ``None`` takes the fee tier's (500 → 10).
        backend: ``"python"`` runs the swaps through :class:`V3Pool`; ``"evm"`` through the
            official ``UniswapV3Pool`` bytecode on the embedded EVM
            (:mod:`defisim.replay.uniswap_v3_evm`; needs the ``evm`` extra and the npm
            artifacts), with the same state imposed from the file.

    Returns:
        :class:`UniswapV3ReplayResult`. On the 2024-01-05 USDC/WETH file: 6,032 of 6,045
        swaps reproduced (5,227 exact in, 614 exact out, 191 price limit), 54/54 mints,
        55/55 non-zero burns, 14/14 pokes, 32 inferred ticks, 13 resyncs.

    Raises:
        FileNotFoundError: no such file.
        UniswapV3FormatError: a malformed file (see :func:`read_tick_csv`), or no SWAP row
            (nothing to start the pool from).
        ValueError: an unknown ``backend``.
    """
    if backend not in ("python", "evm"):
        raise ValueError(f"unknown replay backend {backend!r}; known: 'python', 'evm'")
    t0 = time.perf_counter()
    ev = read_tick_csv(tick_csv)
    parse_seconds = time.perf_counter() - t0
    if SWAP not in ev.kind:
        raise UniswapV3FormatError(f"{ev.path}: no SWAP row, so no pool state to start from")
    w0, c0 = time.perf_counter(), time.process_time()
    nets = infer_tick_nets(ev, V3Pool(fee, tick_spacing).tick_spacing)
    if backend == "evm":
        from .uniswap_v3_evm import EvmReplay

        rep: _Replay = EvmReplay(ev, fee, tick_spacing, nets)
    else:
        rep = _Replay(ev, fee, tick_spacing, nets)
    rep.run()
    seconds, cpu = time.perf_counter() - w0, time.process_time() - c0
    base = nets.base
    unresolved = sorted({t for c in nets.unresolved.values() for t in c if t not in base})
    n = len(ev)
    return UniswapV3ReplayResult(
        events=n,
        events_checked=rep.swaps + rep.mints + rep.burns + rep.pokes,
        events_matched=rep.swaps_matched
        + rep.mints_matched
        + rep.burns_matched
        + rep.pokes_matched,
        swaps=rep.swaps,
        swaps_matched=rep.swaps_matched,
        exact_input=rep.exact_input,
        exact_output=rep.exact_output,
        price_limit=rep.price_limit,
        mints=rep.mints,
        mints_matched=rep.mints_matched,
        burns=rep.burns,
        burns_matched=rep.burns_matched,
        pokes=rep.pokes,
        pokes_matched=rep.pokes_matched,
        collects=rep.collects,
        unchecked=rep.unchecked,
        inferred_ticks=len(base),
        inferred_range=(min(base), max(base)) if base else None,
        unresolved_ticks=unresolved,
        liquidity_changing_swaps=nets.equations,
        single_candidate_swaps=nets.single,
        net_conflicts=len(nets.conflicts),
        resyncs=rep.resyncs,
        unmatched=rep.unmatched,
        seconds=seconds,
        cpu_seconds=cpu,
        parse_seconds=parse_seconds,
        tick_csv=ev.path,
        backend=backend,
    )


class _Replay:
    """Pass 2 state; :meth:`run` is the hot loop, :meth:`miss` its slow path.

    The swaps run on :class:`V3Pool`'s swap loop. A subclass may run them elsewhere
    (:class:`~defisim.replay.uniswap_v3_evm.EvmReplay`): it overrides :meth:`quoter`
    and :attr:`commit` and is told of every state the replay imposes (:meth:`imposed`);
    ``pool`` stays the Python mirror of the imposed state either way.
    """

    commit = None
    """``commit(zfo, amount, limit)``: apply the swap that matched (Python: ``None``, the
    replay sets the mirror's price, tick and liquidity from the row itself)."""

    def quoter(self, pool: V3Pool):
        """``quote(zfo, amount, limit) -> (amount0, amount1, sqrtPriceX96, tick, liquidity)``
        or ``None`` when the swap reverts; changes nothing."""
        compute = pool._swap_compute

        def quote(zfo: bool, amount: int, limit: int | None):
            try:
                return compute(zfo, amount, limit)[:5]
            except PoolError:
                return None

        return quote

    def imposed(self, pool: V3Pool, ticks: tuple[int, ...] | None, price: bool) -> None:
        """The replay set state on ``pool`` from the file: the nets of ``ticks`` (``None``:
        every tick) and the liquidity, and with ``price`` the price and tick."""

    def __init__(self, ev: UniswapV3Events, fee: int, tick_spacing: int | None, nets: TickNets):
        self.ev = ev
        self.fee = fee
        self.tick_spacing = tick_spacing
        self.nets = nets
        self.swaps = self.swaps_matched = 0
        self.exact_input = self.exact_output = self.price_limit = 0
        self.mints = self.mints_matched = self.burns = self.burns_matched = 0
        self.pokes = self.pokes_matched = self.collects = self.unchecked = 0
        self.resyncs = 0
        self.unmatched: list[dict[str, int | str]] = []

    def record(self, i: int, reason: str) -> None:
        ev = self.ev
        self.unmatched.append(
            {
                "row": i,
                "line": i + 2,
                "block": ev.block[i],
                "log_index": ev.log_index[i],
                "type": ("SWAP", "MINT", "BURN", "COLLECT")[ev.kind[i]],
                "reason": reason,
            }
        )

    def miss(self, pool: V3Pool, i: int, zfo: bool | None) -> None:
        """Explain an unmatched swap, then resynchronise the pool from its row."""
        ev = self.ev
        want_l = ev.total_liquidity[i]
        if zfo is None:
            reason = "no positive amount: not a swap the pool can run"
        else:
            cands = list(crossed_ticks(pool.tick, ev.tick[i], zfo, pool.tick_spacing))
            unknown = [t for t in cands if t not in self.nets.base]
            if unknown and (want_l != pool.liquidity or len(unknown) > 1):
                names = ", ".join(str(t) for t in unknown)
                reason = (
                    f"crosses {len(cands)} ticks ({cands[0]} to {cands[-1]}), {len(unknown)} of "
                    f"them ({names}) with nets only ever seen summed, so their individual nets "
                    f"are unknown"
                )
            else:
                reason = (
                    "no exact-input, exact-output or price-limited swap from the replayed state "
                    "reproduces it"
                )
        self.record(i, reason)
        pool.sqrt_price_x96 = ev.sqrt_price_x96[i]
        pool.tick = ev.tick[i]
        pool.liquidity = want_l
        self.resyncs += 1
        self.imposed(pool, (), True)

    def run(self) -> None:
        ev = self.ev
        kind = ev.kind
        first = kind.index(SWAP)
        self.unchecked = first + 1
        pool = V3Pool.from_observed(
            self.fee,
            ev.sqrt_price_x96[first],
            ev.tick[first],
            ev.total_liquidity[first],
            self.tick_spacing,
        )
        # nets at the seed row: base + the MINT/BURN deltas of the rows before it
        deltas: dict[int, int] = {}
        for i in range(first):
            if kind[i] == MINT or kind[i] == BURN:
                d = ev.liquidity[i] if kind[i] == MINT else -ev.liquidity[i]
                deltas[ev.tick_lower[i]] = deltas.get(ev.tick_lower[i], 0) + d
                deltas[ev.tick_upper[i]] = deltas.get(ev.tick_upper[i], 0) - d
        for t, b in self.nets.base.items():
            _set_net(pool, t, b + deltas.get(t, 0))
        self.imposed(pool, None, True)
        ticks = pool.ticks
        quote = self.quoter(pool)
        commit = self.commit

        a0s, a1s, ls = ev.amount0, ev.amount1, ev.total_liquidity
        ps, ts = ev.sqrt_price_x96, ev.tick
        swaps = exact_input = exact_output = price_limit = 0
        for i in range(first + 1, len(kind)):
            k = kind[i]
            if k == SWAP:
                swaps += 1
                a0, a1, p, t, liq = a0s[i], a1s[i], ps[i], ts[i], ls[i]
                want = (a0, a1, p, t, liq)
                if a0 > 0:
                    zfo, amount_in, amount_out = True, a0, a1
                elif a1 > 0:
                    zfo, amount_in, amount_out = False, a1, a0
                else:
                    self.miss(pool, i, None)
                    continue
                if quote(zfo, amount_in, None) == want:
                    exact_input += 1
                    limit = None
                elif amount_out < 0 and quote(zfo, amount_out, None) == want:
                    exact_output += 1
                    amount_in, limit = amount_out, None
                elif (
                    (p < pool.sqrt_price_x96 if zfo else p > pool.sqrt_price_x96)
                    and MIN_SQRT_RATIO < p < MAX_SQRT_RATIO
                    and quote(zfo, amount_in, p) == want
                ):
                    price_limit += 1
                    limit = p
                else:
                    self.miss(pool, i, zfo)
                    continue
                if commit is not None:
                    commit(zfo, amount_in, limit)
                pool.sqrt_price_x96 = p
                pool.tick = t
                pool.liquidity = liq
            elif k == MINT or k == BURN:
                self.modify(pool, ticks, i, k)
            else:
                self.collects += 1
        self.swaps = swaps
        self.exact_input = exact_input
        self.exact_output = exact_output
        self.price_limit = price_limit
        self.swaps_matched = exact_input + exact_output + price_limit

    def modify(self, pool: V3Pool, ticks: dict, i: int, k: int) -> None:
        """A MINT or BURN row: check its amounts from the replayed price and tick (spec 2.9),
        then move the two ticks' nets and, in range, the active liquidity."""
        ev = self.ev
        amount = ev.liquidity[i]
        lo, up = ev.tick_lower[i], ev.tick_upper[i]
        if amount == 0:
            if k == MINT:  # the contract reverts a zero mint; count it as a mismatch
                self.mints += 1
                self.record(i, "MINT of zero liquidity")
                return
            self.pokes += 1
            if ev.amount0[i] == 0 and ev.amount1[i] == 0:
                self.pokes_matched += 1
            else:
                self.record(i, "zero-liquidity BURN with non-zero amounts")
            return
        d = amount if k == MINT else -amount
        tick, sp = pool.tick, pool.sqrt_price_x96
        sl, su = get_sqrt_ratio_at_tick(lo), get_sqrt_ratio_at_tick(up)
        a0 = a1 = 0
        if tick < lo:
            a0 = get_amount0_delta_signed(sl, su, d)
        elif tick < up:
            a0 = get_amount0_delta_signed(sp, su, d)
            a1 = get_amount1_delta_signed(sl, sp, d)
            pool.liquidity += d
        else:
            a1 = get_amount1_delta_signed(sl, su, d)
        if k == BURN:
            a0, a1 = -a0, -a1
        ok = a0 == ev.amount0[i] and a1 == ev.amount1[i]
        if k == MINT:
            self.mints += 1
            self.mints_matched += ok
        else:
            self.burns += 1
            self.burns_matched += ok
        if not ok:
            self.record(
                i,
                f"amounts ({a0}, {a1}) from the replayed state, file has "
                f"({ev.amount0[i]}, {ev.amount1[i]})",
            )
        for t, dn in ((lo, d), (up, -d)):
            info = ticks.get(t)
            _set_net(pool, t, (info.liquidity_net if info is not None else 0) + dn)
        self.imposed(pool, (lo, up), False)
