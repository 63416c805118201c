"""Charges against worked examples, and the position store's arithmetic (all figures by hand)."""

from datetime import date

import pytest

from live_trading.engine.charges import (
    ZERO_CHARGES,
    Charges,
    NoChargeRates,
    exercise_charges,
    order_charges,
    rates_on,
)
from live_trading.engine.positions import Fill, PositionStore

OCT_29 = date(2024, 10, 29)


def test_it_charges_an_option_sell_as_the_worked_example():
    # Sell 25 NIFTY options at 181.60: turnover 4,540.00.
    # brokerage 20.00; STT 0.1% = 4.54 -> 5 (whole rupees); exchange: NSE 0.03503% + IPFT 0.0005%
    # = 0.03553% = 1.613062 -> 1.61; SEBI 0.0001% = 0.00454 -> 0.00; no stamp on a sell;
    # GST 18% of 21.61 = 3.8898 -> 3.89.
    c = order_charges(rates_on(OCT_29), option=True, side="sell", turnover=25 * 18160)
    assert c == Charges(brokerage=2000, stt=500, exchange=161, sebi=0, stamp=0, gst=389)
    assert c.total == 3050


def test_it_charges_an_option_buy_as_the_worked_example():
    # Buy 25 at 260.05: turnover 6,501.25. Exchange 0.03553% = 2.309894 -> 2.31; SEBI 0.0065 -> 0.01;
    # stamp 0.003% = 0.195 -> 0.20; GST 18% of 22.32 = 4.0176 -> 4.02; no STT on a buy.
    c = order_charges(rates_on(OCT_29), option=True, side="buy", turnover=25 * 26005)
    assert c == Charges(brokerage=2000, stt=0, exchange=231, sebi=1, stamp=20, gst=402)
    assert c.total == 2654


def test_it_uses_the_rates_in_force_before_october_2024():
    # 30 Sep 2024: STT 0.0625% on 4,540 = 2.8375 -> 3; exchange NSE 0.0495% + IPFT 0.0005% = 0.05%
    # = 2.27; GST of 22.27 = 4.0086 -> 4.01.
    c = order_charges(rates_on(date(2024, 9, 30)), option=True, side="sell", turnover=25 * 18160)
    assert (c.stt, c.exchange, c.gst) == (300, 227, 401)


def test_it_caps_futures_brokerage_at_the_flat_fee_and_charges_futures_rates():
    # Buy 25 NIFTY at 24,529.25 as futures: turnover 6,13,231.25. Brokerage min(20, 0.03% = 183.97) = 20;
    # Exchange: NSE 0.00173% + IPFT Rs 10 a crore (0.0001%) = 0.00183% = 11.222132 -> 11.22;
    # SEBI 0.6132 -> 0.61; stamp 0.002% = 12.2646 -> 12.26; GST 18% of 31.83 = 5.7294 -> 5.73.
    c = order_charges(rates_on(OCT_29), option=False, side="buy", turnover=25 * 2452925)
    assert c == Charges(brokerage=2000, stt=0, exchange=1122, sebi=61, stamp=1226, gst=573)


MAR_31_2026, APR_1_2026 = date(2026, 3, 31), date(2026, 4, 1)


def test_the_exchange_line_is_nse_transaction_charge_plus_ipft_per_crore():
    # Rs 1 crore of option premium on 29 Oct 2024: NSE Rs 35.03 a lakh = 3,503.00, IPFT Rs 50 a crore =
    # 50.00; the contract note's exchange line 3,553.00. Futures: 1.73 a lakh = 173.00 + IPFT Rs 10 = 183.00.
    crore = 100_000 * 100 * 100  # Rs 1,00,00,000 in paise
    assert order_charges(rates_on(OCT_29), option=True, side="buy", turnover=crore).exchange == 3_553_00
    assert order_charges(rates_on(OCT_29), option=False, side="buy", turnover=crore).exchange == 183_00
    # From 1 Apr 2023 (the schedule's first row): NSE 0.0495% = 4,950.00 + IPFT 50.00.
    assert order_charges(rates_on(date(2023, 4, 3)), option=True, side="buy", turnover=crore).exchange == 5_000_00


@pytest.mark.parametrize(("day", "stt", "total"), [
    # Sell 65 NIFTY options at 200.00: turnover 13,000.00. STT to 31 Mar 2026 0.1% = 13.00; from 1 Apr 2026
    # (Finance Act 2026) 0.15% = 19.50 -> 20 (whole rupees, half up). Exchange 0.03553% = 4.6189 -> 4.62;
    # SEBI 0.013 -> 0.01; no stamp; GST 18% of (20 + 4.62 + 0.01) = 24.63 -> 4.4334 -> 4.43.
    # Totals 20 + 13 + 4.62 + 0.01 + 4.43 = 42.06 and 20 + 20 + 4.62 + 0.01 + 4.43 = 49.06.
    (MAR_31_2026, 1300, 4206),
    (APR_1_2026, 2000, 4906),
])
def test_an_option_sell_pays_the_stt_of_its_day_either_side_of_1_april_2026(day, stt, total):
    c = order_charges(rates_on(day), option=True, side="sell", turnover=65 * 20000)
    assert c == Charges(brokerage=2000, stt=stt, exchange=462, sebi=1, stamp=0, gst=443)
    assert c.total == total


@pytest.mark.parametrize("day", [MAR_31_2026, APR_1_2026])
def test_an_option_buy_pays_no_stt_on_either_side_of_1_april_2026(day):
    # Buy 65 at 200.00 (13,000.00): exchange 4.62, SEBI 0.01, stamp 0.003% = 0.39, GST 4.43 (as the sell);
    # 20 + 4.62 + 0.01 + 0.39 + 4.43 = 29.45 on both days.
    c = order_charges(rates_on(day), option=True, side="buy", turnover=65 * 20000)
    assert c == Charges(brokerage=2000, stt=0, exchange=462, sebi=1, stamp=39, gst=443)
    assert c.total == 2945


@pytest.mark.parametrize(("day", "stt", "total"), [
    # Sell 65 NIFTY futures at 24,000.00: turnover 15,60,000.00. Brokerage min(20, 0.03% = 468) = 20;
    # exchange (NSE 0.00173% + IPFT 0.0001%) 0.00183% = 28.548 -> 28.55; SEBI 1.56; GST 18% of 50.11 =
    # 9.0198 -> 9.02. STT 0.02% = 312 to 31 Mar 2026, 0.05% = 780 from 1 Apr 2026.
    # Totals 20 + 312 + 28.55 + 1.56 + 9.02 = 371.13 and 20 + 780 + 28.55 + 1.56 + 9.02 = 839.13.
    (MAR_31_2026, 312_00, 371_13),
    (APR_1_2026, 780_00, 839_13),
])
def test_a_futures_sell_pays_the_stt_of_its_day_either_side_of_1_april_2026(day, stt, total):
    c = order_charges(rates_on(day), option=False, side="sell", turnover=65 * 24_000_00)
    assert c == Charges(brokerage=2000, stt=stt, exchange=2855, sebi=156, stamp=0, gst=902)
    assert c.total == total


@pytest.mark.parametrize("day", [MAR_31_2026, APR_1_2026])
def test_a_futures_buy_pays_stamp_duty_and_no_stt_on_either_side_of_1_april_2026(day):
    # Buy 65 at 24,000.00: as the sell without STT, plus stamp 0.002% = 31.20: 20 + 28.55 + 1.56 + 31.20
    # + 9.02 = 90.33.
    c = order_charges(rates_on(day), option=False, side="buy", turnover=65 * 24_000_00)
    assert c == Charges(brokerage=2000, stt=0, exchange=2855, sebi=156, stamp=3120, gst=902)
    assert c.total == 90_33


# The NIFTY short straddle on 6 May 2026 (seed 0, `simulate --strategy nifty_short_straddle --date
# 2026-05-06` with the synthetic market of generator version 1): eight orders of 65. The audit found
# Rs 300.91 charged where Rs 329.91 was due at 0.15% STT; with the IPFT charge too, 330.64 is due.
# Each order (exchange 0.03553%, SEBI 0.0001%, GST 18% of brokerage + exchange + SEBI):
#   sell 209.55 (13,620.75): STT 0.15% 20.43 -> 20, exch 4.8395 -> 4.84, SEBI 0.01, GST 24.85 -> 4.47: 49.32
#   sell 248.65 (16,162.25): STT 24.24 -> 24, exch 5.7425 -> 5.74, SEBI 0.02, GST 25.76 -> 4.64:       54.40
#   sell 215.80 (14,027.00): STT 21.04 -> 21, exch 4.9838 -> 4.98, SEBI 0.01, GST 24.99 -> 4.50:       50.49
#   sell 241.40 (15,691.00): STT 23.54 -> 24, exch 5.5750 -> 5.58, SEBI 0.02, GST 25.60 -> 4.61:       54.21
#   buy 262.20 (17,043.00): exch 6.0554 -> 6.06, SEBI 0.02, stamp 0.5113 -> 0.51, GST 26.08 -> 4.69:    31.28
#   buy 211.40 (13,741.00): exch 4.8822 -> 4.88, SEBI 0.01, stamp 0.4122 -> 0.41, GST 24.89 -> 4.48:    29.78
#   buy 270.20 (17,563.00): exch 6.2401 -> 6.24, SEBI 0.02, stamp 0.5269 -> 0.53, GST 26.26 -> 4.73:    31.52
#   buy 206.35 (13,412.75): exch 4.7656 -> 4.77, SEBI 0.01, stamp 0.4024 -> 0.40, GST 24.78 -> 4.46:    29.64
# Sells 208.42 + buys 122.22 = 330.64 (STT 89 of it; at 0.1% it would be 14 + 16 + 14 + 16 = 60).
STRADDLE_MAY_6_2026 = [("sell", 20955, 4932), ("sell", 24865, 5440), ("sell", 21580, 5049), ("sell", 24140, 5421),
                       ("buy", 26220, 3128), ("buy", 21140, 2978), ("buy", 27020, 3152), ("buy", 20635, 2964)]


def test_the_6_may_2026_straddle_day_pays_its_hand_worked_charges():
    rates = rates_on(date(2026, 5, 6))
    each = [order_charges(rates, option=True, side=side, turnover=65 * price).total
            for side, price, _ in STRADDLE_MAY_6_2026]
    assert each == [total for _, _, total in STRADDLE_MAY_6_2026]
    assert sum(each) == 330_64


def test_it_refuses_dates_before_the_schedule():
    with pytest.raises(NoChargeRates):
        rates_on(date(2022, 1, 3))


def _store():
    """A store that has numbered the position the fills below name."""
    store = PositionStore()
    assert store.new_position_id("entry-1") == "entry-1-pos1"
    return store


def _fill(side, qty, price, *, opening, charges=ZERO_CHARGES, ts=0, n=0):
    return Fill("entry-1-pos1", n, "NIFTY:2024-10-31:OPT:24500:CE", side, qty, price, ts, charges, f"exec{ts}",
                f"ord-{ts}", opening, ("a",) if opening else ("a", "b"), "entry-1", "entry-1",
                None if opening else "exit_condition_met", 25)


def test_a_short_position_gains_when_the_price_falls_and_shares_entry_charges_by_quantity():
    store = _store()
    pos, _ = store.apply(_fill("sell", 50, 10000, opening=True, charges=Charges(brokerage=2001)))
    assert pos.unrealized_pnl(9000) == (10000 - 9000) * 50
    assert pos.realized_pnl == -2001  # entry charges count from the start

    pos, first = store.apply(_fill("buy", 25, 9000, opening=False, charges=Charges(brokerage=2000), ts=1))
    assert (pos.status, pos.quantity_closed, pos.quantity_remaining) == ("PARTIAL", 25, 25)
    assert first.pnl == 25 * 1000
    assert first.charges == 2001 * 25 // 50 + 2000  # 1000 of the entry's 2001, then the exit's
    assert first.status == "PARTIAL"
    assert pos.unrealized_pnl(8000) == 25 * 2000

    pos, second = store.apply(_fill("buy", 25, 11000, opening=False, charges=Charges(brokerage=2000), ts=2))
    assert second.pnl == -25 * 1000
    assert second.charges == 1001 + 2000  # the remainder of the entry charges
    assert first.charges + second.charges == 2001 + 4000
    assert pos.status == "CLOSED" and not store.open
    assert pos.realized_pnl == 0 - 6001
    assert store.realized_net == first.net_pnl + second.net_pnl == -6001
    assert (first.trade_id, second.trade_id) == ("entry-1-pos1-x1", "entry-1-pos1-x2")


def test_a_long_position_loses_when_the_price_falls():
    store = _store()
    _pos, _ = store.apply(_fill("buy", 25, 10000, opening=True))
    _, trade = store.apply(_fill("sell", 25, 9550, opening=False))
    assert trade.pnl == -25 * 450
    assert str(trade.pnl_percent) == "-4.50"
    assert trade.trade_id == "entry-1-pos1"


def test_it_rejects_closing_more_than_is_open_or_on_the_same_side():
    store = _store()
    store.apply(_fill("buy", 25, 10000, opening=True))
    with pytest.raises(ValueError):
        store.apply(_fill("sell", 50, 9000, opening=False))
    with pytest.raises(ValueError):
        store.apply(_fill("buy", 25, 9000, opening=False))


def test_a_position_id_is_re_entered_only_after_it_closed():
    store = _store()
    store.apply(_fill("buy", 25, 10000, opening=True))
    with pytest.raises(ValueError, match="still open"):
        store.apply(_fill("buy", 25, 10100, opening=True, ts=1, n=1))

    store.apply(_fill("sell", 25, 10200, opening=False, ts=2))
    pos, _ = store.apply(_fill("buy", 25, 10100, opening=True, ts=3, n=1))
    assert (pos.position_id, pos.re_entry_num, [p.key for p in store.open]) == (
        "entry-1-pos1", 1, [("entry-1-pos1", 1)])


def test_positions_are_numbered_per_entry_node_and_trades_carry_the_number():
    store = PositionStore()
    ids = [store.new_position_id(node) for node in ("entry-ce", "entry-pe", "entry-ce", "entry-pos")]
    assert ids == ["entry-ce-pos1", "entry-pe-pos1", "entry-ce-pos2", "entry-pos-pos1"]
    opening = Fill("entry-ce-pos2", 0, "NIFTY", "buy", 25, 10000, 0, ZERO_CHARGES, "e1", "o1", True, ("a",),
                   "entry-ce", "entry-ce")
    closing = Fill("entry-ce-pos2", 0, "NIFTY", "sell", 25, 10100, 60, ZERO_CHARGES, "e2", "o2", False, ("a", "b"),
                   exit_reason="target")

    pos, _ = store.apply(opening)
    _, trade = store.apply(closing)

    assert (pos.entry_node_id, pos.position_num) == ("entry-ce", 2)
    assert (trade.trade_id, trade.entry_node_id, trade.position_num, trade.re_entry_num) == (
        "entry-ce-pos2", "entry-ce", 2, 0)


def test_it_refuses_to_open_a_position_id_it_did_not_number():
    with pytest.raises(ValueError, match="not issued"):
        PositionStore().apply(_fill("buy", 25, 10000, opening=True))


def test_stt_on_exercise_is_the_holders_on_the_intrinsic_value_at_the_dated_rate():
    # Rs 2,810.00 of intrinsic value (112.40 x 25): 0.125% = Rs 3.5125 -> Rs 4 (STT in whole rupees)
    before = rates_on(date(2024, 10, 31))
    assert exercise_charges(before, holder=True, intrinsic_value=281_000).stt == 400
    assert exercise_charges(before, holder=True, intrinsic_value=281_000).total == 400  # nothing else
    # from 1 Apr 2026, 0.15%: Rs 15,021.50 -> Rs 22.53225 -> Rs 23
    assert exercise_charges(rates_on(date(2026, 4, 7)), holder=True, intrinsic_value=1_502_150).stt == 2300
    # the writer pays nothing on exercise; nor does anyone on an option that expired worthless
    assert exercise_charges(before, holder=False, intrinsic_value=281_000) == ZERO_CHARGES
    assert exercise_charges(before, holder=True, intrinsic_value=0) == ZERO_CHARGES
