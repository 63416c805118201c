"""A session's export files in the seeds' formats, per trading day: one pure function (no Django).

A trading day is the session's market's (``TradingCalendar.day_of``): an NSE day is its IST date, an
FX_24X5 day runs from 17:00 to 17:00 New York (an event at 18:00 New York on Tuesday is Wednesday's).
Money is written with the instrument's places (``places``: two for rupees, five for EURUSD).

Seed 001 names three files a run leaves behind, seed 004 shows the decompressed structure of two:

- ``diagnostics_export.json.gz``: ``{"events_history": {<execution_id>: <execution>, ...},
  "current_state": {<node_id>: <its latest execution>, ...}}``, gzip; the day's executions in order,
  and each node's latest execution up to the end of that day (a node idle that day keeps the state an
  earlier day left). The same shape as ``GET /api/session/{id}/diagnostics`` and a ``node_events``'
  ``diagnostics``.
- ``trades_daily.json.gz``: ``{"date", "summary", "trades"}``, gzip: the trades that closed that day
  (the trading day of ``exit_time``), each the one trade dict (``TradeRecord.to_dict``), and that day's
  summary in the engine's summary shape (``Summary.to_dict``), its figures from
  ``statistics.report`` over the day's trades and equity samples (``max_drawdown``: the largest fall
  of the net P&L below its peak within that day, starting from where the day opened).
- ``positions.json``: the positions entered that day, each as its latest ``position_event`` left it
  (the ``position`` of docs/protocol.md), in entry order. Positions are intraday: a finished day's
  are all ``CLOSED``; a running session's open ones show prices as of their last change.

For a one-day session the day's summary is the session's summary, and its diagnostics the session's.

Besides the seeds' files, a folder of a session's exports holds ``session.json``, its manifest
(``manifest``): what a stored session has that the seeds' files do not carry (the graph it ran, its
settings, status, times, summary, equity samples, position changes and final state), so that
``manage.py import_session`` can read the folder back into a session (docs/reports.md, "Sharing a run").
``folder`` lays the files out: a one-day session's in the folder itself, a longer one's in a subfolder
per day, the manifest at the top.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from live_trading.marketdata.calendar import NSE, TradingCalendar
from live_trading.reports.statistics import Run, report

DIAGNOSTICS = "diagnostics_export.json.gz"
TRADES = "trades_daily.json.gz"
POSITIONS = "positions.json"
NAMES = (DIAGNOSTICS, TRADES, POSITIONS)
MANIFEST = "session.json"
FORMAT = "livesim-session"
FORMAT_VERSION = 1


def exports(days: Sequence[date], executions: Iterable[dict], trades: Iterable[dict],
            positions: Iterable[dict], samples: Iterable[tuple[int, int, int, int, int]],
            places: int = 2, calendar: TradingCalendar = NSE) -> dict[str, dict]:
    """Each day's three files as JSON-ready objects: ``{"YYYY-MM-DD": {DIAGNOSTICS: ..., TRADES: ...,
    POSITIONS: ...}}``, in ``days`` order (every day listed, with empty files for a day without
    activity).

    ``executions``: node executions in execution order (the stored ``NodeEvent`` payloads; each has
    ``execution_id``, ``node_id`` and an ISO 8601 ``timestamp`` with its offset). ``trades``: trade
    dicts in closing order. ``positions``: ``position`` dicts of the position events in order (the
    latest of each (``position_id``, ``re_entry_num``) wins). ``samples``: equity samples in time
    order as ``(epoch seconds, net P&L, low, high, drop)`` in minor units of ``places`` places (paise
    for 2; ``statistics.Run``). ``calendar``: the market's (``calendar.market_calendar``), whose trading
    days (``TradingCalendar.day_of``) the files are cut by: an execution, a trade's exit and a position's
    entry go to the day of their time; a sample to the day of the second before it.
    Raises ``ValueError`` for a trade or sample ``statistics.report`` cannot read, or a time that is not
    ISO 8601 with an offset.
    """
    keys = [d.isoformat() for d in days]

    def day_of(text: str) -> str:
        return calendar.day_of(_epoch(text)).isoformat()

    history: dict[str, dict] = {k: {} for k in keys}
    for execution in executions:
        day = history.get(day_of(execution["timestamp"]))
        if day is not None:
            day[execution["execution_id"]] = execution
    day_trades: dict[str, list] = {k: [] for k in keys}
    for trade in trades:
        day_trades.get(day_of(trade["exit_time"]), []).append(trade)
    latest: dict[tuple, dict] = {}
    for position in positions:
        latest[(position["position_id"], position["re_entry_num"])] = position
    day_positions: dict[str, list] = {k: [] for k in keys}
    for position in sorted(latest.values(), key=lambda p: _epoch(p["entry_time"])):
        day_positions.get(day_of(position["entry_time"]), []).append(position)
    day_samples = _samples_by_day(samples, keys, calendar)

    result = {}
    state: dict[str, dict] = {}
    for key in keys:
        for execution in history[key].values():
            state[execution["node_id"]] = execution
        result[key] = {
            DIAGNOSTICS: {"events_history": history[key], "current_state": dict(state)},
            TRADES: {"date": key, "summary": day_summary(day_trades[key], day_samples[key], places, calendar),
                     "trades": day_trades[key]},
            POSITIONS: day_positions[key],
        }
    return result


def day_summary(trades: list[dict], samples: list[tuple[int, int, int, int, int]], places: int = 2,
                calendar: TradingCalendar = NSE) -> dict:
    """A day's summary in ``Summary.to_dict``'s shape, from ``statistics.report`` (one definition of
    every figure): ``samples`` rebased so that the day opens at 0."""
    s = report([Run(trades, samples, calendar)], places=places)["statistics"]
    return {"total_trades": s["trades"], "total_pnl": s["net_pnl"], "gross_pnl": s["gross_pnl"],
            "charges": s["charges"], "net_pnl": s["net_pnl"], "winning_trades": s["winning_trades"],
            "losing_trades": s["losing_trades"], "win_rate": s["win_rate"], "max_drawdown": s["max_drawdown"]}


def _epoch(text: str) -> int:
    """An ISO 8601 time with its offset as epoch seconds; ``ValueError`` for anything else."""
    at = datetime.fromisoformat(text) if isinstance(text, str) else None
    if at is None or at.tzinfo is None:
        raise ValueError(f"not an ISO 8601 time with its offset: {text!r}")
    return int(at.timestamp())


def _samples_by_day(samples, keys: list[str], calendar: TradingCalendar = NSE) -> dict[str, list]:
    """Samples grouped by trading day (that of the second before each: a sample holds the figures after
    the ticks before it), each day's rebased on the last net P&L of the day before (the curve of a
    multi-day session runs on across days; a day's drawdown starts from where it opened)."""
    by_day: dict[str, list] = {k: [] for k in keys}
    offset = 0
    current = None
    last = 0
    for ts, net, low, high, drop in samples:
        key = calendar.day_of(ts - 1).isoformat()
        if key != current:
            current, offset = key, last
        last = net
        if key in by_day:
            by_day[key].append((ts, net - offset, low - offset, high - offset, drop))
    return by_day


def manifest(*, session_id: str | None, strategy: dict, underlying: str, days: Sequence[date], mode: str,
             speed_multiplier: float, seed: int, starting_capital: str | None, broker: dict | None,
             fees: dict, slippage_ticks: int, status: str,
             status_reason: str, created_at: str | None, started_at: str | None, ended_at: str | None,
             progress: dict, summary: dict, equity_samples: Iterable[Sequence[int]],
             position_events: Iterable[dict], final_state: dict | None, market_data: list[dict],
             price_decimals: int = 2, currency: str = "INR") -> dict:
    """The folder's manifest, ``session.json`` (format ``FORMAT``, version ``FORMAT_VERSION``), JSON-ready.

    ``session_id``: the session's id (None for a replay in memory). ``strategy``: ``{"id", "name",
    "version", "graph"}``, the graph it ran. ``days``: its trading days (``start_date``, ``end_date``
    are their first and last). ``speed_multiplier``: 0 for as fast as possible. ``price_decimals`` and
    ``currency``: the instrument's money as the session recorded it (two places of INR on the NSE, five of
    USD for EURUSD); every amount of the folder has those places. ``starting_capital``: in that currency
    (None: not recorded). ``broker``: ``{"broker_type", "account_id", "name"}`` of
    the broker connection it traded through, or None. ``fees``: the fee model it ran with
    (``FeeModel.to_dict``); ``slippage_ticks``: its fills' slippage in price ticks. ``status``: a final status. Times: ISO 8601
    (None: not recorded). ``progress``: ``{"ticks_processed", "total_ticks"}``. ``summary``:
    ``Summary.to_dict``'s shape. ``equity_samples``: ``(epoch seconds, realized, unrealized, charges,
    low, high, drop)`` in minor units (paise for the rupee), in time order (``EquitySample``'s fields). ``position_events``: the
    ``position_event`` payloads in order. ``final_state``: the dashboard state it ended with, or None.
    ``market_data``: per day, where the machine that wrote the folder reads its market data
    (``store.day_source``: ``{"date", "source", "seed"}``), which the candle chart needs.
    """
    days = [d.isoformat() for d in days]
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "session_id": session_id, "strategy": strategy,
        "underlying": underlying, "price_decimals": price_decimals, "currency": currency, "start_date": days[0], "end_date": days[-1], "days": days, "mode": mode,
        "speed_multiplier": speed_multiplier, "seed": seed, "starting_capital": starting_capital, "broker": broker,
        "fees": fees, "slippage_ticks": slippage_ticks, "status": status, "status_reason": status_reason, "created_at": created_at, "started_at": started_at,
        "ended_at": ended_at, "progress": progress, "summary": summary,
        "equity_samples": [list(s) for s in equity_samples], "position_events": list(position_events),
        "final_state": final_state, "market_data": market_data,
    }


def folder(files: dict[str, dict], session: dict) -> dict[str, bytes]:
    """The export folder's files by path within it: each day's (``exports``) in the folder itself for a
    one-day session, in ``<YYYY-MM-DD>/`` for a longer one; the manifest ``session`` as ``session.json``
    at the top. Paths use ``/``."""
    out = {MANIFEST: encode(MANIFEST, session)}
    for day, named in files.items():
        for name, body in named.items():
            out[name if len(files) == 1 else f"{day}/{name}"] = encode(name, body)
    return out


def write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write ``folder``'s ``files`` under ``out`` (created if missing). Each file goes to a temporary file
    renamed over its name, so a file or a symlink already there is replaced, never written through (a
    ``positions.json`` linking to another file of the user's leaves that file alone), and a day's folder
    that is a symlink is refused. Raises ``OSError`` (``NotADirectoryError`` for such a day folder)."""
    for path, data in files.items():
        target = out / path
        if target.parent != out and target.parent.is_symlink():
            raise NotADirectoryError(0, "a link, not a folder of this export", str(target.parent))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise


def encode(name: str, body: Any) -> bytes:
    """A file's bytes: compact JSON (UTF-8), gzip-compressed for a ``.gz`` name (with no timestamp in
    its header, so the same content gives the same bytes)."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, mtime=0) if name.endswith(".gz") else data


def decode(name: str, data: bytes) -> Any:
    """The inverse of ``encode``. Raises ``ValueError`` (``OSError`` for bad gzip, as ``ValueError``)
    when the bytes are not such a file."""
    try:
        raw = gzip.decompress(data) if name.endswith(".gz") else data
        return json.loads(raw)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from exc
