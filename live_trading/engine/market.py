"""The engine's view of one replayed day: prices by tick, the option chain, candles and indicators.

The market-data layer hands over a ``MarketDay`` (timestamps, symbols with the underlying in column
0, an (n, k) int64 paise price matrix, forward-filled, 0 before a symbol's first trade). This module
shapes it for the hot loop:

* price columns become Python lists, converted lazily the first time a column is needed, so a tick
  reads a price with one list index and no NumPy scalar boxing;
* the LTP store is not a dict maintained per tick but a query: the price of any symbol at the current
  tick index (``ltp_store()`` builds the dict only when a snapshot asks for it);
* candles of the underlying come from the market-data ``CandleBuilder`` for the timeframes the
  strategy reads (plus those the session publishes); a candle is visible from the first tick after
  its period;
* indicators are the market-data layer's incremental ones, updated only when a candle completes.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from live_trading.marketdata import instruments
from live_trading.marketdata.calendar import calendar_of
from live_trading.marketdata.candles import TIMEFRAMES as TF_SECONDS
from live_trading.marketdata.candles import CandleBuilder, timeframe_seconds
from live_trading.marketdata.indicators import IndicatorRegistry
from live_trading.marketdata.symbols import OptionSymbol, parse_symbol
from strategies.graph import schema
from strategies.graph.model import StrikeRule


class InstrumentUnavailable(LookupError):
    """The instrument a rule asks for is not tradable on this day (no contract, or not in the data)."""


def day_arrays(day):
    """Return (timestamps, symbols, prices) of a MarketDay-shaped object."""
    return np.asarray(day.timestamps, dtype=np.int64), list(day.symbols), np.asarray(day.prices)


class MarketState:
    """Read access to one day for one session; the engine moves ``row`` (the current tick's row of
    the price matrix) forward tick by tick, with ``ts`` (its epoch seconds) and ``time_of_day`` (its
    seconds after midnight, exchange time)."""

    def __init__(self, day, candles_at_close: bool = False):
        self.underlying = day_arrays(day)[1][0]
        self.calendar = calendar_of(self.underlying)
        self._load(day)
        self.tick_size = instruments.tick_size_paise(self.underlying)
        info = instruments.get_underlying(self.underlying)
        self.contract_size = info.contract_size
        self.margin = info.margin  # what a position blocks (universe.Margin: fractions of notional)
        # Decimal places of its money (the data file's price_decimals): prices and amounts are integers
        # of 10**-places of its currency; they leave the engine with these places.
        self.places = info.price_decimals
        self.currency = info.currency
        # The market's clock (its calendar's time zone): times leave the engine on it (ISO 8601 with its
        # offset, execution ids' stamps).
        self.zone = self.calendar.time_zone
        self.candles_at_close = candles_at_close
        self._chain = None
        # Candles by timeframe name, completed so far and by opening time of day; the builder is
        # created once every timeframe the strategy reads is known.
        self._bars: dict[str, list] = {}
        self._bars_by_start: dict[str, dict] = {}
        self._builder = None
        self.on_tick = None
        # Indicators: the market-data registry, and per timeframe (seconds) who reads what.
        self.registry = IndicatorRegistry(day_of=self.calendar.day_of)  # a VWAP restarts with the market's day
        self.indicator_values: dict[str, float | None] = {}
        self._readers: dict[int, list] = {}

    def _load(self, day, held: dict[str, int] | None = None) -> None:
        """Take ``day``'s arrays; ``held`` (symbol -> paise) adds a flat column for each symbol a
        position holds that the day's data lacks, at that price."""
        self.day = day
        ts, symbols, prices = day_arrays(day)
        if len(ts) == 0:
            raise ValueError("the market day has no ticks")
        self.prices = prices
        # A MarketDay shares its Python lists between the sessions replaying it; other day-shaped
        # objects get lists of this session's own.
        self.timestamps = day.timestamp_list() if hasattr(day, "timestamp_list") else ts.tolist()
        self._list_of = getattr(day, "price_list", None) or (lambda j: self.prices[:, j].tolist())
        self.tick_count = len(self.timestamps)
        self.symbols = symbols
        self.date: date = getattr(day, "date", None) or self.calendar.day_of(self.timestamps[0])
        self.dow = self.date.weekday()
        # Seconds the market's clock is ahead of UTC today (IST's +05:30 on the NSE): times of day are its.
        self.utc_offset = self.calendar.utc_offset(self.date)
        self.col_index = {s: j for j, s in enumerate(symbols)}
        self._cols: dict[int, list] = {}
        for symbol, price in (held or {}).items():
            if symbol not in self.col_index:
                j = self.col_index[symbol] = len(self.col_index)
                self._cols[j] = [price] * self.tick_count
        self.underlying_prices = self.column(0)
        self.move_to(0)

    def move_to(self, row: int) -> int:
        """Make tick ``row`` of the day the current one: set ``row``, ``ts`` (its epoch seconds) and
        ``time_of_day`` (its seconds after midnight, the market's clock); return ``ts``. The one place
        these three move together."""
        self.row = row
        ts = self.ts = self.timestamps[row]
        self.time_of_day = (ts + self.utc_offset) % 86400
        return ts

    def next_day(self, day, held: dict[str, int]) -> None:
        """Move a positional session on to ``day``, the next trading day: its prices replace the last
        day's, while candles completed so far and the indicators continue (a candle at a time of day
        now means today's). ``held``: symbol -> last price (paise) of every open position's instrument;
        one the day's data lacks (a strike outside its chain) stays at that price all day."""
        if day_arrays(day)[1][0] != self.underlying:
            raise ValueError(f"the session trades {self.underlying} but the market day is {day.symbols[0]}'s")
        self._load(day, held)
        self._chain = None
        for by_start in self._bars_by_start.values():
            by_start.clear()
        self.build_candles()

    # -- prices ----------------------------------------------------------------------------

    def column(self, j: int) -> list:
        """Return column ``j``'s prices as a list of int paise (built once)."""
        col = self._cols.get(j)
        if col is None:
            col = self._cols[j] = self._list_of(j)
        return col

    def column_of(self, symbol: str) -> list:
        """Return a symbol's price list; KeyError if the day has no such column."""
        return self.column(self.col_index[symbol])

    def column_array(self, symbol: str) -> np.ndarray:
        """A symbol's prices (paise by row) as a numpy array (a view of the day's matrix)."""
        j = self.col_index[symbol]
        if j < self.prices.shape[1]:
            return self.prices[:, j]
        return np.asarray(self._cols[j], dtype=np.int64)  # a held symbol the day lacks, at its last price

    def price(self, symbol: str) -> int:
        """Return the LTP of ``symbol`` at the current tick in paise (0: no trade yet)."""
        return self.column(self.col_index[symbol])[self.row]

    def ltp_store(self) -> dict[str, int]:
        """Return every symbol's LTP (paise) at the current tick."""
        row = self.prices[self.row].tolist()
        return {s: p for s, p in zip(self.symbols, row, strict=True) if p}

    def changed_symbols(self) -> tuple:
        """Return (symbol, paise) for the symbols whose price changed on the current tick."""
        return self.changed_since(self.row - 1)

    def changed_since(self, row: int, columns: list | None = None) -> tuple:
        """Return (symbol, paise) for the symbols (of ``columns``, default all) whose price differs now
        from tick ``row`` (every priced one when ``row`` is before the first tick)."""
        cols = np.arange(len(self.symbols)) if columns is None else np.asarray(columns, dtype=np.intp)
        current = self.prices[self.row, cols]
        changed = current != 0 if row < 0 else current != self.prices[row, cols]
        return tuple((self.symbols[j], p) for j, p in zip(cols[changed].tolist(), current[changed].tolist(),
                                                           strict=True))

    def ltps_of(self, columns: list) -> dict[str, int]:
        """Return the LTP (paise) of each of ``columns`` that has a price at the current tick."""
        row = self.prices[self.row, columns].tolist()
        return {self.symbols[j]: p for j, p in zip(columns, row, strict=True) if p}

    # -- instruments -----------------------------------------------------------------------

    @property
    def chain(self) -> dict:
        """(expiry, right) -> {strike paise: symbol} for the options in the day's data."""
        if self._chain is None:
            chain: dict = {}
            for s in self.symbols[1:]:
                sym = parse_symbol(s)
                if isinstance(sym, OptionSymbol):
                    chain.setdefault((sym.expiry, sym.right), {})[sym.strike_paise] = s
            self._chain = chain
        return self._chain

    def expiry(self, rule: str) -> date:
        """Return the expiry a rule selects today; InstrumentUnavailable if there is none."""
        try:
            return instruments.select_expiry(self.underlying, self.date, rule)
        except instruments.InstrumentError as e:
            raise InstrumentUnavailable(str(e)) from None

    def lot_size(self, expiry: date | None) -> int:
        """Return the lot size of an option expiry, or for the underlying its contract size (the data
        file's ``contract_size``), else the current monthly option's (NSE index futures)."""
        if expiry is None and self.contract_size is not None:
            return self.contract_size
        if expiry is None:
            expiry = self.expiry("current_monthly")
        return instruments.lot_size(self.underlying, expiry, self.date)

    def resolve_option(self, expiry_rule: str, strike: StrikeRule, right: str) -> tuple[str, date]:
        """Return (symbol, expiry) of the option a rule picks at the current tick."""
        expiry = self.expiry(expiry_rule)
        if strike.rule == "premium":
            strikes = self.chain.get((expiry, right), {})
            premiums = {s: self.column_of(s)[self.row] for s in strikes.values()}
            kwargs = {"premiums": premiums, "target_premium_paise": strike.premium}
            rule = "PREMIUM"
        else:
            rule = _strike_rule(strike, right)
            kwargs = {"spot_paise": self.underlying_prices[self.row], "on": self.date}
        try:
            sym = str(instruments.select_strike(self.underlying, expiry, right, rule, **kwargs))
        except instruments.InstrumentError as e:
            raise InstrumentUnavailable(str(e)) from None
        if sym not in self.col_index:
            raise InstrumentUnavailable(f"{sym} is not in the day's option chain")
        return sym, expiry

    def option_ltp_getter(self, expiry_rule: str, strike: StrikeRule, right: str):
        """Return a function giving the LTP (paise or None) of the option the rule picks now.

        The pick is redone when the underlying moves (for ATM-relative rules it rarely changes, so
        the last pick is cached by spot price)."""
        cache = {"spot": None, "col": None, "day": None}

        def get():
            spot = self.underlying_prices[self.row]
            if strike.rule == "premium" or spot != cache["spot"] or cache["day"] is not self.day:
                cache["day"] = self.day
                try:
                    sym, _ = self.resolve_option(expiry_rule, strike, right)
                    cache["col"] = self.column_of(sym)
                except InstrumentUnavailable:
                    cache["col"] = None
                cache["spot"] = spot
            col = cache["col"]
            return None if col is None else (col[self.row] or None)

        return get

    # -- candles and indicators ------------------------------------------------------------

    def require_timeframe(self, tf: str) -> None:
        """Make candles of ``tf`` available (call while compiling, before the first tick)."""
        if tf not in self._bars:
            if self._builder is not None:
                raise RuntimeError("timeframes must be registered before the replay starts")
            self._bars[tf] = []
            self._bars_by_start[tf] = {}
            self._readers[timeframe_seconds(tf)] = []

    def candle_list(self, tf: str) -> list:
        """The completed candles of ``tf`` so far (the same list object grows as the day goes on)."""
        self.require_timeframe(tf)
        return self._bars[tf]

    def candles_by_start(self, tf: str) -> dict:
        """Completed candles of ``tf`` by their opening time (seconds after midnight)."""
        self.require_timeframe(tf)
        return self._bars_by_start[tf]

    def indicator_slot(self, name: str, params: dict, tf: str, output: str | None):
        """Register an indicator on the underlying's ``tf`` candles; return (values dict, key)."""
        self.require_timeframe(tf)
        label = indicator_key(name, params, tf, output)
        if label not in self.indicator_values:
            spec = schema.INDICATORS[name]
            args = ",".join(str(params[k]) for k in spec["params"])
            indicator = self.registry.add(f"{name}({args})" if args else name, self.underlying, tf)
            self.indicator_values[label] = None
            self._readers[timeframe_seconds(tf)].append((label, indicator, output))
        return self.indicator_values, label

    def build_candles(self) -> None:
        """Start the candle builder for every registered timeframe (once, before tick 0)."""
        self._builder = CandleBuilder(self.day, [(self.underlying, tf) for tf in self._bars], self.candles_at_close)
        self.on_tick = self._builder.on_tick

    def next_candle_row(self) -> int:
        """The first row at which candles complete (``on_tick`` returns some); large when none will today."""
        return self._builder.next_edge

    def publish_candles(self, candles) -> None:
        """Make candles visible to conditions and update their indicators."""
        for c in candles:
            tf = TF_NAMES[c.timeframe]
            self._bars[tf].append(c)
            self._bars_by_start[tf][(c.start + self.utc_offset) % 86400] = c
            self.registry.on_candle(c)
            for label, indicator, output in self._readers[c.timeframe]:
                self.indicator_values[label] = _read(indicator.value, output)

    def final_candles(self) -> list:
        """Candles completing at the end of the day (after the last tick)."""
        return self._builder.finish()

    def indicators_of(self, timeframe_secs: int) -> dict:
        """Current indicator values on a timeframe (for candle events)."""
        return {label: self.indicator_values[label] for label, _, _ in self._readers.get(timeframe_secs, ())}

    def latest_candles(self) -> dict:
        """The latest completed candle per timeframe (for snapshots)."""
        return {tf: bars[-1] for tf, bars in self._bars.items() if bars}


def indicator_key(name: str, params: dict, tf: str, output: str | None) -> str:
    """Name an indicator reading, e.g. ``rsi(14)_5m`` or ``bollinger(20,2).upper_15m``."""
    args = ",".join(f"{params[k]:g}" if isinstance(params[k], float) else str(params[k]) for k in sorted(params))
    return f"{name}({args}){'.' + output if output else ''}_{tf}"


TF_NAMES = {secs: name for name, secs in TF_SECONDS.items()}


def _read(value, output):
    """Read an indicator value as a float; multi-valued ones (bands, SuperTrend) by output name,
    SuperTrend's line by default."""
    if value is None:
        return None
    if isinstance(value, tuple):
        value = getattr(value, output or "value")
    return float(value)


def _strike_rule(strike: StrikeRule, right: str) -> str:
    """Translate a graph strike rule into the market-data layer's ATM / ITM<n> / OTM<n>."""
    if strike.rule == "itm":
        return f"ITM{strike.offset}"
    if strike.rule == "otm":
        return f"OTM{strike.offset}"
    k = strike.offset
    if k == 0:
        return "ATM"
    # A positive offset is a higher strike: out of the money for a call, in the money for a put.
    higher_is_otm = right == "CE"
    return f"{'OTM' if (k > 0) == higher_is_otm else 'ITM'}{abs(k)}"
