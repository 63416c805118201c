"""A golden day: the opening-range breakout example on NIFTY's synthetic 30 Oct 2024, worked out without
the engine.

``GOLDEN`` is that day's trade list. It was worked out from the day's ticks by ``breakout_trades``, a
plain pandas reading of the strategy's rules, and its charges by ``futures_order_charges``, the
charge schedule's formula written out from the published rates; neither uses any of our code but the
file's location. The first test checks the table against that working (it fails if the synthetic day
changes), the second runs the engine over the same day and compares its trades with the table.
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from live_trading.engine.engine import Engine
from live_trading.engine.events import ListSink, TradeClosed
from live_trading.marketdata.store import load_day, synthetic_path
from strategies.graph import parse_graph
from strategies.graph.examples import load_example

pytestmark = pytest.mark.slow

STRATEGY = "nifty_opening_range_breakout"
DAY = date(2024, 10, 30)
LOT = 25  # NIFTY's lot size for contracts of October 2024 (NSE circular of 2 Apr 2024); one lot is traded


@dataclass(frozen=True)
class Golden:
    trade_id: str
    side: str
    entry_time: str  # exchange time
    entry_price: str  # rupees
    exit_time: str
    exit_price: str
    pnl: int  # gross, paise: price difference x 25, against the position's side
    charges: int  # paise: both orders' charges
    exit_reason: str


# In closing order (generator version 2). The short broke below the opening range (09:15-09:30 low) first
# and was stopped out 31.95 points above its entry (the first second 30 or more points against it); the long
# broke above the high later and was stopped out 30.30 points below its entry.
GOLDEN = [
    #       trade id        side    entry       price       exit        price       gross     charges  reason
    Golden("go-short-pos1", "sell", "09:32:58", "25352.15", "09:34:08", "25384.10", -79_875, 21_576, "stop_loss"),
    Golden("go-long-pos1", "buy", "10:27:06", "25483.10", "10:35:52", "25452.80", -75_750, 21_594, "stop_loss"),
]
# go-short-pos1's charges, by hand. Sell 25 at 25,352.15: turnover 6,33,803.75. Brokerage min(Rs 20,
# 0.03% = 190.14) = 20.00; exchange (NSE 0.00173% + IPFT 0.0001%) 0.00183% = 11.5986 -> 11.60; SEBI
# 0.6338 -> 0.63; STT 0.02% = 126.76 -> Rs 127 (whole rupees); GST 18% of 32.23 = 5.8014 -> 5.80; total
# 165.03. Buy back 25 at 25,384.10: turnover 6,34,602.50; brokerage 20.00; exchange 11.6132 -> 11.61;
# SEBI 0.6346 -> 0.63; stamp 0.002% = 12.6921 -> 12.69; GST 18% of 32.24 = 5.8032 -> 5.80; total 50.73.
# Together 215.76. go-long-pos1 the same way: buy 6,37,077.50 -> 20 + 11.66 + 0.64 + stamp 12.74 + GST
# 5.81 = 50.85; sell 6,36,320.00 -> 20 + 11.64 + 0.64 + STT 127 + GST 5.81 = 165.09; together 215.94.


def paise(rupees: str) -> int:
    return int(Decimal(rupees) * 100)


def futures_order_charges(side: str, turnover: int) -> int:
    """One order's charges in paise on ``turnover`` paise, the strategy trading NIFTY as index futures,
    at the rates in force from 1 Oct 2024: brokerage 0.03% capped at Rs 20 an order; STT 0.02% on sells
    (Finance (No. 2) Act 2024), in whole rupees; exchange charges 0.00183% (NSE's transaction charge
    0.00173% + its IPFT charge Rs 10 a crore); SEBI fee Rs 10 a crore; stamp duty 0.002% on buys; GST 18%
    on brokerage, exchange charges and SEBI fee. Each rounded half up to
    the paisa, STT to the rupee, as contract notes do."""
    t = Fraction(turnover)

    def half_up(x: Fraction) -> int:
        return int(x + Fraction(1, 2))

    brokerage = min(2000, half_up(t * Fraction(3, 10_000)))
    exchange = half_up(t * Fraction(173 + 10, 10_000_000))
    sebi = half_up(t / 1_000_000)
    stt = 100 * half_up(t * Fraction(2, 10_000) / 100) if side == "sell" else 0
    stamp = half_up(t * Fraction(2, 100_000)) if side == "buy" else 0
    gst = half_up((brokerage + exchange + sebi) * Fraction(18, 100))
    return brokerage + exchange + sebi + stt + stamp + gst


def breakout_trades(ticks: pd.DataFrame) -> list[Golden]:
    """The example's trades on a day, by its rules read plainly over NIFTY's per-second prices (paise).

    The opening range is the 09:15-09:30 candle's high and low, known once the 09:30:00 tick arrives; a
    cross is a price at or inside the range on one second and beyond it on the next, so the first
    possible one is at 09:30:01. Each side enters once, at that second's price, before 13:00. Its exit is
    the first later second at or beyond 30 points against it (stop loss) or 60 points for it (target),
    stop first; otherwise at 15:00 (the time exit).
    """
    prices = ticks[ticks.symbol == "NIFTY"].set_index("ts")["price"]
    prices.index = pd.to_datetime(prices.index, unit="s", utc=True).tz_convert("Asia/Kolkata").time
    at = prices.index.to_series(index=prices.index)
    opening = prices[(at >= time(9, 15)) & (at < time(9, 30))]
    high, low = opening.max(), opening.min()
    before = prices.shift(1)
    watched = (at > time(9, 30)) & (at < time(13, 0))
    crosses = {"buy": watched & (before <= high) & (prices > high), "sell": watched & (before >= low) & (prices < low)}
    trades = []
    for side, crossed in crosses.items():
        if not crossed.any():
            continue
        entered_at, entry = prices[crossed].index[0], int(prices[crossed].iloc[0])
        sign = 1 if side == "buy" else -1
        for exited_at, price in prices[at > entered_at].items():
            move = sign * (int(price) - entry)
            reason = "stop_loss" if move <= -3000 else "target" if move >= 6000 else (
                "exit_condition_met" if exited_at >= time(15, 0) else None)
            if reason:
                break
        exit_side = "sell" if side == "buy" else "buy"
        trades.append(Golden(
            f"go-{'long' if side == 'buy' else 'short'}-pos1", side, str(entered_at), f"{entry / 100:.2f}",
            str(exited_at), f"{price / 100:.2f}", sign * (int(price) - entry) * LOT,
            futures_order_charges(side, entry * LOT) + futures_order_charges(exit_side, int(price) * LOT), reason,
        ))
    return sorted(trades, key=lambda g: g.exit_time)


@pytest.fixture(scope="module")
def day_dir(tmp_path_factory):
    """A market-data folder holding only the synthetic day (no imported day can stand in for it)."""
    folder = tmp_path_factory.mktemp("market-data")
    load_day("NIFTY", DAY, data_dir=folder)
    return folder


def test_the_golden_trades_follow_from_the_days_ticks(day_dir):
    ticks = pd.read_parquet(synthetic_path("NIFTY", DAY, data_dir=day_dir), columns=["ts", "symbol", "price"])

    assert breakout_trades(ticks) == GOLDEN


def test_the_hand_worked_charges_agree_with_the_formula():
    short = GOLDEN[0]
    assert futures_order_charges("sell", paise(short.entry_price) * LOT) == 165_03
    assert futures_order_charges("buy", paise(short.exit_price) * LOT) == 50_73


def test_the_engine_trades_the_golden_day(day_dir):
    sink = ListSink()
    Engine(parse_graph(load_example(STRATEGY)), load_day("NIFTY", DAY, data_dir=day_dir), sink).run()

    trades = [e.trade.to_dict() for e in sink.of(TradeClosed)]

    assert [Golden(t["trade_id"], t["side"], t["entry_time"][11:19], t["entry_price"], t["exit_time"][11:19],
                   t["exit_price"], paise(t["pnl"]), paise(t["charges"]), t["exit_reason"]) for t in trades] == GOLDEN
    assert [(t["entry_node_id"], t["position_num"], t["quantity"], paise(t["net_pnl"])) for t in trades] == [
        (g.trade_id.removesuffix("-pos1"), 1, LOT, g.pnl - g.charges) for g in GOLDEN]
    assert {t["entry_time"][:10] for t in trades} == {DAY.isoformat()}
