"""The KPIs of ``compute_marketplace`` and the files it adds to its run folder
(:class:`MarketplaceKpis`, a mixin of :class:`~.compute_marketplace.ComputeMarketplace`).

KPIs (spec 7.2; every step, cumulative since the start, USD unless named):
``requests``, ``topics``, ``deals``, ``completed``, ``acceptance_rate``,
``fill_rate``, ``rounds_to_agreement`` (mean ceil(messages/2)),
``time_to_agreement_s``, ``price_cv.<class>`` and ``price_range.<class>`` ((max -
min)/median), ``price_cv_regions.<class>`` (coefficient of variation of the regions'
median agreed prices, :meth:`ComputeMarketplace.price_cv_regions`),
``utilisation.<cpu|gpu|ram_gib>`` (∫ reserved dt / (capacity x elapsed), running jobs
counted exactly up to the step's time), ``cheat_attempts``,
``cheat_detected``, ``detection_rate``, ``commenced``, ``cheat_rate`` (cheat attempts
per commenced deal), ``false_challenges``, ``timeouts``,
``refunds``, ``collateral_slashed`` (C, token units), ``timeout_forfeited`` (T),
``gas_usd``, ``gas_usd.<role>``, ``gas_share``, ``energy_usd``,
``client_surplus``, ``provider_surplus`` (per collected deal ``V - P - g_c`` and ``P -
energy - amortisation - g_p``, an undetected fake result worth 0 to its client;
adjusted by fees and slashes: a client pays k*f on a correct verdict, gets ``to_client
- (P + D)`` on a slashed deal, whose provider loses C), ``mediation_fees`` (token
units paid to mediators), ``mediator_surplus`` (fees received in USD - the mediators'
gas), ``buyer_share`` (client / (client + provider) surplus; nan while that is <= 0),
``invalid_messages`` and
``invalid.<reason>``; ``deals.<class>`` (deals agreed per job class of ``class_mix``);
``rejected_txs`` and ``rejected.<tx>.<reason>`` (transactions the chain refused,
e.g. ``rejected.post_result.insufficient_funds``: a provider short of C);
``l2_base_fee_gwei`` (``mempool`` only: the mean L2 base fee of the blocks so far, gwei,
from the scenario's ``chain_load`` agent); unmet demand: ``unmet_requests`` (published requests whose job
deadline has passed without a deal; jobs timed out are ``timeouts``);
``price_position``: the mean over completed (collected) deals of
``(P - x_min)/(x_max - x_min)``, P the agreed price, x_min the provider's cost floor
when it answered the request, x_max the client's reservation value V (all USD; a deal
with ``x_max - x_min <= 0`` is skipped; nan while none counts); by the region of the
provider's machine: ``deals.<region>``, ``price_median.<region>`` (median agreed
price, token units) and ``utilisation.cpu.<region>``; per role (client, provider, mediator) the mean of the agents'
7.1 metrics ``<role>.cumulative_return``, ``.sharpe``, ``.sortino``, ``.dsr``
(refreshed every ``metric_interval_s``). The negotiation paths (offer prices by
message) are written to ``negotiation_paths.csv`` in the run folder
(:meth:`ComputeMarketplace.negotiation_paths`), with the figures of
:mod:`.compute_plots`: ``negotiation_paths.png``, ``utilisation.png``,
``agent_returns.png``; ``kpis.png`` (the runner's) draws the KPIs.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.chain.events import TransactionRejected
from defisim.protocols.compute.events import DealClosed, MediationResolved
from defisim.protocols.compute.schemes.events import MessageRejected

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["MarketplaceKpis"]


class MarketplaceKpis:
    """Spec 7.2's KPIs of the marketplace (module docstring), read from the agents'
    :class:`~defisim.agents.compute.market.MarketBook` and the chain's events. The
    scenario's ``build`` sets ``market``, ``agents``, ``params`` and the counters
    (:meth:`start_kpis`)."""

    market: Any
    agents: dict[str, list[Any]]
    params: Any
    chain_load: Any = None  # the ChainLoadAgent in ``mempool`` mode

    def start_kpis(self, sim: Simulation) -> None:
        """Start the counters: a cursor on the chain's events from now on."""
        self._cursor = sim.event_cursor()
        self._closed: Counter = Counter()
        self._invalid: Counter = Counter()
        self._rejected: Counter = Counter()  # (tx, reason) -> refused transactions
        self._slashed_c = self._forfeited_t = 0
        self._fees_client: dict[str, float] = {}  # escrow uid -> fees paid out of D, USD
        self._adj: Counter = Counter()  # surplus adjustments, USD (client/provider/mediator)
        self._fees_tokens = 0
        self._collected: set[str] = set()
        self._agent_kpis: dict[str, float] = {}
        self._next_metrics = 0.0

    def _read_events(self, sim: Simulation) -> None:
        for ev in self._cursor.read():
            if isinstance(ev, MessageRejected):
                self._invalid[ev.reason] += 1
            elif isinstance(ev, TransactionRejected):
                self._rejected[(ev.tx, ev.reason)] += 1
            elif isinstance(ev, DealClosed):
                self._closed[ev.reason] += 1
                t = sim.compute.deal(ev.market).terms
                if ev.reason == "collected":
                    self._collected.add(ev.market)
                elif ev.reason == "slashed":
                    self._slashed_c += t.cheating_collateral
                    usd = self.market.usd
                    # the client's flow over the deal: P + D in, to_client out (its fees
                    # from D, the slash share and any reward included); the provider loses C
                    self._adj["client"] += usd(ev.to_client - t.price - t.client_deposit) \
                        + self._fees_client.pop(ev.market, 0.0)
                    self._adj["provider"] -= usd(t.cheating_collateral)
                elif ev.reason == "refunded":
                    self._forfeited_t += t.timeout_deposit
            elif isinstance(ev, MediationResolved):
                self._closed["mediation." + ev.outcome] += 1
                self._fees_tokens += ev.fees
                self._adj["mediator"] += self.market.usd(ev.fees)
                if ev.outcome == "correct":  # the client pays k*f out of D
                    fee = self.market.usd(ev.fees)
                    self._adj["client"] -= fee
                    self._fees_client[ev.market] = self._fees_client.get(ev.market, 0.0) + fee

    def kpis(self, sim: Simulation) -> dict[str, float]:
        self._read_events(sim)
        b, elapsed = self.market.book, max(sim.now, 1e-9)
        deals = len(b.agreed)
        out: dict[str, float] = {
            "requests": b.requests, "topics": b.topics, "deals": deals,
            "completed": self._closed["collected"],
            "acceptance_rate": deals / b.topics if b.topics else math.nan,
            "fill_rate": deals / b.requests if b.requests else math.nan,
            "rounds_to_agreement": float(np.mean([math.ceil(a[4] / 2) for a in b.agreed]))
            if deals else math.nan,
            "time_to_agreement_s": float(np.mean([a[5] for a in b.agreed])) if deals else math.nan,
            "cheat_attempts": b.cheat_attempts, "cheat_detected": self._closed["slashed"],
            "detection_rate": self._closed["slashed"] / b.cheat_attempts
            if b.cheat_attempts else math.nan,
            "commenced": b.commenced,
            "cheat_rate": b.cheat_attempts / b.commenced if b.commenced else math.nan,
            "false_challenges": b.false_challenges, "timeouts": self._closed["refunded"],
            "refunds": self._closed["refunded"] + self._closed["cancelled"],
            "collateral_slashed": self._slashed_c / 1e6,
            "timeout_forfeited": self._forfeited_t / 1e6,
            "energy_usd": b.energy_usd,
            "invalid_messages": sum(self._invalid.values()),
        }
        gas = sum(b.gas_usd.values())
        out["gas_usd"] = gas
        for role in ("client", "provider", "mediator"):
            out[f"gas_usd.{role}"] = sum(v for (r, _), v in b.gas_usd.items() if r == role)
        out["gas_share"] = gas / b.sum_price_usd if b.sum_price_usd else math.nan
        cs = sum(b.client_surplus) + self._adj["client"]
        ps = sum(b.provider_surplus) + self._adj["provider"]
        out["client_surplus"], out["provider_surplus"] = cs, ps
        out["mediation_fees"] = self._fees_tokens / 1e6
        out["mediator_surplus"] = self._adj["mediator"] - out["gas_usd.mediator"]
        out["buyer_share"] = cs / (cs + ps) if cs + ps > 0 else math.nan  # undefined at <= 0
        reserved, _ = b.reserved_until(sim.now)
        for r in ("cpu", "gpu", "ram_gib"):
            cap = b.capacity[r]
            out[f"utilisation.{r}"] = reserved[r] / (cap * elapsed) if cap else math.nan
        by_class = Counter(a[1] for a in b.agreed)
        for cls in self.params.class_mix:
            out[f"deals.{cls}"] = by_class[cls]
            prices = np.array([a[3] for a in b.agreed if a[1] == cls])
            if len(prices) >= 2:
                out[f"price_cv.{cls}"] = float(prices.std(ddof=1) / prices.mean())
                out[f"price_range.{cls}"] = float((prices.max() - prices.min()) / np.median(prices))
        if self.chain_load is not None:
            out["l2_base_fee_gwei"] = self.chain_load.mean_base_fee_wei() / 1e9
        out["unmet_requests"] = sum(d < sim.now for d in b.open_requests.values())
        out["price_position"] = self.price_position()
        out.update(self.region_kpis(sim.now))
        for reason, n in sorted(self._invalid.items()):
            out[f"invalid.{reason}"] = n
        out["rejected_txs"] = sum(self._rejected.values())
        for (tx, reason), n in sorted(self._rejected.items()):
            out[f"rejected.{tx}.{reason}"] = n
        if sim.now >= self._next_metrics:
            self._next_metrics = sim.now + self.params.metric_interval_s
            self._agent_kpis = self.agent_metrics()
        out.update(self._agent_kpis)
        return {k: float(v) for k, v in out.items()}

    def price_position(self) -> float:
        """Spec 7.2's price position: the mean over collected deals of ``(P - x_min) /
        (x_max - x_min)`` (P agreed price, x_min the provider's cost floor at its quote,
        x_max the client's V; USD). Deals with ``x_max - x_min <= 0`` (no bargaining
        range) or no quote are skipped; nan when none is left."""
        b, vals = self.market.book, []
        for a in b.agreed:
            q = b.quotes.get(a[0])
            if a[8] in self._collected and q is not None and a[7] - q[0] > 0:
                vals.append((a[3] - q[0]) / (a[7] - q[0]))
        return float(np.mean(vals)) if vals else math.nan

    def region_kpis(self, now: float) -> dict[str, float]:
        """By the region of the machine the provider quoted on (spec 7.2): ``deals.<r>``,
        ``price_median.<r>`` (median agreed price in token units, nan without deals) and
        ``utilisation.cpu.<r>`` (cpu-seconds reserved from 0 to ``now``, running jobs
        included, / (cpu capacity x ``now``))."""
        b, out = self.market.book, {}
        elapsed = max(now, 1e-9)
        _, reserved_cpu = b.reserved_until(now)
        for region in self.market.regions:
            prices = [a[9] / 1e6 for a in b.agreed
                      if b.quotes.get(a[0], (0.0, None))[1] == region]
            out[f"deals.{region}"] = len(prices)
            out[f"price_median.{region}"] = float(np.median(prices)) if prices else math.nan
            cap = b.capacity_cpu[region]
            out[f"utilisation.cpu.{region}"] = reserved_cpu.get(region, 0.0) / (cap * elapsed) \
                if cap else math.nan
        out.update(self.price_cv_regions())
        return out

    def price_cv_regions(self) -> dict[str, float]:
        """Price dispersion across regions (spec 7.2, "also reported across regions"):
        for each job class of ``class_mix``, ``price_cv_regions.<class>`` = s / mean of
        the regional median agreed prices m_g (token units; the region of the machine
        the provider quoted on; s the sample standard deviation, ddof = 1) over the
        regions with at least one deal of the class. Only classes with deals in >= 2
        regions are reported (like ``price_cv.<class>``)."""
        b = self.market.book
        cached = getattr(self, "_cv_regions", None)
        if cached is not None and cached[0] == len(b.agreed):
            return dict(cached[1])  # no new deal since the last step
        by: dict[str, dict[str, list[float]]] = {}
        for a in b.agreed:
            region = b.quotes.get(a[0], (0.0, None))[1]
            if region is not None:
                by.setdefault(a[1], {}).setdefault(region, []).append(a[9] / 1e6)
        out = {}
        for cls in self.params.class_mix:
            medians = np.array([np.median(p) for p in by.get(cls, {}).values()])
            if len(medians) >= 2:
                out[f"price_cv_regions.{cls}"] = float(medians.std(ddof=1) / medians.mean())
        self._cv_regions = (len(b.agreed), out)
        return dict(out)

    def agent_metrics(self) -> dict[str, float]:
        """Per role, the mean over its agents of their 7.1 metrics (nan-aware)."""
        out = {}
        for role, agents in self.agents.items():
            rows = [a.metrics() for a in agents]
            for key in ("cumulative_return", "sharpe", "sortino", "dsr"):
                vals = [r[key] for r in rows if not math.isnan(r[key])]
                out[f"{role}.{key}"] = float(np.mean(vals)) if vals else math.nan
        return out

    def negotiation_paths(self) -> list[tuple[str, int, str, float]]:
        """Every price message of every topic an agent saw: ``(topic, seq, sender role,
        price USD)``, by topic then seq."""
        return [(t, *row) for t, rows in sorted(self.market.book.paths.items())
                for row in sorted(rows)]

    def topic_classes(self) -> dict[str, str]:
        """Topic -> job class of every topic with a price message (topics are
        ``request_id/provider``, the request id the client's job id)."""
        jobs = {jid: req.job.job_class for c in self.agents["client"]
                for jid, req in c.requests.items()}
        return {t: jobs[t.rpartition("/")[0]] for t in self.market.book.paths
                if t.rpartition("/")[0] in jobs}

    def after_run(self, result) -> None:
        """Write ``negotiation_paths.csv`` into the run folder and, when the run draws
        its plots, the figures of :mod:`.compute_plots` (``negotiation_paths.png``,
        ``utilisation.png`` from the run store's KPIs, ``agent_returns.png``); their
        names join ``result.plots``."""
        if result.out_dir is None:
            return
        import csv

        from defisim.store import open_store

        from . import compute_plots as cp

        out = result.out_dir
        with open(out / "negotiation_paths.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["topic", "seq", "sender", "price_usd"])
            w.writerows(self.negotiation_paths())
        if not result.plots_requested:
            return
        series = cp.path_series(self.negotiation_paths(), self.topic_classes(), self.market.c_ref,
                                (a[0] for a in self.market.book.agreed))
        drawn = [cp.draw_negotiation_paths(out / "negotiation_paths.png", series)]
        db = out / "run.duckdb"
        if db.exists():
            with open_store(db) as store:
                rows = store.query("SELECT time_s, name, value FROM kpis WHERE market IS NULL "
                                   "AND name LIKE 'utilisation.%' ORDER BY step")
            drawn.append(cp.draw_utilisation(out / "utilisation.png",
                                             *cp.utilisation_series(rows)))
        drawn.append(cp.draw_agent_returns(out / "agent_returns.png",
                                           cp.return_series(self.agents)))
        result.plots = [*result.plots, *(p.name for p in drawn)]
