"""Tests for defisim.prices: CSV loading, GBM / OU paths, resampling."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from defisim.prices import (
    SECONDS_PER_YEAR,
    PriceFileError,
    PricePath,
    gbm_path,
    load_price_csv,
    ou_path,
)

BTC = Path("/work/shared/data/crypto/BTCUSDT_1h.csv")


def write(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


# --------------------------------------------------------------------- real data


@pytest.mark.data
@pytest.mark.skipif(not BTC.exists(), reason="shared BTC data not present")
def test_load_binance_btc_hourly() -> None:
    path = load_price_csv(BTC)
    assert len(path) == 23_988
    assert path.prices[0] == 58025.11
    assert path.prices[1] == 58116.69
    assert path.prices[-1] == 42361.12
    assert path.interval_s == 3600.0
    assert path.start == datetime(2021, 4, 4, 20, 0, tzinfo=UTC)
    assert path.times_s[0] == 0.0
    assert path.times_s[1] == 3600.0
    # The file has gaps: the span is longer than 23,987 hours.
    assert path.times_s[-1] > 23_987 * 3600
    assert np.all(np.diff(path.times_s) % 3600 == 0)
    assert path.source == str(BTC)
    # Naming the columns explicitly gives the same path.
    named = load_price_csv(BTC, time_column="date", price_column="close")
    np.testing.assert_array_equal(named.prices, path.prices)
    np.testing.assert_array_equal(named.times_s, path.times_s)


@pytest.mark.data
@pytest.mark.skipif(not BTC.exists(), reason="shared BTC data not present")
def test_btc_resample_hourly_fills_gaps_with_last_close() -> None:
    path = load_price_csv(BTC)
    hourly = path.resample(3600.0)
    expected_n = int(path.times_s[-1] // 3600) + 1
    assert len(hourly) == expected_n
    assert hourly.prices[-1] == path.prices[-1]
    # Every source point is on the hourly grid, so each grid price equals the
    # source price at that time and the gap hours hold the price before the gap.
    idx = (path.times_s / 3600).astype(int)
    np.testing.assert_array_equal(hourly.prices[idx], path.prices)
    gap = int(np.argmax(np.diff(path.times_s) > 3600))
    t_gap = int(path.times_s[gap] // 3600)
    assert hourly.prices[t_gap + 1] == path.prices[gap]


# ---------------------------------------------------------------- generic CSV


def test_named_columns_epoch_milliseconds(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "venue,ts_ms,mid_px\nx,1617566400000,10.5\nx,1617566401500,11\nx,1617566460000,9.25\n",
    )
    path = load_price_csv(f, time_column="ts_ms", price_column="mid_px")
    np.testing.assert_array_equal(path.times_s, [0.0, 1.5, 60.0])
    np.testing.assert_array_equal(path.prices, [10.5, 11.0, 9.25])
    assert path.start == datetime(2021, 4, 4, 20, 0, tzinfo=UTC)
    assert path.interval_s == pytest.approx((1.5 + 58.5) / 2)


@pytest.mark.parametrize(
    ("stamps", "scale"),
    [
        (["1617566400", "1617566460", "1617570000"], 1),
        (["1617566400000000", "1617566460000000", "1617570000000000"], 10**6),
        (["1617566400000000000", "1617566460000000000", "1617570000000000000"], 10**9),
        (["1617566400.0", "1617566460.0", "1617570000.0"], 1),
    ],
)
def test_epoch_unit_by_magnitude(tmp_path: Path, stamps: list[str], scale: int) -> None:
    body = "".join(f"{s},{p}\n" for s, p in zip(stamps, ["1", "2", "3"], strict=True))
    path = load_price_csv(write(tmp_path, "time,price\n" + body))
    np.testing.assert_array_equal(path.times_s, [0.0, 60.0, 3600.0])
    assert path.start == datetime(2021, 4, 4, 20, 0, tzinfo=UTC), scale


def test_iso_with_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "Timestamp , Price\n"
        "2021-01-01T01:00:00+01:00,5\n"
        "2021-01-01T00:30:00Z,6\n"
        "2021-01-01T02:00:00+01:00,7\n",
    )
    path = load_price_csv(f)  # auto-detected, case and spaces ignored
    np.testing.assert_array_equal(path.times_s, [0.0, 1800.0, 3600.0])
    assert path.start == datetime(2021, 1, 1, 0, 0, tzinfo=UTC)


def test_mixed_naive_and_offset_times_use_the_row_by_row_reader(tmp_path: Path) -> None:
    # pyarrow refuses a column mixing naive and offset times; the fallback parses it.
    f = write(tmp_path, "date,close\n2021-01-01 00:00:00,5\n2021-01-01T02:00:00+01:00,6\n")
    path = load_price_csv(f)
    np.testing.assert_array_equal(path.times_s, [0.0, 3600.0])


def test_blank_lines_and_bom_are_ignored(tmp_path: Path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes("\ufeffdate,close\n\n2021-01-01,1\n\n2021-01-02,2\n".encode())
    path = load_price_csv(f)
    np.testing.assert_array_equal(path.times_s, [0.0, 86400.0])
    np.testing.assert_array_equal(path.prices, [1.0, 2.0])


def test_auto_detection_prefers_close_over_other_price_like_columns(tmp_path: Path) -> None:
    f = write(tmp_path, "open_time,open,close,price\n1000,1,2,3\n1060,1,4,3\n")
    path = load_price_csv(f)
    np.testing.assert_array_equal(path.prices, [2.0, 4.0])


# ---------------------------------------------------------------------- errors


def err(f: Path, **kw: str) -> PriceFileError:
    with pytest.raises(PriceFileError) as info:
        load_price_csv(f, **kw)
    message = str(info.value)
    assert str(f) in message
    assert "\n" not in message
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    e = err(tmp_path / "nope.csv")
    assert "no such file" in str(e)


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in str(err(write(tmp_path, "")))
    assert "empty" in str(err(write(tmp_path, "\n\n", "blank.csv")))


def test_header_only_and_single_row(tmp_path: Path) -> None:
    assert "at least 2 data rows, found 0" in str(err(write(tmp_path, "date,close\n")))
    one = write(tmp_path, "date,close\n2021-01-01,5\n", "one.csv")
    assert "at least 2 data rows, found 1" in str(err(one))


def test_no_header(tmp_path: Path) -> None:
    f = write(tmp_path, "1617566400000,1.0,2.0\n1617566460000,1.0,2.0\n")
    assert "no header row" in str(err(f))


def test_unknown_column_lists_columns(tmp_path: Path) -> None:
    f = write(tmp_path, "when,px\n2021-01-01,5\n2021-01-02,6\n")
    e = err(f)
    assert "cannot find a time column" in str(e)
    assert "'when', 'px'" in str(e)
    e = err(f, time_column="when", price_column="close")
    assert "no price column 'close'" in str(e) and "'when', 'px'" in str(e)
    assert load_price_csv(f, time_column="when", price_column="px").prices[1] == 6.0


def test_non_numeric_price_names_line_column_and_value(tmp_path: Path) -> None:
    f = write(tmp_path, "date,close\n2021-01-01,5\n\n2021-01-02,abc\n2021-01-03,7\n")
    e = err(f)
    # Line 3 is blank, so the bad row is physical line 4.
    assert (e.line, e.column, e.column_name) == (4, 2, "close")
    assert str(e).startswith(f"{f}:4: column 2 ('close'): price 'abc'")


@pytest.mark.parametrize("bad", ["0", "-3.5", "nan", "inf", ""])
def test_non_positive_or_non_finite_price(tmp_path: Path, bad: str) -> None:
    f = write(tmp_path, f"date,close\n2021-01-01,5\n2021-01-02,6\n2021-01-03,{bad}\n")
    e = err(f)
    assert e.line == 4 and e.column == 2
    assert repr(bad) in str(e)


def test_unparseable_timestamp(tmp_path: Path) -> None:
    f = write(tmp_path, "date,close\n2021-01-01,5\n2021-13-45,6\n")
    e = err(f)
    assert (e.line, e.column) == (3, 1)
    assert "'2021-13-45'" in str(e)
    g = write(tmp_path, "time,close\n1617566400,5\n1617566460,6\nsoon,7\n", "num.csv")
    e = err(g)
    assert (e.line, e.column) == (4, 1) and "'soon'" in str(e)


def test_timestamps_must_strictly_increase(tmp_path: Path) -> None:
    f = write(tmp_path, "date,close\n2021-01-01,5\n2021-01-02,6\n2021-01-02,7\n")
    e = err(f)
    assert e.line == 4 and "not after the previous row's '2021-01-02' (line 3)" in str(e)
    g = write(tmp_path, "date,close\n2021-01-02,5\n2021-01-01,6\n", "back.csv")
    assert err(g).line == 3


def test_wrong_field_count(tmp_path: Path) -> None:
    f = write(tmp_path, "date,close,volume\n2021-01-01,5,1\n2021-01-02,6\n")
    e = err(f)
    assert e.line == 3 and "2 fields but the header has 3" in str(e)


def test_same_column_for_time_and_price(tmp_path: Path) -> None:
    f = write(tmp_path, "date,close\n2021-01-01,5\n2021-01-02,6\n")
    assert "same column" in str(err(f, time_column="close", price_column="close"))


# ------------------------------------------------------------------- PricePath


def test_pricepath_validates_and_is_read_only() -> None:
    p = PricePath(np.array([0.0, 1.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError):
        p.prices[0] = 5.0
    with pytest.raises(ValueError, match="times_s\\[0\\] must be 0"):
        PricePath(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        PricePath(np.array([0.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="prices\\[1\\]"):
        PricePath(np.array([0.0, 2.0]), np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="at least 2"):
        PricePath(np.array([0.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="3 points but prices has 2"):
        PricePath(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0]))


def test_resample_is_last_known_price() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    p = PricePath(np.array([0.0, 10.0, 25.0]), np.array([1.0, 2.0, 3.0]), start, "x")
    r = p.resample(10.0)  # ceil(25 / 10) + 1 = 4 points: 0, 10, 20, 30
    np.testing.assert_array_equal(r.times_s, [0.0, 10.0, 20.0, 30.0])
    np.testing.assert_array_equal(r.prices, [1.0, 2.0, 2.0, 3.0])
    assert r.start == start and r.source.startswith("x resampled")
    r6 = p.resample(5.0, n=8)
    np.testing.assert_array_equal(r6.prices, [1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0])
    # Grid times computed as k * 0.1 reach points stored as 0.3 despite round-off.
    q = PricePath(np.array([0.0, 0.3]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(q.resample(0.1).prices, [1.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="step_s"):
        p.resample(0.0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        p.resample(1.0, n=1)


# ------------------------------------------------------------------------- GBM


def test_gbm_is_deterministic_per_generator_state() -> None:
    a = gbm_path(1000, 60.0, 100.0, 0.1, 0.8, np.random.default_rng(7))
    b = gbm_path(1000, 60.0, 100.0, 0.1, 0.8, np.random.default_rng(7))
    c = gbm_path(1000, 60.0, 100.0, 0.1, 0.8, np.random.default_rng(8))
    np.testing.assert_array_equal(a.prices, b.prices)
    assert not np.array_equal(a.prices, c.prices)
    assert a.prices[0] == 100.0 and a.start is None
    np.testing.assert_array_equal(a.times_s, np.arange(1000) * 60.0)
    # Exactly n - 1 normals are drawn.
    rng = np.random.default_rng(7)
    gbm_path(1000, 60.0, 100.0, 0.1, 0.8, rng)
    assert rng.standard_normal() == np.random.default_rng(7).standard_normal(1000)[-1]


def test_gbm_zero_volatility_is_exact_exponential() -> None:
    p = gbm_path(5, 86_400.0, 50.0, 0.365, 0.0, np.random.default_rng(0))
    # mu = 0.365/year over 1-day steps: log grows by 0.001 per step.
    np.testing.assert_allclose(p.prices, 50.0 * np.exp(0.001 * np.arange(5)), rtol=1e-14)


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 2.0), (3.0, 0.1)])
def test_gbm_log_returns_moments(mu: float, sigma: float) -> None:
    n_steps = 50_000
    dt = 86_400.0 / SECONDS_PER_YEAR
    p = gbm_path(n_steps + 1, 86_400.0, 100.0, mu, sigma, np.random.default_rng(2024))
    r = np.diff(np.log(p.prices))
    mean_expected = (mu - sigma**2 / 2) * dt
    sd_expected = sigma * math.sqrt(dt)
    se_mean = sd_expected / math.sqrt(n_steps)
    se_sd = sd_expected / math.sqrt(2 * (n_steps - 1))
    assert abs(r.mean() - mean_expected) < 5 * se_mean
    assert abs(r.std(ddof=1) - sd_expected) < 5 * se_sd
    # The test can tell the Ito term / the drift apart from zero.
    assert abs(mean_expected) > 10 * se_mean


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 1}, "n"),
        ({"dt_s": 0.0}, "dt_s"),
        ({"s0": -1.0}, "s0"),
        ({"sigma": -0.1}, "sigma"),
        ({"mu": float("nan")}, "mu"),
    ],
)
def test_gbm_argument_errors(kwargs: dict, name: str) -> None:
    args = {"n": 10, "dt_s": 60.0, "s0": 100.0, "mu": 0.0, "sigma": 0.5}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{name} must"):
        gbm_path(rng=np.random.default_rng(0), **args)


def test_gbm_overflow_is_reported() -> None:
    with pytest.raises(ValueError, match="outside float64 range"):
        gbm_path(1000, SECONDS_PER_YEAR, 1.0, 1000.0, 0.0, np.random.default_rng(0))


# -------------------------------------------------------------------------- OU


def test_ou_zero_noise_is_exact_exponential_decay() -> None:
    theta = 36.5  # per year: 0.1 per day
    p = ou_path(6, 86_400.0, 150.0, 100.0, theta, 0.0, np.random.default_rng(0))
    expected = 100.0 + 50.0 * np.exp(-0.1 * np.arange(6))
    np.testing.assert_allclose(p.prices, expected, rtol=1e-13)


def test_ou_is_deterministic_per_generator_state() -> None:
    a = ou_path(500, 3600.0, 120.0, 100.0, 5.0, 40.0, np.random.default_rng(3))
    b = ou_path(500, 3600.0, 120.0, 100.0, 5.0, 40.0, np.random.default_rng(3))
    np.testing.assert_array_equal(a.prices, b.prices)
    assert a.prices[0] == 120.0


def test_ou_ensemble_mean_and_variance_match_exact_transition() -> None:
    theta, sigma, s0, mean = 20.0, 30.0, 150.0, 100.0
    rng = np.random.default_rng(11)
    m = 2000
    ends = np.array(
        [ou_path(11, 86_400.0, s0, mean, theta, sigma, rng).prices[-1] for _ in range(m)]
    )
    t = 10 / 365
    mean_t = mean + (s0 - mean) * math.exp(-theta * t)
    var_t = sigma**2 * (1 - math.exp(-2 * theta * t)) / (2 * theta)
    assert abs(ends.mean() - mean_t) < 5 * math.sqrt(var_t / m)
    assert abs(ends.var(ddof=1) - var_t) < 5 * var_t * math.sqrt(2 / (m - 1))


def test_ou_mean_reverts_and_autocorrelation() -> None:
    theta, sigma, mean = 50.0, 20.0, 100.0
    dt_s = 3600.0
    p = ou_path(100_001, dt_s, 160.0, mean, theta, sigma, np.random.default_rng(5))
    # Far from the mean at first, around it later.
    stationary_sd = sigma / math.sqrt(2 * theta)
    assert p.prices[0] - mean > 20 * stationary_sd
    late = p.prices[20_000:] - mean
    assert abs(late.mean()) < 0.2 * stationary_sd
    assert late.std() == pytest.approx(stationary_sd, rel=0.1)
    a = math.exp(-theta * dt_s / SECONDS_PER_YEAR)
    lag1 = np.corrcoef(late[:-1], late[1:])[0, 1]
    assert lag1 == pytest.approx(a, abs=0.01)


def test_ou_floor() -> None:
    p = ou_path(2000, 86_400.0, 1.0, 1.0, 0.0, 50.0, np.random.default_rng(1), floor=0.01)
    assert p.prices.min() == 0.01
    assert np.all(p.prices >= 0.01)
    with pytest.raises(ValueError, match="floor must be <= s0"):
        ou_path(10, 60.0, 1.0, 1.0, 1.0, 1.0, np.random.default_rng(1), floor=2.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 0}, "n"),
        ({"dt_s": -1.0}, "dt_s"),
        ({"s0": 0.0}, "s0"),
        ({"sigma": -1.0}, "sigma"),
        ({"theta": -1.0}, "theta"),
        ({"mean": 0.0}, "mean"),
    ],
)
def test_ou_argument_errors(kwargs: dict, name: str) -> None:
    args = {"n": 10, "dt_s": 60.0, "s0": 100.0, "mean": 100.0, "theta": 1.0, "sigma": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{name} must"):
        ou_path(rng=np.random.default_rng(0), **args)


def test_load_step_path_rows_resampling_and_start_row(tmp_path):
    from defisim.prices import load_step_path

    f = tmp_path / "p.csv"
    # a one-hour gap after the second row
    f.write_text("date,close\n2024-01-01 00:00:00,10\n2024-01-01 01:00:00,11\n"
                 "2024-01-01 03:00:00,13\n2024-01-01 04:00:00,14\n")
    path, step = load_step_path(f)
    assert step == 3600 and list(path.prices) == [10, 11, 13, 14]
    assert list(path.times_s) == [0, 3600, 7200, 10800]  # the gap is collapsed
    path, step = load_step_path(f, 3600)
    assert list(path.prices) == [10, 11, 11, 13, 14]  # resampled: the gap holds 11
    path, _ = load_step_path(f, start_row=2)
    assert list(path.prices) == [13, 14]
    assert path.start == datetime(2024, 1, 1, 3, tzinfo=UTC)  # the date of the row kept
    path, _ = load_step_path(f, 3600, start_row=2)
    assert list(path.prices) == [11, 13, 14] and path.start == datetime(2024, 1, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="start_row 3"):
        load_step_path(f, start_row=3)
