"""Instruments of other markets, added as data alone, and bar files for them.

``markets_universe`` appends the tables of ``tests/engine/fx_underlyings.toml`` (EURUSD on ``FX_24X5``,
BTCUSD on ``CRYPTO_24X7``) and ``other_markets.toml`` (RELIANCE on the NSE, the E-mini S&P 500 future ES
on ``CME_EQUITY``, AAPL on ``US_EQUITY`` with its early closes) to the package data file, as a user adds
an instrument: no code names any of them. ``tick_path`` walks a bar's four ticks as the importer stores
them (docs/marketdata.md: the open at the bar's first second, the extreme it moved away from first a third
in, the other two thirds in, the close at its last second; a bar with close >= open goes to its low
first), written here from that description, not from the importer's code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from live_trading.marketdata import universe as universe_mod
from live_trading.marketdata.candles import day_candles
from live_trading.marketdata.importer import import_files
from live_trading.marketdata.store import load_day

HERE = Path(__file__).parent
TABLES = (HERE.parent / "engine" / "fx_underlyings.toml", HERE / "other_markets.toml")


@pytest.fixture
def markets_universe(tmp_path):
    """The package data file with the other markets' tables appended."""
    path = tmp_path / "underlyings.toml"
    path.write_text("\n".join([universe_mod.DATA_FILE.read_text(), *(t.read_text() for t in TABLES)]))
    universe_mod.use_universe(universe_mod.Universe.from_file(path))
    yield
    universe_mod.use_universe(None)


def random_bars(start: datetime, count: int, seconds: int, first: int, seed: int, step: int = 1) -> list[tuple]:
    """``count`` bars of ``seconds`` from ``start`` (aware), prices in hundredths on a grid of ``step``:
    (start, open, high, low, close, volume). A seeded random walk; each bar opens at the last close or a
    step or two away."""
    rng = np.random.default_rng(seed)
    bars, close = [], first
    for i in range(count):
        open_ = close + step * int(rng.integers(-2, 3))
        close = open_ + step * int(rng.integers(-40, 41))
        high = max(open_, close) + step * int(rng.integers(0, 15))
        low = min(open_, close) - step * int(rng.integers(0, 15))
        bars.append((start + timedelta(seconds=i * seconds), open_, high, low, close, int(rng.integers(1, 50))))
    return bars


def bars_csv(path: Path, symbol: str, bars, places: int = 2) -> Path:
    """``bars`` (start, open, high, low, close, volume; prices in minor units) as the importer's candle
    CSV, times in UTC."""
    lines = ["timestamp,symbol,open,high,low,close,volume"]
    for start, *prices, volume in bars:
        text = ",".join(str(Decimal(p).scaleb(-places)) for p in prices)
        lines.append(f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z,{symbol},{text},{volume}")
    path.write_text("\n".join(lines) + "\n")
    return path


def tick_path(bars, seconds: int) -> list[tuple[datetime, int]]:
    """Every bar's four ticks (time, price) in order, as docs/marketdata.md describes them."""
    ticks = []
    for start, o, h, low, c, _ in bars:
        first, second = (low, h) if c >= o else (h, low)
        ticks += [(start, o), (start + timedelta(seconds=seconds // 3), first),
                  (start + timedelta(seconds=2 * seconds // 3), second), (start + timedelta(seconds=seconds - 1), c)]
    return ticks


def imported_and_read_back(rows: list[str], timeframe: str, symbol: str, day, zone, folder: Path):
    """``rows`` (candle CSV lines with a volume, times in the exchange's zone) imported into ``folder`` as
    ``timeframe`` bars, and ``day`` read back: the times of the underlying's stored ticks (HH:MM:SS in
    ``zone``) and the candles built again from them, as (start, open, high, low, close, volume), prices in
    minor units; ``as_candles(rows, symbol)`` is what those should be."""
    path = folder / "bars.csv"
    path.write_text("timestamp,symbol,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    import_files([path], data_dir=folder / "md", timeframe=timeframe)
    stored = load_day(symbol, day, data_dir=folder / "md", generate=False)
    seen = [datetime.fromtimestamp(int(t), zone).strftime("%H:%M:%S") for t in stored.timestamps[stored.tick_mask[:, 0]]]
    candles = [(datetime.fromtimestamp(c.start, zone).strftime("%Y-%m-%d %H:%M:%S"), c.open, c.high, c.low, c.close,
                c.volume) for c in day_candles(stored, symbol, timeframe)]
    return seen, candles


def as_candles(rows: list[str], symbol: str) -> list[tuple]:
    """The candle CSV lines ``rows`` as ``imported_and_read_back`` gives candles: prices in hundredths."""
    return [(t, *(int(Decimal(v) * 100) for v in prices), int(volume))
            for t, *prices, volume in (r.replace(f",{symbol}", "").split(",") for r in rows)]


def aware(text: str) -> datetime:
    """An ISO 8601 time with its offset (as the API and ``simulate`` print them) in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)
