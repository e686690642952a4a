"""A real day of Uniswap V3 pool events as an agent: the day's liquidity and swaps, sent
into a simulated pool as transactions (``uniswap_v3_day``).

:class:`HistoricPoolFlow` owns two things:

- **The liquidity that existed before the day** (unknown on chain at this resolution;
  inferred from the file, spec ``amm.md`` 4.7, :func:`~defisim.prices.uniswap_v3_events.infer_tick_nets`):
  the active liquidity of the first swap and the inferred ``liquidityNet`` of each tick
  give a piecewise-constant liquidity profile; the agent mints one position per piece.
  Beyond the outermost inferred ticks the edge liquidity is extended ``edge_ticks``
  further (the file never shows it: an assumption, stated in the scenario).
- **The day's events**, each sent when the run's clock reaches its block time:
  SWAP rows as exact-input swaps of their positive amount (the file does not say which
  were exact output; spec 4.7 finds both give the same amounts in most cases), MINT rows
  as mints of the same liquidity and range, non-zero BURN rows as burns: from a position
  minted today in that range, else from the pre-day pieces inside the range (the day's
  burns of older positions). COLLECT rows and zero-liquidity pokes move no liquidity and
  are skipped.

Amounts are the file's raw integers, sent as raw transactions (``Transaction(party,
"amm", ...)``), so nothing is lost to float conversion. Counters: ``swaps_sent``,
``swaps_rejected`` (e.g. when added liquidity changed the path), ``mints``, ``burns``,
``burn_shortfall`` (liquidity a burn could not find, liquidity units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defisim.agents.base import Agent
from defisim.chain.transactions import Transaction
from defisim.prices.uniswap_v3_events import BURN, MINT, SWAP, TickNets, UniswapV3Events

if TYPE_CHECKING:
    from defisim.service import Simulation

_NEVER = (1 << 256) - 1


def liquidity_profile(first_tick: int, first_liquidity: int, nets: dict[int, int],
                      edge_ticks: int, spacing: int) -> list[tuple[int, int, int]]:
    """The pieces ``(tick_lower, tick_upper, liquidity)`` of a piecewise-constant
    liquidity profile: ``first_liquidity`` in the piece holding ``first_tick``, and
    crossing tick T upwards adds ``nets[T]`` (downwards subtracts it; spec 2.7). Ticks
    with net 0 are dropped (they would split swap steps for nothing); the outermost
    pieces extend ``edge_ticks`` beyond the outermost ticks (rounded to ``spacing``).
    Pieces with zero liquidity are left out.

    Raises:
        ValueError: a piece would have negative liquidity (inconsistent nets).
    """
    ticks = sorted(t for t, n in nets.items() if n != 0)
    edge = max(spacing, edge_ticks // spacing * spacing)
    if not ticks:
        lo = (first_tick // spacing) * spacing - edge
        return [(lo, lo + 2 * edge, first_liquidity)] if first_liquidity else []
    bounds = [ticks[0] - edge, *ticks, ticks[-1] + edge]
    # the piece holding first_tick: bounds[k] <= first_tick < bounds[k + 1]
    k = max(0, min(len(bounds) - 2, sum(1 for b in bounds[1:-1] if b <= first_tick)))
    levels = [0] * (len(bounds) - 1)
    levels[k] = first_liquidity
    for j in range(k + 1, len(levels)):
        levels[j] = levels[j - 1] + nets[bounds[j]]
    for j in range(k - 1, -1, -1):
        levels[j] = levels[j + 1] - nets[bounds[j + 1]]
    pieces = []
    for j, level in enumerate(levels):
        if level < 0:
            raise ValueError(f"liquidity profile is negative ({level}) on "
                             f"[{bounds[j]}, {bounds[j + 1]}): inconsistent tick nets")
        if level:
            pieces.append((bounds[j], bounds[j + 1], level))
    return pieces


class HistoricPoolFlow(Agent):
    """Sends a real day's V3 pool events into ``pool_id`` (module docstring).

    Args:
        name: agent and party name.
        events: the parsed file (:func:`~defisim.prices.uniswap_v3_events.read_tick_csv`,
            with ``timestamp``).
        nets: the inferred tick nets (:func:`~defisim.prices.uniswap_v3_events.infer_tick_nets`).
        pool_id: the simulated pool (its token0/token1 must be the file's).
        start_row: the row whose post-swap state the pool was created at (its own swap
            is not sent again); rows before it are skipped.
        time_origin_s: the Unix time of the run's time 0.
        edge_ticks: how far the outermost inferred liquidity is extended.
        spacing: the pool's tick spacing.
        funding: raw amounts ``(token0, token1)`` the party is minted to pay for the day.
    """

    phase = 1

    def __init__(self, name: str, events: UniswapV3Events, nets: TickNets, pool_id: str,
                 start_row: int, time_origin_s: int, edge_ticks: int = 2000, spacing: int = 10,
                 funding: tuple[int, int] = (10**20, 10**32)) -> None:
        super().__init__(name)
        if not events.timestamp:
            raise ValueError(f"{events.path}: the file has no block_timestamp column")
        self.events = events
        self.nets = nets
        self.pool_id = pool_id
        self.start_row = start_row
        self.time_origin_s = time_origin_s
        self.edge_ticks = edge_ticks
        self.spacing = spacing
        self.funding = funding
        self.next_row = start_row + 1
        self.assets: tuple[str, str] = ("", "")
        self.pieces: dict[tuple[int, int], int] = {}
        self.today: dict[tuple[int, int], int] = {}
        self.swaps_sent = 0
        self.swaps_rejected = 0
        self.mints = 0
        self.burns = 0
        self.burn_shortfall = 0
        self.last_row_sqrt_price = events.sqrt_price_x96[start_row]

    def initialise(self, sim: Simulation) -> None:
        view = sim.amm.pool_view(self.pool_id)
        self.assets = view.assets
        sim.create_party(self.name)
        for asset, amount in zip(self.assets, self.funding, strict=True):
            sim.mint_raw(self.name, asset, amount)
        ev, i = self.events, self.start_row
        for lo, up, liq in liquidity_profile(ev.tick[i], ev.total_liquidity[i], self.nets.base,
                                             self.edge_ticks, self.spacing):
            r = self._mint(sim, lo, up, liq)
            if r.accepted:
                self.pieces[(lo, up)] = liq

    def _send(self, sim: Simulation, call: str, *args):
        return sim.send(Transaction(self.name, "amm", call, args))

    def _mint(self, sim: Simulation, lo: int, up: int, liq: int):
        return self._send(sim, "v3_mint", self.pool_id, lo, up, _NEVER >> 1, _NEVER >> 1, 0, 0,
                          _NEVER, liq)

    def _burn(self, sim: Simulation, lo: int, up: int, liq: int) -> None:
        if liq > 0:
            self._send(sim, "v3_burn", self.pool_id, lo, up, liq, 0, 0, _NEVER, True)

    def step(self, sim: Simulation) -> None:
        ev = self.events
        now = self.time_origin_s + sim.now
        n = len(ev)
        t0, t1 = self.assets
        while self.next_row < n and ev.timestamp[self.next_row] <= now:
            i = self.next_row
            self.next_row += 1
            k = ev.kind[i]
            if k == SWAP:
                a0, a1 = ev.amount0[i], ev.amount1[i]
                if a0 > 0:
                    r = self._send(sim, "swap", self.pool_id, t0, t1, a0, 0, True, _NEVER, 0)
                elif a1 > 0:
                    r = self._send(sim, "swap", self.pool_id, t1, t0, a1, 0, True, _NEVER, 0)
                else:
                    continue
                self.swaps_sent += 1
                self.swaps_rejected += r.status == "REJECTED"
                self.last_row_sqrt_price = ev.sqrt_price_x96[i]
            elif k == MINT and ev.liquidity[i] > 0:
                key = (ev.tick_lower[i], ev.tick_upper[i])
                if self._mint(sim, *key, ev.liquidity[i]).accepted:
                    self.today[key] = self.today.get(key, 0) + ev.liquidity[i]
                    self.mints += 1
            elif k == BURN and ev.liquidity[i] > 0:
                self._apply_burn(sim, ev.tick_lower[i], ev.tick_upper[i], ev.liquidity[i])

    def _apply_burn(self, sim: Simulation, lo: int, up: int, liq: int) -> None:
        self.burns += 1
        held = self.today.get((lo, up), 0)
        take = min(held, liq)
        if take:
            self._burn(sim, lo, up, take)
            self.today[(lo, up)] = held - take
            liq -= take
        if not liq:
            return
        # an older position: take the liquidity from the pre-day pieces inside [lo, up)
        inside = [(a, b) for (a, b) in self.pieces if lo <= a and b <= up]
        if not inside:
            self.burn_shortfall += liq
            return
        for a, b in inside:
            have = self.pieces[(a, b)]
            cut = min(have, liq)
            self._burn(sim, a, b, cut)
            self.pieces[(a, b)] = have - cut
            if cut < liq:
                self.burn_shortfall = max(self.burn_shortfall, liq - cut)

    @property
    def done(self) -> bool:
        """Every row of the file has been sent."""
        return self.next_row >= len(self.events)


__all__ = ["HistoricPoolFlow", "liquidity_profile"]
