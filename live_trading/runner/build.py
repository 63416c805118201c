"""Turning a start request into a running engine thread."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings

from live_trading.engine.engine import FILLS_AT, EngineSettings
from live_trading.engine.events import FanoutSink
from live_trading.engine.fees import NSE_FO_FEES, FeeModel
from live_trading.engine.money import minor_units
from live_trading.engine.multiday import MultiDayEngine
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.instruments import get_underlying
from live_trading.marketdata.store import (
    day_ticks,
    imported_path,
    load_day,
    mark_used,
    stored_version,
    synthetic_path,
)
from live_trading.refusals import Refused
from live_trading.runner.registry import registry
from live_trading.runner.thread import SessionThread
from live_trading.snapshots import finished_state
from live_trading.stream.sink import StreamSink
from sessions_app.persistence import SessionWriter
from strategies.graph.model import StrategyGraph
from strategies.graph.parse import parse_graph


class InvalidRunRequest(Refused, ValueError):
    """A start request the market cannot serve (a holiday, a range without trading days); names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message, subject=field)


@dataclass
class PreparedRun:
    """An engine ready to step, with the writer it reports to; nothing is in the database yet."""

    session_id: str
    graph: StrategyGraph
    underlying: str
    days: tuple[date, ...]
    engine: MultiDayEngine
    writer: SessionWriter
    stream: StreamSink

    @property
    def total_ticks(self) -> int:
        return self.engine.total_ticks


def prepare_run(session_id: str, user_id: str, graph_data: dict, start: date, end: date, *, seed: int,
                starting_capital: Decimal, fees: FeeModel = NSE_FO_FEES, slippage_ticks: int = 0,
                fills_at: str = "next_open", underlying: str | None = None,
                admit: Callable[[str, tuple[date, ...]], None] | None = None,
                wrap_sink: Callable | None = None, every_tick: bool = False) -> PreparedRun:
    """Parse the graph, pick the days (the trading days of the underlying's calendar), load the first
    day's market and build the engine, which charges each order by ``fees``, slips each fill by
    ``slippage_ticks`` price ticks and fills an order a candle's condition places at ``fills_at``
    (``EngineSettings.fills_at``). ``starting_capital`` is in the instrument's currency.

    ``every_tick``: its stream publishes every ``tick_update`` (a session started with ``stream_ticks``
    ``all``), not a few a second.

    ``wrap_sink(sink) -> sink``, when given, stands between the engine and its writer and stream (a
    resume's ``Replaying``, which checks the replayed events against the stored ones first).

    Raises ``InvalidGraph``, or a ``Refused`` (``InvalidRunRequest``, ``MarketDataMissing``,
    ``InstrumentError``, ``NoChargeRates``...) naming what makes the request unservable, before any
    row is written or any market data is generated: a day of an instrument without a synthetic market
    (FX, crypto, a stock without ``level_anchors``) that was not imported is refused here, not when the
    session reaches it. ``admit(underlying, days)``, when given, is
    called once the request is valid and before any market data is loaded or generated; it refuses
    by raising.
    """
    graph = parse_graph(graph_data)
    name = underlying or graph.underlying
    if name != graph.underlying:
        raise InvalidRunRequest("underlying", f"the strategy trades {graph.underlying}, not {name}")
    info = get_underlying(name)  # InstrumentError (subject "underlying") if unknown
    if fills_at not in FILLS_AT:
        raise InvalidRunRequest("fills_at", f"must be one of {', '.join(FILLS_AT)}, not {fills_at!r}")
    days = tuple(calendar_of(name).trading_days(start, end))
    if not days:
        if start == end:
            raise InvalidRunRequest("date", f"{start.isoformat()} is not a trading day (a weekend or exchange holiday)")
        raise InvalidRunRequest("to", f"there is no trading day from {start.isoformat()} to {end.isoformat()}")
    if admit is not None:
        admit(name, days)
    stream = StreamSink(session_id, user_id, every_tick=every_tick, zone=calendar_of(name).time_zone)
    writer = SessionWriter(session_id, stream=stream, final_state=finished_state)
    sink = FanoutSink(writer, stream)
    if wrap_sink is not None:
        sink = wrap_sink(sink)
    engine = MultiDayEngine(
        graph, days, sink, EngineSettings(seed=str(seed),
                                          starting_capital=minor_units(starting_capital, info.price_decimals),
                                          fees=fees, slippage_ticks=slippage_ticks, fills_at=fills_at),
        load=shared_day, count=lambda underlying, day: day_ticks(underlying, day, settings.MARKET_DATA_DIR),
    )
    return PreparedRun(session_id, graph, name, days, engine, writer, stream)


_days: OrderedDict = OrderedDict()
_days_lock = threading.Lock()
SHARED_DAYS = 8  # a day is ~70 MB of arrays; sessions on the same day share one copy


def shared_day(underlying: str, day: date):
    """Load a market day once per process and share it, read-only, between the sessions replaying it.

    The key includes the files' modification times, so a day imported (or regenerated) while the
    server runs is read afresh by the sessions that start afterwards.
    """
    data_dir = settings.MARKET_DATA_DIR
    key = (underlying, day, str(data_dir), *stored_version(underlying, day, data_dir))
    with _days_lock:
        hit = _days.get(key)
        if hit is not None:
            _days.move_to_end(key)
    if hit is not None:
        # Read from memory, but used all the same: the synthetic cache evicts least recently used days.
        with suppress(FileNotFoundError):
            mark_used(imported_path(underlying, day, data_dir) if key[3] is not None
                      else synthetic_path(underlying, day, data_dir=data_dir))
        return hit
    loaded = load_day(underlying, day, data_dir=data_dir)
    for array in (loaded.timestamps, loaded.prices, loaded.volumes, loaded.oi):
        array.flags.writeable = False  # shared between threads: nobody may change it
    with _days_lock:
        _days[key] = loaded
        while len(_days) > SHARED_DAYS:
            _days.popitem(last=False)
    return loaded


def start_thread(session, prepared: PreparedRun, *, resume=None, paused: str = "") -> SessionThread:
    """Run the prepared engine on a thread of its own, registered in this process.

    ``paused``, when given, is the reason of a pause taken right after the start, before the first tick.

    ``resume`` (``live_trading.runner.resume.Resume``), for an interrupted session: the thread claims the
    session back and fast-forwards the engine to where it stopped before going on live."""
    thread = SessionThread(session.id, prepared.engine, prepared.writer, session.speed_multiplier,
                           on_exit=registry.forget, resume=resume, start_paused=paused)
    return registry.start(thread)
