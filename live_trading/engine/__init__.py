"""The strategy engine: plain Python, no Django, one thread per session, deterministic.

The session runner uses::

    engine = Engine(parse_graph(data), market_day, sink, EngineSettings(seed=session_id))
    # or, over several days: MultiDayEngine(graph, [date, ...], sink, settings, load=load_day)
    while (ts := engine.next_timestamp()) is not None:   # pace on ts, obey control messages
        engine.step()                                     # one tick; events go to sink.emit
        state = engine.snapshot()                         # any time between steps
    engine.finish()                                       # after the last tick a no-op; else a stop

Events (``events.py``): NodeExecuted, PositionEvent, TradeClosed, TickSnapshot (only to sinks with
``wants_ticks``), CandleCompleted, SessionComplete; and from a ``MultiDayEngine`` an EquitySample at
every exchange minute's close and at the end (the P&L curve; the last one after SessionComplete).
"""

from live_trading.engine.engine import Engine, EngineSettings
from live_trading.engine.events import FanoutSink, ListSink, NullSink, Sink
from live_trading.engine.multiday import MultiDayEngine

__all__ = ["Engine", "EngineSettings", "FanoutSink", "ListSink", "MultiDayEngine", "NullSink", "Sink"]
