"""Where market-data days live on disk, and `load_day`, the one way to get a `MarketDay`.

Layout under the data folder (default ``<repo>/var/market_data``, else ``$MARKET_DATA_DIR``, else the
`data_dir` argument, which wins):

    imported/<UNDERLYING>/<YYYY-MM-DD>.parquet         real data brought in by the importer
    synthetic/<UNDERLYING>/<YYYY-MM-DD>.seed<N>.v<V>.parquet  generated days, per seed and generator version

Imported data takes precedence over synthetic data for the same underlying and day.

Synthetic days are a cache: `list_days` lists every stored day with its size and when it was last
used (the file's access time, set by `load_day`), and `evict_synthetic` removes the least recently
used synthetic days down to a size, never an imported day and never one the caller says is in use.
Which days are in use and how large the cache may be are the caller's policy (the Django side).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from live_trading.marketdata.calendar import is_trading_day, trading_days
from live_trading.marketdata.day import MarketDay, read_day, write_day
from live_trading.marketdata.instruments import get_underlying
from live_trading.refusals import Refused

DEFAULT_SEED = 0
SYNTHETIC_VERSION = 2
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


@dataclass(frozen=True)
class StoredDay:
    """One day file in the market-data folder.

    `source` is "imported" or "synthetic"; `seed` and `version` (the generator version) are None for an
    imported day. `size_bytes` is the file's size, `last_used` epoch seconds (float) of its last use by
    `load_day` (or its writing, if it was never read). A synthetic day is `shadowed` when an imported
    file exists for the same underlying and day, so `load_day` never returns it.
    """

    underlying: str
    day: date
    source: str
    path: Path
    size_bytes: int
    last_used: float
    seed: int | None = None
    version: int | None = None
    shadowed: bool = False

    @property
    def last_used_at(self) -> datetime:
        """`last_used` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.last_used, UTC)


_IMPORTED_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.parquet", re.ASCII)
_SYNTHETIC_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.seed(\d+)\.v(\d+)\.parquet", re.ASCII)


def list_days(data_dir: Path | str | None = None) -> list[StoredDay]:
    """Every day file stored, sorted by underlying, day, source (imported first), seed.

    Files whose names the store does not write (temporary files of a write in progress, stray files)
    are left out, as are files that vanish while the folder is read.
    """
    root = market_data_dir(data_dir)
    found: list[StoredDay] = []
    for source, pattern in (("imported", _IMPORTED_NAME), ("synthetic", _SYNTHETIC_NAME)):
        for path in sorted((root / source).glob("*/*.parquet")):
            match = pattern.fullmatch(path.name)
            if match is None:
                continue
            try:
                day = date.fromisoformat(match.group(1))
                stat = path.stat()
            except (ValueError, FileNotFoundError):
                continue
            extra = {}
            if source == "synthetic":
                extra = {"seed": int(match.group(2)), "version": int(match.group(3))}
            found.append(StoredDay(path.parent.name, day, source, path, stat.st_size, stat.st_atime, **extra))
    imported = {(d.underlying, d.day) for d in found if d.source == "imported"}
    found = [replace(d, shadowed=d.source == "synthetic" and (d.underlying, d.day) in imported) for d in found]
    found.sort(key=lambda d: (d.underlying, d.day, d.source != "imported", d.seed or 0, d.version or 0))
    return found


def stored_version(
    underlying: str, day: date, data_dir: Path | str | None = None, seed: int = DEFAULT_SEED
) -> tuple[int | None, int | None]:
    """The modification times (ns) of the day's imported and synthetic files, None for a file that is
    not there: what an in-memory copy of a loaded day is keyed on, so that a day imported, regenerated
    or removed since is read afresh (or found missing)."""
    return _mtime(imported_path(underlying, day, data_dir)), _mtime(synthetic_path(underlying, day, seed, data_dir))


def day_source(underlying: str, day: date, data_dir: Path | str | None = None, seed: int = DEFAULT_SEED) -> dict:
    """Where ``load_day`` reads ``underlying`` on ``day`` from now: ``{"date", "source", "seed"}`` with
    ``source`` "imported" (``seed`` None), "synthetic" (the seed's generated day) or None (nothing
    stored: a chart of that day is a ``MarketDataMissing``)."""
    if imported_path(underlying, day, data_dir).exists():
        return {"date": day.isoformat(), "source": "imported", "seed": None}
    if synthetic_path(underlying, day, seed, data_dir).exists():
        return {"date": day.isoformat(), "source": "synthetic", "seed": seed}
    return {"date": day.isoformat(), "source": None, "seed": None}


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def mark_used(path: Path) -> None:
    """Record that `path` is being used now (its access time; the modification time is kept).

    Raises FileNotFoundError when the file is gone.
    """
    stat = path.stat()
    os.utime(path, ns=(time.time_ns(), stat.st_mtime_ns))


def evict_synthetic(
    max_bytes: int, in_use: Collection[tuple[str, date]] = (), data_dir: Path | str | None = None
) -> list[StoredDay]:
    """Remove least recently used synthetic days until the synthetic days take at most `max_bytes`.

    Imported days are never removed, nor synthetic days whose (underlying, day) is in `in_use`; when
    those alone exceed `max_bytes` the cache stays above it. Returns the days removed, oldest first.
    Safe against another process evicting at the same time (a file already gone is skipped) and
    against a reader: `load_day` regenerates a synthetic day that vanishes before it is read.
    """
    synthetic = [d for d in list_days(data_dir) if d.source == "synthetic"]
    total = sum(d.size_bytes for d in synthetic)
    removed = []
    for stored in sorted(synthetic, key=lambda d: (d.last_used, str(d.path))):
        if total <= max_bytes:
            break
        if (stored.underlying, stored.day) in in_use:
            continue
        stored.path.unlink(missing_ok=True)  # missing: another process evicted it first
        total -= stored.size_bytes
        removed.append(stored)
    return removed


def remove_imported(underlying: str, day: date, data_dir: Path | str | None = None) -> StoredDay:
    """Delete the imported day file of `underlying` on `day` and return what it was.

    Raises `MarketDataMissing` when nothing is imported for that day. Sessions started afterwards
    replay the synthetic day instead.
    """
    path = imported_path(underlying, day, data_dir)
    try:
        stat = path.stat()
        path.unlink()
    except FileNotFoundError:
        raise MarketDataMissing(underlying, day, "nothing is imported for that day") from None
    return StoredDay(underlying, day, "imported", path, stat.st_size, stat.st_atime)


def missing_days(
    underlying: str, days: Collection[date], seed: int = DEFAULT_SEED, data_dir: Path | str | None = None
) -> list[date]:
    """The trading days of `days` that `load_day` would have to generate (no imported, no synthetic file);
    none for an instrument without a synthetic market, whose days are never generated (`day_ticks`
    refuses those not imported)."""
    if not get_underlying(underlying).synthetic:
        return []
    return [
        day for day in sorted(days)
        if is_trading_day(day)
        and not imported_path(underlying, day, data_dir).exists()
        and not synthetic_path(underlying, day, seed, data_dir).exists()
    ]


def ensure_synthetic_day(
    underlying: str,
    day: date,
    seed: int = DEFAULT_SEED,
    data_dir: Path | str | None = None,
    force: bool = False,
    vix: float | None = None,
) -> Path:
    """Generate and store the synthetic day unless its file exists already (or `force`); return its path.

    `vix` (per cent a year) sets the day's opening ATM implied volatility (`synthetic.generate_day`); the
    file is the seed's synthetic day all the same, so a later regeneration draws the seeded volatility.
    """
    from live_trading.marketdata.synthetic import generate_day  # generation pulls in the pricing code

    path = synthetic_path(underlying, day, seed, data_dir)
    if force or not path.exists():
        write_day(generate_day(underlying, day, seed, vix=vix), path)
    return path


def ensure_synthetic_days(
    underlying: str,
    start: date,
    end: date | None = None,
    seed: int = DEFAULT_SEED,
    data_dir: Path | str | None = None,
    force: bool = False,
    vix: float | None = None,
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
        ensure_synthetic_day(underlying, day, seed, data_dir, force=force, vix=vix)
        out.append((day, path, not existed))
    return out


def day_ticks(underlying: str, day: date, data_dir: Path | str | None = None) -> int:
    """How many ticks a replay of `underlying` on trading day `day` visits, before the day is loaded: what
    a session's progress counts (``total_ticks``). On a calendar with the ``seconds`` clock, the seconds of
    the day's windows (22,500 on a regular NSE day, fewer on a special session or an early close); with
    ``ticks``, the distinct seconds of the imported day file (its ``ts`` column alone is read).

    Raises `MarketDataMissing` naming the day when the instrument has no synthetic market and nothing is
    imported for the day: such a session could not replay it."""
    from live_trading.marketdata.calendar import calendar_of

    info = get_underlying(underlying)
    path = imported_path(underlying, day, data_dir)
    if not info.synthetic and not path.exists():
        raise MarketDataMissing(underlying, day, f"nothing imported, and {underlying} ({info.calendar} calendar) has "
                                "no synthetic market: import its data")
    rows = calendar_of(underlying).expected_rows(day)
    if rows is not None:
        return rows
    return len(pq.read_table(path, columns=["ts"]).column("ts").unique())


def load_day(
    underlying: str,
    day: date,
    data_dir: Path | str | None = None,
    generate: bool = True,
    seed: int = DEFAULT_SEED,
    symbols: Sequence[str] | None = None,
) -> MarketDay:
    """The `MarketDay` of `underlying` on `day`; with `symbols`, of those instruments and the underlying
    only (`read_day`: ``symbols=()`` reads the underlying alone).

    Imported data wins; otherwise the synthetic day for `seed`, generated and stored first if it is
    missing (or evicted while being read) and `generate` is true. Marks the file used (`mark_used`). Raises `MarketDataMissing` naming the day when there is neither, or
    when the file found never prices the underlying itself (a day that could make no trade).
    """
    info = get_underlying(underlying)
    path = imported_path(underlying, day, data_dir)
    if path.exists():
        mark_used(path)
        return _priced(read_day(path, symbols), path)
    if not info.synthetic:
        raise MarketDataMissing(underlying, day, f"nothing imported, and {underlying} ({info.calendar} calendar) has "
                                "no synthetic market: import its data")
    path = synthetic_path(underlying, day, seed, data_dir)
    for attempt in range(2):
        if not path.exists():
            if not is_trading_day(day):
                raise MarketDataMissing(underlying, day, "not a trading day, and nothing was imported for it")
            if not generate:
                raise MarketDataMissing(underlying, day, f"nothing imported and no synthetic day for seed {seed}")
            ensure_synthetic_day(underlying, day, seed, data_dir)
        try:
            mark_used(path)  # first, so that an eviction running now passes this day over
            return _priced(read_day(path, symbols), path)
        except FileNotFoundError:
            # Evicted (by another process) between the check and the read: look again, once.
            if attempt:
                raise
    raise AssertionError("unreachable")


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
