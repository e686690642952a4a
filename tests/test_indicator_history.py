"""Momentum indicators keep a bounded history (flat memory in long runs) and give the
same signals and values as with the whole history."""

from __future__ import annotations

import numpy as np
import pytest

from defisim.agents.momentum import indicators as ind

PRICES = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 5000)))


def _run(name: str, history: int, monkeypatch) -> tuple[list[int], object]:
    monkeypatch.setattr(ind, "HISTORY", history)
    x = ind.make_indicator(name)
    signals = [x.update(float(p)) for p in PRICES]
    return signals, x


@pytest.mark.parametrize("name", ["rsi", "stoch_rsi", "apo", "macd", "rsi_macd"])
def test_bounded_history_gives_the_same_signals_and_values(name, monkeypatch):
    full_signals, full = _run(name, 10**9, monkeypatch)
    signals, bounded = _run(name, 256, monkeypatch)
    assert signals == full_signals
    assert sum(s != 0 for s in signals) > 10  # the series does trade
    assert len(full.values) == len(PRICES)
    assert 256 <= len(bounded.values) < 512
    assert bounded.values == full.values[-len(bounded.values):]
    for t in bounded._talipp() if name != "rsi_macd" else (bounded.rsi, bounded.macd):
        assert len(t.input_values) < 512


def test_trim_drops_a_block_only_at_twice_the_history(monkeypatch):
    monkeypatch.setattr(ind, "HISTORY", 4)
    h = list(range(7))
    ind._trim(h)
    assert h == list(range(7))
    h.append(7)
    ind._trim(h)
    assert h == [4, 5, 6, 7]
