"""Charges against worked examples, and the position store's arithmetic (all figures by hand)."""

from datetime import date

import pytest

from live_trading.engine.charges import ZERO_CHARGES, Charges, NoChargeRates, order_charges, rates_on
from live_trading.engine.positions import Fill, PositionStore

OCT_29 = date(2024, 10, 29)


def test_it_charges_an_option_sell_as_the_worked_example():
    # Sell 25 NIFTY options at 181.60: turnover 4,540.00.
    # brokerage 20.00; STT 0.1% = 4.54 -> 5 (whole rupees); NSE 0.03503% = 1.590362 -> 1.59;
    # SEBI 0.0001% = 0.00454 -> 0.00; no stamp on a sell; GST 18% of 21.59 = 3.8862 -> 3.89.
    c = order_charges(rates_on(OCT_29), option=True, side="sell", turnover=25 * 18160)
    assert c == Charges(brokerage=2000, stt=500, exchange=159, sebi=0, stamp=0, gst=389)
    assert c.total == 3048


def test_it_charges_an_option_buy_as_the_worked_example():
    # Buy 25 at 260.05: turnover 6,501.25. NSE 2.277388 -> 2.28; SEBI 0.0065 -> 0.01;
    # stamp 0.003% = 0.195 -> 0.20; GST 18% of 22.29 = 4.0122 -> 4.01; no STT on a buy.
    c = order_charges(rates_on(OCT_29), option=True, side="buy", turnover=25 * 26005)
    assert c == Charges(brokerage=2000, stt=0, exchange=228, sebi=1, stamp=20, gst=401)
    assert c.total == 2650


def test_it_uses_the_rates_in_force_before_october_2024():
    # 30 Sep 2024: STT 0.0625% on 4,540 = 2.8375 -> 3; NSE 0.0495% = 2.2473 -> 2.25; GST of 22.25 = 4.005 -> 4.01.
    c = order_charges(rates_on(date(2024, 9, 30)), option=True, side="sell", turnover=25 * 18160)
    assert (c.stt, c.exchange, c.gst) == (300, 225, 401)


def test_it_caps_futures_brokerage_at_the_flat_fee_and_charges_futures_rates():
    # Buy 25 NIFTY at 24,529.25 as futures: turnover 6,13,231.25. Brokerage min(20, 0.03% = 183.97) = 20;
    # NSE 0.00173% = 10.6089 -> 10.61; SEBI 0.6132 -> 0.61; stamp 0.002% = 12.2646 -> 12.26;
    # GST 18% of 31.22 = 5.6196 -> 5.62.
    c = order_charges(rates_on(OCT_29), option=False, side="buy", turnover=25 * 2452925)
    assert c == Charges(brokerage=2000, stt=0, exchange=1061, sebi=61, stamp=1226, gst=562)


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
