"""Ticks of other markets through the importer command: an FX pair to five places and a crypto pair.

EURUSD (``FX_24X5``: days cut at 17:00 New York) and BTCUSD (``CRYPTO_24X7``: days cut at 00:00 UTC) are
the tables of ``tests/engine/fx_underlyings.toml`` appended to the package data file. A few thousand
ticks at random seconds (seeded, written here) are imported with ``manage.py import_market_data``, each
file spanning the end of one trading day and the start of the next; the 1-minute and 1-hour candles built
from the stored days must be pandas' resampling of the same ticks (first, max, min, last, sum of the
volumes; a bucket without a tick has no candle). Bad rows are refused in one line each, naming the file,
line and field, and nothing is written.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.candles import aggregate, day_candles
from live_trading.marketdata.store import load_day
from tests.marketdata.markets import markets_universe

__all__ = ["markets_universe"]  # the fixture, used by name below


def random_ticks(symbol: str, start: datetime, seconds: int, count: int, first: int, seed: int) -> pd.DataFrame:
    """``count`` ticks at distinct random seconds of ``seconds`` from ``start``: price in minor units (a
    random walk of up to 3 units a tick), volume 1-9."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.choice(seconds, size=count, replace=False))
    prices = first + np.cumsum(rng.integers(-3, 4, size=count))
    return pd.DataFrame({"ts": [start + timedelta(seconds=int(s)) for s in offsets], "symbol": symbol,
                         "price": prices, "volume": rng.integers(1, 10, size=count)})


def ticks_csv(path, ticks: pd.DataFrame, places: int):
    lines = ["timestamp,symbol,price,volume"]
    for row in ticks.itertuples():
        lines.append(f"{row.ts:%Y-%m-%dT%H:%M:%S}Z,{row.symbol},{Decimal(int(row.price)).scaleb(-places)},{row.volume}")
    path.write_text("\n".join(lines) + "\n")
    return path


def resampled(ticks: pd.DataFrame, rule: str) -> list[tuple]:
    """pandas' candles of the ticks: (start, open, high, low, close, volume), buckets without ticks left out."""
    frame = ticks.set_index(pd.DatetimeIndex(ticks["ts"]))
    bars = frame.resample(rule).agg({"price": ["first", "max", "min", "last"], "volume": "sum"}).dropna()
    return [(t.to_pydatetime(), *(int(v) for v in row)) for t, row in bars.iterrows()]


def stored_candles(symbol: str, days, data_dir, timeframe: str) -> list[tuple]:
    out = []
    for day in days:
        for c in day_candles(load_day(symbol, day, data_dir=data_dir, generate=False), symbol, timeframe):
            out.append((datetime.fromtimestamp(c.start, UTC), c.open, c.high, c.low, c.close, c.volume))
    return out


@pytest.mark.parametrize(("symbol", "start", "first", "places", "days"), [
    # Tue 12 Mar 2024 19:00 to 24:00 UTC: New York is on daylight time, so the FX day of Tuesday ends and
    # Wednesday's begins at 21:00 UTC.
    ("EURUSD", datetime(2024, 3, 12, 19, tzinfo=UTC), 1_09250, 5, ["2024-03-12", "2024-03-13"]),
    # Sat 16 Mar 2024 22:00 to Sun 17 Mar 03:00 UTC: a weekend night, cut at midnight UTC.
    ("BTCUSD", datetime(2024, 3, 16, 22, tzinfo=UTC), 68_123_45, 2, ["2024-03-16", "2024-03-17"]),
])
def test_imported_ticks_build_the_candles_pandas_resamples_from_them(markets_universe, call_command, data_dir,
                                                                    tmp_path, capsys, symbol, start, first, places,
                                                                    days):
    ticks = random_ticks(symbol, start, 5 * 3600, 3000, first, seed=len(symbol))
    path = ticks_csv(tmp_path / f"{symbol.lower()}_ticks.csv", ticks, places)

    call_command("import_market_data", str(path), "--data-dir", str(data_dir))

    out = capsys.readouterr().out
    assert out.endswith("imported 1 file(s), 3000 ticks in 2 day file(s)\n")
    assert sorted(p.name for p in (data_dir / "imported" / symbol).iterdir()) == [f"{d}.parquet" for d in days]
    trading_days = [datetime.fromisoformat(d).date() for d in days]
    minutes = stored_candles(symbol, trading_days, data_dir, "1m")
    assert minutes == resampled(ticks, "1min")
    assert stored_candles(symbol, trading_days, data_dir, "1h") == resampled(ticks, "1h")
    # The 1-minute candles aggregated on each day's grid (the session chart's way) give the same hours.
    calendar = calendar_of(symbol)
    hours = []
    for day in trading_days:
        candles = day_candles(load_day(symbol, day, data_dir=data_dir, generate=False), symbol, "1m")
        hours += [(datetime.fromtimestamp(c.start, UTC), c.open, c.high, c.low, c.close, c.volume)
                  for c in aggregate(candles, "1h", calendar.anchor_ts(day))]
    assert hours == resampled(ticks, "1h")
    # Every place kept: the first tick's price, as written.
    first_day = load_day(symbol, trading_days[0], data_dir=data_dir, generate=False)
    assert first_day.prices[first_day.tick_mask[:, 0], 0][0] == ticks.price.iloc[0]


def test_bad_ticks_are_refused_each_naming_its_line_and_nothing_is_written(markets_universe, call_command, data_dir,
                                                                           tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "eurusd_bad.csv"
    path.write_text("\n".join([
        "timestamp,symbol,price",
        "2024-03-12T19:00:00Z,EURUSD,1.09250",
        "2024-03-12T19:00:01Z,EURUSD,1.092505",  # six places for a five-place pair
        "2024-03-12 25:00:00,EURUSD,1.09251",  # no such hour
        "12/03/2024 19:00,EURUSD,1.09252",  # not ISO 8601
        "2024-03-12T19:00:02.5Z,EURUSD,1.09253",  # a fraction of a second
        "2024-03-12T19:00:03Z,EURUSD,-1.09253",
        "2024-03-16T12:00:00Z,EURUSD,1.09250",  # a Saturday: the FX market is shut
    ]) + "\n")

    with pytest.raises(CommandError) as refused:
        call_command("import_market_data", str(path), "--data-dir", str(data_dir))

    assert refused.value.returncode == 2
    assert str(refused.value).splitlines() == [
        "import refused, nothing written:",
        f"{path}, line 3, field 'price': 1.092505 has more than 5 decimals, so it is off the tick",
        f"{path}, line 4, field 'timestamp': '2024-03-12 25:00:00' is not a valid date and time",
        f"{path}, line 5, field 'timestamp': '12/03/2024 19:00' is not an ISO 8601 time such as "
        "2024-10-29 09:15:00[+05:30]",
        f"{path}, line 6, field 'timestamp': '2024-03-12T19:00:02.5Z' has a fraction of a second; timestamps are "
        "whole seconds",
        f"{path}, line 7, field 'price': '-1.09253' is negative; prices must be positive",
        f"{path}, line 8, field 'timestamp': 2024-03-16 08:00:00-04:00 is outside the sessions of the FX_24X5 "
        "calendar (17:00:00-16:59:59 America/New_York, its trading days and holidays)",
    ]
    assert list(data_dir.rglob("*")) == []
