"""Market history visible to all, accumulated from chain events (spec section 6).

Per provider: deals, completed jobs, timeouts, slashes, and the reputation
``(1 + completed) / (2 + completed + timeouts + slashes)`` (a Laplace-smoothed
success rate: 1/2 before any record). Per job class: the last ``K = 20`` settled
prices (base units of the payment token) and their median. Also the counts of open
requests and active topics. The caller turns events into the plain method calls
below; nothing here knows the event types.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["MarketHistory", "MarketSummary", "ProviderStats", "reputation"]


def reputation(completed: int, timeouts: int, slashes: int) -> float:
    """``(1 + completed) / (2 + completed + timeouts + slashes)`` (spec section 6)."""
    return (1 + completed) / (2 + completed + timeouts + slashes)


@dataclass(frozen=True)
class ProviderStats:
    """One provider's record: counts and :func:`reputation`."""

    deals: int = 0
    completed: int = 0
    timeouts: int = 0
    slashes: int = 0

    @property
    def reputation(self) -> float:
        return reputation(self.completed, self.timeouts, self.slashes)


@dataclass(frozen=True)
class MarketSummary:
    """A read-only view of :class:`MarketHistory` at one time.

    Attributes:
        providers: provider -> :class:`ProviderStats`.
        recent_prices: job class -> the last ``K`` settled prices, oldest first.
        median_price: job class -> median of ``recent_prices`` (classes with a price).
        open_requests, active_topics: counts now.
    """

    providers: Mapping[str, ProviderStats]
    recent_prices: Mapping[str, tuple[int, ...]]
    median_price: Mapping[str, float]
    open_requests: int = 0
    active_topics: int = 0

    def __reduce__(self):
        # MappingProxyType does not pickle: rebuild the proxies from plain dicts
        return (_summary, (dict(self.providers), dict(self.recent_prices),
                           dict(self.median_price), self.open_requests, self.active_topics))

    def reputation(self, provider: str) -> float:
        """The provider's reputation; 1/2 for a provider without a record."""
        return self.providers.get(provider, ProviderStats()).reputation


def _summary(providers: dict, recent: dict, medians: dict, open_requests: int,
             active_topics: int) -> MarketSummary:
    return MarketSummary(MappingProxyType(providers), MappingProxyType(recent),
                         MappingProxyType(medians), open_requests, active_topics)


class MarketHistory:
    """The accumulator: feed it one call per chain event, read :meth:`summary`.

    Args:
        k: how many settled prices to keep per job class (>= 1, default 20).

    Raises:
        ValueError: ``k`` < 1; a negative price; a count driven below 0.
    """

    def __init__(self, k: int = 20) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        self.k = k
        self._providers: dict[str, dict[str, int]] = {}
        self._prices: dict[str, deque[int]] = {}
        self.open_requests = 0
        self.active_topics = 0

    def _bump(self, provider: str, field: str) -> None:
        rec = self._providers.setdefault(
            provider, {"deals": 0, "completed": 0, "timeouts": 0, "slashes": 0}
        )
        rec[field] += 1

    def deal(self, provider: str) -> None:
        """A deal with ``provider`` was agreed."""
        self._bump(provider, "deals")

    def completed(self, provider: str, job_class: str, price: int) -> None:
        """``provider`` was paid ``price`` (base units) for a job of ``job_class``."""
        if price < 0:
            raise ValueError(f"price must be >= 0, got {price}")
        self._bump(provider, "completed")
        self._prices.setdefault(job_class, deque(maxlen=self.k)).append(int(price))

    def timeout(self, provider: str) -> None:
        """A job of ``provider`` timed out."""
        self._bump(provider, "timeouts")

    def slash(self, provider: str) -> None:
        """``provider``'s collateral was slashed."""
        self._bump(provider, "slashes")

    def request_opened(self) -> None:
        self.open_requests += 1

    def request_closed(self) -> None:
        if self.open_requests == 0:
            raise ValueError("request_closed with no open request")
        self.open_requests -= 1

    def topic_opened(self) -> None:
        self.active_topics += 1

    def topic_closed(self) -> None:
        if self.active_topics == 0:
            raise ValueError("topic_closed with no active topic")
        self.active_topics -= 1

    def summary(self) -> MarketSummary:
        """A frozen copy of the history now."""
        providers = {p: ProviderStats(**rec) for p, rec in sorted(self._providers.items())}
        recent = {c: tuple(d) for c, d in sorted(self._prices.items())}
        medians = {c: float(statistics.median(v)) for c, v in recent.items() if v}
        return MarketSummary(
            MappingProxyType(providers), MappingProxyType(recent), MappingProxyType(medians),
            self.open_requests, self.active_topics,
        )
