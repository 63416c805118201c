"""What goes on the wire: one typed definition per stream event kind, and the encoders.

Every event's ``data`` is one JSON object. Every kind except ``heartbeat`` carries ``session_id``;
every stored kind carries ``seq``, the 1-based count of events of that kind in that session (seed
001). Compression follows the product spec (``../shared/spec/README.md`` rule 3): some fields of
``node_events``, ``trade_update``, ``initial_state`` and ``session_complete`` are gzip + base64
strings holding the JSON the field would otherwise hold; a stream opened with ``?compress=0`` gets
them as plain JSON. Nothing else is ever compressed.

``check(kind, data)`` validates a decoded event against its definition (used by the tests, on what
was really received); definitions are TypedDicts so they also document the shapes for readers.
"""


import base64
import functools
import gzip
import json
import re
import types
import typing
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired, get_args, get_origin, get_type_hints

from typing_extensions import NoExtraItems, TypedDict, is_typeddict

from live_trading.marketdata.calendar import EXCHANGE_TZ

# -- scalar conventions ------------------------------------------------------------------------

Money = Annotated[str, "money"]  # a decimal string with the instrument's places: "-78.45", "1.07164" (EURUSD)
Timestamp = Annotated[str, "iso8601"]  # ISO 8601 with an offset: "2024-10-29T09:19:00+05:30"
Compressed = Annotated[str, "gzip+base64"]  # gzip + base64 of the JSON the field holds uncompressed
JSON = Any

_MONEY_RE = re.compile(r"^-?\d+\.\d{2}$")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def now_iso(zone: tzinfo = EXCHANGE_TZ) -> str:
    """Wall-clock time now, ISO 8601 with the offset of ``zone``: a session's lifecycle events
    (``session_status``, ``session_complete``) on its market's clock (``StreamSink.zone``); a heartbeat,
    which belongs to a connection and no market, on the exchange's (IST)."""
    return datetime.now(zone).isoformat(timespec="seconds")


# -- pieces ------------------------------------------------------------------------------------


class NodeExecution(TypedDict, extra_items=JSON):
    """One node execution (seed 000); node-specific details (``evaluated_conditions``,
    ``order_details``, ``position``, ``exit_reason``, ...) follow the common fields."""

    execution_id: str
    parent_execution_id: str | None
    timestamp: Timestamp
    event_type: str
    node_id: str
    node_name: str
    node_type: str


class Diagnostics(TypedDict):
    """New executions by execution id, and for each node they changed its latest execution (what
    ``current_state`` holds per node in seed 000's backend and in the diagnostics endpoint)."""

    events_history: dict[str, NodeExecution]
    current_state: dict[str, NodeExecution]


class PositionData(TypedDict):
    position_id: str
    re_entry_num: int
    entry_node_id: str
    symbol: str
    side: Literal["buy", "sell"]
    quantity: int
    quantity_total: int
    quantity_closed: int
    quantity_remaining: int
    entry_price: Money
    entry_time: Timestamp
    exit_price: Money | None
    exit_time: Timestamp | None
    current_price: Money | None
    status: Literal["OPEN", "PARTIAL", "CLOSED"]
    realized_pnl: Money
    realized_pnl_gross: Money
    unrealized_pnl: Money
    charges: Money
    entry_flow_ids: list[str]
    exit_flow_ids: list[str]
    entry_trigger: str
    exit_reason: str | None


class PnlData(TypedDict):
    realized_pnl: Money
    unrealized_pnl: Money
    total_pnl: Money


class TradeData(TypedDict):
    """A trade, the same wherever it is shown (``TradeRecord.to_dict``): on the stream, in snapshots, in
    the REST trade list and its CSV export. ``position_id`` is ``<entry_node_id>-pos<position_num>``;
    ``pnl`` is gross, ``net_pnl`` after ``charges``; ``duration_minutes`` is exit time minus entry time."""

    trade_id: str
    position_id: str
    position_num: int
    re_entry_num: int
    entry_node_id: str
    symbol: str
    side: Literal["buy", "sell"]
    quantity: int
    entry_price: Money
    entry_time: Timestamp
    exit_price: Money
    exit_time: Timestamp
    pnl: Money
    pnl_percent: Money
    charges: Money
    net_pnl: Money
    duration_minutes: float | int
    status: Literal["PARTIAL", "CLOSED"]
    entry_flow_ids: list[str]
    exit_flow_ids: list[str]
    entry_trigger: str
    exit_reason: str


class DailyPnl(TypedDict):
    date: str  # YYYY-MM-DD, exchange date
    pnl: Money


class SummaryData(TypedDict):
    total_trades: int
    total_pnl: Money
    gross_pnl: Money
    charges: Money
    net_pnl: Money
    winning_trades: int
    losing_trades: int
    win_rate: Money
    max_drawdown: Money
    # a session over several days: its net P&L per trading day so far, marked to market at each close
    daily_pnl: NotRequired[list[DailyPnl]]


class TradePayload(TypedDict):
    """What ``trade_update.trades`` holds: the closed trade (with its flow ids) and the running summary."""

    trade: TradeData
    summary: SummaryData


class Progress(TypedDict):
    ticks_processed: int
    total_ticks: int
    progress_percentage: float | int


class TickPosition(TypedDict):
    """An open position on a tick, as seeds 000, 003 and 004 list it (figures are JSON numbers, seed
    000 and spec README rule 6); ``re_entry_num`` is added (rule 7: a position is identified by
    ``position_id`` and ``re_entry_num``)."""

    position_id: str
    re_entry_num: int
    symbol: str
    side: Literal["buy", "sell"]
    quantity: int
    entry_price: float | int
    current_price: float | int
    unrealized_pnl: float | int


# The compact form of the same position (``?ticks=compact``), under its position id:
# ``[current_price, unrealized_pnl]``. Symbol, side, quantity and entry price do not change while it is
# open: they came with its ``position_event``. At most one re-entry of a position id is open at a time.
CompactTickPosition = tuple[float | int, float | int]


class NodeDiagnostic(TypedDict):
    """An active signal node's conditions on a tick (seed 001's per-tick node diagnostics), as its
    ``signal_emitted`` execution's ``evaluated_conditions`` would have them now."""

    mode: str
    condition_results: list[JSON]


class PnlSummaryTick(TypedDict):
    realized_pnl: float | int
    unrealized_pnl: float | int
    total_pnl: float | int
    closed_trades: int
    open_trades: int


class TradesSnapshot(TypedDict):
    """A snapshot's ``trades`` (``initial_state``, ``session_complete``): every trade so far and the
    summary, the object seeds 003 and 004 show (003's client appends to ``trades`` and replaces
    ``summary``)."""

    summary: SummaryData | None
    trades: list[TradeData]


# -- the wire events ---------------------------------------------------------------------------


class InitialState(TypedDict, extra_items=JSON):
    """A session's snapshot, sent when a client connects without a usable ``Last-Event-ID``.

    ``last_event_id`` is the session's stored-event number the snapshot includes: the events that
    follow it on the stream are exactly those after it. Other plain fields (status, progress, P&L,
    strategy) are the dashboard's; ``diagnostics``, ``trades`` and ``positions`` are compressed.
    """

    session_id: str
    last_event_id: int
    status: str
    diagnostics: Compressed | JSON
    trades: Compressed | TradesSnapshot
    uncompressed_sizes: NotRequired[dict[str, int]]


class NodeEvents(TypedDict):
    session_id: str
    seq: int
    diagnostics: Compressed | Diagnostics


class PositionEventData(TypedDict):
    session_id: str
    seq: int
    event_type: Literal["position_event"]
    action: Literal["entry", "partial_exit", "exit"]
    timestamp: Timestamp
    execution_id: str
    quantity: int
    position: PositionData
    pnl: PnlData


class TradeUpdate(TypedDict):
    session_id: str
    seq: int
    trades: Compressed | TradePayload


class TickUpdate(TypedDict):
    """A light tick (spec README rule 5). ``open_positions`` is the seeds' list of objects, or with
    ``?ticks=compact`` a map ``{position_id: [current_price, unrealized_pnl]}`` (``tick_form``)."""

    session_id: str
    seq: int
    timestamp: Timestamp
    progress: Progress
    active_nodes: list[str]
    ltp_updates: dict[str, float | int]
    open_positions: list[TickPosition] | dict[str, CompactTickPosition]
    pnl_summary: PnlSummaryTick
    node_diagnostics: NotRequired[dict[str, NodeDiagnostic]]  # only with ?node_diagnostics=1


class CandleUpdate(TypedDict):
    session_id: str
    seq: int
    symbol: str
    timeframe: str
    timestamp: Timestamp
    open: float | int
    high: float | int
    low: float | int
    close: float | int
    volume: int
    indicators: dict[str, float | int | None]


SESSION_STATUSES = ("started", "paused", "resumed", "speed_changed", "stopped", "failed", "interrupted")


class SessionStatus(TypedDict):
    session_id: str
    seq: int
    status: Literal["started", "paused", "resumed", "speed_changed", "stopped", "failed", "interrupted"]
    timestamp: Timestamp
    reason: NotRequired[str]
    speed_multiplier: NotRequired[float | int]


class SessionCompleteData(TypedDict, extra_items=JSON):
    """The final snapshot (same compressed fields as ``initial_state``) and the summary."""

    session_id: str
    seq: int
    status: str
    timestamp: Timestamp
    summary: SummaryData | None
    diagnostics: Compressed | JSON
    trades: Compressed | TradesSnapshot
    uncompressed_sizes: NotRequired[dict[str, int]]


class Heartbeat(TypedDict):
    timestamp: Timestamp


DEFINITIONS: dict[str, type] = {
    "initial_state": InitialState,
    "node_events": NodeEvents,
    "position_event": PositionEventData,
    "trade_update": TradeUpdate,
    "tick_update": TickUpdate,
    "candle_update": CandleUpdate,
    "session_status": SessionStatus,
    "session_complete": SessionCompleteData,
    "heartbeat": Heartbeat,
}

# Kinds kept for replay (they get an SSE id); ticks, snapshots and heartbeats are not.
STORED_KINDS = frozenset({"node_events", "position_event", "trade_update", "candle_update", "session_status",
                          "session_complete"})
UNSTORED_KINDS = frozenset({"tick_update"})

# The fields sent gzip + base64 unless the stream asked for ?compress=0.
SNAPSHOT_FIELDS = ("diagnostics", "trades", "positions")
COMPRESSED_FIELDS: dict[str, tuple[str, ...]] = {
    "node_events": ("diagnostics",),
    "trade_update": ("trades",),
    "initial_state": SNAPSHOT_FIELDS,
    "session_complete": SNAPSHOT_FIELDS,
}

# ?event_type= filter values -> the kinds they let through (lifecycle kinds always pass).
FILTERS: dict[str, frozenset[str] | None] = {
    "all": None,
    "node": frozenset({"node_events"}),
    "trade": frozenset({"trade_update"}),
    "position": frozenset({"position_event"}),
    "tick": frozenset({"tick_update"}),
    "ltp": frozenset({"tick_update"}),
    "candle": frozenset({"candle_update"}),
}
ALWAYS_SENT = frozenset({"initial_state", "session_status", "session_complete", "heartbeat"})

# ?ticks= values: the form of ``tick_update.open_positions`` (docs/protocol.md, "tick_update").
TICK_FORMS = ("full", "compact")
_FALSE = {"0", "false", "no", "off"}


class InvalidOption(ValueError):
    """A stream option with a value it does not take; ``field`` names the option."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def stream_options(query) -> dict:
    """The form options of a stream URL's query (a mapping): ``{"compress": bool, "ticks": str,
    "node_diagnostics": bool}`` (docs/protocol.md, "Endpoints"). Raises ``InvalidOption`` naming the
    first bad one. The stream and ``simulate --out --stream`` read them with this."""
    ticks = query.get("ticks", "full")
    if ticks not in TICK_FORMS:
        raise InvalidOption("ticks", f"Unknown tick form; one of {', '.join(TICK_FORMS)}.")
    node_diagnostics = query.get("node_diagnostics", "0")
    if node_diagnostics not in ("0", "1"):
        raise InvalidOption("node_diagnostics", "Must be 0 or 1.")
    return {"compress": query.get("compress", "1").strip().lower() not in _FALSE, "ticks": ticks,
            "node_diagnostics": node_diagnostics == "1"}


def tick_form(data: dict, ticks: str = "full", node_diagnostics: bool = False) -> dict:
    """Return a published ``tick_update``'s data as a stream that asked for ``?ticks=`` and
    ``?node_diagnostics=`` gets it: ``node_diagnostics`` only when asked for, ``open_positions`` as
    ``{position_id: [current_price, unrealized_pnl]}`` for ``compact`` (a new dict when anything changes)."""
    out = data
    if not node_diagnostics and "node_diagnostics" in out:
        out = {k: v for k, v in out.items() if k != "node_diagnostics"}
    positions = out.get("open_positions")
    if ticks == "compact" and isinstance(positions, list):
        out = {**out, "open_positions": {p["position_id"]: [p["current_price"], p["unrealized_pnl"]] for p in positions}}
    return out


# -- snapshots -----------------------------------------------------------------------------------


def stream_state(*, session_id: str, last_event_id: int, status: str, strategy_id: str | None, strategy_name: str,
                 underlying: str, start_date: str, end_date: str, progress: dict, snapshot: dict,
                 diagnostics: dict) -> dict:
    """A session's state as ``initial_state`` and ``session_complete`` carry it (plain, nothing compressed):
    the card's fields, then ``diagnostics`` (``{"events_history", "current_state"}``), ``trades`` (the
    object seeds 003 and 004 show: ``{"summary", "trades"}``) and ``positions`` (those still open, fully
    or partly). ``snapshot`` is the engine's (``Readout.snapshot``: ``gps_data``, ``summary``,
    ``progress``), ``progress`` what to show when the snapshot has none. The one definition, for a
    stored session (``snapshots``) and a run in memory (``simulate --out``)."""
    gps = snapshot.get("gps_data") or {}
    return {
        "session_id": session_id,
        "last_event_id": last_event_id,
        "status": status,
        "strategy_id": strategy_id,
        "strategy_name": strategy_name,
        "underlying": underlying,
        "start_date": start_date,
        "end_date": end_date,
        "progress": snapshot.get("progress") or progress,
        "pnl": gps.get("pnl"),
        "summary": snapshot.get("summary"),
        "diagnostics": {"events_history": diagnostics["events_history"], "current_state": diagnostics["current_state"]},
        # Seeds 003 and 004: the snapshot's trades are an object with the trade list and the summary
        # (003's client appends to ``trades.trades`` and replaces ``trades.summary``).
        "trades": {"summary": snapshot.get("summary"), "trades": gps.get("trades") or []},
        "positions": [p for p in gps.get("positions") or [] if p["status"] != "CLOSED"],
    }


def initial_state_body(state: dict, compress: bool) -> str:
    """The data of an ``initial_state`` event for ``state`` (``stream_state``), as the stream writes it."""
    data = {**state, "last_event_id": int(state.get("last_event_id") or 0)}
    return dumps(compress_fields("initial_state", data) if compress else data)


# -- encoders ----------------------------------------------------------------------------------


def _default(o):
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, (tuple, set, frozenset)):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def dumps(obj) -> str:
    """Return compact JSON (no spaces), the form every event's data is sent in."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_default)


def gzip_base64(raw: bytes) -> str:
    """Return gzip + base64 of ``raw`` (ASCII): the one compressed form of the stream and the REST API.
    No timestamp in the gzip header, so the same bytes always give the same string."""
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def compress(obj) -> str:
    """Return gzip + base64 of ``obj``'s compact JSON; the same object always gives the same string."""
    return gzip_base64(dumps(obj).encode())


def decompress(text: str):
    """Inverse of ``compress``: base64-decode, gunzip, parse JSON."""
    return json.loads(gzip.decompress(base64.b64decode(text)))


def compress_fields(kind: str, data: dict) -> dict:
    """Return ``data`` with the kind's compressed fields as gzip + base64 strings (a new dict if any)."""
    fields = COMPRESSED_FIELDS.get(kind)
    if not fields:
        return data
    out = dict(data)
    sizes = {}
    for name in fields:
        if name in out and not isinstance(out[name], str):
            raw = dumps(out[name]).encode()
            sizes[name] = len(raw)
            out[name] = gzip_base64(raw)
    if kind in ("initial_state", "session_complete") and sizes:
        out["uncompressed_sizes"] = sizes
    return out


def decompress_fields(kind: str, data: dict) -> dict:
    """Inverse of ``compress_fields``, for clients and tests: the plain form of a compressed event."""
    fields = COMPRESSED_FIELDS.get(kind)
    if not fields:
        return data
    out = {k: v for k, v in data.items() if k != "uncompressed_sizes"}
    for name in fields:
        if isinstance(out.get(name), str):
            out[name] = decompress(out[name])
    return out


def sse_frame(kind: str, data: str, event_id: str | None = None) -> str:
    """Return one SSE event. ``data`` is single-line JSON (``dumps`` never emits a raw newline)."""
    if event_id:
        return f"event: {kind}\nid: {event_id}\ndata: {data}\n\n"
    return f"event: {kind}\ndata: {data}\n\n"


# -- checking an event against its definition --------------------------------------------------


class EventShapeError(ValueError):
    """An event does not match its typed definition; the message names the path."""


def check(kind: str, data, *, compressed: bool | None = None) -> None:
    """Raise ``EventShapeError`` unless ``data`` (decoded JSON) matches the definition of ``kind``.

    With ``compressed`` True the compressed fields must be gzip + base64 strings holding valid
    JSON of the right shape; False, plain JSON; None accepts either.
    """
    definition = DEFINITIONS.get(kind)
    if definition is None:
        raise EventShapeError(f"unknown event kind {kind!r}")
    fields = COMPRESSED_FIELDS.get(kind, ())
    if compressed is not None and fields:
        for name in fields:
            if name in data and isinstance(data[name], str) != compressed:
                raise EventShapeError(f"{kind}.{name}: expected {'compressed' if compressed else 'plain'} JSON")
    _check(definition, data, kind)


def _check(tp, value, path: str) -> None:
    if tp is Any:
        _check_json(value, path)
        return
    origin = get_origin(tp)
    if origin is Annotated:
        base, tag = get_args(tp)[0], get_args(tp)[1]
        _check(base, value, path)
        if tag == "money" and not _MONEY_RE.match(value):
            raise EventShapeError(f"{path}: {value!r} is not a two-place decimal string")
        if tag == "iso8601" and not _ISO_RE.match(value):
            raise EventShapeError(f"{path}: {value!r} is not an ISO 8601 timestamp with an offset")
        if tag == "gzip+base64":
            try:
                decompress(value)
            except Exception as exc:
                raise EventShapeError(f"{path}: not gzip + base64 JSON ({exc})") from None
        return
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in get_args(tp):
            try:
                _check(option, value, path)
                return
            except EventShapeError as exc:
                errors.append(str(exc))
        raise EventShapeError(f"{path}: matches none of the allowed types ({'; '.join(errors)})")
    if origin is Literal:
        if value not in get_args(tp):
            raise EventShapeError(f"{path}: {value!r} is not one of {get_args(tp)}")
        return
    if origin is list:
        if not isinstance(value, list):
            raise EventShapeError(f"{path}: expected a list, got {type(value).__name__}")
        (item,) = get_args(tp)
        for i, v in enumerate(value):
            _check(item, v, f"{path}[{i}]")
        return
    if origin is tuple:  # a JSON array of fixed length, one type per place
        items = get_args(tp)
        if not isinstance(value, list) or len(value) != len(items):
            raise EventShapeError(f"{path}: expected an array of {len(items)}, got {value!r}")
        for i, (item, v) in enumerate(zip(items, value, strict=True)):
            _check(item, v, f"{path}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise EventShapeError(f"{path}: expected an object, got {type(value).__name__}")
        _, item = get_args(tp)
        for k, v in value.items():
            _check(item, v, f"{path}.{k}")
        return
    if tp is type(None):
        if value is not None:
            raise EventShapeError(f"{path}: expected null, got {value!r}")
        return
    if is_typeddict(tp):
        _check_typeddict(tp, value, path)
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EventShapeError(f"{path}: expected a number, got {value!r}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventShapeError(f"{path}: expected an integer, got {value!r}")
        return
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise EventShapeError(f"{path}: expected {tp.__name__}, got {value!r}")
        return
    raise EventShapeError(f"{path}: no rule for type {tp!r}")


@functools.cache
def _hints(tp) -> dict:
    hints = get_type_hints(tp, include_extras=True)
    return {k: get_args(h)[0] if get_origin(h) is NotRequired else h for k, h in hints.items()}


def _check_typeddict(tp, value, path: str) -> None:
    if not isinstance(value, dict):
        raise EventShapeError(f"{path}: expected an object, got {type(value).__name__}")
    hints = _hints(tp)
    missing = sorted(tp.__required_keys__ - value.keys())
    if missing:
        raise EventShapeError(f"{path}: missing {', '.join(missing)}")
    extra_type = getattr(tp, "__extra_items__", None)
    for key, v in value.items():
        if key in hints:
            _check(hints[key], v, f"{path}.{key}")
        elif extra_type is None or extra_type is NoExtraItems:
            raise EventShapeError(f"{path}: unexpected field {key!r}")
        else:
            _check(extra_type, v, f"{path}.{key}")


def _check_json(value, path: str) -> None:
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise EventShapeError(f"{path}: non-string key {k!r}")
            _check_json(v, f"{path}.{k}")
        return
    raise EventShapeError(f"{path}: {type(value).__name__} is not JSON")
