"""Random fuzz transactions of every kind (:class:`TxGenerator`), in the mix of an
agent profile (:data:`PROFILES`, :data:`PROFILE_KINDS`)."""

from __future__ import annotations

import math
from itertools import islice
from typing import TYPE_CHECKING, Any

from .draws import Draw, chance, pick, weighted
from .log import RECENT_ORDERS

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .context import FuzzContext, MarketInfo

PROFILES = ("maker", "taker", "leverage", "lp", "chaos", "oracle", "governor")
"""Agent profiles: the mix of transaction kinds they send (:data:`PROFILE_KINDS`)."""

PROFILE_KINDS: dict[str, tuple[tuple[str, int], ...]] = {
    "maker": (("order", 76), ("amend", 12), ("cancel", 8), ("cancel_all", 1), ("order_human", 3)),
    "taker": (("order", 86), ("order_human", 5), ("amend", 3), ("cancel", 3), ("transfer", 3)),
    "leverage": (("order", 86), ("cancel_all", 4), ("mint", 10)),
    "lp": (("lp_submit", 10), ("lp_amend", 12), ("lp_cancel", 3), ("order", 63), ("amend", 6),
           ("cancel", 6)),
    "chaos": (("order", 25), ("order_human", 15), ("amend", 12), ("cancel", 8), ("cancel_all", 3),
              ("lp_submit", 6), ("lp_amend", 5), ("lp_cancel", 3), ("oracle", 5), ("transfer", 5),
              ("burn", 3), ("mint", 4), ("governance", 4), ("close", 1), ("terminate", 1),
              ("settle", 1)),
    "oracle": (("oracle", 95), ("order_human", 5)),
    "governor": (("governance", 70), ("close", 20), ("oracle", 10)),
}

BAD_PARTIES = ("ghost", "network", "")
BAD_MARKETS = ("NOPE", "")


class TxGenerator:
    """Random transactions of every kind over a :class:`FuzzContext`.

    Every choice goes through ``draw``; ``sim`` is only read (prices, orders,
    balances) so that most transactions are plausible: orders near the mark price,
    amendments and cancels of live orders, commitments a party can afford. With
    probability ``ctx.invalid_p`` one field is malformed on purpose, with
    ``ctx.extreme_p`` a price or size is extreme (one tick, 50x, 2^61, ...).
    """

    def __init__(self, ctx: FuzzContext) -> None:
        self.ctx = ctx
        self._invalid = ctx.invalid_p

    # ------------------------------------------------------------------ entry point
    def generate(self, profile: str, sim: Simulation, draw: Draw, party: str) -> dict:
        """One transaction of a kind drawn from ``profile``'s mix, sent by ``party``."""
        kinds = PROFILE_KINDS[profile]
        if not self.ctx.governance:
            kinds = tuple((k, w) for k, w in kinds if k not in ("governance", "close"))
            kinds = kinds or (("oracle", 1),)
        if profile in ("maker", "lp"):  # keep books bounded: past 60 live orders, cancel the oldest
            mine = sim.futures.open_orders(party)
            if len(mine) > 60:
                return {"kind": "cancel", "party": party, "market": mine[0].market,
                        **self.ctx.log.order_ref(mine[0].order_id)}
        kind = weighted(draw, kinds)
        return self.make(kind, profile, sim, draw, party)

    def make(self, kind: str, profile: str, sim: Simulation, draw: Draw, party: str) -> dict:
        """One transaction of ``kind`` (a chaos agent malforms 5 times as often)."""
        p = self.ctx.invalid_p
        self._invalid = max(p, min(0.5, 5 * p)) if profile == "chaos" else p
        info = pick(draw, list(self.ctx.markets.values()))
        fn = getattr(self, f"_gen_{kind}")
        return fn(profile, sim, draw, party, info)

    # ------------------------------------------------------------------ prices/sizes
    def bad(self, draw: Draw) -> bool:
        return chance(draw, self._invalid)

    def reference(self, sim: Simulation, draw: Draw, info: MarketInfo) -> int:
        """A raw reference price: mostly the mark (or mid), sometimes the base price; a
        mark more than 4x away from the base is pulled halfway back (geometrically), so
        that quotes walk a market that wandered off back towards its base."""
        m = info.market
        ref = 0
        if not chance(draw, 0.15):
            ref = sim.futures.mark_price(m, raw=True) or 0
            if not ref or chance(draw, 0.2):
                bid, ask = sim.futures.best_prices(m, raw=True)
                if bid is not None and ask is not None:
                    ref = (bid + ask) // 2
        base = info.base_price
        if ref and not base // 4 <= ref <= base * 4:
            ref = math.isqrt(ref * base)
        return info.on_tick(ref or base)

    def offset_ticks(self, draw: Draw, ref: int, info: MarketInfo) -> int:
        bps = weighted(draw, (((0, 20), 60), ((20, 300), 32), ((300, 5000), 8)))
        bps = draw.integer(*bps)
        return max(0, round(ref * bps / 10_000 / info.tick))

    def price(self, sim: Simulation, draw: Draw, info: MarketInfo, side: int,
              aggressive: bool, resting: bool = True) -> int:
        """A raw limit price on the tick grid: passive below (buys) or above (sells) the
        reference, aggressive across it; sometimes extreme.

        Extreme prices (one tick, 1/50, 50x, 10^15, 2^61 of the reference) go to orders
        that cannot rest (IOC, FOK). An order that may rest (``resting``, or any order in
        an auction) gets a moderate extreme (2x or 1/2) except with probability
        ``ctx.wild_p``: a resting order at 2^61 distorts the mid that pegs and the network
        party's disposal price from, and a buy there needs no margin when it reduces a
        short, so an auction uncrosses at the midpoint of 2^61 and the reference; either
        way the market ends at a mark price where every later order fails its margin
        check, for the rest of the run."""
        ref = self.reference(sim, draw, info)
        if chance(draw, self.ctx.extreme_p):
            high = (10**15, ref * 50, 2**61)
            low = (info.tick, ref // 50)
            up = side > 0 if aggressive else side < 0  # away from the reference upwards?
            if (resting or sim.futures.in_auction(info.market)) and not chance(draw, self.ctx.wild_p):
                return info.on_tick(ref * 2 if up else ref // 2)
            return info.on_tick(pick(draw, high if up else low))
        k = self.offset_ticks(draw, ref, info)
        sign = side if aggressive else -side
        return info.on_tick(ref + sign * k * info.tick)

    def size(self, draw: Draw, info: MarketInfo) -> int:
        lot = info.lot
        if chance(draw, self.ctx.extreme_p):
            return pick(draw, (lot * 10**9, 2**62, info.position_factor * 10**6, 1))
        lo, hi = weighted(draw, (((1, 20), 60), ((20, 200), 35), ((1, 1), 5)))
        return lot * draw.integer(lo, hi)

    def leveraged_size(self, sim: Simulation, draw: Draw, info: MarketInfo, party: str) -> int:
        """A size worth ``L`` (mostly 1 to 8, sometimes up to 30) times the party's equity
        at the reference price: near and beyond what its margin allows."""
        equity = sim.equity(party, info.asset, raw=True)
        ref = self.reference(sim, draw, info)
        lev = draw.integer(*weighted(draw, (((1, 8), 80), ((8, 30), 20))))
        size = lev * equity * info.position_factor // (ref * info.price_factor)
        return max(1, size)

    def choose_order(self, sim: Simulation, draw: Draw, party: str, info: MarketInfo,
                     ) -> tuple[dict, Any, MarketInfo]:
        """A target order: ``({"ref"/"order_id"}, its OrderView or None, its market)``;
        mostly one of the party's live orders (in any market), sometimes another
        party's, a dead one or a made-up id (in ``info``'s market)."""
        which = weighted(draw, (("mine", 85), ("other", 5), ("bogus", 10)))
        if which == "mine":
            mine = sim.futures.open_orders(party) if party in sim.parties else []
            if mine:
                v = pick(draw, mine)
                return self.ctx.log.order_ref(v.order_id), v, self.ctx.markets.get(v.market, info)
        if which == "other":
            others = sim.futures.open_orders(market=info.market)
            if others:
                v = pick(draw, others)
                return self.ctx.log.order_ref(v.order_id), v, info
        log = self.ctx.log
        if log.tx_of_order and chance(draw, 0.5):  # an order some transaction created (maybe dead)
            oid = pick(draw, list(islice(reversed(log.tx_of_order), RECENT_ORDERS)))  # the 50 latest
            return log.order_ref(oid), None, info
        return {"order_id": pick(draw, (0, -1, 10**9, 2**63))}, None, info

    # -------------------------------------------------------------------- orders
    def _gen_order(self, profile: str, sim: Simulation, draw: Draw, party: str,
                   info: MarketInfo) -> dict:
        side = pick(draw, (1, -1))
        if profile == "maker":
            aggressive = chance(draw, 0.05)
            otype = weighted(draw, (("LIMIT", 85), ("PEGGED", 15)))
        elif profile in ("taker", "leverage"):
            aggressive = chance(draw, 0.9)
            otype = weighted(draw, (("LIMIT", 60), ("MARKET", 35), ("PEGGED", 5)))
        elif profile == "lp":
            aggressive = False
            otype = weighted(draw, (("LIMIT", 70), ("PEGGED", 30)))
        else:
            aggressive = chance(draw, 0.5)
            otype = weighted(draw, (("LIMIT", 60), ("MARKET", 20), ("PEGGED", 20)))
        tx: dict[str, Any] = {"kind": "order", "party": party, "market": info.market, "side": side,
                              "type": otype}
        if otype == "LIMIT":
            tx["tif"] = weighted(draw, (("GTC", 40), ("GTT", 15), ("IOC", 15), ("FOK", 10),
                                        ("GFA", 10), ("GFN", 10)))
            if profile in ("taker", "leverage") and aggressive:
                tx["tif"] = weighted(draw, (("IOC", 50), ("FOK", 20), ("GTC", 25), ("GFN", 5)))
            tx["price"] = self.price(sim, draw, info, side, aggressive,
                                     resting=tx["tif"] not in ("IOC", "FOK"))
        elif otype == "MARKET":
            tx["tif"] = weighted(draw, (("IOC", 60), ("FOK", 40)))
        else:
            tx["tif"] = weighted(draw, (("GTC", 60), ("GTT", 30), ("GFA", 10)))
            ref = weighted(draw, ((("BEST_BID" if side > 0 else "BEST_ASK"), 70), ("MID", 30)))
            k = draw.integer(1 if ref == "MID" else 0, 20)
            tx["peg_reference"], tx["peg_offset"] = ref, k * info.tick
        if tx["tif"] == "GTT" or tx["tif"] in ("GFA", "GFN") and chance(draw, 0.1):
            tx["expires_in_ns"] = draw.integer(1, 30) * 1_000_000_000
        if profile == "leverage":
            tx["size"] = self.leveraged_size(sim, draw, info, party)
        elif profile == "taker" and chance(draw, 0.1):  # a sweep through the book
            depth = sim.futures.market_depth(info.market, 5, raw=True)
            vol = sum(v for _, v in depth["asks" if side > 0 else "bids"])
            tx["size"] = max(vol, info.lot)
        else:
            tx["size"] = self.size(draw, info)
        if otype == "LIMIT" and tx["tif"] in ("GTC", "GTT", "GFN", "GFA") and chance(draw, 0.1):
            tx["post_only"] = True
        if tx["tif"] in ("IOC", "FOK") and chance(draw, 0.15):
            tx["reduce_only"] = True
        if self.bad(draw):
            self._spoil_order(draw, tx, info)
        return tx

    def _spoil_order(self, draw: Draw, tx: dict, info: MarketInfo) -> None:
        """Make one field of an order invalid (or an invalid combination)."""
        what = pick(draw, ("side", "size", "price", "tick", "type", "tif", "expiry", "flags",
                           "party", "market", "peg", "market_price"))
        if what == "side":
            tx["side"] = pick(draw, (0, 2, -7))
        elif what == "size":
            tx["size"] = pick(draw, (0, -1, -info.lot))
        elif what == "price":
            tx["type"], tx["price"] = "LIMIT", pick(draw, (0, -info.tick, -(2**61)))
            tx.setdefault("tif", "GTC")
        elif what == "tick":  # off the tick grid (a zero price where every price is on it)
            tx["type"] = "LIMIT"
            tx["price"] = info.base_price + 1 if info.tick > 1 else 0
        elif what == "type":
            tx["type"] = pick(draw, ("STOP", "limit", "NETWORK", ""))
        elif what == "tif":
            tx["tif"] = pick(draw, ("GTX", "", "GFA", "GFN", "IOC", "GTT"))
            tx.pop("expires_in_ns", None)
        elif what == "expiry":
            tx["expires_in_ns"] = pick(draw, (0, -1_000_000_000, -(2**62)))
            tx["tif"] = pick(draw, ("GTT", "GTC", "IOC"))
        elif what == "flags":
            tx["post_only"], tx["reduce_only"] = pick(draw, ((True, True), (True, False),
                                                            (False, True)))
            tx["tif"] = pick(draw, ("GTC", "IOC", "FOK"))
        elif what == "party":
            tx["party"] = pick(draw, BAD_PARTIES)
        elif what == "market":
            tx["market"] = pick(draw, BAD_MARKETS)
        elif what == "peg":
            tx["type"] = "PEGGED"
            tx["tif"] = "GTC"
            tx["peg_reference"], tx["peg_offset"] = pick(draw, (
                ("BEST_ASK" if tx["side"] > 0 else "BEST_BID", 0), ("MID", 0), ("FOO", 0),
                ("BEST_BID" if tx["side"] > 0 else "BEST_ASK", -info.tick),
                ("MID", info.tick + 1 if info.tick > 1 else -1)))
            tx.pop("price", None)
        else:  # a market order with a price
            tx["type"], tx["tif"], tx["price"] = "MARKET", "IOC", info.base_price

    def _gen_order_human(self, profile: str, sim: Simulation, draw: Draw, party: str,
                         info: MarketInfo) -> dict:
        raw = self._gen_order(profile, sim, draw, party, info)
        side = raw["side"]
        if side in (1, -1):  # the side as a word, sometimes a synonym the service accepts
            words = ("buy", "b", "bid", "long") if side > 0 else ("sell", "s", "ask", "short")
            word = pick(draw, words) if chance(draw, 0.3) else words[0]
        else:
            word = pick(draw, ("sideways", "", "0"))
        tx: dict[str, Any] = {"kind": "order_human", "party": raw["party"], "market": raw["market"],
                              "side": word, "size": info.human_size(raw["size"]),
                              "type": raw["type"], "tif": raw["tif"]}
        if "price" in raw and raw["type"] != "PEGGED":
            tx["price"] = info.human_price(raw["price"])
        if "peg_reference" in raw:
            tx["peg_reference"] = raw["peg_reference"]
            tx["peg_offset"] = info.human_price(raw.get("peg_offset", 0))
        if "expires_in_ns" in raw:
            tx["expires_in_s"] = raw["expires_in_ns"] / 1e9
        for f in ("post_only", "reduce_only"):
            if raw.get(f):
                tx[f] = True
        if self.bad(draw):  # malformed human numbers
            what = pick(draw, ("size", "price", "offset", "expiry"))
            bad = pick(draw, (math.nan, math.inf, -math.inf, 1e-12, 0.123456789, -2.0))
            if what == "size":
                tx["size"] = pick(draw, (bad, 1e300))
            elif what == "price":  # (1e300 is a valid price: an extreme one, see price())
                tx["price"] = bad
            elif what == "offset":
                tx["type"], tx["tif"] = "PEGGED", "GTC"
                tx["peg_reference"], tx["peg_offset"] = "MID", bad
                tx.pop("price", None)
            else:
                tx["tif"], tx["expires_in_s"] = "GTT", bad
        return tx

    # ------------------------------------------------------------------- amend/cancel
    def _gen_amend(self, profile: str, sim: Simulation, draw: Draw, party: str,
                   info: MarketInfo) -> dict:
        target, view, info = self.choose_order(sim, draw, party, info)
        tx: dict[str, Any] = {"kind": "amend", "party": party, "market": info.market, **target}
        pegged = view is not None and view.order_type == "PEGGED"
        side = 1 if view is None or view.side == "buy" else -1
        remaining = 0 if view is None else round(view.remaining * info.position_factor)
        what = weighted(draw, (("price", 30), ("size", 25), ("both", 15), ("expiry", 15),
                               ("peg", 15)))
        if what in ("price", "both") and not pegged:
            aggressive = chance(draw, 0.2)
            tx["price"] = info.human_price(self.price(sim, draw, info, side, aggressive))
        if what in ("size", "both"):
            new = weighted(draw, ((remaining + draw.integer(-remaining, remaining), 70),
                                  (remaining + info.lot * draw.integer(1, 50), 20), (0, 10)))
            tx["size"] = info.human_size(new)
        if what == "expiry":
            if chance(draw, 0.5):
                tx["tif"], tx["expires_in_s"] = "GTT", float(draw.integer(1, 30))
            else:
                tx["tif"] = "GTC"
        if what == "peg" or (what in ("price", "both") and pegged):
            if chance(draw, 0.5):
                tx["peg_offset"] = info.human_price(draw.integer(0, 20) * info.tick)
            else:
                tx["peg_reference"] = pick(draw, ("MID", "BEST_BID" if side > 0 else "BEST_ASK"))
                tx["peg_offset"] = info.human_price(draw.integer(1, 20) * info.tick)
        if self.bad(draw):
            what = pick(draw, ("price", "size", "tif", "expiry", "peg", "party", "market"))
            if what == "price":
                tx["price"] = pick(draw, (math.nan, math.inf, -1.0, 0.0, 1e-9,
                                          info.human_price(info.base_price + 1)))
            elif what == "size":
                tx["size"] = pick(draw, (math.nan, -math.inf, 1e-9, -1.0))
            elif what == "tif":
                tx["tif"] = pick(draw, ("XYZ", "IOC", "FOK", "GFA", ""))
            elif what == "expiry":
                tx["tif"] = "GTT"
                tx["expires_in_s"] = pick(draw, (0.0, -5.0, math.nan, math.inf, 1e300))
            elif what == "peg":
                tx["peg_reference"] = pick(draw, ("FOO", "BEST_ASK" if side > 0 else "BEST_BID"))
                tx["peg_offset"] = pick(draw, (-1.0, 0.0, math.nan))
            elif what == "party":
                tx["party"] = pick(draw, BAD_PARTIES)
            else:
                tx["market"] = pick(draw, BAD_MARKETS)
        return tx

    def _gen_cancel(self, profile: str, sim: Simulation, draw: Draw, party: str,
                    info: MarketInfo) -> dict:
        target, _, info = self.choose_order(sim, draw, party, info)
        tx = {"kind": "cancel", "party": party, "market": info.market, **target}
        if self.bad(draw):
            tx[pick(draw, ("party", "market"))] = pick(draw, ("ghost", "NOPE"))
        return tx

    def _gen_cancel_all(self, profile: str, sim: Simulation, draw: Draw, party: str,
                        info: MarketInfo) -> dict:
        market = weighted(draw, ((info.market, 80), (None, 15), ("NOPE", 5)))
        return {"kind": "cancel_all", "party": party, "market": market}

    # ---------------------------------------------------------------------- liquidity
    def _general(self, sim: Simulation, party: str, asset: str) -> int:
        return sim.balance(party, asset, raw=True) if party in sim.parties else 0

    def _commitment(self, sim: Simulation, draw: Draw, party: str, info: MarketInfo) -> float:
        bal = self._general(sim, party, info.asset)
        raw = bal * draw.integer(1, 30) // 100
        if chance(draw, self.ctx.extreme_p):
            raw = pick(draw, (bal * 2, 1, 10**30))
        return raw / 10**info.asset_decimals

    def _fee_bid(self, draw: Draw) -> float:
        return draw.integer(0, 500) / 10_000

    def _gen_lp_submit(self, profile: str, sim: Simulation, draw: Draw, party: str,
                       info: MarketInfo) -> dict:
        tx = {"kind": "lp_submit", "party": party, "market": info.market,
              "commitment": self._commitment(sim, draw, party, info), "fee": self._fee_bid(draw)}
        if self.bad(draw):
            what = pick(draw, ("commitment", "fee", "party", "market"))
            if what == "commitment":
                tx["commitment"] = pick(draw, (-1.0, 0.0, math.nan, math.inf, 1e-12))
            elif what == "fee":
                tx["fee"] = pick(draw, (-0.01, 1.5, math.nan, math.inf))
            else:
                tx[what] = pick(draw, BAD_PARTIES if what == "party" else BAD_MARKETS)
        return tx

    def _gen_lp_amend(self, profile: str, sim: Simulation, draw: Draw, party: str,
                      info: MarketInfo) -> dict:
        tx: dict[str, Any] = {"kind": "lp_amend", "party": party, "market": info.market,
                              "commitment": None, "fee": None}
        what = weighted(draw, (("commitment", 50), ("fee", 25), ("both", 25)))
        if what in ("commitment", "both"):
            prov = sim.futures.liquidity_provisions(info.market).get(party)
            if prov is not None and chance(draw, 0.6):  # up or down from the current one
                c = prov["commitment"] * draw.integer(0, 200) / 100
                tx["commitment"] = round(c, info.asset_decimals)
            else:
                tx["commitment"] = self._commitment(sim, draw, party, info)
        if what in ("fee", "both"):
            tx["fee"] = self._fee_bid(draw)
        if self.bad(draw):
            tx[pick(draw, ("commitment", "fee"))] = pick(draw, (-1.0, math.nan, math.inf, 2.0))
        return tx

    def _gen_lp_cancel(self, profile: str, sim: Simulation, draw: Draw, party: str,
                       info: MarketInfo) -> dict:
        tx = {"kind": "lp_cancel", "party": party, "market": info.market}
        if self.bad(draw):
            tx[pick(draw, ("party", "market"))] = pick(draw, ("ghost", "NOPE"))
        return tx

    # ------------------------------------------------------------------ money, oracle
    def _gen_oracle(self, profile: str, sim: Simulation, draw: Draw, party: str,
                    info: MarketInfo) -> dict:
        ref = self.reference(sim, draw, info)
        bps = draw.integer(-200, 200)
        raw = max(1, ref + ref * bps // 10_000)
        if chance(draw, self.ctx.extreme_p):
            raw = pick(draw, (1, ref * 100, 2**61))
        tx: dict[str, Any] = {"kind": "oracle", "market": info.market,
                              "price": info.human_price(raw)}
        if self.bad(draw):
            tx["price"] = pick(draw, (0.0, -1.0, math.nan, math.inf,
                                      (raw + 0.5) / 10**info.decimal_places))
            if chance(draw, 0.2):
                tx["market"] = "NOPE"
        return tx

    def _asset(self, draw: Draw) -> tuple[str, int]:
        return pick(draw, sorted(self.ctx.assets.items()))

    def _gen_transfer(self, profile: str, sim: Simulation, draw: Draw, party: str,
                      info: MarketInfo) -> dict:
        asset, dec = self._asset(draw)
        bal = self._general(sim, party, asset)
        tx: dict[str, Any] = {"kind": "transfer", "source": party,
                              "destination": pick(draw, self.ctx.parties), "asset": asset,
                              "amount": bal * draw.integer(0, 20) // 100 / 10**dec}
        if self.bad(draw):
            what = pick(draw, ("amount", "source", "destination", "asset"))
            if what == "amount":
                tx["amount"] = pick(draw, (-1.0, math.nan, math.inf, (bal + 1) / 10**dec))
            elif what == "asset":
                tx["asset"] = "DOGE"
            else:
                tx[what] = pick(draw, BAD_PARTIES)
        return tx

    def _gen_burn(self, profile: str, sim: Simulation, draw: Draw, party: str,
                  info: MarketInfo) -> dict:
        asset, dec = self._asset(draw)
        tx: dict[str, Any] = {"kind": "burn", "party": party, "asset": asset,
                              "amount": draw.integer(0, 1000) / 10**dec}
        if self.bad(draw):
            what = pick(draw, ("amount", "party", "asset"))
            if what == "amount":
                bal = self._general(sim, party, asset)
                tx["amount"] = pick(draw, (-1.0, math.nan, (bal + 1) / 10**dec))
            elif what == "asset":
                tx["asset"] = "DOGE"
            else:
                tx["party"] = pick(draw, BAD_PARTIES)
        return tx

    def _gen_mint(self, profile: str, sim: Simulation, draw: Draw, party: str,
                  info: MarketInfo) -> dict:
        """A faucet top-up: the party's initial funding again (only when it is low)."""
        asset, dec = info.asset, info.asset_decimals
        base = self.ctx.funding.get(party, {}).get(asset, 10**dec)
        low = sim.equity(party, asset, raw=True) < base // 4 if party in sim.parties else True
        amount = base if low else 0
        tx: dict[str, Any] = {"kind": "mint", "party": party, "asset": asset,
                              "amount": amount / 10**dec}
        if self.bad(draw):
            what = pick(draw, ("amount", "party", "asset"))
            if what == "amount":
                tx["amount"] = pick(draw, (-1.0, math.nan, math.inf))
            elif what == "asset":
                tx["asset"] = "DOGE"
            else:
                tx["party"] = pick(draw, ("ghost",))
        return tx

    # ---------------------------------------------------------------- lifecycle
    def _gen_terminate(self, profile: str, sim: Simulation, draw: Draw, party: str,
                       info: MarketInfo) -> dict:
        # only unknown markets: terminating a fuzzed market would end the fuzzing of it
        return {"kind": "terminate", "market": pick(draw, BAD_MARKETS)}

    def _gen_settle(self, profile: str, sim: Simulation, draw: Draw, party: str,
                    info: MarketInfo) -> dict:
        # only unknown markets: Simulation.settle_market terminates a live market before it
        # checks the price (and moves a non-positive price up to one tick), so any settle of
        # a fuzzed market would end the fuzzing of it
        return {"kind": "settle", "market": pick(draw, BAD_MARKETS), "price": 1.0}

    def _gen_governance(self, profile: str, sim: Simulation, draw: Draw, party: str,
                        info: MarketInfo) -> dict:
        """A market parameter change enacted a few seconds later (valid or not)."""
        changes = pick(draw, (
            lambda: {"fees": {"maker": draw.integer(0, 50) / 10_000,
                              "infrastructure": draw.integer(0, 50) / 10_000}},
            lambda: {"linear_slippage_factor": draw.integer(0, 100) / 100},
            lambda: {"quadratic_slippage_factor": draw.integer(0, 10) / 1000},
            lambda: {"margin_scaling": {"search": 1.05, "initial": 1.1 + draw.integer(0, 5) / 10,
                                        "release": 2.0}},
            lambda: {"risk_model": {"kind": "lognormal", "sigma": draw.integer(1, 40) / 10,
                                    "tau": 0.0001}},
            lambda: {"price_monitoring": {"triggers": [
                {"horizon_s": draw.integer(2, 60), "probability": 0.99,
                 "extension_s": draw.integer(1, 10)}]}},
            lambda: {"price_monitoring": {"triggers": []}},
            lambda: {"mark_price_frequency_s": float(draw.integer(0, 10))},
            lambda: {"closeout": {"disposal_time_step_s": float(draw.integer(0, 20)),
                                  "disposal_fraction": draw.integer(1, 10) / 10}},
            lambda: {"liquidity": {"epoch_s": float(draw.integer(5, 60)),
                                   "stake_to_volume": draw.integer(1, 20) / 10}},
            lambda: {"min_auction_duration_s": float(draw.integer(0, 5))},
            lambda: {"perpetual": {"funding_period_s": float(draw.integer(5, 60)),
                                   "margin_funding_factor": draw.integer(0, 10) / 10}},
        ))()
        tx: dict[str, Any] = {"kind": "governance", "market": info.market, "changes": changes,
                              "enact_in_s": float(draw.integer(0, 20))}
        if self.bad(draw):
            what = pick(draw, ("field", "value", "market", "time", "immutable"))
            if what == "field":
                tx["changes"] = {"no_such_parameter": 1}
            elif what == "value":
                tx["changes"] = pick(draw, ({"fees": {"maker": -1.0}},
                                            {"linear_slippage_factor": -0.5},
                                            {"margin_scaling": {"search": 2.0, "initial": 1.0,
                                                                "release": 1.0}},
                                            {"tick_size": 0}))
            elif what == "market":
                tx["market"] = "NOPE"
            elif what == "time":
                tx["enact_in_s"] = pick(draw, (-10.0, math.nan, math.inf))
            else:
                tx["changes"] = pick(draw, ({"asset": "BTC"}, {"market_id": "X"},
                                            {"decimal_places": 7}, {"tick_size": 10},
                                            {"perpetual": None}, {}))
        return tx

    def _gen_close(self, profile: str, sim: Simulation, draw: Draw, party: str,
                   info: MarketInfo) -> dict:
        """Governance closes a market at a price: valid only for a closable market late
        in the run; otherwise a malformed or premature proposal."""
        ctx = self.ctx
        price = info.human_price(self.reference(sim, draw, info))
        tx: dict[str, Any] = {"kind": "close", "market": info.market, "price": price,
                              "enact_in_s": float(draw.integer(0, 10))}
        if info.market in ctx.closable and sim.now >= ctx.close_after_s:
            return tx
        what = pick(draw, ("market", "price", "time")) if self.bad(draw) else "market"
        if what == "market":
            tx["market"] = "NOPE"
        elif what == "price":
            tx["price"] = pick(draw, (0.0, -1.0, math.nan, math.inf))
        else:
            tx["enact_in_s"] = pick(draw, (-10.0, math.nan, -math.inf))
        return tx
