"""The spec 7.2 KPIs added to ``compute_marketplace``: unmet demand, price position and
the breakdowns by region, each recomputed from the run's own records (the chain's
deals and events, the clients' requests) rather than from the KPI code's inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from defisim.protocols.compute import types as ctypes
from defisim.protocols.compute.events import (
    Commenced,
    DealClosed,
    MediationResolved,
    ResultPosted,
)
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

SCEN = get_scenario("compute_marketplace")


class Events:
    """A step hook keeping every event of the run (and the simulation)."""

    def __init__(self) -> None:
        self.events: list = []
        self.cursor = None

    def __call__(self, run_, step, kpis) -> None:
        if self.cursor is None:
            self.sim = run_.sim
            self.cursor = run_.sim.event_cursor(from_oldest=True)
        self.events.extend(self.cursor.read())


@pytest.fixture(scope="module")
def honest_run():
    """A 1 h run without cheaters (so every commenced job reserves its machine)."""
    log = Events()
    sc = SCEN(SCEN.Params(hours=1.0, n_clients=20, n_providers=9, cheater_share=0.0,
                          execution="immediate"))
    r = run_scenario(sc, seed=3, record=False, progress=False, hooks=[log])
    assert r.error is None
    return sc, r, log


def _region_of(sc) -> dict[str, str]:
    return {f"provider{i}": m.region for i, m in enumerate(sc.machines())}


def test_deals_and_median_price_by_region_match_the_chain(honest_run):
    sc, r, log = honest_run
    cx, region_of = log.sim.compute, _region_of(sc)
    prices: dict[str, list[float]] = {}
    for row in sc.market.book.agreed:  # price from the chain's deal, region from the machine
        prices.setdefault(region_of[cx.deal(row[8]).provider], []).append(
            cx.deal(row[8]).terms.price / 1e6)
    assert len(prices) == 3  # deals in every region
    for region in ("us-east", "eu-central", "asia-east"):
        ps = prices.get(region, [])
        assert r.kpis[f"deals.{region}"] == len(ps)
        assert r.kpis[f"price_median.{region}"] == pytest.approx(float(np.median(ps)), rel=1e-12)
    assert sum(r.kpis[f"deals.{g}"] for g in prices) == r.kpis["deals"]


def test_cpu_utilisation_by_region_matches_commence_to_result_events(honest_run):
    sc, r, log = honest_run
    cx, region_of, now = log.sim.compute, _region_of(sc), log.sim.now
    posted = {e.market: e.time_ns / 1e9 for e in log.events if isinstance(e, ResultPosted)}
    closed = {e.market: e.time_ns / 1e9 for e in log.events if isinstance(e, DealClosed)}
    cpu_s: dict[str, float] = {}
    for e in log.events:
        if isinstance(e, Commenced):
            cpu = ctypes.JOB_CLASSES[sc.market.book.agreed[
                [a[8] for a in sc.market.book.agreed].index(e.market)][1]].cpu
            # a job still running is reserved up to the final time
            end = posted.get(e.market, closed.get(e.market, now))
            region = region_of[cx.deal(e.market).provider]
            cpu_s[region] = cpu_s.get(region, 0.0) + cpu * (end - e.time_ns / 1e9)
    cap = {g: sum(m.cpu for m in sc.machines() if m.region == g) for g in cpu_s}
    assert len(cpu_s) == 3
    for g, s in cpu_s.items():
        assert r.kpis[f"utilisation.cpu.{g}"] == pytest.approx(s / (cap[g] * now), rel=1e-9)
        assert 0 < r.kpis[f"utilisation.cpu.{g}"] < 1
    total = sum(cpu_s.values()) / (sum(cap.values()) * now)
    assert r.kpis["utilisation.cpu"] == pytest.approx(total, rel=1e-9)


def test_price_position_is_the_mean_over_collected_deals(honest_run):
    sc, r, log = honest_run
    cx, book = log.sim.compute, sc.market.book
    collected = [e.market for e in log.events
                 if isinstance(e, DealClosed) and e.reason == "collected"]
    assert collected and len(collected) == r.kpis["completed"]
    row = {a[8]: a for a in book.agreed}
    pos = []
    for uid in collected:
        a = row[uid]
        floor = book.quotes[cx.topic_of_escrow(uid)][0]
        p_usd = cx.deal(uid).terms.price / 1e6 * (a[3] / (a[9] / 1e6))  # at the deal's USDC
        if a[7] - floor > 0:
            pos.append((p_usd - floor) / (a[7] - floor))
    assert r.kpis["price_position"] == pytest.approx(float(np.mean(pos)), rel=1e-9)
    # the provider never sells below its floor, the client never pays above V
    # (up to the USDC price moving between quote and deal)
    assert all(-0.01 < x < 1.01 for x in pos)


def test_unmet_requests_are_expired_requests_without_a_deal():
    """Too few providers: requests expire unfilled; recomputed from the clients'
    own requests and the chain's escrows."""
    log = Events()
    sc = SCEN(SCEN.Params(hours=1.0, n_clients=20, n_providers=2, rate_per_h=6.0,
                          class_mix={"cpu-small": 1.0}))
    r = run_scenario(sc, seed=1, record=False, progress=False, hooks=[log])
    assert r.error is None
    cx, now = log.sim.compute, log.sim.now
    with_deal = {row[8]: row[0].rsplit("/", 1)[0] for row in sc.market.book.agreed}
    assert set(with_deal) <= set(cx.deal_ids())
    unmet = sum(1 for c in sc.agents["client"] for jid, req in c.requests.items()
                if req.job.deadline < now and jid not in with_deal.values())
    assert unmet > 0
    assert r.kpis["unmet_requests"] == unmet
    assert r.kpis["unmet_requests"] + r.kpis["deals"] <= r.kpis["requests"]


def test_price_position_skips_deals_without_a_bargaining_range():
    """x_max - x_min <= 0: the deal is skipped; none left: nan."""
    sc = SCEN(SCEN.Params(hours=0.01))
    run_scenario(sc, seed=1, record=False, progress=False)
    book = sc.market.book
    book.agreed[:] = [("t1", "cpu-small", "provider0", 5.0, 2, 1.0, 1.0, 4.0, "u1", 5_000_000),
                      ("t2", "cpu-small", "provider0", 3.0, 2, 1.0, 1.0, 4.0, "u2", 3_000_000)]
    book.quotes.update({"t1": (4.0, "us-east"), "t2": (2.0, "us-east")})
    sc._collected = {"u1"}
    assert math.isnan(sc.price_position())  # u1: V == floor, skipped
    sc._collected = {"u1", "u2"}
    assert sc.price_position() == pytest.approx(0.5)  # (3 - 2)/(4 - 2)


def test_price_cv_across_regions_of_the_regional_medians(honest_run):
    """price_cv_regions.<class>: s/mean (ddof 1) of the regions' median agreed prices,
    recomputed from the chain's deals and the providers' machines."""
    sc, r, log = honest_run
    cx, region_of = log.sim.compute, _region_of(sc)
    by: dict[str, dict[str, list[float]]] = {}
    for row in sc.market.book.agreed:
        d = cx.deal(row[8])
        by.setdefault(row[1], {}).setdefault(
            region_of[d.provider], []).append(d.terms.price / 1e6)
    reported = 0
    for cls in sc.params.class_mix:
        meds = [float(np.median(p)) for p in by.get(cls, {}).values()]
        key = f"price_cv_regions.{cls}"
        if len(meds) < 2:
            assert key not in r.kpis
            continue
        reported += 1
        want = float(np.std(meds, ddof=1) / np.mean(meds))
        assert r.kpis[key] == pytest.approx(want, rel=1e-12)
    assert reported >= 2


@pytest.fixture(scope="module")
def slashing_run():
    """Half the providers cheat often and every result is challenged: mediations end
    correct (the client pays k*f) and wrong (C slashed)."""
    log = Events()
    sc = SCEN(SCEN.Params(hours=1.0, n_clients=20, n_providers=9, challenge="always",
                          cheater_share=0.5, cheat_q=0.8, execution="immediate"))
    r = run_scenario(sc, seed=3, record=False, progress=False, hooks=[log])
    assert r.error is None
    return sc, r, log


def test_mediation_fees_are_what_the_mediators_received(slashing_run):
    sc, r, log = slashing_run
    outcomes = {e.outcome for e in log.events if isinstance(e, MediationResolved)}
    assert {"correct", "wrong"} <= outcomes
    gained = sum(log.sim.balance(m.name, "USDC") - m.capital for m in sc.agents["mediator"])
    assert gained > 0 and r.kpis["mediation_fees"] == pytest.approx(gained, abs=1e-9)
    usdc = sc.market.snapshot.prices["USDC"]
    assert usdc == 1.0  # the payment token's price is held at 1 by default
    assert r.kpis["mediator_surplus"] == pytest.approx(
        gained - r.kpis["gas_usd.mediator"], rel=1e-12)
    assert r.kpis["mediator_surplus"] == pytest.approx(
        sum(m.value_usd(log.sim) - m.capital for m in sc.agents["mediator"]), rel=1e-12)


def test_surplus_is_adjusted_by_fees_and_slashes(slashing_run):
    """The adjustments to the agents' per-deal surpluses, recomputed from the chain's
    events: a client pays k*f on a correct verdict; on a slashed deal it gets
    to_client - (P + D) and the provider loses C. Adjustments and fees conserve tokens
    with the treasury's and jackpot's share (USDC at 1)."""
    sc, r, log = slashing_run
    cx, b = log.sim.compute, sc.market.book
    slashed = {e.market: e for e in log.events
               if isinstance(e, DealClosed) and e.reason == "slashed"}
    assert slashed
    client = provider = 0.0
    for e in log.events:
        if isinstance(e, MediationResolved) and e.outcome == "correct" \
                and e.market not in slashed:
            client -= e.fees / 1e6
    for uid, e in slashed.items():
        t = cx.deal(uid).terms
        client += (e.to_client - t.price - t.client_deposit) / 1e6
        provider -= t.cheating_collateral / 1e6
    assert r.kpis["client_surplus"] == pytest.approx(sum(b.client_surplus) + client, rel=1e-12)
    assert r.kpis["provider_surplus"] == pytest.approx(sum(b.provider_surplus) + provider,
                                                       rel=1e-12)
    fees = sum(e.fees for e in log.events if isinstance(e, MediationResolved)) / 1e6
    rest = sum(e.to_treasury + e.to_jackpot for e in slashed.values()) / 1e6
    assert client + provider + fees + rest == pytest.approx(0.0, abs=1e-9)


def test_deals_by_class_match_the_chains_deals(honest_run):
    """deals.<class>: the chain's deals of the class (the class told by its instruction
    count N, distinct per class), summing to ``deals``."""
    sc, r, log = honest_run
    cx = log.sim.compute
    by_n = {c.instruction_count: name for name, c in ctypes.JOB_CLASSES.items()}
    assert len(by_n) == len(ctypes.JOB_CLASSES)
    counts: dict[str, int] = {}
    for row in sc.market.book.agreed:
        cls = by_n[cx.deal(row[8]).terms.instruction_count]
        counts[cls] = counts.get(cls, 0) + 1
    assert len(counts) >= 3 and sum(counts.values()) == r.kpis["deals"] > 0
    for cls in sc.params.class_mix:
        assert r.kpis[f"deals.{cls}"] == counts.get(cls, 0)
    assert "l2_base_fee_gwei" not in r.kpis  # immediate mode: no chain fee market


def test_l2_base_fee_is_the_mean_of_the_blocks_base_fees():
    """l2_base_fee_gwei (mempool): the mean of the chain's BaseFeeUpdated base fees over
    the blocks the system party stepped in, from b0 = 1e9 wei with background demand."""
    from defisim.chain import BaseFeeUpdated

    log = Events()
    sc = SCEN(SCEN.Params(steps=150, n_clients=10, n_providers=6, l2_base_fee_wei=10**9))
    r = run_scenario(sc, seed=1, record=False, progress=False, hooks=[log])
    assert r.error is None
    fees = [e.base_fee for e in log.events if isinstance(e, BaseFeeUpdated)]
    n = sc.chain_load.blocks
    assert n == 150 and len(fees) >= n
    assert fees[0] == 10**9
    assert len(set(fees[:n])) > 10  # the background demand moves it
    assert r.kpis["l2_base_fee_gwei"] == pytest.approx(sum(fees[:n]) / n / 1e9, rel=1e-12)


def test_a_provider_short_of_c_is_refused_its_result_and_counted():
    """provider_capital 5 USDC, m = 1 USDC per instruction: a gpu-infer result needs
    C = 10 USDC, more than the provider holds, so post_result is refused
    (insufficient_funds); rejected.post_result.insufficient_funds counts the chain's
    TransactionRejected events, and no such deal ever gets a result."""
    from defisim.chain import TransactionRejected

    log = Events()
    sc = SCEN(SCEN.Params(hours=1.0, n_clients=20, n_providers=6, cheater_share=0.0,
                          execution="immediate", provider_capital=5.0,
                          cheating_multiplier=1.0, class_mix={"gpu-infer": 1.0}))
    r = run_scenario(sc, seed=2, record=False, progress=False, hooks=[log])
    assert r.error is None
    refused = [e for e in log.events if isinstance(e, TransactionRejected)
               and e.tx == "post_result" and e.reason == "insufficient_funds"]
    assert len(refused) > 0
    assert r.kpis["rejected.post_result.insufficient_funds"] == len(refused)
    assert r.kpis["rejected_txs"] >= len(refused)
    posted = {e.market for e in log.events if isinstance(e, ResultPosted)}
    assert {e.market for e in refused} <= set(log.sim.compute.deal_ids())
    assert posted.isdisjoint(e.market for e in refused)
    assert r.kpis["completed"] == 0  # every gpu-infer result needs C = 10 > 5
