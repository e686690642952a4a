"""Routers: split what a router holds among its receivers by fixed fractions.

Source: TokenSPICE ``agents/RouterAgent.py`` (spec ``token-netlists.md`` 2.1: each step
a router sends ``fraction * balance`` of each asset to each receiver, in dict order).
Here fractions are exact: each is stored in parts per ``10**18`` (:data:`WAD`),
converted from its decimal text (``0.95`` is exactly ``95 * 10**16``). They must be
> 0 and sum to at most 1.

``route(asset)`` splits the router's whole balance ``B`` of ``asset``:

- receiver ``i`` gets ``B * w_i // WAD`` (round down), in declaration order;
- **dust rule**: when the fractions sum to exactly 1, the last receiver gets
  ``B`` minus what the others got (so the router ends at exactly 0); when they sum to
  less than 1, the rest (the undeclared share and the rounding dust) stays in the
  router for the next ``route``.

A receiver is a party (its general account) or a router or vesting wallet of the
same protocol (its account): routers chain, as TokenSPICE's ``opc_address`` ->
``ocean_dao`` -> ``opc_workers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAD = 10**18
"""One, in the fixed point of fractions."""


@dataclass(slots=True)
class Router:
    """One router's books: its receivers' fractions (WAD) and what it holds and routed
    per asset (base units)."""

    router_id: str
    receivers: tuple[tuple[str, int], ...]
    held: dict[str, int] = field(default_factory=dict)
    routed: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    @property
    def total_wad(self) -> int:
        return sum(w for _, w in self.receivers)

    def split(self, balance: int) -> list[tuple[str, int]]:
        """``[(receiver, amount)]`` for routing ``balance`` (see the module's dust rule)."""
        out = [(r, balance * w // WAD) for r, w in self.receivers]
        if self.total_wad == WAD and out:
            last, _ = out[-1]
            out[-1] = (last, balance - sum(a for _, a in out[:-1]))
        return out

    def record_in(self, asset: str, amount: int) -> None:
        self.held[asset] = self.held.get(asset, 0) + amount
        self.received[asset] = self.received.get(asset, 0) + amount

    def record_out(self, asset: str, amount: int) -> None:
        self.held[asset] = self.held.get(asset, 0) - amount
        self.routed[asset] = self.routed.get(asset, 0) + amount
