"""Reading a session's export folder back (docs/reports.md, "Sharing a run"): pure Python, no Django.

``read_folder(path)`` reads what ``exports.folder`` wrote (``GET /api/sessions/{id}/exports/``,
``manage.py export_session``, ``manage.py simulate --out``): the manifest ``session.json`` and each
trading day's ``diagnostics_export.json.gz``, ``trades_daily.json.gz`` and ``positions.json`` (in the
folder for a one-day session, in ``<YYYY-MM-DD>/`` for a longer one). Other files (seed 003's stream
files that ``simulate --out`` may add) are left alone.

Every value a stored session would keep is checked here, and the day files are checked against the
manifest by building them again with ``exports.exports`` from what was read: a folder whose files do
not agree with each other is refused, not half believed. A refusal is a ``BadExport`` whose message is
one line naming the file and the field: ``trades_daily.json.gz: trades[0].quantity: -25 is not a whole
number from 1``.

The folder's money has the places the manifest's ``price_decimals`` says (two, the rupee's, when it does
not say: folders written before it did), and its days are the trading days of its underlying's market on
this server's data (``calendar.market_calendar``): an EURUSD folder's days run from 17:00 to 17:00 New
York, as the exports cut them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import re
import stat
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from config.ascii import is_plain_decimal, parse_iso_date
from live_trading.engine.events import TradeRecord
from live_trading.engine.fees import FeeModel, InvalidFees, check_slippage_ticks
from live_trading.engine.money import iso
from live_trading.marketdata.calendar import TradingCalendar, market_calendar
from live_trading.reports.exports import (
    DIAGNOSTICS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NAMES,
    POSITIONS,
    TRADES,
    exports,
)
from sessions_app import lifecycle
from strategies.graph import InvalidGraph, parse_graph

IMPORTABLE = lifecycle.FINAL - lifecycle.RESUMABLE
"""The statuses a session may be imported in: ended for good (an interrupted session is resumed, not shared)."""
MONEY_LIMIT = Decimal(10) ** 14  # a DecimalField(max_digits=16, decimal_places=2) holds less
PAISE_LIMIT = 10**16  # the same in paise (an equity sample's figures)
YEARS = (1990, 2099)  # a time outside these is no session's (the calendar ends in 2099)
LAST_EPOCH = 4_102_444_800  # 2100-01-01 00:00 UTC
BIG = 2**63  # a BigIntegerField
POSITION_ACTIONS = ("entry", "partial_exit", "exit")
MARKET_SOURCES = ("imported", "synthetic", None)  # store.day_source
MAX_FILE_BYTES = 64 * 2**20
"""The most bytes a folder's file may hold, on disk and once gunzipped: a day's files are tens of KB, so
this is room to spare, while a file that never ends (``/dev/zero``) or a gzip bomb is refused, not read."""
MAX_PLACES = 8  # the most places a money column holds (sessions_app.models.MONEY_PLACES)


def _money_pattern(places: int) -> re.Pattern:
    """Digits with at most ``places`` decimals, as the exports write an amount with that many."""
    return re.compile(r"-?[0-9]+" + (rf"(\.[0-9]{{1,{places}}})?" if places else ""))


class BadExport(ValueError):
    """The folder is not a session export this server reads: ``file`` (its path within the folder),
    ``field`` (a path into its JSON, or empty for the file as a whole) and what is wrong with it."""

    def __init__(self, file: str, field: str, problem: str):
        super().__init__(f"{file}: {field}: {problem}" if field else f"{file}: {problem}")
        self.file, self.field, self.problem = file, field, problem


@dataclass(frozen=True)
class ExportedRun:
    """A folder read and checked: ``manifest`` (``session.json``, as written: see ``exports.manifest``),
    ``days`` (its trading days), ``places`` and ``currency`` (its money: the manifest's ``price_decimals``
    and ``currency``, 2 and INR when it gives none), ``executions`` (node executions in execution order, each a stored
    ``NodeEvent`` payload), ``trades`` (``TradeRecord``s in closing order), ``position_events``
    (``position_event`` payloads in order), ``samples`` (``(epoch seconds, realized, unrealized,
    charges, low, high, drop)`` in paise) and ``digest`` (SHA-256 of the files read, hex: the same
    folder gives the same digest)."""

    manifest: dict
    days: list[date]
    executions: list[dict]
    trades: list[TradeRecord]
    position_events: list[dict]
    samples: list[tuple[int, ...]]
    digest: str
    places: int = 2
    currency: str = "INR"


def read_folder(path: Path) -> ExportedRun:
    """Read and check the export folder at ``path``. Raises ``BadExport`` naming the file and field
    for a missing folder or file, a file that is not gzip or not JSON, a format or version this
    server does not read, a value out of range, or day files that disagree with the manifest."""
    if not path.is_dir():
        raise BadExport(str(path), "", "no such folder")
    digest = hashlib.sha256()
    raw = _read(path, MANIFEST, digest)
    m = _Check(MANIFEST)
    manifest = m.obj(raw, "")
    if manifest.get("format") != FORMAT:
        raise BadExport(MANIFEST, "format", f"{manifest.get('format')!r} is not {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BadExport(
            MANIFEST,
            "format_version",
            f"{manifest.get('format_version')!r} is not a version this server reads ({FORMAT_VERSION})",
        )
    places = manifest.get("price_decimals", 2)
    m.whole(places, "price_decimals", 0, MAX_PLACES)
    currency = m.text(manifest.get("currency", "INR"), "currency", 8)
    m.places, m.currency = places, currency
    calendar = market_calendar(m.text(manifest.get("underlying"), "underlying", 32))
    days = _check_manifest(m, manifest, calendar)
    samples = [m.sample(s, f"equity_samples[{i}]") for i, s in enumerate(m.list(manifest, "equity_samples"))]
    on_days = set(days)
    for i, sample in enumerate(samples):
        if calendar.day_of(sample[0] - 1) not in on_days:  # a sample holds the figures of the ticks before it
            raise BadExport(
                MANIFEST,
                f"equity_samples[{i}][0]",
                f"{iso(sample[0], calendar.time_zone)} is on none of the days",
            )
        if i and sample[0] <= samples[i - 1][0]:
            raise BadExport(MANIFEST, f"equity_samples[{i}]", "not later than the sample before it")
    position_events = [
        m.position_event(e, f"position_events[{i}]")
        for i, e in enumerate(m.list(manifest, "position_events"))
    ]

    executions: list[dict] = []
    trades: list[TradeRecord] = []
    read: dict[str, dict] = {}
    trade_ids: set[str] = set()
    for day in days:
        key = day.isoformat()
        prefix = "" if len(days) == 1 else f"{key}/"
        files = {name: _read(path, prefix + name, digest) for name in NAMES}
        d = _Check(prefix + DIAGNOSTICS, places, currency)
        diagnostics = d.obj(files[DIAGNOSTICS], "")
        history = d.obj(diagnostics.get("events_history"), "events_history")
        d.obj(diagnostics.get("current_state"), "current_state")
        for execution_id, execution in history.items():
            executions.append(d.execution(execution, execution_id, day, calendar))
        t = _Check(prefix + TRADES, places, currency)
        daily = t.obj(files[TRADES], "")
        if daily.get("date") != key:
            raise BadExport(t.file, "date", f"{daily.get('date')!r} is not {key}")
        t.obj(daily.get("summary"), "summary")
        for i, trade in enumerate(t.list(daily, "trades")):
            record = t.trade(trade, f"trades[{i}]", calendar)
            if record.trade_id in trade_ids:
                raise BadExport(t.file, f"trades[{i}].trade_id", f"{record.trade_id!r} appears twice")
            trade_ids.add(record.trade_id)
            trades.append(record)
        positions = files[POSITIONS]
        if not isinstance(positions, list):
            raise BadExport(prefix + POSITIONS, "", "not a JSON list")
        read[key] = {**files, "prefix": prefix}

    try:
        rebuilt = _rebuild(days, executions, trades, position_events, samples, places, calendar)
    except ValueError as e:  # a trade or sample the report cannot read
        raise BadExport(MANIFEST, "", f"the day files cannot be built again from the folder: {e}") from None
    for key, named in rebuilt.items():
        for name, body in named.items():
            _agree(read[key]["prefix"] + name, read[key][name], body)
    return ExportedRun(
        manifest, days, executions, trades, position_events, samples, digest.hexdigest(), places, currency
    )


# The engine's final snapshot (``readout.Readout.snapshot``) as the dashboard and the stream read it: each
# key's JSON type (None: null allowed), and the types inside the objects they index into.
FINAL_STATE = {
    "status": (str,),
    "timestamp": (str, type(None)),
    "progress": (dict,),
    "strategy": (dict,),
    "nodes": (dict,),
    "active_nodes": (list,),
    "gps_data": (dict,),
    "broker_data": (dict,),
    "market_data": (dict,),
    "summary": (dict,),
}
FINAL_STATE_INSIDE = {
    "gps_data": {"positions": (list,), "trades": (list,), "pnl": (dict,)},
    "broker_data": {"orders": (list,), "account_info": (dict, type(None))},
    "market_data": {"ltp_store": (dict,), "candle_data": (dict,)},
}


def _check_final_state(m: _Check, state: Any) -> None:
    """Refuse a ``final_state`` whose shape is not the engine snapshot's: the session card and the stream's
    ``initial_state`` index into it, and a string where an object belongs would fail every dashboard load
    of the owner. An empty object is taken (the pages then build the state from the rows)."""
    m.obj(state, "final_state")
    if not state:
        return
    for key, types in FINAL_STATE.items():
        if not isinstance(state.get(key), types):
            raise m.bad(
                f"final_state.{key}", f"{_short(state.get(key))} is not what the engine's final state holds"
            )
    for key, inside in FINAL_STATE_INSIDE.items():
        for name, types in inside.items():
            if not isinstance(state[key].get(name), types):
                raise m.bad(
                    f"final_state.{key}.{name}",
                    f"{_short(state[key].get(name))} is not what the engine's final state holds",
                )
    for i, position in enumerate(state["gps_data"]["positions"]):
        if not isinstance(position, dict) or not isinstance(position.get("status"), str):
            raise m.bad(f"final_state.gps_data.positions[{i}]", "not a position (an object with its status)")
    for name, items in (
        ("gps_data.trades", state["gps_data"]["trades"]),
        ("broker_data.orders", state["broker_data"]["orders"]),
    ):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise m.bad(f"final_state.{name}[{i}]", "not a JSON object")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in state["progress"].values()):
        raise m.bad("final_state.progress", "not numbers of ticks and a percentage")
    if not all(isinstance(v, dict) for v in state["nodes"].values()):
        raise m.bad("final_state.nodes", "not an object of node states")


def _rebuild(
    days, executions, trades, position_events, samples, places: int, calendar: TradingCalendar
) -> dict:
    """The day files ``exports.exports`` builds from what was read."""
    return exports(
        days,
        executions,
        (r.to_dict() for r in trades),
        (e["position"] for e in position_events),
        [
            (ts, realized + unrealized, low, high, drop)
            for ts, realized, unrealized, _, low, high, drop in samples
        ],
        places,
        calendar,
    )


def _read(folder: Path, name: str, digest) -> Any:
    """The JSON in ``folder/name`` (gunzipped for a ``.gz`` name); its bytes go into ``digest``.

    The file must be a regular file inside ``folder`` (a symlink to one in the folder is followed; one
    leading out of it, a FIFO or a device is refused) of at most ``MAX_FILE_BYTES``, gunzipped too."""
    target = folder / name
    try:
        inside = target.resolve(strict=True).is_relative_to(folder.resolve(strict=True))
    except FileNotFoundError:
        raise BadExport(name, "", "missing") from None
    except (OSError, RuntimeError) as e:  # a symlink loop is a RuntimeError before Python 3.13
        raise BadExport(name, "", f"cannot be read: {getattr(e, 'strerror', None) or e}") from None
    if not inside:
        raise BadExport(name, "", "a link to a file outside the folder")
    try:
        with open(target, "rb", opener=_nonblocking) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BadExport(name, "", "not a regular file")
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise BadExport(name, "", f"cannot be read: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadExport(name, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB")
    digest.update(f"{name}\0{len(data)}\0".encode())
    digest.update(data)
    if name.endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise BadExport(name, "", f"not gzip data ({e})") from None
        if len(data) > MAX_FILE_BYTES:
            raise BadExport(name, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB once gunzipped")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadExport(name, "", f"not JSON ({e})") from None


def _nonblocking(path, flags):
    """``open``'s opener: a FIFO opens at once (to be refused as not a regular file) instead of waiting for
    a writer."""
    return os.open(path, flags | os.O_NONBLOCK)


def _agree(file: str, read: Any, built: Any) -> None:
    """Refuse ``read`` (a day file) unless it equals ``built`` (the same file built from what was read),
    naming the first key or index that differs."""
    if read == built:
        return
    where = ""
    if isinstance(read, dict) and isinstance(built, dict):
        where = next((k for k in (*built, *read) if read.get(k) != built.get(k)), "")
    elif isinstance(read, list) and isinstance(built, list):
        where = next(
            (
                f"[{i}]"
                for i in range(max(len(read), len(built)))
                if i >= len(read) or i >= len(built) or read[i] != built[i]
            ),
            "",
        )
    raise BadExport(
        file,
        where,
        f"does not agree with the other files and {MANIFEST} (the trades, node "
        "executions, position events and equity samples it is built from)",
    )


def _check_manifest(m: _Check, manifest: dict, calendar: TradingCalendar) -> list[date]:
    """Check the manifest's fields (all but the samples, the position events and the money's places and
    currency); return its trading days, which must be ``calendar``'s (its underlying's market's)."""
    session_id = manifest.get("session_id")
    if session_id is not None:
        m.text(session_id, "session_id", 20)
    strategy = m.obj(manifest.get("strategy"), "strategy")
    m.text(strategy.get("name"), "strategy.name", 120)
    m.whole(strategy.get("version"), "strategy.version", 1, 2**31)
    graph = m.obj(strategy.get("graph"), "strategy.graph")
    try:
        parse_graph(graph)
    except InvalidGraph as e:
        raise BadExport(
            MANIFEST, "strategy.graph", "invalid strategy: " + "; ".join(str(x) for x in e.errors)
        ) from None
    m.text(manifest.get("underlying"), "underlying", 32)
    days = [m.day(d, f"days[{i}]") for i, d in enumerate(m.list(manifest, "days"))]
    if not days:
        raise BadExport(MANIFEST, "days", "no trading day")
    for name, value in (("start_date", days[0]), ("end_date", days[-1])):
        if manifest.get(name) != value.isoformat():
            raise BadExport(MANIFEST, name, f"{manifest.get(name)!r} is not {value.isoformat()} (days)")
    if calendar.trading_days(days[0], days[-1]) != days:
        raise BadExport(
            MANIFEST,
            "days",
            f"{', '.join(d.isoformat() for d in days)} are not the trading days "
            f"this server's calendar has from {days[0]} to {days[-1]}",
        )
    m.text(manifest.get("mode"), "mode", 20)
    speed = manifest.get("speed_multiplier")
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not math.isfinite(speed) or speed < 0:
        raise BadExport(MANIFEST, "speed_multiplier", f"{speed!r} is not a number from 0")
    m.whole(manifest.get("seed"), "seed", -BIG, BIG - 1)
    if manifest.get("starting_capital") is not None:
        m.money(manifest["starting_capital"], "starting_capital", low=Decimal("0.01"))
    if manifest.get("broker") is not None:
        m.obj(manifest["broker"], "broker")
    fee_fields = m.obj(manifest.get("fees"), "fees")
    for name in ("fee_per_order", "fee_cap"):  # written by FeeModel.to_dict: two-place strings or null
        if fee_fields.get(name) is not None:
            m.money(fee_fields[name], f"fees.{name}", low=Decimal(0), places=2)
    percent = fee_fields.get("fee_percent")
    if percent is not None and not (isinstance(percent, str) and is_plain_decimal(percent)):
        raise BadExport(
            MANIFEST, "fees.fee_percent", f'{_short(percent)} is not a per cent (a string such as "0.03")'
        )
    try:
        FeeModel.from_dict(fee_fields)
        check_slippage_ticks(manifest.get("slippage_ticks"))
    except InvalidFees as e:
        field = e.subject if e.subject == "slippage_ticks" else f"fees.{e.subject}"
        raise BadExport(MANIFEST, field, str(e)) from None
    status = manifest.get("status")
    if status not in IMPORTABLE:
        raise BadExport(
            MANIFEST,
            "status",
            f"{status!r} is not a finished session's status ({', '.join(sorted(IMPORTABLE))})",
        )
    m.text(manifest.get("status_reason"), "status_reason", 10_000, blank=True)
    for name in ("created_at", "started_at", "ended_at"):
        if manifest.get(name) is not None:
            m.time(manifest[name], name)
    progress = m.obj(manifest.get("progress"), "progress")
    for name in ("ticks_processed", "total_ticks"):
        m.whole(progress.get(name), f"progress.{name}", 0, BIG - 1)
    summary = m.obj(manifest.get("summary"), "summary")
    for name in ("total_trades", "winning_trades", "losing_trades"):
        m.whole(summary.get(name), f"summary.{name}", 0, 2**31)
    m.money(summary.get("win_rate"), "summary.win_rate", low=Decimal(0), high=Decimal(100), places=2)
    for name in ("gross_pnl", "charges", "net_pnl", "max_drawdown"):
        m.money(
            summary.get(name),
            f"summary.{name}",
            low=Decimal(0) if name in ("charges", "max_drawdown") else None,
        )
    if manifest.get("final_state") is not None:
        _check_final_state(m, manifest["final_state"])
    sources = m.list(manifest, "market_data")
    if len(sources) != len(days):
        raise BadExport(MANIFEST, "market_data", f"{len(sources)} days, not {len(days)} (days)")
    for i, (source, day) in enumerate(zip(sources, days, strict=True)):
        m.obj(source, f"market_data[{i}]")
        if source.get("date") != day.isoformat():
            raise BadExport(MANIFEST, f"market_data[{i}].date", f"{_short(source.get('date'))} is not {day}")
        if source.get("source") not in MARKET_SOURCES:
            raise BadExport(
                MANIFEST,
                f"market_data[{i}].source",
                f"{_short(source.get('source'))} is not imported, synthetic or null",
            )
        if source.get("seed") is not None:
            m.whole(source["seed"], f"market_data[{i}].seed", 0, BIG - 1)
    return days


class _Check:
    """Checks of one file's values, each refusal naming the file and the field."""

    def __init__(self, file: str, places: int = 2, currency: str = "INR"):
        self.file = file
        self.places = places  # of its amounts of money
        self.currency = currency

    def bad(self, field: str, problem: str) -> BadExport:
        return BadExport(self.file, field, problem)

    def obj(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.bad(field, "not a JSON object")
        return value

    def list(self, parent: dict, name: str) -> list:
        value = parent.get(name)
        if not isinstance(value, list):
            raise self.bad(name, "not a JSON list")
        return value

    def text(self, value: Any, field: str, longest: int, blank: bool = False) -> str:
        if not isinstance(value, str) or (not value and not blank) or len(value) > longest:
            raise self.bad(
                field, f"{_short(value)} is not a text of {0 if blank else 1} to {longest} characters"
            )
        return value

    def whole(self, value: Any, field: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.bad(
                field,
                f"{_short(value)} is not a whole number from {low}"
                + ("" if high >= 2**31 else f" to {high}"),
            )
        return value

    def money(
        self,
        value: Any,
        field: str,
        low: Decimal | None = None,
        high: Decimal | None = None,
        places: int | None = None,
    ) -> Decimal:
        """An amount as the exports write it: a string of digits with up to ``places`` decimals (the
        folder's, ``price_decimals``; two for a percentage or a fee, which are always written so)."""
        places = self.places if places is None else places
        if not isinstance(value, str) or not _money_pattern(places).fullmatch(value):
            unit = "rupees" if self.currency == "INR" else self.currency
            example = "100.50" if places == 2 else f"{Decimal('100.5'):.{places}f}"
            raise self.bad(
                field, f'{_short(value)} is not an amount in {unit} (a string such as "{example}")'
            )
        amount = Decimal(value)
        if (
            abs(amount) >= MONEY_LIMIT
            or (low is not None and amount < low)
            or (high is not None and amount > high)
        ):
            raise self.bad(field, f"{value} is out of range")
        return amount

    def day(self, value: Any, field: str) -> date:
        try:
            return parse_iso_date(value) if isinstance(value, str) else parse_iso_date(repr(value))
        except ValueError as e:
            raise self.bad(field, str(e)) from None

    def time(self, value: Any, field: str) -> int:
        """An ISO 8601 time with its offset, as epoch seconds."""
        try:
            at = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None or not YEARS[0] <= at.year <= YEARS[1]:
            raise self.bad(
                field,
                f"{_short(value)} is not an ISO 8601 time with its offset, from {YEARS[0]} to {YEARS[1]}",
            )
        return int(at.timestamp())

    def sample(self, value: Any, field: str) -> tuple[int, ...]:
        if not isinstance(value, list) or len(value) != 7:
            raise self.bad(
                field, "not a list of 7 whole numbers (time, realized, unrealized, charges, low, high, drop)"
            )
        ts = self.whole(value[0], f"{field}[0]", 0, LAST_EPOCH)
        figures = [
            self.whole(v, f"{field}[{i}]", -PAISE_LIMIT + 1, PAISE_LIMIT - 1)
            for i, v in enumerate(value)
            if i
        ]
        if figures[-1] < 0:
            raise self.bad(f"{field}[6]", "a drop is not negative")
        return (ts, *figures)

    def execution(self, value: Any, key: str, day: date, calendar: TradingCalendar) -> dict:
        field = f"events_history[{key!r}]"
        e = self.obj(value, field)
        if e.get("execution_id") != key:
            raise self.bad(f"{field}.execution_id", f"{_short(e.get('execution_id'))} is not its key")
        self.text(key, f"{field}.execution_id", 128)
        if e.get("parent_execution_id") is not None:
            self.text(e["parent_execution_id"], f"{field}.parent_execution_id", 128)
        for name, longest in (("event_type", 32), ("node_id", 64), ("node_name", 120), ("node_type", 64)):
            self.text(e.get(name), f"{field}.{name}", longest, blank=name == "node_name")
        at = self.time(e.get("timestamp"), f"{field}.timestamp")
        if calendar.day_of(at) != day:
            raise self.bad(
                f"{field}.timestamp", f"{e['timestamp']} is not on {day} (a trading day of {calendar.name})"
            )
        return e

    def trade(self, value: Any, field: str, calendar: TradingCalendar) -> TradeRecord:
        t = self.obj(value, field)
        side = t.get("side")
        if side not in ("buy", "sell"):
            raise self.bad(f"{field}.side", f"{_short(side)} is not buy or sell")
        flows = {}
        for name in ("entry_flow_ids", "exit_flow_ids"):
            ids = t.get(name)
            if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 128 for i in ids):
                raise self.bad(f"{field}.{name}", "not a list of execution ids")
            flows[name] = tuple(ids)
        record = TradeRecord(
            trade_id=self.text(t.get("trade_id"), f"{field}.trade_id", 96),
            position_id=self.text(t.get("position_id"), f"{field}.position_id", 96),
            position_num=self.whole(t.get("position_num"), f"{field}.position_num", 1, 2**31 - 1),
            re_entry_num=self.whole(t.get("re_entry_num"), f"{field}.re_entry_num", 0, 2**31 - 1),
            entry_node_id=self.text(t.get("entry_node_id"), f"{field}.entry_node_id", 64),
            symbol=self.text(t.get("symbol"), f"{field}.symbol", 64),
            side=side,
            quantity=self.whole(t.get("quantity"), f"{field}.quantity", 1, 2**31 - 1),
            entry_price=self.money(t.get("entry_price"), f"{field}.entry_price", low=Decimal(0)),
            entry_time=self.time(t.get("entry_time"), f"{field}.entry_time"),
            exit_price=self.money(t.get("exit_price"), f"{field}.exit_price", low=Decimal(0)),
            exit_time=self.time(t.get("exit_time"), f"{field}.exit_time"),
            pnl=self.money(t.get("pnl"), f"{field}.pnl"),
            pnl_percent=self.money(
                t.get("pnl_percent"),
                f"{field}.pnl_percent",
                low=Decimal("-99999999.99"),
                high=Decimal("99999999.99"),
                places=2,
            ),
            charges=self.money(t.get("charges"), f"{field}.charges", low=Decimal(0)),
            net_pnl=self.money(t.get("net_pnl"), f"{field}.net_pnl"),
            status=self.text(t.get("status"), f"{field}.status", 16),
            entry_trigger=self.text(t.get("entry_trigger"), f"{field}.entry_trigger", 120, blank=True),
            exit_reason=self.text(t.get("exit_reason"), f"{field}.exit_reason", 32, blank=True),
            places=self.places,
            zone=calendar.time_zone,
            **flows,
        )
        if record.exit_time < record.entry_time:
            raise self.bad(f"{field}.exit_time", f"{t['exit_time']} is before its entry_time")
        return record

    def position_event(self, value: Any, field: str) -> dict:
        e = self.obj(value, field)
        if e.get("action") not in POSITION_ACTIONS:
            raise self.bad(
                f"{field}.action", f"{_short(e.get('action'))} is not one of {', '.join(POSITION_ACTIONS)}"
            )
        self.text(e.get("execution_id"), f"{field}.execution_id", 128)
        self.time(e.get("timestamp"), f"{field}.timestamp")
        p = self.obj(e.get("position"), f"{field}.position")
        self.text(p.get("position_id"), f"{field}.position.position_id", 96)
        self.whole(p.get("re_entry_num"), f"{field}.position.re_entry_num", 0, 2**31 - 1)
        self.time(p.get("entry_time"), f"{field}.position.entry_time")
        self.text(p.get("status"), f"{field}.position.status", 16)
        for name in ("quantity", "quantity_closed", "quantity_remaining"):
            self.whole(p.get(name), f"{field}.position.{name}", 1 if name == "quantity" else 0, 2**31 - 1)
        for name in ("entry_price", "realized_pnl", "unrealized_pnl", "charges"):
            self.money(
                p.get(name),
                f"{field}.position.{name}",
                low=Decimal(0) if name in ("entry_price", "charges") else None,
            )
        return e


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
