"""A session's two charts, as the REST API serves them: the underlying's candles up to the session's
exchange time, and its P&L curve from the samples written with its batches.

Candles come from the market data the session replayed (its days' files; a day no longer stored is a
``MarketDataMissing``, never generated again for a chart) and stop at the session's progress: the
candle of the minute it is in holds the ticks it has processed of that minute, none after. A day is
read for its underlying alone (about a fifth of the time of the whole day) and kept in memory with its
version (``store.stored_version``), so reading a chart again, a running session's as it goes on, say,
reads no file; a day imported or regenerated since is read afresh.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from django.conf import settings

from live_trading import snapshots
from live_trading.engine.money import iso, money_str, price_number
from live_trading.marketdata.calendar import NSE, calendar_of, trading_days_of
from live_trading.marketdata.candles import TIMEFRAMES as TIMEFRAME_SECONDS
from live_trading.marketdata.candles import Candle, aggregate, day_candles
from live_trading.marketdata.day import MarketDay
from live_trading.marketdata.store import load_day, stored_version
from live_trading.marketdata.universe import InstrumentError
from sessions_app.models import SimulationSession

TIMEFRAMES = tuple(TIMEFRAME_SECONDS)  # the market-data timeframes, by name


def candles(session: SimulationSession, timeframe: str) -> dict:
    """The underlying's candles of ``session`` in ``timeframe`` (one of ``TIMEFRAMES``), every day of
    it in order, up to its current exchange time (its progress: ``snapshots.ticks_processed``).

    Returns ``{"session_id", "symbol", "timeframe", "ticks_processed", "up_to", "candles"}``: ``up_to``
    is the exchange time (ISO 8601) of the last tick the candles include (None before the first), each
    candle ``{"time", "timestamp", "open", "high", "low", "close", "volume"}`` with ``time`` its opening
    time in epoch seconds (UTC) and ``timestamp`` the same in ISO 8601 exchange time, prices as JSON
    numbers in rupees (as the stream's ``candle_update``). A 1-minute candle holds the ticks of its
    minute; longer ones aggregate those (``candles.aggregate``), so the last candle may still be
    forming. Raises ``MarketDataMissing`` (naming the day) when a day it reached is no longer stored.
    """
    left = processed = snapshots.ticks_processed(session)
    bars: list[Candle] = []
    up_to = None
    for day in trading_days_of(session.underlying, session.start_date, session.end_date):
        if left <= 0:
            break
        market = underlying_day(session.underlying, day)
        rows = min(left, market.n_ticks)
        if rows == market.n_ticks:
            minutes = list(_day_minutes(session.underlying, day, *_version(session.underlying, day)))
        else:
            minutes = day_candles(market.head(rows), session.underlying, "1m")
        # cut on the day's own grid: from 09:15 IST, or a data calendar's session open (FX: 17:00 New York)
        bars.extend(minutes if timeframe == "1m" else aggregate(minutes, timeframe, _anchor(session.underlying, day)))
        up_to = int(market.timestamps[rows - 1])
        left -= rows
    zone = session.calendar.time_zone
    return {
        "session_id": session.id,
        "symbol": session.underlying,
        "timeframe": timeframe,
        "ticks_processed": processed,
        "up_to": None if up_to is None else iso(up_to, zone),
        "candles": [_candle(c, session.price_decimals, zone) for c in bars],
    }


def _candle(c: Candle, places: int, zone) -> dict:
    return {"time": c.start, "timestamp": iso(c.start, zone), "open": price_number(c.open, places),
            "high": price_number(c.high, places), "low": price_number(c.low, places),
            "close": price_number(c.close, places), "volume": c.volume}


def equity(session: SimulationSession) -> dict:
    """The session's P&L curve as persisted so far: ``{"session_id", "samples"}``, samples in time
    order, each ``{"time", "timestamp", "net_pnl", "realized_pnl", "unrealized_pnl", "charges"}``:
    ``time`` epoch seconds (UTC) and ``timestamp`` ISO 8601 on the session's market clock of the moment
    the figures hold at (after every tick before it: each minute's close, and the session's end), money as
    strings with the session's places, in its currency. ``net_pnl`` is realized (net of ``charges``) + unrealized, the
    dashboard's ``total_pnl``; the last sample of an ended session is its final net P&L."""
    rows = session.equity_samples.order_by("timestamp").values_list(
        "timestamp", "realized_pnl", "unrealized_pnl", "charges")
    samples = []
    places, zone = session.price_decimals, session.calendar.time_zone
    for at, realized, unrealized, charges in rows.iterator(chunk_size=2000):
        ts = int(at.timestamp())
        samples.append({"time": ts, "timestamp": iso(ts, zone), "net_pnl": money_str(realized + unrealized, places),
                        "realized_pnl": money_str(realized, places), "unrealized_pnl": money_str(unrealized, places),
                        "charges": money_str(charges, places)})
    return {"session_id": session.id, "samples": samples}


def _anchor(underlying: str, day: date) -> int | None:
    """Where `underlying`'s candle grid starts on `day` (`candles.bucket_start`): None for the NSE's 09:15."""
    try:
        calendar = calendar_of(underlying)
    except InstrumentError:  # a stored session of an underlying the data file no longer has
        return None
    return None if calendar is NSE else calendar.anchor_ts(day)


# -- the days, in memory -------------------------------------------------------------------------------

def _version(underlying: str, day: date) -> tuple:
    data_dir = str(settings.MARKET_DATA_DIR)
    return (data_dir, *stored_version(underlying, day, data_dir))


def underlying_day(underlying: str, day: date) -> MarketDay:
    """The stored day of ``underlying`` with its own column only (cached per version of its files); raises
    ``MarketDataMissing`` when the day is not stored (never generated here)."""
    return _read_underlying(underlying, day, *_version(underlying, day))


@lru_cache(maxsize=32)  # 0.7 MB a day; a new version of a day's files is a new key
def _read_underlying(underlying: str, day: date, data_dir: str, *version) -> MarketDay:
    return load_day(underlying, day, data_dir=data_dir, generate=False, symbols=())


@lru_cache(maxsize=256)  # 375 candles a day
def _day_minutes(underlying: str, day: date, data_dir: str, *version) -> tuple[Candle, ...]:
    return tuple(day_candles(_read_underlying(underlying, day, data_dir, *version), underlying, "1m"))
