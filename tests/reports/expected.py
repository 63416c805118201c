"""The two sessions' trades and equity samples worked out by hand, and the report's figures computed from
them by the formulas of docs/reports.md, written out plainly here (not by calling the code under test).

Charges, per order (Rs): brokerage 20; STT 0.1% of a sell's premium, to the rupee; exchange charges
0.03553% (NSE's 0.03503% + IPFT 0.0005%, one contract-note line); SEBI 0.0001%; stamp 0.003% of a buy;
GST 18% of brokerage + exchange + SEBI. An entry's charges are shared by the
trades that close it in proportion to quantity (in paise, rounded down), the last taking the rest.

Session A, "Partial and re-entry" (CE 100 -> 80 at 09:18 -> 125 at 09:20 -> 110 at 09:22):
  09:16:00 sell 50 @ 100 (5,000): 20 + STT 5 + exchange 1.7765 -> 1.78 + SEBI 0.005 -> 0.01
           + GST 21.79 x 18% = 3.9222 -> 3.92: 30.71
  09:18:00 exit signal, half: buy 25 @ 80 (2,000): 20 + exchange 0.7106 -> 0.71 + SEBI 0.002 -> 0.00
           + stamp 0.06 + GST 20.71 x 18% = 3.7278 -> 3.73: 24.50
           trade 1: gross (100 - 80) x 25 = 500; charges 30.71 x 25/50 = 15.355 -> 15.35 (down) + 24.50
           = 39.85; net 460.15
  09:20:00 stop (120 = 100 + 20%) at 125: buy 25 (3,125): 20 + exchange 1.1103 -> 1.11 + stamp 0.09375
           -> 0.09 + GST 21.11 x 18% = 3.7998 -> 3.80: 25.00
           trade 2: gross (100 - 125) x 25 = -625; charges 15.36 (the rest) + 25.00 = 40.36; net -665.36
  09:21:00 re-entry a minute after the stop: sell 50 @ 125 (6,250): 20 + STT 6.25 -> 6 + exchange
           2.2206 -> 2.22 + SEBI 0.01 + GST 22.23 x 18% = 4.0014 -> 4.00: 32.23
  09:21:01 the exit signal (time >= 09:18) holds again for the re-entered position: buy 25 @ 125: 25.00
           trade 3: gross 0; charges 16.115 -> 16.11 + 25.00 = 41.11; net -41.11 (a loss: zero gross)
  09:29:00 square-off: buy 25 @ 110 (2,750): 20 + exchange 0.97708 -> 0.98 + stamp 0.0825 -> 0.08
           + GST 20.98 x 18% = 3.7764 -> 3.78: 24.84
           trade 4: gross (125 - 110) x 25 = 375; charges 16.12 + 24.84 = 40.96; net 334.04
Session B, "Straddle" (PE 100 -> 40 at 09:24):
  09:16:00 sell 25 CE @ 100 and 25 PE @ 100 (2,500 each): 20 + STT 2.5 -> 3 + exchange 0.88825 -> 0.89
           + SEBI 0.0025 -> 0.00 + GST 20.89 x 18% = 3.7602 -> 3.76: 27.65 each
  09:24:00 PE target (50 = 100 - 50%) at 40: buy 25 (1,000): 20 + exchange 0.3553 -> 0.36 + stamp 0.03
           + GST 20.36 x 18% = 3.6648 -> 3.66: 24.05
           trade 1: gross 60 x 25 = 1,500; charges 27.65 + 24.05 = 51.70; net 1,448.30
  09:29:00 square-off: buy 25 CE @ 110: 24.84
           trade 2: gross -10 x 25 = -250; charges 27.65 + 24.84 = 52.49; net -302.49
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from live_trading.marketdata.calendar import EXCHANGE_TZ

D = Decimal
DATE = "2024-10-29"


def at(hms: str) -> str:
    return f"{DATE}T{hms}+05:30"


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def trade(trade_id, node, reason, entry, exit_, pnl, charges, net) -> dict:
    return {"trade_id": trade_id, "entry_node_id": node, "exit_reason": reason, "entry_time": at(entry),
            "exit_time": at(exit_), "pnl": pnl, "charges": charges, "net_pnl": net}


TRADES_A = [
    trade("entry-ce-pos1-x1", "entry-ce", "exit_condition_met", "09:16:00", "09:18:00", "500.00", "39.85", "460.15"),
    trade("entry-ce-pos1-x2", "entry-ce", "stop_loss", "09:16:00", "09:20:00", "-625.00", "40.36", "-665.36"),
    trade("entry-ce-pos1-re1-x1", "entry-ce", "exit_condition_met", "09:21:00", "09:21:01", "0.00", "41.11", "-41.11"),
    trade("entry-ce-pos1-re1-x2", "entry-ce", "square_off", "09:21:00", "09:29:00", "375.00", "40.96", "334.04"),
]
TRADES_B = [
    trade("entry-pe-pos1", "entry-pe", "target", "09:16:00", "09:24:00", "1500.00", "51.70", "1448.30"),
    trade("entry-ce-pos1", "entry-ce", "square_off", "09:16:00", "09:29:00", "-250.00", "52.49", "-302.49"),
]


def _minutes(first: str, last: str, value: str) -> dict:
    """Every minute close from ``first`` to ``last`` (HH:MM) holding ``value``."""
    t = datetime.fromisoformat(at(first + ":00"))
    end = datetime.fromisoformat(at(last + ":00"))
    out = {}
    while t <= end:
        out[t.astimezone(EXCHANGE_TZ).isoformat()] = value
        t += timedelta(minutes=1)
    return out


# Net P&L (realized net of every charge paid + unrealized gross) after the last tick before each minute's
# close. The stored day is a whole session (read back, the script's last prices hold to 15:29:59), so
# the last sample, one second after the last tick, is at 15:30:00.
# A: 09:17 -30.71 (entry charges); 09:19 after the half exit: 500 - 55.21 + unrealized 25 x 20 = 944.79;
# 09:21 after the stop: -125 - 80.21 = -205.21; 09:22 after the re-entry and its half exit:
# -125 - 137.44 = -262.44; 09:23 CE at 110: + 25 x 15 = 112.56; 09:30 after the square-off: 250 - 162.28.
EQUITY_A = {
    **_minutes("09:16", "09:16", "0.00"), **_minutes("09:17", "09:18", "-30.71"),
    **_minutes("09:19", "09:20", "944.79"), **_minutes("09:21", "09:21", "-205.21"),
    **_minutes("09:22", "09:22", "-262.44"), **_minutes("09:23", "09:29", "112.56"),
    **_minutes("09:30", "15:30", "87.72"),
}
# B: 09:17 -55.30; 09:19 CE at 80: +500 -> 444.70; 09:21 CE at 125: -625 -> -680.30; 09:23 CE at 110:
# -250 -> -305.30; 09:25 after the PE's target: 1,500 - 79.35 - 250 = 1,170.65; 09:30: 1,250 - 104.19.
EQUITY_B = {
    **_minutes("09:16", "09:16", "0.00"), **_minutes("09:17", "09:18", "-55.30"),
    **_minutes("09:19", "09:20", "444.70"), **_minutes("09:21", "09:22", "-680.30"),
    **_minutes("09:23", "09:24", "-305.30"), **_minutes("09:25", "09:29", "1170.65"),
    **_minutes("09:30", "15:30", "1145.81"),
}

# What the engine's drawdown tracker saw between two samples, for each sample: (low, high, drop), the
# lowest and highest net P&L over the ticks since the sample before and the deepest fall within them
# (each stretch starting from the last figure seen before it, 0 before any). The tracker sees the net
# P&L on each tick with a position open, after the tick's stops, targets and time square-off and before
# its nodes act, and after each exit fill; not right after an entry (the next tick sees that).
# A: 09:16:00 the entry (-30.71) is first seen on 09:16:01. 09:18:00, CE at 80 before the exit signal
# acts: -30.71 + 50 x 20 = 969.29 (the peak, seen by no sample); the half exit's 24.50 -> 944.79.
# 09:20:00 the stop (before the tick is tracked): -205.21; flat, no position. 09:21:00 the re-entry's
# 32.23 -> -237.44, seen on 09:21:01 before its half exit's 25.00 -> -262.44. 09:22:00 CE at 110:
# 112.56. 09:29:00 the square-off's 24.84 -> 87.72.
RANGES_A = {
    **_minutes("09:16", "09:16", ("0.00", "0.00", "0.00")),
    **_minutes("09:17", "09:17", ("-30.71", "0.00", "30.71")),
    **_minutes("09:18", "09:18", ("-30.71", "-30.71", "0.00")),
    **_minutes("09:19", "09:19", ("-30.71", "969.29", "24.50")),  # 969.29 - 944.79
    **_minutes("09:20", "09:20", ("944.79", "944.79", "0.00")),
    **_minutes("09:21", "09:21", ("-205.21", "944.79", "1150.00")),  # 944.79 + 205.21
    **_minutes("09:22", "09:22", ("-262.44", "-205.21", "57.23")),  # -205.21 + 262.44
    **_minutes("09:23", "09:23", ("-262.44", "112.56", "0.00")),
    **_minutes("09:24", "09:29", ("112.56", "112.56", "0.00")),
    **_minutes("09:30", "09:30", ("87.72", "112.56", "24.84")),
    **_minutes("09:31", "15:30", ("87.72", "87.72", "0.00")),
}
# B: the entries' 55.30 seen from 09:16:01; 09:18:00 CE at 80: 444.70; 09:20:00 CE at 125: -680.30;
# 09:22:00 CE at 110: -305.30; 09:24:00 the PE's target fills before the tick is tracked: 1,170.65;
# 09:29:00 the square-off: 1,145.81.
RANGES_B = {
    **_minutes("09:16", "09:16", ("0.00", "0.00", "0.00")),
    **_minutes("09:17", "09:17", ("-55.30", "0.00", "55.30")),
    **_minutes("09:18", "09:18", ("-55.30", "-55.30", "0.00")),
    **_minutes("09:19", "09:19", ("-55.30", "444.70", "0.00")),
    **_minutes("09:20", "09:20", ("444.70", "444.70", "0.00")),
    **_minutes("09:21", "09:21", ("-680.30", "444.70", "1125.00")),
    **_minutes("09:22", "09:22", ("-680.30", "-680.30", "0.00")),
    **_minutes("09:23", "09:23", ("-680.30", "-305.30", "0.00")),
    **_minutes("09:24", "09:24", ("-305.30", "-305.30", "0.00")),
    **_minutes("09:25", "09:25", ("-305.30", "1170.65", "0.00")),
    **_minutes("09:26", "09:29", ("1170.65", "1170.65", "0.00")),
    **_minutes("09:30", "09:30", ("1145.81", "1170.65", "24.84")),
    **_minutes("09:31", "15:30", ("1145.81", "1145.81", "0.00")),
}
RUN_A = (TRADES_A, EQUITY_A, RANGES_A)
RUN_B = (TRADES_B, EQUITY_B, RANGES_B)
OPEN = epoch(at("09:15:00"))


def _two(x: Decimal) -> str:
    return str(x.quantize(D("0.01"), rounding=ROUND_HALF_UP))


def statistics(runs: list[tuple[list[dict], dict, dict]]) -> dict:
    """docs/reports.md's formulas, computed plainly from (trades, equity, ranges) runs."""
    trades = [t for run_trades, _, _ in runs for t in run_trades]
    nets = [D(t["net_pnl"]) for t in trades]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n <= 0]
    streak = longest = 0
    for n in nets:
        streak = streak + 1 if n <= 0 else 0
        longest = max(longest, streak)
    # Equity: each run from 0 at the market open, chained after the runs before it.
    points, base = [], D(0)
    # The maximum drawdown, tick by tick: over each run's ranges in order (chained on the same base),
    # the fall within a stretch or from the peak before it to its low; then the peak takes its high.
    tick_peak, tick_worst = D(0), D(0)
    for _, equity, ranges in runs:
        points.append((OPEN, base))
        points += [(epoch(k), base + D(v)) for k, v in equity.items()]
        for low, high, drop in ranges.values():
            tick_worst = max(tick_worst, D(drop), tick_peak - (base + D(low)))
            tick_peak = max(tick_peak, base + D(high))
        base += D(list(equity.values())[-1])
    # Where and how long: on the curve of minute closes.
    peak, peak_i, worst, worst_from = D(0), 0, D(0), None
    for i, (_, e) in enumerate(points):
        if e >= peak:
            peak, peak_i = e, i
        elif peak - e > worst:
            worst, worst_from = peak - e, peak_i
    # Duration: every step after the peak, until the first point back at it (one day here; a run's
    # opening point at the market open adds the seconds since the open only).
    seconds, recovered, end = 0, False, worst_from
    for i in range(worst_from + 1, len(points)):
        before, now = points[i - 1][0], points[i][0]
        seconds += now - before if now >= before else now - OPEN
        end = i
        if points[i][1] >= points[worst_from][1]:
            recovered = True
            break
    # Time in market: union of each run's trades' [entry, exit] over 09:15:00 - 15:30:00 per run.
    in_market = 0
    for run_trades, _, _ in runs:
        covered = set()
        for t in run_trades:
            covered.update(range(epoch(t["entry_time"]), epoch(t["exit_time"])))
        in_market += len(covered)
    trading = 22_500 * len(runs)
    mean = lambda xs: _two(sum(xs) / len(xs)) if xs else None  # noqa: E731
    return {
        "gross_pnl": _two(sum(D(t["pnl"]) for t in trades)),
        "charges": _two(sum(D(t["charges"]) for t in trades)),
        "net_pnl": _two(sum(nets)),
        "trades": len(trades), "winning_trades": len(wins), "losing_trades": len(losses),
        "win_rate": _two(D(100) * len(wins) / len(trades)),
        "average_win": mean(wins), "average_loss": mean(losses),
        "largest_win": _two(max(wins)) if wins else None, "largest_loss": _two(min(losses)) if losses else None,
        "profit_factor": _two(sum(wins) / -sum(losses)) if sum(losses) < 0 else None,
        "expectancy": mean(nets),
        "max_consecutive_losses": longest,
        "max_drawdown": _two(tick_worst), "max_drawdown_seconds": seconds,
        "max_drawdown_from": datetime.fromtimestamp(points[worst_from][0], EXCHANGE_TZ).isoformat(),
        "max_drawdown_to": datetime.fromtimestamp(points[end][0], EXCHANGE_TZ).isoformat(),
        "max_drawdown_recovered": recovered,
        "time_in_market": _two(D(100) * in_market / trading), "seconds_in_market": in_market,
        "trading_seconds": trading, "trading_days": len(runs),
    }


def groups(trades: list[dict], key: str) -> dict:
    out: dict = {}
    for t in trades:
        g = out.setdefault(t[key], {"trades": 0, "winning_trades": 0, "gross_pnl": D(0), "charges": D(0),
                                    "net_pnl": D(0)})
        g["trades"] += 1
        g["winning_trades"] += D(t["net_pnl"]) > 0
        for field in ("gross_pnl", "charges", "net_pnl"):
            g[field] += D(t["pnl" if field == "gross_pnl" else field])
    return {k: {**v, **{f: _two(v[f]) for f in ("gross_pnl", "charges", "net_pnl")}} for k, v in out.items()}
