"""Scripted market days and small strategy graphs for engine tests.

A scripted day is a real ``MarketDay`` built by hand: a few symbols, prices given as
``{"09:15:00": "100.00", "09:17:30": "110.00"}`` (each price holds until the next one), one row per
second from 09:15:00 for as long as the test needs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from live_trading.marketdata.calendar import market_open_ts
from live_trading.marketdata.day import MarketDay
from strategies.graph import parse_graph

DAY = date(2024, 10, 29)  # a Tuesday; NIFTY weekly expiry 2024-10-31, lot 25
EXPIRY = "2024-10-31"


def opt(strike: int, right: str, expiry: str = EXPIRY, underlying: str = "NIFTY") -> str:
    return f"{underlying}:{expiry}:OPT:{strike}:{right}"


def _secs(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s - (9 * 3600 + 15 * 60)


def scripted_day(series: dict, until: str = "09:30:00", underlying: str = "NIFTY", on: date = DAY) -> MarketDay:
    """Build a MarketDay: ``series`` maps symbols (the underlying first) to {time: rupees}."""
    n = _secs(until) + 1
    symbols = list(series)
    assert symbols[0] == underlying
    prices = np.zeros((n, len(symbols)), np.int64)
    mask = np.zeros((n, len(symbols)), bool)
    for j, s in enumerate(symbols):
        points = sorted((_secs(t), int(Decimal(str(p)) * 100)) for t, p in series[s].items())
        for k, (row, paise) in enumerate(points):
            end = points[k + 1][0] if k + 1 < len(points) else n
            prices[row:end, j] = paise
            mask[row, j] = True
    # Every symbol "trades" every second so candles see each second's price.
    mask[prices > 0] = True
    ts = np.arange(n, dtype=np.int64) + market_open_ts(on)
    return MarketDay(underlying, on, ts, symbols, prices, np.zeros_like(prices), np.zeros_like(prices), mask)


def start(underlying="NIFTY", start_time="09:15", square_off="09:29:00", **extra) -> dict:
    cfg = {"underlying": underlying, "start_time": start_time, "square_off_time": square_off, **extra}
    return {"id": "strategy-controller", "type": "start", "name": "Strategy Controller", "config": cfg}


def at_time(node_id: str, hms: str, type_: str = "entry_signal") -> dict:
    return {"id": node_id, "type": type_, "name": node_id, "config": {"conditions": {"all": [
        {"left": {"type": "time_of_day"}, "operator": ">=", "right": {"type": "value", "value": hms}}]}}}


def option_entry(node_id: str, right: str, side: str, lots: int = 1, **risk) -> dict:
    cfg = {"instrument": "option", "expiry": "current_weekly", "strike": {"rule": "atm", "offset": 0},
           "right": right, "side": side, "lots": lots, **risk}
    return {"id": node_id, "type": "entry", "name": node_id, "config": cfg}


def graph_data(nodes: list, edges: list, name: str = "test") -> dict:
    return {"format_version": 1, "name": name, "nodes": nodes,
            "edges": [{"from": a, "to": b} for a, b in edges]}


def build(nodes: list, edges: list):
    return parse_graph(graph_data(nodes, edges))


def rupees(s: str) -> Decimal:
    return Decimal(s)
