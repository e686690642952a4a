"""The indicators a :class:`~defisim.agents.momentum.MomentumTrader` can trade, each with
its signal rule.

An indicator takes one price per step (:meth:`Indicator.update`) and answers with a
signal: ``+1`` buy, ``-1`` sell, ``2`` exit a long, ``-2`` exit a short, ``0`` nothing.
The values come from indicator libraries; none is written by hand here:

- :class:`RSI`: RSI (Wilder 1978, "New Concepts in Technical Trading Systems"), 0-100,
  ``talipp.indicators.RSI(period)``;
- :class:`StochRSI`: stochastic RSI (Chande and Kroll 1994, "The New Technical
  Trader"), the %K line of ``talipp.indicators.StochRSI(period, stoch_period,
  k_smoothing, d_smoothing)``, 0-100;
- :class:`APO`: absolute price oscillator ``EMA(fast) - EMA(slow)`` in quote units,
  the difference of two ``talipp.indicators.EMA``;
- :class:`MACD`: the MACD histogram ``MACD - signal`` of
  ``talipp.indicators.MACD(fast, slow, signal_period)`` (Appel 1979);
- :class:`CMO`: the Chande momentum oscillator (T. Chande and S. Kroll 1994, "The New
  Technical Trader"), ``100 (Su - Sd) / (Su + Sd)`` with ``Su`` and ``Sd`` the sums of
  the up and down close-to-close moves over the last ``period`` steps, -100..100, from
  ``talib.CMO`` (TA-Lib, the ``ta-lib`` package; ``talipp`` 2.7 has no CMO). TA-Lib
  applies Wilder's smoothing after its first window (over a long series its CMO equals
  ``2 (RSI - 50)``), so the indicator keeps the last ``period + 1`` prices and asks
  TA-Lib for the CMO of exactly that window, whose only value is the unsmoothed one
  above (``O(period)`` per step). TA-Lib is imported when a CMO is built.
- :class:`RSIMACD`: RSI crossings confirmed by the MACD histogram, with exits (the
  default of :class:`~defisim.agents.momentum.MomentumTrader`).

Signal rules, with ``x`` the value after the step's price and ``x_prev`` the value one
step earlier (no signal while either is ``None``, i.e. warming up):

- oscillators (:class:`RSI`, :class:`StochRSI`; a mean-reversion reading of momentum):
  buy when ``x`` crosses up through ``lower`` (``x_prev < lower <= x``: the oversold
  move is over), sell when it crosses down through ``upper`` (``x_prev > upper >= x``);
- trend signals (:class:`APO`, :class:`MACD`, :class:`CMO`): buy when ``x`` crosses up
  through ``upper`` (``x_prev <= upper < x``), sell when it crosses down through
  ``lower`` (``x_prev >= lower > x``); both 0 by default for APO and MACD (the zero
  line), -50 and +50 for CMO (Chande's levels: a CMO above +50 means the up moves of
  the window are at least three times the down moves);
- :class:`RSIMACD`: see its doc.

Indicators are plain objects (no lambdas), so a trader holding one pickles.

Memory stays flat in long runs: an indicator keeps its last :data:`HISTORY` to
``2 * HISTORY`` values, and the talipp objects under it are purged of inputs and
outputs older than that (``purge_oldest``). Every lookback here is far shorter
(periods of tens of steps), so the values are the same as with the whole history.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Literal

import numpy as np
from talipp import indicators as ta

Reading = Literal["oscillator", "trend"]

HISTORY = 1024
"""Values an indicator keeps at least (older ones are dropped in blocks of this size)."""


def _trim(history: list, talipp_objects: tuple = ()) -> None:
    """Drop the oldest :data:`HISTORY` entries of ``history`` and of each talipp
    indicator once they hold ``2 * HISTORY`` (amortised O(1) per step)."""
    if len(history) >= 2 * HISTORY:
        del history[:HISTORY]
    for ind in talipp_objects:
        if len(ind.input_values) >= 2 * HISTORY:
            ind.purge_oldest(HISTORY)


class Indicator:
    """One indicator value per price and the threshold-crossing rule of its ``reading``.

    Subclasses set :attr:`name`, :attr:`reading` and :attr:`default_thresholds` and
    implement :meth:`value`.

    Args:
        lower, upper: thresholds (default :attr:`default_thresholds`).

    Attributes:
        values: the value after each of the last prices (``None`` while warming up;
            at least the last :data:`HISTORY` are kept).

    Raises:
        ValueError: ``lower > upper``.
    """

    name: ClassVar[str] = ""
    reading: ClassVar[Reading] = "trend"
    default_thresholds: ClassVar[tuple[float, float]] = (0.0, 0.0)

    def __init__(self, lower: float | None = None, upper: float | None = None) -> None:
        lo, hi = self.default_thresholds
        self.lower = lo if lower is None else lower
        self.upper = hi if upper is None else upper
        if self.lower > self.upper:
            raise ValueError("need lower <= upper")
        self.values: list[float | None] = []

    #: The talipp indicators under this one (purged with the history).
    def _talipp(self) -> tuple:
        return ()

    def value(self, price: float) -> float | None:
        """Add ``price`` to the underlying indicator(s) and return the new value."""
        raise NotImplementedError

    def update(self, price: float) -> int:
        """Add one price; return +1 (buy), -1 (sell) or 0 (the module's rules)."""
        x = self.value(price)
        prev = self.values[-1] if self.values else None
        self.values.append(x)
        _trim(self.values, self._talipp())
        if x is None or prev is None:
            return 0
        lo, hi = self.lower, self.upper
        if self.reading == "oscillator":
            if prev < lo <= x:
                return 1
            if prev > hi >= x:
                return -1
            return 0
        if prev <= hi < x:
            return 1
        if prev >= lo > x:
            return -1
        return 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower={self.lower!r}, upper={self.upper!r})"


class RSI(Indicator):
    """RSI (0-100) of the last ``period`` steps, read as an oscillator (30 / 70)."""

    name = "rsi"
    reading = "oscillator"
    default_thresholds = (30.0, 70.0)

    def __init__(
        self, period: int = 14, *, lower: float | None = None, upper: float | None = None
    ) -> None:
        super().__init__(lower, upper)
        self._ind = ta.RSI(period)

    def _talipp(self) -> tuple:
        return (self._ind,)

    def value(self, price: float) -> float | None:
        self._ind.add(price)
        return self._ind[-1]


class StochRSI(Indicator):
    """The %K line of the stochastic RSI (0-100), read as an oscillator (20 / 80)."""

    name = "stoch_rsi"
    reading = "oscillator"
    default_thresholds = (20.0, 80.0)

    def __init__(
        self,
        period: int = 14,
        stoch_period: int = 14,
        k_smoothing: int = 3,
        d_smoothing: int = 3,
        *,
        lower: float | None = None,
        upper: float | None = None,
    ) -> None:
        super().__init__(lower, upper)
        self._ind = ta.StochRSI(period, stoch_period, k_smoothing, d_smoothing)

    def _talipp(self) -> tuple:
        return (self._ind,)

    def value(self, price: float) -> float | None:
        self._ind.add(price)
        v = self._ind[-1]
        return None if v is None else v.k


class APO(Indicator):
    """``EMA(fast) - EMA(slow)`` (quote units), read as a trend signal (zero line)."""

    name = "apo"
    reading = "trend"
    default_thresholds = (0.0, 0.0)

    def __init__(
        self, fast: int = 12, slow: int = 26, *, lower: float | None = None,
        upper: float | None = None,
    ) -> None:
        super().__init__(lower, upper)
        self._fast, self._slow = ta.EMA(fast), ta.EMA(slow)

    def _talipp(self) -> tuple:
        return (self._fast, self._slow)

    def value(self, price: float) -> float | None:
        self._fast.add(price)
        self._slow.add(price)
        f, s = self._fast[-1], self._slow[-1]
        return None if f is None or s is None else f - s


class MACD(Indicator):
    """The MACD histogram ``MACD - signal``, read as a trend signal (zero line)."""

    name = "macd"
    reading = "trend"
    default_thresholds = (0.0, 0.0)

    def __init__(
        self,
        fast: int = 12,
        slow: int = 26,
        signal_period: int = 9,
        *,
        lower: float | None = None,
        upper: float | None = None,
    ) -> None:
        super().__init__(lower, upper)
        self._ind = ta.MACD(fast, slow, signal_period)

    def _talipp(self) -> tuple:
        return (self._ind,)

    def value(self, price: float) -> float | None:
        self._ind.add(price)
        v = self._ind[-1]
        return None if v is None else v.histogram


class CMO(Indicator):
    """Chande's momentum oscillator (-100..100) of the last ``period + 1`` prices,
    unsmoothed (module doc), read as a trend signal (-50 / +50).

    Raises:
        ValueError: ``period`` below 1.
        MissingExtraError: TA-Lib is not installed (an ``ImportError``; the ``ta``
            extra: ``pip install 'defisim[ta]'``).
    """

    name = "cmo"
    reading = "trend"
    default_thresholds = (-50.0, 50.0)

    def __init__(
        self, period: int = 14, *, lower: float | None = None, upper: float | None = None
    ) -> None:
        super().__init__(lower, upper)
        if period < 1:
            raise ValueError("the CMO period must be >= 1")
        from defisim.extras import require

        talib = require("ta", "talib", feature="the CMO indicator")
        self._talib_cmo = talib.CMO
        self._period = int(period)
        self._window: deque[float] = deque(maxlen=self._period + 1)

    def value(self, price: float) -> float | None:
        self._window.append(float(price))
        if len(self._window) <= self._period:
            return None
        closes = np.fromiter(self._window, dtype=np.float64, count=len(self._window))
        return float(self._talib_cmo(closes, timeperiod=self._period)[-1])


class RSIMACD(Indicator):
    """RSI crossings confirmed by the MACD histogram, with exits.

    With ``RSI_prev`` the RSI one step earlier and ``H`` the MACD histogram:

    - buy (+1): RSI crosses up through ``rsi_lower`` (``RSI_prev < rsi_lower <= RSI``)
      while ``H > 0``: the oversold move is over and momentum turned up;
    - sell (-1): RSI crosses down through ``rsi_upper`` (``RSI_prev > rsi_upper >= RSI``)
      while ``H < 0``;
    - exit a long (2): ``H`` turns negative while RSI is at or above 50; exit a short
      (-2): ``H`` turns positive while RSI is at or below 50.

    Args:
        rsi_period: RSI period, steps.
        rsi_lower, rsi_upper: RSI thresholds (0-100; :attr:`lower`, :attr:`upper`).
        macd_fast, macd_slow, macd_signal: MACD periods, steps.

    Attributes:
        rsi, macd: the ``talipp`` indicators (inspectable).
        values: ``(RSI, H)`` after each price (each ``None`` while warming up).

    Raises:
        ValueError: unless ``0 <= rsi_lower < rsi_upper <= 100``.
    """

    name = "rsi_macd"
    reading = "oscillator"
    default_thresholds = (30.0, 70.0)

    def __init__(
        self,
        rsi_period: int = 14,
        rsi_lower: float = 30.0,
        rsi_upper: float = 70.0,
        macd_fast: int = 12,
        macd_slow: int = 26,
        macd_signal: int = 9,
    ) -> None:
        if not 0 <= rsi_lower < rsi_upper <= 100:
            raise ValueError("need 0 <= rsi_lower < rsi_upper <= 100")
        self.lower = rsi_lower
        self.upper = rsi_upper
        self.rsi = ta.RSI(rsi_period)
        self.macd = ta.MACD(macd_fast, macd_slow, macd_signal)
        self._prev_rsi: float | None = None
        self._prev_hist: float | None = None

    @property
    def values(self) -> list[tuple[float | None, float | None]]:  # type: ignore[override]
        """``(RSI, MACD histogram)`` after each of the last prices (read from the
        indicators; at least the last :data:`HISTORY` are kept)."""
        return [
            (r, None if m is None else m.histogram) for r, m in zip(self.rsi, self.macd, strict=True)
        ]

    def update(self, price: float) -> int:
        """Add one price; return +1 buy, -1 sell, 2 exit long, -2 exit short, 0 nothing."""
        self.rsi.add(price)
        self.macd.add(price)
        for ind in (self.rsi, self.macd):
            if len(ind.input_values) >= 2 * HISTORY:
                ind.purge_oldest(HISTORY)
        rsi = self.rsi[-1]
        mv = self.macd[-1]
        hist = None if mv is None else mv.histogram
        prev_rsi, prev_hist = self._prev_rsi, self._prev_hist
        self._prev_rsi, self._prev_hist = rsi, hist
        if rsi is None or hist is None or prev_rsi is None:
            return 0
        if prev_rsi < self.lower <= rsi and hist > 0:
            return 1
        if prev_rsi > self.upper >= rsi and hist < 0:
            return -1
        if prev_hist is not None:
            if prev_hist >= 0 > hist and rsi >= 50:
                return 2
            if prev_hist <= 0 < hist and rsi <= 50:
                return -2
        return 0


#: Indicator classes by name (``MomentumTrader(indicator="cmo", period=5)``).
INDICATORS: dict[str, type[Indicator]] = {
    cls.name: cls for cls in (RSI, StochRSI, APO, MACD, CMO, RSIMACD)
}


def make_indicator(name: str, **params: Any) -> Indicator:
    """The indicator ``name`` (a key of :data:`INDICATORS`) built with ``params``.

    Raises:
        ValueError: an unknown name or a parameter out of range.
        TypeError: a parameter the indicator does not take.
    """
    try:
        cls = INDICATORS[name]
    except KeyError:
        raise ValueError(f"unknown indicator {name!r}; use one of {sorted(INDICATORS)}") from None
    return cls(**params)
