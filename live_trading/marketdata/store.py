"""Where market-data days live on disk, and `load_day`, the one way to get a `MarketDay`.

Layout under the data folder (default ``<repo>/var/market_data``, else ``$MARKET_DATA_DIR``, else the
`data_dir` argument, which wins):

    imported/<UNDERLYING>/<YYYY-MM-DD>.parquet         real data brought in by the importer
    synthetic/<UNDERLYING>/<YYYY-MM-DD>.seed<N>.v<V>.parquet  generated days, per seed and generator version

Imported data takes precedence over synthetic data for the same underlying and day.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from live_trading.marketdata.day import MarketDay, read_day, write_day
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.sessions import is_trading_day, trading_days
from live_trading.refusals import Refused

DEFAULT_SEED = 0
SYNTHETIC_VERSION = 1
"""Part of synthetic file names: bump it whenever the generator's output changes, so stale days are regenerated."""
ENV_VAR = "MARKET_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[2]


class MarketDataMissing(Refused, LookupError):
    """No data for the requested underlying and day, and none can be generated."""

    subject = "date"

    def __init__(self, underlying: str, day: date, reason: str) -> None:
        super().__init__(f"no {underlying} market data for {day.isoformat()}: {reason}")
        self.underlying = underlying
        self.day = day


def market_data_dir(override: Path | str | None = None) -> Path:
    """The market-data folder: `override`, else ``$MARKET_DATA_DIR``, else ``<repo>/var/market_data``."""
    if override is not None:
        return Path(override)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else _REPO_ROOT / "var" / "market_data"


def imported_path(underlying: str, day: date, data_dir: Path | str | None = None) -> Path:
    return market_data_dir(data_dir) / "imported" / underlying / f"{day.isoformat()}.parquet"


def synthetic_path(
    underlying: str, day: date, seed: int = DEFAULT_SEED, data_dir: Path | str | None = None
) -> Path:
    name = f"{day.isoformat()}.seed{seed}.v{SYNTHETIC_VERSION}.parquet"
    return market_data_dir(data_dir) / "synthetic" / underlying / name


def ensure_synthetic_day(
    underlying: str, day: date, seed: int = DEFAULT_SEED, data_dir: Path | str | None = None, force: bool = False
) -> Path:
    """Generate and store the synthetic day unless its file exists already (or `force`); return its path."""
    from live_trading.marketdata.synthetic import generate_day  # generation pulls in the pricing code

    path = synthetic_path(underlying, day, seed, data_dir)
    if force or not path.exists():
        write_day(generate_day(underlying, day, seed), path)
    return path


def ensure_synthetic_days(
    underlying: str,
    start: date,
    end: date | None = None,
    seed: int = DEFAULT_SEED,
    data_dir: Path | str | None = None,
    force: bool = False,
) -> list[tuple[date, Path, bool]]:
    """Make sure every trading day from `start` to `end` (inclusive) has its synthetic file.

    Returns (day, path, generated) per trading day; non-trading days in the range are skipped. A single
    non-trading day (`end` omitted) raises `MarketDataMissing`.
    """
    get_underlying(underlying)
    days = trading_days(start, end or start)
    if not days and end is None:
        raise MarketDataMissing(underlying, start, "not a trading day")
    out = []
    for day in days:
        path = synthetic_path(underlying, day, seed, data_dir)
        existed = path.exists() and not force
        ensure_synthetic_day(underlying, day, seed, data_dir, force=force)
        out.append((day, path, not existed))
    return out


def load_day(
    underlying: str,
    day: date,
    data_dir: Path | str | None = None,
    generate: bool = True,
    seed: int = DEFAULT_SEED,
) -> MarketDay:
    """The `MarketDay` of `underlying` on `day`.

    Imported data wins; otherwise the synthetic day for `seed`, generated and stored first if it is
    missing and `generate` is true. Raises `MarketDataMissing` naming the day when there is neither, or
    when the file found never prices the underlying itself (a day that could make no trade).
    """
    get_underlying(underlying)
    path = imported_path(underlying, day, data_dir)
    if path.exists():
        return _priced(read_day(path), path)
    path = synthetic_path(underlying, day, seed, data_dir)
    if not path.exists():
        if not is_trading_day(day):
            raise MarketDataMissing(underlying, day, "not a trading day, and nothing was imported for it")
        if not generate:
            raise MarketDataMissing(underlying, day, f"nothing imported and no synthetic day for seed {seed}")
        ensure_synthetic_day(underlying, day, seed, data_dir)
    return _priced(read_day(path), path)


def _priced(day: MarketDay, path: Path) -> MarketDay:
    """`day` if its underlying (column 0) ticks at least once; else `MarketDataMissing` naming the file."""
    if not day.tick_mask[:, 0].any():
        raise MarketDataMissing(
            day.underlying,
            day.date,
            f"{path} has no prices for the underlying {day.underlying} itself; import the day again with "
            f"{day.underlying} rows, or remove the file to replay the synthetic day",
        )
    return day
