"""Contract facts on their boundary dates, the calendar, and expiry and strike selection.

Expected values come from the exchange circulars cited in docs/marketdata.md, not from the code.
"""

from datetime import date, timedelta

import pytest

from live_trading.marketdata.instruments import (
    ExpiryError,
    InstrumentError,
    expiries,
    get_underlying,
    is_trading_day,
    lot_size,
    monthly_expiry,
    select_expiry,
    select_strike,
    strike_step,
    tick_size_paise,
    weekly_expiries,
)
from live_trading.marketdata.synthetic import generate_day
from live_trading.marketdata.universe import DATA_FILE, Universe, use_universe


@pytest.mark.parametrize(
    ("expiry", "lot"),
    [
        (date(2024, 11, 21), 25),  # weekly listed before 20 Nov 2024 keeps the old lot
        (date(2024, 12, 19), 25),  # the last weekly with the old lot
        (date(2024, 12, 26), 25),  # December 2024 monthly, listed before the revision
        (date(2025, 1, 2), 75),  # the first weekly with the new lot
        (date(2025, 1, 30), 25),  # January 2025 monthly was already listed on 20 Nov 2024
        (date(2025, 2, 27), 75),  # the first monthly with the new lot
        (date(2025, 12, 30), 75),  # December 2025 monthly: the last with 75
        (date(2026, 1, 6), 65),  # the first weekly of January 2026
        (date(2026, 1, 27), 65),  # January 2026 monthly
    ],
)
def test_nifty_lot_size_follows_the_contract(expiry, lot):
    assert lot_size("NIFTY", expiry) == lot


def test_nifty_quarterly_contracts_switch_lot_at_the_end_of_26_december_2024():
    march_2025 = date(2025, 3, 27)
    assert lot_size("NIFTY", march_2025, on=date(2024, 12, 26)) == 25
    assert lot_size("NIFTY", march_2025, on=date(2024, 12, 27)) == 75
    assert lot_size("NIFTY", march_2025) == 75


def test_nifty_lot_was_25_from_the_may_2024_contracts():
    assert lot_size("NIFTY", date(2024, 4, 25)) == 50
    assert lot_size("NIFTY", date(2024, 5, 2)) == 25


@pytest.mark.parametrize(
    ("expiry", "lot"),
    [
        (date(2023, 7, 6), 25),  # weeklies listed before the March 2023 circular's revision keep 25
        (date(2023, 7, 20), 25),  # the last contract with 25
        (date(2023, 7, 27), 15),  # the July 2023 monthly: the first with 15
        (date(2023, 8, 3), 15),  # the first weekly with 15
        (date(2024, 11, 13), 15),  # the last BANKNIFTY weekly
        (date(2025, 1, 30), 15),  # January 2025 monthly keeps 15
        (date(2025, 2, 27), 30),  # the first monthly with 30
        (date(2025, 6, 26), 30),  # the last monthly with 30 before the April 2025 revision
        (date(2025, 7, 31), 35),  # the first monthly with 35
        (date(2025, 12, 30), 35),
        (date(2026, 1, 27), 30),  # back to 30 from January 2026
    ],
)
def test_banknifty_lot_size_follows_the_contract(expiry, lot):
    assert lot_size("BANKNIFTY", expiry) == lot


def test_banknifty_quarterlies_took_lot_35_from_25_april_2025():
    september_2025 = monthly_expiry("BANKNIFTY", 2025, 9)
    assert lot_size("BANKNIFTY", september_2025, on=date(2025, 4, 24)) == 30
    assert lot_size("BANKNIFTY", september_2025, on=date(2025, 4, 25)) == 35


def test_lot_sizes_before_the_recorded_facts_are_refused():
    with pytest.raises(InstrumentError, match="known"):
        lot_size("NIFTY", date(2020, 1, 30))


def test_a_contract_before_the_first_lot_revision_is_refused_naming_its_expiry_and_where_lots_start(tmp_path):
    # A data file whose expiry rules reach back further than its lot sizes: BANKNIFTY's 25 applies from
    # the 30 Jul 2020 monthly and the 6 Aug 2020 weekly, so the weekly of 23 Jul 2020 has no known lot.
    text = DATA_FILE.read_text().replace("from = 2023-01-02\nweekday = \"THU\"", "from = 2020-01-06\nweekday = \"THU\"")
    text = text.replace("from = 2023-01-01\nweekday = \"THU\"", "from = 2020-01-01\nweekday = \"THU\"")
    path = tmp_path / "underlyings.toml"
    path.write_text(text)
    use_universe(Universe.from_file(path))
    try:
        assert lot_size("BANKNIFTY", date(2020, 7, 30)) == 25
        with pytest.raises(InstrumentError) as info:
            lot_size("BANKNIFTY", date(2020, 7, 23))
    finally:
        use_universe(None)
    assert str(info.value) == ("no BANKNIFTY lot size known for contracts expiring on 2020-07-23 (the data file's"
                               " lot sizes start with the weekly contract expiring on 2020-08-06)")
    assert info.value.subject == "date"


def test_strike_steps_and_tick():
    assert strike_step("NIFTY", date(2024, 10, 29)) == 50
    assert strike_step("BANKNIFTY", date(2024, 10, 29)) == 100
    assert tick_size_paise("NIFTY") == 5
    assert tick_size_paise("BANKNIFTY") == 5


def test_unknown_underlyings_are_refused_by_name():
    with pytest.raises(InstrumentError, match="FOO"):
        get_underlying("FOO")


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (date(2024, 10, 29), True),
        (date(2024, 11, 1), True),  # Diwali Laxmi Pujan: a holiday but for the Muhurat evening, 18:00-19:00
        (date(2024, 11, 20), False),  # Maharashtra assembly election
        (date(2024, 11, 2), False),  # Saturday
        (date(2025, 10, 21), True),  # Diwali: the Muhurat session only, 13:45-14:45
        (date(2024, 1, 20), True),  # a Saturday traded as a full day
        (date(2024, 1, 22), False),  # the holiday it made up for
        (date(2025, 8, 28), True),
    ],
)
def test_trading_days_follow_the_exchange_calendar(day, trading):
    assert is_trading_day(day) is trading


def test_nifty_weeklies_move_from_thursday_to_tuesday_in_september_2025():
    assert weekly_expiries("NIFTY", date(2025, 8, 18), date(2025, 9, 12)) == [
        date(2025, 8, 21),
        date(2025, 8, 28),
        date(2025, 9, 2),
        date(2025, 9, 9),
    ]


@pytest.mark.parametrize(
    ("week_start", "expiry"),
    [
        (date(2024, 8, 12), date(2024, 8, 14)),  # Thursday 15 Aug 2024, Independence Day
        (date(2025, 4, 7), date(2025, 4, 9)),  # Thursday 10 Apr 2025, Mahavir Jayanti
        (date(2025, 10, 20), date(2025, 10, 20)),  # Tuesday 21 Oct 2025, Diwali
    ],
)
def test_a_weekly_expiry_on_a_holiday_moves_to_the_previous_trading_day(week_start, expiry):
    assert weekly_expiries("NIFTY", week_start, week_start + timedelta(days=6)) == [expiry]


def test_monthly_expiries_are_the_last_expiry_weekday_of_the_month():
    assert monthly_expiry("NIFTY", 2024, 10) == date(2024, 10, 31)
    assert monthly_expiry("NIFTY", 2025, 9) == date(2025, 9, 30)  # last Tuesday
    assert monthly_expiry("BANKNIFTY", 2024, 10) == date(2024, 10, 30)  # last Wednesday in 2024
    assert monthly_expiry("BANKNIFTY", 2024, 12) == date(2024, 12, 24)  # Wednesday the 25th is Christmas
    assert monthly_expiry("BANKNIFTY", 2025, 1) == date(2025, 1, 30)  # last Thursday from 2025
    assert monthly_expiry("BANKNIFTY", 2025, 9) == date(2025, 9, 30)  # last Tuesday from Sep 2025


def test_banknifty_has_only_monthlies_after_november_2024():
    assert select_expiry("BANKNIFTY", date(2024, 11, 11), "current_weekly") == date(2024, 11, 13)
    with pytest.raises(ExpiryError, match="weekly"):
        select_expiry("BANKNIFTY", date(2024, 11, 11), "next_weekly")
    with pytest.raises(ExpiryError, match="weekly"):
        select_expiry("BANKNIFTY", date(2024, 11, 14), "current_weekly")
    assert expiries("BANKNIFTY", date(2024, 12, 2)) == [date(2024, 12, 24), date(2025, 1, 30), date(2025, 2, 27)]


def test_expiry_selection_by_rule():
    on = date(2024, 10, 29)
    assert select_expiry("NIFTY", on, "current_weekly") == date(2024, 10, 31)
    assert select_expiry("NIFTY", on, "next_weekly") == date(2024, 11, 7)
    assert select_expiry("NIFTY", on, "current_monthly") == date(2024, 10, 31)
    assert select_expiry("NIFTY", on, "next_monthly") == date(2024, 11, 28)


def test_on_an_expiry_day_the_current_expiry_is_that_day():
    assert select_expiry("NIFTY", date(2024, 10, 31), "current_weekly") == date(2024, 10, 31)
    assert select_expiry("NIFTY", date(2024, 11, 1), "current_weekly") == date(2024, 11, 7)


def test_an_unknown_expiry_rule_is_refused():
    with pytest.raises(ExpiryError, match="current_weekly"):
        select_expiry("NIFTY", date(2024, 10, 29), "weekly")


def test_listed_expiries_include_weeklies_and_three_monthlies():
    assert expiries("NIFTY", date(2024, 10, 29)) == [
        date(2024, 10, 31),
        date(2024, 11, 7),
        date(2024, 11, 14),
        date(2024, 11, 21),
        date(2024, 11, 28),
        date(2024, 12, 26),
    ]


EXPIRY = date(2024, 11, 7)


@pytest.mark.parametrize(
    ("right", "rule", "strike"),
    [
        ("CE", "ATM", 24250),  # 24226.30 is nearer 24250 than 24200
        ("PE", "ATM", 24250),
        ("CE", "ITM2", 24150),
        ("PE", "ITM2", 24350),
        ("CE", "OTM1", 24300),
        ("PE", "otm 1", 24200),
    ],
)
def test_strike_selection_by_steps_from_atm(right, rule, strike):
    chosen = select_strike("NIFTY", EXPIRY, right, rule, spot_paise=2_422_630)
    assert str(chosen) == f"NIFTY:2024-11-07:OPT:{strike}:{right}"


def test_atm_ties_go_to_the_upper_strike_and_banknifty_uses_its_100_step():
    assert select_strike("NIFTY", EXPIRY, "CE", "ATM", spot_paise=2_422_500).strike == 24250
    assert select_strike("BANKNIFTY", date(2024, 11, 27), "PE", "ATM", spot_paise=5_104_995).strike == 51000


def test_closest_to_premium_picks_the_nearest_ltp_of_the_same_expiry_and_right():
    premiums = {
        "NIFTY:2024-11-07:OPT:24200:CE": 10_000,
        "NIFTY:2024-11-07:OPT:24250:CE": 8_000,
        "NIFTY:2024-11-07:OPT:24300:CE": 6_050,
        "NIFTY:2024-11-07:OPT:24250:PE": 7_500,  # other right
        "NIFTY:2024-11-14:OPT:24300:CE": 7_500,  # other expiry
        "NIFTY:2024-11-07:OPT:24350:CE": 0,  # no price yet
    }
    chosen = select_strike("NIFTY", EXPIRY, "CE", "PREMIUM", premiums=premiums, target_premium_paise=7_500)
    assert str(chosen) == "NIFTY:2024-11-07:OPT:24250:CE"


def test_closest_to_premium_breaks_a_tie_toward_the_cheaper_option():
    premiums = {"NIFTY:2024-11-07:OPT:24250:CE": 8_000, "NIFTY:2024-11-07:OPT:24350:CE": 6_000}
    chosen = select_strike("NIFTY", EXPIRY, "CE", "premium", premiums=premiums, target_premium_paise=7_000)
    assert chosen.strike == 24350


def test_strike_rules_without_what_they_need_are_refused():
    with pytest.raises(InstrumentError, match="spot"):
        select_strike("NIFTY", EXPIRY, "CE", "ATM")
    with pytest.raises(InstrumentError, match="premiums"):
        select_strike("NIFTY", EXPIRY, "CE", "PREMIUM")
    with pytest.raises(InstrumentError, match="unknown strike rule"):
        select_strike("NIFTY", EXPIRY, "CE", "DEEP", spot_paise=2_422_630)


def test_a_new_underlying_is_added_by_data_alone(tmp_path):
    data = tmp_path / "underlyings.toml"
    data.write_text(
        DATA_FILE.read_text()
        + """
[underlyings.SENSEX]
kind = "index"
exchange = "BSE"
tick_size_paise = 5
annual_vol = 0.13
level_anchors = [[2024-10-01, 81000]]
[[underlyings.SENSEX.strike_steps]]
from = 2024-01-01
step = 100
[[underlyings.SENSEX.weekly_expiry]]
from = 2024-01-01
weekday = "FRI"
[[underlyings.SENSEX.monthly_expiry]]
from = 2024-01-01
weekday = "FRI"
[[underlyings.SENSEX.lot_sizes]]
lot = 10
first_weekly_expiry = 2024-01-05
first_monthly_expiry = 2024-01-26
[underlyings.RELIANCE]
kind = "stock"
tick_size_paise = 5
level_anchors = [[2024-10-01, 2900]]
"""
    )
    use_universe(Universe.from_file(data))
    try:
        assert select_expiry("SENSEX", date(2024, 10, 29), "current_weekly") == date(2024, 10, 31)  # Fri 1 Nov closed
        assert lot_size("SENSEX", date(2024, 11, 8)) == 10
        assert strike_step("SENSEX", date(2024, 10, 29)) == 100
        assert expiries("RELIANCE", date(2024, 10, 29)) == []
        stock = generate_day("RELIANCE", date(2024, 10, 29), 0)
        assert stock.symbols == ["RELIANCE"] and 2_500 < stock.prices[0, 0] / 100 < 3_300
        sensex = generate_day("SENSEX", date(2024, 10, 29), 0)
        assert len(sensex.symbols) == 1 + 31 * 2 * 2
    finally:
        use_universe(None)
    with pytest.raises(InstrumentError):
        get_underlying("SENSEX")
