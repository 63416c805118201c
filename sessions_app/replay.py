"""Checking a replay against what a session persisted: the other half of resuming it.

A session is resumed by replaying its engine from the start (``live_trading.runner.resume``). Until the
replay reaches the last tick whose rows were committed, every event it regenerates must be one the
database already holds, in the same order and with the same content: ``ReplayCheck`` is the engine's
sink meanwhile, comparing each node execution, position change, trade and P&L sample with the stored
row of the same per-session number (``seq``) and writing nothing. The first difference raises
``Divergence`` naming the row, which the runner records as the session's failure reason; every row
stays as it was.

Why it can differ: the market data the session replayed was replaced (an import over a synthetic day,
a regenerated file), or the engine's code changed between the crash and the resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from live_trading.engine.events import EquitySample, NodeExecuted, PositionEvent, SessionComplete, TradeClosed
from live_trading.engine.money import minor_units
from live_trading.marketdata.calendar import EXCHANGE_TZ
from sessions_app.models import EquitySample as EquitySampleRow
from sessions_app.models import NodeEvent, PositionChange, SimulationSession, Trade, from_epoch


class Divergence(Exception):
    """The replay produced something other than the stored rows; the message says what, where."""


@dataclass
class StoredRun:
    """What the database holds of one session, up to its last committed write.

    ``ticks`` is the number of ticks the engine had processed at that write (every row the engine
    produced up to that tick is in it: a write takes all that is pending); ``last_event_id`` the
    number of the last stream event published for the session. Lists are in ``seq`` (or time) order.
    """

    session_id: str
    ticks: int
    last_event_id: int
    node_events: list[tuple]  # (seq, execution_id, node_id, event_type, timestamp, payload)
    position_changes: list[tuple]  # (seq, action, position_id, execution_id, timestamp, payload)
    trades: list[dict]  # the trade dict (``TradeRecord.to_dict``) of each row
    equity: list[tuple[int, ...]]  # (epoch seconds, realized, unrealized, charges, low, high, drop) in paise
    zone: tzinfo = field(default=EXCHANGE_TZ)  # its market's clock, on which its times are shown

    @classmethod
    def load(cls, session: SimulationSession) -> StoredRun:
        sid = session.pk
        places, zone = session.price_decimals, session.calendar.time_zone
        return cls(
            session_id=sid,
            ticks=session.ticks_processed,
            last_event_id=int(session.last_event_id or 0),
            node_events=list(NodeEvent.objects.filter(session_id=sid).order_by("seq").values_list(
                "seq", "execution_id", "node_id", "event_type", "timestamp", "payload")),
            position_changes=list(PositionChange.objects.filter(session_id=sid).order_by("seq").values_list(
                "seq", "action", "position_id", "execution_id", "timestamp", "payload")),
            trades=[row.record(places, zone).to_dict() for row in Trade.objects.filter(session_id=sid).order_by("seq")],
            equity=[(int(t.timestamp()), *(minor_units(m, places) for m in money)) for t, *money in
                    EquitySampleRow.objects.filter(session_id=sid).order_by("timestamp").values_list(
                        "timestamp", "realized_pnl", "unrealized_pnl", "charges", "low_pnl", "high_pnl", "drop")],
            zone=zone,
        )


class ReplayCheck:
    """The engine's sink during a fast-forward: compares each event with the stored row, writes nothing.

    ``counts`` (node, position, trade) are how many of each it has matched, which are also the ``seq``
    of the last stored row of each kind once ``finish`` passed; ``summary`` the engine's last summary.
    """

    wants_ticks = False

    def __init__(self, stored: StoredRun):
        self.stored = stored
        self.counts = {"node": 0, "position": 0, "trade": 0, "equity": 0}
        self.summary = None

    def emit(self, event) -> None:
        if isinstance(event, NodeExecuted):
            got = (event.execution_id, event.node_id, event.event_type, from_epoch(event.ts), event.to_dict())
            self._match("node", self.stored.node_events, got, "node execution", lambda row: row[1:])
        elif isinstance(event, PositionEvent):
            got = (event.action, event.position.position_id, event.execution_id, from_epoch(event.ts),
                   event.to_dict())
            self._match("position", self.stored.position_changes, got, "position change", lambda row: row[1:])
        elif isinstance(event, TradeClosed):
            self._match("trade", self.stored.trades, event.trade.to_dict(), "trade", lambda row: row)
            self.summary = event.summary
        elif isinstance(event, EquitySample):
            got = (event.ts, event.realized_pnl_paise, event.unrealized_pnl_paise, event.charges_paise,
                   event.low_pnl_paise, event.high_pnl_paise, event.drop_paise)
            self._match("equity", self.stored.equity, got, "P&L sample", lambda row: row)
        elif isinstance(event, SessionComplete):
            self.summary = event.summary

    def _match(self, kind: str, rows: list, got, noun: str, comparable) -> None:
        index = self.counts[kind]
        if index >= len(rows):
            raise Divergence(f"the replay produced a {noun} the session never stored ({_name(got, self.stored.zone)}, "
                             f"after the {len(rows)} stored), before reaching its last stored tick")
        stored = comparable(rows[index])
        if stored != got:
            raise Divergence(f"{noun} {index + 1} ({_name(stored, self.stored.zone)}) differs from the stored one: "
                             f"{_difference(stored, got)}")
        self.counts[kind] = index + 1

    def finish(self) -> None:
        """Check that the replay, now at the stored tick, produced every stored row; raise ``Divergence`` if not."""
        for kind, rows, noun in (("node", self.stored.node_events, "node executions"),
                                 ("position", self.stored.position_changes, "position changes"),
                                 ("trade", self.stored.trades, "trades"),
                                 ("equity", self.stored.equity, "P&L samples")):
            if self.counts[kind] != len(rows):
                raise Divergence(f"the session stored {len(rows)} {noun} up to tick {self.stored.ticks}, "
                                 f"the replay produced {self.counts[kind]}")


def _name(item, zone: tzinfo = EXCHANGE_TZ) -> str:
    """A short name for a row or event in a message: its id and time on the market's clock ``zone`` (with
    the zone's abbreviation: IST on the NSE, EDT or EST in New York), not its whole payload."""
    if isinstance(item, dict):
        return f"trade {item.get('trade_id')}"
    parts = []
    for value in item:
        if isinstance(value, datetime):
            parts.append(f"at {value.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}")
        elif isinstance(value, int) and value > 10**9:  # epoch seconds (a P&L sample)
            parts.append(f"at {datetime.fromtimestamp(value, zone):%Y-%m-%d %H:%M:%S %Z}")
        elif not isinstance(value, dict | list):
            parts.append(str(value))
    return " ".join(parts[:3])


def _difference(stored, replayed, path: str = "") -> str:
    """Where two rows first differ: ``payload.order.price: stored 100.4, replayed 101.2``."""
    if isinstance(stored, dict) and isinstance(replayed, dict):
        for key in list(stored) + [k for k in replayed if k not in stored]:
            if stored.get(key) != replayed.get(key):
                return _difference(stored.get(key), replayed.get(key), f"{path}.{key}" if path else str(key))
    if isinstance(stored, list | tuple) and isinstance(replayed, list | tuple) and len(stored) == len(replayed):
        for i, (a, b) in enumerate(zip(stored, replayed, strict=True)):
            if a != b:
                name = _FIELDS.get(i, str(i)) if not path else f"{path}[{i}]"
                return _difference(a, b, name)
    return f"{path or 'value'}: stored {_short(stored)}, replayed {_short(replayed)}"


_FIELDS = {0: "id", 1: "node or position", 2: "kind", 3: "time", 4: "payload"}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
