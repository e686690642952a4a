"""The noisy informed trader: :class:`~defisim.agents.informed.InformedTrader` whose
look-ahead signal is right only with probability ``accuracy``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lookahead import InformedTrader

if TYPE_CHECKING:
    from ..feeds.reference import ReferencePriceFeed


class _NoisySignalFeed:
    """The feed as a :class:`NoisyInformedTrader` sees it: ``price_ahead`` is its signal."""

    def __init__(self, feed: ReferencePriceFeed, owner: NoisyInformedTrader) -> None:
        self._feed = feed
        self._owner = owner

    def price_ahead(self, k_steps: int) -> float:
        return self._owner.signal(k_steps)

    def __getattr__(self, attr: str):
        return getattr(self._feed, attr)


class NoisyInformedTrader(InformedTrader):
    """An :class:`~defisim.agents.informed.InformedTrader` whose signal is sometimes wrong.

    Whenever the trader reads its look-ahead signal (each step in continuous
    trading), with ``P`` the reference price now and ``f`` the true price
    ``lookahead`` points ahead, it draws ``U ~ Uniform(0, 1)`` from :attr:`rng`: if
    ``U < accuracy`` the signal is ``f``, otherwise the wrong one ``2 P - f`` (the
    price moved the other way by the same amount). It then trades on the signal
    exactly as :class:`~defisim.agents.informed.InformedTrader`. With
    ``accuracy=1`` no draw is made and it behaves exactly like the parent.

    Args:
        accuracy: probability that the signal is the true future price, in ``[0, 1]``.
        the rest: see :class:`~defisim.agents.informed.InformedTrader`.

    Attributes:
        true_feed: the real feed (``feed`` is the view that yields the signal).
        signals: signals read; wrong_signals: of those, replaced by the wrong one.
    """

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        accuracy: float = 0.7,
        **kwargs,
    ) -> None:
        super().__init__(name, market, feed, **kwargs)
        if not 0 <= accuracy <= 1:
            raise ValueError(f"{name}: accuracy must be in [0, 1], got {accuracy!r}")
        self.accuracy = accuracy
        self.true_feed = feed
        self.feed = _NoisySignalFeed(feed, self)  # type: ignore[assignment]
        self.signals = 0
        self.wrong_signals = 0

    def signal(self, k_steps: int) -> float:
        """The signal for ``k_steps`` ahead: the truth with probability ``accuracy``."""
        f = self.true_feed.price_ahead(k_steps)
        self.signals += 1
        if self.accuracy >= 1 or self.rng.random() < self.accuracy:
            return f
        self.wrong_signals += 1
        return 2 * self.true_feed.price - f
